// Apollo Client 4 in Node.js with automatic persisted queries (`PersistedQueryLink`, hashed
// queries over GET): each operation is sent twice. Prints one JSON line: what each request
// carried (method, whether the document was in it, status) and the answers.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { createHash } from 'node:crypto';

const { ORGRAPH_HOST, ORGRAPH_TOKEN } = process.env;
const requests = [];
const recordingFetch = async (url, init) => {
  const res = await fetch(url, init);
  const u = new URL(url);
  const body = init.body ? JSON.parse(init.body) : null;
  requests.push({ method: init.method || 'GET', withDocument: Boolean(u.searchParams.get('query') || body?.query), status: res.status });
  return res;
};
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const client = new ApolloClient({
  link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
    new HttpLink({ uri: `${ORGRAPH_HOST}/graphql`, headers: { authorization: `Bearer ${ORGRAPH_TOKEN}` }, fetch: recordingFetch }),
  ),
  cache: new InMemoryCache(),
});

const USERS = gql`query PersistedUsers { users { totalCount } }`;
const CREATE = gql`mutation PersistedCreate($u: String!) { createUser(userInfo: { username: $u }) { id username } }`;
const answers = [];
for (const i of [0, 1]) {
  const r = await client.query({ query: USERS, fetchPolicy: 'network-only' });
  answers.push(r.data.users.totalCount);
}
for (const i of [0, 1]) {
  const r = await client.mutate({ mutation: CREATE, variables: { u: `persisted${i}` } });
  answers.push(r.data.createUser.username);
}
console.log(JSON.stringify({ requests, answers }));
