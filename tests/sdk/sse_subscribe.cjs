// graphql-sse's client, unchanged, subscribing to orgraph's events over Server-Sent Events on
// /graphql (distinct connections mode) with a bearer token. Collects COUNT events, then
// disposes. Prints one JSON line: the events received (id, eventName).
const { createClient } = require('graphql-sse');

(async () => {
  const count = Number(process.env.COUNT || 3);
  const client = createClient({
    url: `${process.env.ORGRAPH_HOST}/graphql`,
    headers: { authorization: `Bearer ${process.env.ORGRAPH_TOKEN}` },
    retryAttempts: 0,
  });
  const events = [];
  await new Promise((resolve, reject) => {
    const dispose = client.subscribe(
      { query: 'subscription { events(eventNames: ["user:created"]) { id eventName } }' },
      {
        next: (result) => {
          if (result.errors) return reject(new Error(JSON.stringify(result.errors)));
          events.push(result.data.events);
          if (events.length === count) {
            dispose();
            resolve();
          }
        },
        error: reject,
        complete: resolve,
      },
    );
  });
  client.dispose();
  console.log(JSON.stringify({ events }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
