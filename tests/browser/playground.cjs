// The GraphQL playground end to end in Debian's Chromium (headless), against a running orgraph:
//
//   ORGRAPH_HOST=http://127.0.0.1:3000 ORGRAPH_POOL_ID=... ORGRAPH_POOL_SECRET=... node playground.cjs
//
// Opens <host>/graphql, connects with the pool id + secret, runs the OrgTree tab and reads the
// response pane, renews the token, starts the Events subscription, creates a user over HTTP
// (from this script, not the page) and waits for its event in the response pane. Every request
// the page and its workers make (and its WebSockets) must stay on the page's origin, and the
// page's Content-Security-Policy must refuse nothing. Saves a screenshot (SHOT). Prints one
// JSON summary as its last line; exits 1 on the first failed check.
// Optional: CHROMIUM (default /usr/bin/chromium), SHOT (default playground.png), TIMEOUT_MS.
const { chromium } = require('playwright-core');

const BASE = (process.env.ORGRAPH_HOST || 'http://127.0.0.1:3000').replace(/\/$/, '');
const POOL_ID = process.env.ORGRAPH_POOL_ID;
const SECRET = process.env.ORGRAPH_POOL_SECRET;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOT = process.env.SHOT || 'playground.png';
const TIMEOUT = Number(process.env.TIMEOUT_MS || 60000);
if (!POOL_ID || !SECRET) {
  console.error('ORGRAPH_POOL_ID and ORGRAPH_POOL_SECRET are required');
  process.exit(2);
}

const step = (msg) => console.error(`[playground] ${msg}`);

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

// What the response pane shows, by the page's own helper (Monaco's model: every line, where
// the DOM holds only the visible ones).
async function responseText(page) {
  return page.evaluate(() => window.orgraphPlayground.responseText() ?? '');
}

async function waitFor(what, probe) {
  const deadline = Date.now() + TIMEOUT;
  let last;
  for (;;) {
    last = await probe();
    if (last.ok) return last.value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${String(last.seen).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function waitForResponse(page, predicate, what) {
  return waitFor(what, async () => {
    const text = await responseText(page);
    return { ok: predicate(text), value: text, seen: text };
  });
}

async function selectTab(page, title) {
  await page.locator('.graphiql-tab', { hasText: title }).locator('.graphiql-tab-button').click();
  await page.waitForFunction(
    (t) => document.querySelector('.graphiql-tab[aria-selected="true"]')?.textContent.includes(t),
    title,
    { timeout: TIMEOUT },
  );
  // GraphiQL 5 updates the operation name 100 ms (debounced) after the editor changes: running
  // sooner would send the previous tab's operationName.
  await page.waitForTimeout(400);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: TIMEOUT,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const origin = new URL(BASE).origin;
  const wsOrigin = origin.replace(/^http/, 'ws');
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  const errors = [];
  const refused = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) refused.push(m.text());
  });
  const frames = [];
  page.on('websocket', (ws) => {
    requests.push(ws.url());
    ws.on('framesent', (f) => frames.push({ dir: 'sent', url: ws.url(), payload: String(f.payload) }));
    ws.on('framereceived', (f) => frames.push({ dir: 'recv', url: ws.url(), payload: String(f.payload) }));
  });
  const summary = {};

  try {
    step(`open ${BASE}/graphql`);
    const started = Date.now();
    const resp = await page.goto(`${BASE}/graphql`, { waitUntil: 'load', timeout: TIMEOUT });
    check(resp.ok(), `GET /graphql answered ${resp.status()}`);
    if (await page.$('#fallback')) {
      const reason = await page.textContent('#reason');
      throw new Error(`orgraph serves the fallback page: the playground was not built (${reason})`);
    }
    await page.waitForSelector('.graphiql-container', { timeout: TIMEOUT });
    await page.waitForFunction(
      () => window.orgraphPlayground && globalThis.__MONACO?.editor.getEditors().length >= 3,
      null,
      { timeout: TIMEOUT },
    );
    summary.readyMs = Date.now() - started;

    step('connect with the pool id and secret');
    await page.fill('#pool-id', POOL_ID);
    await page.fill('#secret', SECRET);
    await page.click('#connect-btn');
    await page.waitForSelector('#session:not([hidden])', { timeout: TIMEOUT });
    summary.sessionText = await page.textContent('#session-text');
    step(`session: ${summary.sessionText}`);
    check(summary.sessionText.includes(POOL_ID) && /expires at/.test(summary.sessionText), 'the session line shows the pool and the expiry');
    check(!(await page.inputValue('#secret')), 'the secret is cleared after connecting');
    const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('orgraph.playground.session')));
    check(stored?.token && stored.exp > Date.now() / 1000, 'the token is kept in sessionStorage');
    const local = await page.evaluate(() => JSON.stringify(localStorage));
    check(!local.includes(stored.token) && !local.includes(SECRET), 'neither token nor secret is in localStorage');

    step('run the OrgTree tab');
    await selectTab(page, 'OrgTree');
    await page.click('.graphiql-execute-button');
    const treeText = await waitForResponse(page, (t) => t.includes('"orgs"') || t.includes('"errors"'), 'the org tree');
    const tree = JSON.parse(treeText);
    check(!tree.errors, `the tree query has no errors: ${JSON.stringify(tree.errors)}`);
    summary.orgs = tree.data.orgs;
    const dom = (await page.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ');
    check(dom.includes('"totalCount"'), 'the response pane renders the result');

    step('renew the token');
    await page.click('#renew-btn');
    await page.waitForFunction((t) => window.orgraphPlayground.session()?.token !== t, stored.token, { timeout: TIMEOUT });
    check(!(await page.textContent('#connect-error')), 'renewal reported no error');
    const token = await page.evaluate(() => window.orgraphPlayground.session().token);
    summary.renewed = token !== stored.token;

    step('start the Events subscription');
    await selectTab(page, 'Events');
    await page.click('.graphiql-execute-button');
    await waitFor('connection_ack', async () => ({
      ok: frames.some((f) => f.dir === 'recv' && f.payload.includes('connection_ack')),
      seen: JSON.stringify(frames),
    }));
    await waitFor('the subscribe message', async () => ({
      ok: frames.some((f) => f.dir === 'sent' && f.payload.includes('"subscribe"')),
      seen: JSON.stringify(frames),
    }));
    const init = frames.find((f) => f.dir === 'sent' && f.payload.includes('connection_init'));
    summary.initPayload = JSON.parse(init.payload).payload;
    summary.wsUrl = init.url;
    check(summary.initPayload?.Authorization === `Bearer ${token}`, 'connection_init carries the renewed token as Authorization: Bearer');
    check(init.url === `${wsOrigin}/graphql/ws`, `subscriptions go to /graphql/ws (${init.url})`);
    // The user's event reaches the subscription once the server listens for it: /metrics
    // counts it from then on.
    await waitFor('the server to count the subscription', async () => {
      const text = await (await fetch(`${BASE}/metrics`)).text();
      const line = /^orgraph_subscriptions_active (\d+)$/m.exec(text);
      return { ok: Number(line?.[1]) >= 1, seen: line?.[0] ?? text };
    });

    const username = `playground-${Date.now()}`;
    step(`create user ${username} over HTTP (from this script)`);
    const res = await fetch(`${BASE}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: 'mutation($u: CreateUserInput!) { createUser(userInfo: $u) { id username } }',
        variables: { u: { username, password: 'passw0rd-playground' } },
      }),
    });
    const created = await res.json();
    check(!created.errors, `createUser: ${JSON.stringify(created.errors)}`);
    summary.user = created.data.createUser;

    const evText = await waitForResponse(page, (t) => t.includes('"eventName"') && t.includes(username), 'the event in the Events tab');
    summary.event = JSON.parse(evText).data.events;
    step(`event: ${summary.event.eventName} ${summary.event.id}`);
    await page.screenshot({ path: SHOT });
    summary.screenshot = SHOT;

    summary.requests = requests;
    summary.foreign = requests.filter((u) => !(u.startsWith(`${origin}/`) || u.startsWith(`${wsOrigin}/`)));
    step(`${requests.length} requests, ${summary.foreign.length} to other origins`);
    check(summary.foreign.length === 0, `every request stays on the page's origin: ${summary.foreign.join(', ')}`);
    check(refused.length === 0, `the Content-Security-Policy refused nothing: ${refused.join('; ')}`);
    check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
    summary.ok = true;
  } catch (e) {
    await page.screenshot({ path: SHOT }).catch(() => {});
    console.error(e.stack || e.message);
    summary.ok = false;
    summary.error = e.message;
  }
  await browser.close();
  console.log(JSON.stringify(summary));
  process.exit(summary.ok ? 0 : 1);
})();
