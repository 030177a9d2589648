// Drives authing-js-sdk v4's ManagementClient.users against orgraph. Prints one JSON line with
// what the SDK returned; exits non-zero on the first failed assertion.
const assert = require('node:assert/strict');
const { ManagementClient } = require('authing-js-sdk');
const { refused } = require('./refused.cjs');

const { ORGRAPH_HOST: host, ORGRAPH_POOL_ID: userPoolId, ORGRAPH_POOL_SECRET: secret } = process.env;

async function main() {
  const mc = new ManagementClient({ userPoolId, secret, host, onError: () => {} });

  // create, with a password the SDK encrypts with the key of /api/v2/.well-known
  const alice = await mc.users.create({
    username: 'sdk-alice', email: 'Alice@SDK.io', password: 'p@ssw0rd-alice',
    nickname: 'Al', phone: '13800000001', gender: 'F', loginsCount: 2,
    signedUp: '2020-10-15T17:55:37+08:00',
  });
  assert.equal(alice.username, 'sdk-alice');
  assert.equal(alice.email, 'alice@sdk.io');
  assert.equal(alice.password, null);
  assert.equal(alice.userPoolId, userPoolId);
  assert.equal(alice.loginsCount, 2);
  assert.equal(alice.signedUp, '2020-10-15T09:55:37.000Z');
  const bob = await mc.users.create({ username: 'sdk-bob' });
  const carol = await mc.users.create({ email: 'carol@sdk.io' });

  // a duplicate is refused
  const dup = await refused(mc.users.create({ username: 'sdk-alice' }), 2034);
  assert.match(dup.message, /username/);

  // detail (REST /api/v2/users/:id), with and without custom data
  const detail = await mc.users.detail(alice.id);
  assert.equal(detail.id, alice.id);
  assert.equal(detail.nickname, 'Al');
  const withCustom = await mc.users.detail(alice.id, { withCustomData: true });
  assert.deepEqual(withCustom.customData, {});

  // update, including a new (encrypted) password
  const updated = await mc.users.update(alice.id, { nickname: 'Alicia', company: 'SDK Inc', password: 'n3w-pass' });
  assert.equal(updated.nickname, 'Alicia');
  assert.equal(updated.company, 'SDK Inc');
  assert.equal(updated.email, 'alice@sdk.io');

  // list, both documents the SDK has
  const page = await mc.users.list(1, 2);
  assert.equal(page.totalCount, 3);
  assert.equal(page.list.length, 2);
  const page2 = await mc.users.list(2, 2, { withCustomData: true });
  assert.equal(page2.list.length, 1);
  const listed = [...page.list, ...page2.list].map((u) => u.id).sort();
  assert.deepEqual(listed, [alice.id, bob.id, carol.id].sort());

  // delete one, then many
  const del = await mc.users.delete(bob.id);
  assert.equal(del.code, 200);
  const delMany = await mc.users.deleteMany([carol.id]);
  assert.equal(delMany.code, 200);
  const after = await mc.users.list(1, 10);
  assert.equal(after.totalCount, 1);
  await refused(mc.users.delete(bob.id), 2004);
  // REST (users.detail) with the default onError: a plain {code, message}.
  const plain = new ManagementClient({ userPoolId, secret, host });
  await refused(plain.users.detail(bob.id), 2004);

  console.log(JSON.stringify({ ok: true, alice: alice.id, total: after.totalCount, updatedNickname: updated.nickname }));
}

main().catch((err) => {
  console.error(require('node:util').inspect(err, { depth: 5 }));
  process.exit(1);
});
