// How the SDK reports a refusal: with the default `onError` it throws `{code, message}`; with a
// non-throwing one, `{code, message, data}` (GraphQL) or an Error whose message is that JSON
// (REST). Either way the caller must get Authing's numeric code and a readable message.
const assert = require('node:assert/strict');

async function refused(promise, code) {
  let thrown;
  try {
    await promise;
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, 'expected the SDK to throw');
  let err = thrown;
  if (thrown instanceof Error && thrown.message.startsWith('{')) err = JSON.parse(thrown.message);
  assert.equal(typeof err.code, 'number', `a numeric code in ${JSON.stringify(err)} (${thrown})`);
  if (code !== undefined) assert.equal(err.code, code, JSON.stringify(err));
  assert.ok(typeof err.message === 'string' && err.message.length > 3, `a readable message in ${JSON.stringify(err)}`);
  return err;
}

module.exports = { refused };
