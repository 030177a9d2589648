// The page of tests/api/cors.rs: Apollo Client in the browser, calling an orgraph on another
// origin with a bearer token. Bundled by cors.cjs (esbuild); the test calls window.runApollo.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';

const USERS = gql`query Users { users { totalCount } }`;
const CREATE = gql`mutation CreateUser($u: CreateUserInput!) { createUser(userInfo: $u) { id username } }`;

// A query and a mutation against `api`; the outcome, or the error the browser gave.
window.runApollo = async (api, token, poolId, username) => {
  const client = new ApolloClient({
    link: new HttpLink({
      uri: `${api}/graphql`,
      headers: { authorization: `Bearer ${token}`, 'x-authing-userpool-id': poolId },
      // As Authing's browser SDK does (axios `withCredentials`).
      credentials: 'include',
    }),
    cache: new InMemoryCache(),
  });
  try {
    const users = await client.query({ query: USERS, fetchPolicy: 'network-only' });
    const created = await client.mutate({ mutation: CREATE, variables: { u: { username } } });
    return { ok: true, totalCount: users.data.users.totalCount, created: created.data.createUser };
  } catch (e) {
    return { ok: false, name: e?.name ?? '', error: String(e?.message ?? e) };
  }
};
window.apolloReady = true;
