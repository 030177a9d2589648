// authing-js-sdk v4's managementClient.event.sub against orgraph's event socket. The SDK uses
// the browser's WebSocket; Node 20 has none, so `ws` stands in. Prints one JSON line.
global.WebSocket = require('ws');
const assert = require('node:assert/strict');
const { ManagementClient } = require('authing-js-sdk');

const { ORGRAPH_HOST: host, ORGRAPH_POOL_ID: userPoolId, ORGRAPH_POOL_SECRET: secret } = process.env;

function lineOnStdin() {
  return new Promise((resolve) => process.stdin.once('data', resolve));
}

async function main() {
  const mc = new ManagementClient({ userPoolId, secret, host, socketUri: host.replace(/^http/, 'ws'), onError: () => {} });
  const got = new Promise((resolve, reject) => {
    mc.event.sub('user:created', (message) => resolve(JSON.parse(message)), reject);
  });
  await lineOnStdin(); // the test writes one once the server has subscribed the socket
  await mc.users.create({ username: 'via-event-socket' });
  const message = await Promise.race([got, new Promise((_, r) => setTimeout(() => r(new Error('timeout')), 10000))]);
  assert.equal(message.eventName, 'user:created');
  console.log(JSON.stringify({ ok: true, username: message.data.user.username }));
  process.exit(0); // the SDK keeps its socket open
}

main().catch((err) => {
  console.error(require('node:util').inspect(err, { depth: 5 }));
  process.exit(1);
});
