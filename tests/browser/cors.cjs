// Apollo Client in Debian's Chromium (headless), on a page of another origin than orgraph's:
//
//   PAGE_PORT=... ALLOWED_API=http://127.0.0.1:... ALLOWED_TOKEN=... ALLOWED_POOL=... \
//     DENIED_API=... DENIED_TOKEN=... DENIED_POOL=... node cors.cjs
//
// Serves the page (apollo_page.mjs, bundled with esbuild) on http://127.0.0.1:PAGE_PORT, then
// runs a query and a mutation against ALLOWED_API (an orgraph that allows this origin) and
// DENIED_API (one that does not). Prints one JSON summary as its last line: each outcome, and
// the browser's console messages (where Chromium names a CORS refusal).
// Optional: CHROMIUM (default /usr/bin/chromium), TIMEOUT_MS.
const http = require('node:http');
const path = require('node:path');
const esbuild = require('esbuild');
const { chromium } = require('playwright-core');

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return v;
};
const PAGE_PORT = Number(env('PAGE_PORT'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.TIMEOUT_MS || 60000);

(async () => {
  const bundle = await esbuild.build({
    entryPoints: [path.join(__dirname, 'apollo_page.mjs')],
    bundle: true,
    format: 'esm',
    write: false,
    logLevel: 'error',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const js = bundle.outputFiles[0].text;
  const html = '<!doctype html><html><head><meta charset="utf-8"><title>apollo</title>' +
    '<script type="module" src="/app.js"></script></head><body>cors test page</body></html>';
  const server = http.createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(js);
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    }
  });
  await new Promise((resolve, reject) => server.listen(PAGE_PORT, '127.0.0.1', resolve).on('error', reject));
  const origin = `http://127.0.0.1:${PAGE_PORT}`;

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: TIMEOUT,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const summary = { origin };
  try {
    const page = await browser.newPage();
    const consoleLines = [];
    page.on('console', (m) => consoleLines.push(m.text()));
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
    await page.goto(`${origin}/`, { timeout: TIMEOUT });
    await page.waitForFunction(() => window.apolloReady === true, null, { timeout: TIMEOUT });
    const run = (which, username) =>
      page.evaluate(([a, t, p, u]) => window.runApollo(a, t, p, u),
        [env(`${which}_API`), env(`${which}_TOKEN`), env(`${which}_POOL`), username]);
    summary.allowed = await run('ALLOWED', 'apollo-allowed');
    summary.denied = await run('DENIED', 'apollo-denied');
    summary.console = consoleLines;
  } finally {
    await browser.close();
    server.close();
  }
  console.log(JSON.stringify(summary));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
