// Subscribes to orgraph's `events` with the npm `graphql-ws` client (graphql-transport-ws),
// creates users over HTTP, and checks they arrive live, in order, once. Prints one JSON line.
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { createClient } = require('graphql-ws');

const { ORGRAPH_HOST: host, ORGRAPH_TOKEN: token } = process.env;

async function gql(query, variables) {
  const res = await fetch(`${host}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

async function main() {
  const client = createClient({
    url: `${host.replace(/^http/, 'ws')}/graphql/ws`,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const names = [];
  const done = new Promise((resolve, reject) => {
    client.subscribe(
      { query: 'subscription { events(eventNames: ["user:created"], after: "0") { id eventName data } }' },
      {
        next: ({ data, errors }) => {
          if (errors) return reject(new Error(JSON.stringify(errors)));
          names.push(data.events.data.user.username);
          if (names.length === 3) resolve();
        },
        error: reject,
        complete: () => {},
      },
    );
  });
  for (const name of ['ws-a', 'ws-b', 'ws-c']) {
    await gql('mutation($u: String) { createUser(userInfo: { username: $u }) { id } }', { u: name });
  }
  await Promise.race([done, new Promise((_, r) => setTimeout(() => r(new Error('timeout')), 10000))]);
  await client.dispose();

  // A bad token is refused at connection time.
  const bad = createClient({
    url: `${host.replace(/^http/, 'ws')}/graphql/ws`,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: 'Bearer nope' },
    retryAttempts: 0,
  });
  const refused = await new Promise((resolve) => {
    bad.subscribe({ query: 'subscription { events { id } }' }, {
      next: () => resolve(false), error: () => resolve(true), complete: () => resolve(false),
    });
  });
  await bad.dispose();
  console.log(JSON.stringify({ ok: true, names, refused }));
}

main().catch((err) => {
  console.error(require('node:util').inspect(err, { depth: 5 }));
  process.exit(1);
});
