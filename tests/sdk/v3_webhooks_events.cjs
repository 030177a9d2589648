// authing-node-sdk 4.0.1 (GenAuth v3, requests signed with HMAC-SHA1) against orgraph: webhooks
// (create, list, get, update, a real delivery and its log, trigger, delete), the event list, event
// apps and custom event types, publishing one (`verifyEvent` and `pub`) and receiving it on the
// event socket (`sub`, HMAC header). Bad input gets its statusCode and changes nothing. Prints one
// JSON line; the Rust test (tests/api/v3_events.rs) owns the receiver and checks what it got.
const assert = require('node:assert/strict');
const { ManagementClient } = require('authing-node-sdk');

const env = process.env;
const host = env.ORGRAPH_HOST;
const app = env.ORGRAPH_APP; // e.g. "shop"
const eventType = `${app}.order.paid`;
const client = new ManagementClient({
  accessKeyId: env.ORGRAPH_POOL_ID,
  accessKeySecret: env.ORGRAPH_POOL_SECRET,
  host,
  socketUri: host.replace(/^http/, 'ws'),
});

function ok(r, what) {
  assert.equal(r.statusCode, 200, `${what}: ${JSON.stringify(r)}`);
  assert.equal(r.message, '');
  return r.data;
}

// A refusal: the envelope with its status (HTTP 200 for this SDK), a message and no data.
function refused(r, status, what) {
  assert.equal(r.statusCode, status, `${what}: ${JSON.stringify(r)}`);
  assert.ok(r.message && typeof r.apiCode === 'number' && r.requestId, `${what}: ${JSON.stringify(r)}`);
  assert.equal(r.data, null);
}

async function until(what, check, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main() {
  // The event list: built-in names in their v3 spelling, by category.
  const list = ok(await client.getWebhookEventList(), 'getWebhookEventList');
  const values = list.events.map((e) => e.value);
  for (const name of ['user:created', 'organization:node-added', 'role:created', 'refresh-token']) {
    assert.ok(values.includes(name), name);
  }
  assert.ok(!values.includes('role:add'), 'shown by its v3 name');
  const categories = list.categories.map((c) => c.value);
  assert.ok(list.events.every((e) => categories.includes(e.category) && e.name && e.nameEn));
  assert.ok(list.categories.every((c) => c.name && c.nameEn && c.value));

  // An app and a custom event type.
  ok(await client.createEventApp({ identifier: app, name: 'Shop', logo: 'https://example.com/shop.png' }), 'createEventApp');
  const apps = ok(await client.listEventApps(), 'listEventApps');
  assert.deepEqual(apps, { totalCount: 1, list: [{ identifier: app, name: 'Shop', logo: 'https://example.com/shop.png' }] });
  const defined = ok(await client.defineEvent({ eventType, eventDescription: 'An order was paid' }), 'defineEvent');
  assert.equal(defined.code, eventType);
  const events = ok(await client.listEvents({ app }), 'listEvents');
  assert.equal(events.totalCount, 1);
  assert.deepEqual(
    { code: events.list[0].code, name: events.list[0].name, desc: events.list[0].desc },
    { code: eventType, name: 'order.paid', desc: 'An order was paid' },
  );
  const withCustom = ok(await client.getWebhookEventList(), 'getWebhookEventList');
  assert.ok(withCustom.events.some((e) => e.value === eventType && e.category === app));

  // A webhook for the custom type (and a built-in one under its v3 name).
  const hook = ok(
    await client.createWebhook({
      name: 'shop hook',
      url: env.ORGRAPH_RECEIVER,
      contentType: 'application/json',
      events: [eventType, 'role:created'],
      enabled: true,
      secret: 'node-hook-secret',
    }),
    'createWebhook',
  );
  assert.equal(hook.name, 'shop hook');
  assert.equal(hook.contentType, 'application/json');
  assert.deepEqual(hook.events, [eventType, 'role:created']);
  assert.equal(hook.enabled, true);
  assert.equal(hook.secret, undefined, 'the secret is write-only');
  assert.ok(hook.createdAt && hook.updatedAt);
  const id = hook.webhookId;
  assert.deepEqual(ok(await client.getWebhook({ webhookId: id }), 'getWebhook'), hook);
  const hooks = ok(await client.listWebhooks({ page: 1, limit: 10 }), 'listWebhooks');
  assert.equal(hooks.totalCount, 1);
  assert.equal(hooks.list[0].webhookId, id);
  const updated = ok(await client.updateWebhook({ webhookId: id, name: 'shop hook 2', events: [eventType, 'user:created'] }), 'updateWebhook');
  assert.equal(updated.name, 'shop hook 2');
  assert.deepEqual(updated.events, [eventType, 'user:created']);
  assert.equal(updated.url, env.ORGRAPH_RECEIVER, 'kept');

  // Subscribe on the event socket (HMAC header, no token); the socket is open once `open` fired.
  const received = [];
  client.sub(eventType, (message) => received.push(JSON.parse(message)), (e) => received.push({ error: String(e) }));
  await until('the event socket to open', () => client.wsMap[eventType]?.socket.readyState === 1);

  // Publish it twice: an object (verifyEvent) and JSON text (pub, which adds `source`).
  const published = ok(await client.verifyEvent({ eventType, eventData: { orderId: 'o-1', amount: 42 } }), 'verifyEvent');
  assert.equal(published.success, true);
  ok(await client.pub(eventType, JSON.stringify({ orderId: 'o-2' })), 'pub');
  await until('two messages on the socket', () => received.length >= 2);
  assert.deepEqual(received.map((m) => [m.eventName, m.data]), [
    [eventType, { orderId: 'o-1', amount: 42 }],
    [eventType, { orderId: 'o-2' }],
  ]);
  client.options.retryTimes = 0;
  client.wsMap[eventType].socket.terminate();

  // Both were delivered to the webhook: the log shows the requests and what came back.
  const logs = await until('two delivered requests in the log', async () => {
    const page = ok(await client.getWebhookLogs({ webhookId: id, page: 1, limit: 10 }), 'getWebhookLogs');
    return page.totalCount >= 2 && page.list.every((l) => l.success) ? page : null;
  });
  for (const log of logs.list) {
    assert.equal(log.webhookId, id);
    assert.equal(log.eventName, eventType);
    assert.equal(log.responseStatusCode, 200);
    assert.deepEqual(log.responseBody, { received: true });
    assert.equal(log.requestHeaders['x-authing-webhook-secret'], '***');
    assert.equal(log.requestBody.eventName, eventType);
    assert.ok(log.timestamp);
  }
  assert.deepEqual(logs.list.map((l) => l.requestBody.data.orderId).sort(), ['o-1', 'o-2']);
  const page2 = ok(await client.getWebhookLogs({ webhookId: id, page: 2, limit: 1 }), 'getWebhookLogs page 2');
  assert.equal(page2.list.length, 1);

  // Trigger it by hand: the receiver gets these headers and body; its answer comes back.
  const triggered = ok(
    await client.triggerWebhook({ webhookId: id, requestHeaders: { 'x-trigger': 'node' }, requestBody: { hello: 'node' } }),
    'triggerWebhook',
  );
  assert.equal(triggered.response.status, 200);
  assert.equal(triggered.response.headers['x-receiver'], 'orgraph-test');
  assert.deepEqual(triggered.response.body, { received: true });

  // Bad input on each route: its status, and nothing changed.
  const absent = '0'.repeat(32);
  refused(await client.createWebhook({ name: 'x', contentType: 'application/json', events: [eventType] }), 400, 'no url');
  refused(await client.createWebhook({ name: 'x', url: env.ORGRAPH_RECEIVER, contentType: 'text/plain', events: [eventType] }), 400, 'content type');
  refused(await client.createWebhook({ name: 'x', url: env.ORGRAPH_RECEIVER, contentType: 'application/json', events: ['shop.undefined'] }), 400, 'event');
  refused(await client.createWebhook({ name: 'x', url: 'ftp://example.com', contentType: 'application/json', events: [eventType] }), 400, 'url');
  refused(await client.listWebhooks({ page: 1, limit: 51 }), 400, 'limit');
  refused(await client.getWebhook({ webhookId: absent }), 404, 'get unknown');
  refused(await client.updateWebhook({ webhookId: absent, name: 'x' }), 404, 'update unknown');
  refused(await client.updateWebhook({ webhookId: id, events: [] }), 400, 'update no events');
  refused(await client.updateWebhook({ webhookId: id, contentType: 'xml' }), 400, 'update content type');
  refused(await client.deleteWebhook({ webhookIds: [] }), 400, 'delete none');
  refused(await client.deleteWebhook({ webhookIds: [id, absent] }), 404, 'delete unknown');
  refused(await client.getWebhookLogs({ webhookId: absent }), 404, 'logs unknown');
  refused(await client.getWebhookLogs({ webhookId: id, page: 0 }), 400, 'logs page');
  refused(await client.triggerWebhook({ webhookId: absent }), 404, 'trigger unknown');
  refused(await client.triggerWebhook({ webhookId: id, requestHeaders: { 'webhook-signature': 'v1,forged' } }), 400, 'trigger reserved header');
  refused(await client.createEventApp({ identifier: app, name: 'Again', logo: '' }), 409, 'app taken');
  refused(await client.createEventApp({ identifier: 'has.dot', name: 'x', logo: '' }), 400, 'app identifier');
  refused(await client.createEventApp({ identifier: 'noname', logo: '' }), 400, 'app name');
  refused(await client.defineEvent({ eventType, eventDescription: 'again' }), 409, 'type taken');
  refused(await client.defineEvent({ eventType: 'nosuchapp.x', eventDescription: 'x' }), 404, 'type of no app');
  refused(await client.defineEvent({ eventType: `${app}.`, eventDescription: 'x' }), 400, 'type form');
  refused(await client.defineEvent({ eventType: `${app}.y` }), 400, 'no description');
  refused(await client.verifyEvent({ eventType: `${app}.undefined`, eventData: {} }), 400, 'undefined type');
  refused(await client.verifyEvent({ eventType }), 400, 'no data');
  refused(await client.pub(eventType, 'not json'), 400, 'data text not JSON');
  refused(await client.pubUserEvent({ eventType, eventData: [1] }), 400, 'data not an object');
  refused(await client.listEvents({ page: 1, limit: 0 }), 400, 'events limit');
  assert.equal(ok(await client.listWebhooks({}), 'listWebhooks').totalCount, 1);
  assert.equal(ok(await client.getWebhook({ webhookId: id }), 'getWebhook').name, 'shop hook 2');
  assert.equal(ok(await client.listEventApps(), 'listEventApps').totalCount, 1);
  assert.equal(ok(await client.listEvents({}), 'listEvents').totalCount, 1);

  // pubUserEvent publishes like pub-event.
  ok(await client.pubUserEvent({ eventType, eventData: { orderId: 'o-3' } }), 'pubUserEvent');
  await until('the third delivery', async () => ok(await client.getWebhookLogs({ webhookId: id }), 'logs').totalCount >= 3);

  // Delete it all.
  ok(await client.deleteWebhook({ webhookIds: [id] }), 'deleteWebhook');
  assert.equal(ok(await client.listWebhooks({}), 'listWebhooks').totalCount, 0);
  refused(await client.getWebhook({ webhookId: id }), 404, 'deleted');

  console.log(JSON.stringify({ ok: true, webhookId: id, eventType, socket: received }));
  process.exit(0); // nothing else to wait for
}

main().catch((err) => {
  console.error(require('node:util').inspect(err, { depth: 5 }));
  process.exit(1);
});
