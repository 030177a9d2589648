// npm standardwebhooks, unmodified, verifies deliveries orgraph sent (tests/api/standard_webhooks.rs).
// ORGRAPH_CASES: [{name, secret, raw?, headers, body}]; `raw` is a plain (Authing-style) secret.
// For each: the payload `verify` returns, and whether it refused the body with one byte changed.
const { Webhook } = require('standardwebhooks');

const refuses = (wh, body, headers) => {
  try {
    wh.verify(body, headers);
    return false;
  } catch (e) {
    return e.name === 'WebhookVerificationError';
  }
};

const results = JSON.parse(process.env.ORGRAPH_CASES).map(({ name, secret, raw, headers, body }) => {
  const wh = new Webhook(secret);
  const tampered = body.replace('"eventName"', '"eventNamE"');
  const result = { name, payload: wh.verify(body, headers), tamperedRefused: refuses(wh, tampered, headers) };
  if (raw !== undefined) {
    // A plain secret as is is not base64 of a key; the library's raw format takes its bytes.
    let asIs;
    try {
      asIs = !refuses(new Webhook(raw), body, headers);
    } catch (e) {
      asIs = false;
    }
    result.plainAsIsVerifies = asIs;
    result.rawFormat = new Webhook(raw, { format: 'raw' }).verify(body, headers);
  }
  return result;
});
console.log(JSON.stringify({ results }));
