// A Federation 2 gateway over orgraph: orgraph's `_service { sdl }` composed with a small
// second subgraph ("profiles", which extends User with `badge` and lists `featured` users) by
// @theguild/federation-composition, served by @graphql-hive/gateway-runtime. Prints one JSON
// line: the same query answered by orgraph directly and through the gateway, and a query that
// starts in profiles and reads orgraph's users through orgraph's `_entities`.
import { createServer } from 'node:http';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { composeServices } from '@theguild/federation-composition';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';

const { ORGRAPH_HOST, ORGRAPH_TOKEN, FEATURED } = process.env;
const auth = { authorization: `Bearer ${ORGRAPH_TOKEN}` };

async function orgraph(query) {
  const res = await fetch(`${ORGRAPH_HOST}/graphql`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query }),
  });
  return res.json();
}

// The second subgraph.
const badged = (id) => ({ id, badge: `badge-${id.slice(-4)}` });
const profiles = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
  type User @key(fields: "id") { id: String! badge: String! }
  type Query { featured: [User!]! }
`);
const yoga = createYoga({
  schema: buildSubgraphSchema({
    typeDefs: profiles,
    resolvers: {
      Query: { featured: () => FEATURED.split(',').map((id) => badged(id)) },
      User: { __resolveReference: (ref) => badged(ref.id) },
    },
  }),
  logging: false,
});
const server = createServer(yoga);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const profilesUrl = `http://127.0.0.1:${server.address().port}/graphql`;

const sdl = (await orgraph('{ _service { sdl } }')).data._service.sdl;
const composed = composeServices([
  { name: 'orgraph', typeDefs: parse(sdl), url: `${ORGRAPH_HOST}/graphql` },
  { name: 'profiles', typeDefs: profiles, url: profilesUrl },
]);
if (composed.errors) {
  console.log(JSON.stringify({ compositionErrors: composed.errors.map((e) => e.message) }));
  server.close();
  process.exit(0);
}
const gateway = createGatewayRuntime({
  supergraph: composed.supergraphSdl,
  propagateHeaders: { fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') }) },
  logging: false,
  maskedErrors: false,
});
async function viaGateway(query) {
  const res = await gateway.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query }),
  });
  return res.json();
}

const same = '{ users(page: 1, limit: 10) { totalCount list { id username email } } orgs { totalCount list { id rootNode { name code } } } }';
const out = {
  direct: await orgraph(same),
  gateway: await viaGateway(same),
  // Starts in profiles; `username` comes from orgraph's `_entities`, `badge` from profiles'.
  featured: await viaGateway('{ featured { id username badge } }'),
  // Starts in orgraph; `badge` comes from profiles' `_entities`.
  users: await viaGateway('{ users { list { id username badge } } }'),
};
console.log(JSON.stringify(out));
await gateway.dispose?.();
server.close();
process.exit(0);
