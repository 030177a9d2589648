// Apollo Client 4 in Node.js, as an app scrolls a department's members: `relayStylePagination()`
// merges `usersConnection` pages fetched with `fetchMore`, `PAGE` at a time, pausing between
// pages while the test adds members. Prints one JSON line: the merged ids, the pages fetched
// and the last pageInfo.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';

const { ORGRAPH_HOST, ORGRAPH_TOKEN, NODE_ID, SORT_BY } = process.env;
const PAGE = Number(process.env.PAGE || 50);

const MEMBERS = gql`
  query Members($id: String!, $first: Int, $after: String, $sortBy: SortByEnum) {
    nodeById(id: $id) {
      id
      usersConnection(first: $first, after: $after, includeChildrenNodes: true, sortBy: $sortBy) {
        edges { cursor node { id username } }
        pageInfo { hasNextPage endCursor }
        totalCount
      }
    }
  }
`;

const client = new ApolloClient({
  link: new HttpLink({ uri: `${ORGRAPH_HOST}/graphql`, headers: { authorization: `Bearer ${ORGRAPH_TOKEN}` } }),
  cache: new InMemoryCache({
    typePolicies: { Node: { fields: { usersConnection: relayStylePagination(['includeChildrenNodes', 'sortBy']) } } },
  }),
});

const variables = { id: NODE_ID, first: PAGE, sortBy: SORT_BY };
const watched = client.watchQuery({ query: MEMBERS, variables });
let result = await new Promise((resolve, reject) => {
  const sub = watched.subscribe({
    next: (r) => { if (r.data) { sub.unsubscribe(); resolve(r); } },
    error: reject,
  });
});
let pages = 1;
let pageInfo = result.data.nodeById.usersConnection.pageInfo;
while (pageInfo.hasNextPage) {
  await new Promise((r) => setTimeout(r, 40));
  const more = await watched.fetchMore({ variables: { after: pageInfo.endCursor } });
  if (more.error) throw more.error;
  pageInfo = more.data.nodeById.usersConnection.pageInfo;
  pages += 1;
  if (pages > 10000) throw new Error('no end');
}
const merged = client.readQuery({ query: MEMBERS, variables });
const ids = merged.nodeById.usersConnection.edges.map((e) => e.node.id);
console.log(JSON.stringify({ ids, pages, pageInfo: merged.nodeById.usersConnection.pageInfo }));
