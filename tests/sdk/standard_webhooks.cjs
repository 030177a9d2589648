// npm standardwebhooks, unmodified, verifies deliveries orgraph sent (tests/api/standard_webhooks.rs).
// ORGRAPH_CASES: [{name, secret, raw?, headers, body}]; `raw` is a plain (Authing-style) secret.
// For each: the payload `verify` returns, and whether it refused the body with one byte changed.
const crypto = require('node:crypto');
const { Webhook } = require('standardwebhooks');

// The check without a library of docs/guides/webhook-receivers.md ("Verifying a request"), as it is there.
function byHand(secret, headers, rawBody) {
  const signed = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${rawBody}`;
  const expected = Buffer.from(crypto.createHmac('sha256', secret).update(signed).digest('base64'));
  const ok = Math.abs(Date.now() / 1000 - Number(headers['webhook-timestamp'])) <= 300 &&
    headers['webhook-signature'].split(' ').some((s) => {
      const given = Buffer.from(s.slice(s.indexOf(',') + 1));
      return s.startsWith('v1,') && given.length === expected.length && crypto.timingSafeEqual(given, expected);
    });
  return ok;
}

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
    result.byHand = byHand(raw, headers, body) && !byHand(raw, headers, tampered);
  }
  return result;
});
console.log(JSON.stringify({ results }));
