// Drives authing-js-sdk v4's managementClient.acl (and the org/users authorized-resource lookups)
// against orgraph, asserting on every value returned. Prints one JSON line; exits non-zero on the
// first failed assertion.
const assert = require('node:assert/strict');
const { ManagementClient } = require('authing-js-sdk');
const { refused } = require('./refused.cjs');

const { ORGRAPH_HOST: host, ORGRAPH_POOL_ID: userPoolId, ORGRAPH_POOL_SECRET: secret } = process.env;

async function main() {
  const mc = new ManagementClient({ userPoolId, secret, host });
  const { acl, org, users } = mc;

  // Namespaces (REST /api/v2/resource-namespace/{pool}).
  const ns = await acl.createNamespace('erp', 'ERP', 'the ERP system');
  assert.equal(typeof ns.id, 'number');
  assert.deepEqual([ns.code, ns.name, ns.description, ns.status], ['erp', 'ERP', 'the ERP system', 1]);
  const spare = await acl.createNamespace('spare', 'Spare');
  const listed = await acl.listNamespaces(1, 10);
  assert.equal(listed.total, 2);
  assert.deepEqual(listed.list.map((n) => n.code), ['erp', 'spare']);
  const renamed = await acl.updateNamespace('spare', { name: 'Spare parts', description: 'tmp' });
  assert.deepEqual([renamed.id, renamed.name, renamed.description], [spare.id, 'Spare parts', 'tmp']);
  await refused(acl.createNamespace('erp', 'again'), 409);

  // Resources (REST /api/v2/resources).
  const invoices = await acl.createResource({
    namespace: 'erp', code: 'invoices', type: 'DATA', description: 'Invoices',
    actions: [{ name: 'invoices:read', description: 'read' }, { name: 'invoices:pay', description: 'pay' }],
    apiIdentifier: 'https://erp.example.com/invoices',
  });
  assert.equal(invoices.code, 'invoices');
  assert.equal(invoices.namespaceId, ns.id);
  assert.equal(invoices.actions.length, 2);
  await acl.createResource({ namespace: 'erp', code: 'menu_main', type: 'MENU', actions: [{ name: 'show', description: 'show' }] });
  const all = await acl.listResources({ namespace: 'erp', page: 1, limit: 10 });
  assert.equal(all.totalCount, 2);
  assert.deepEqual(all.list.map((r) => r.code), ['invoices', 'menu_main']);
  const menus = await acl.listResources({ namespace: 'erp', type: 'MENU' });
  assert.deepEqual(menus.list.map((r) => r.code), ['menu_main']);
  assert.equal((await acl.getResourceById(invoices.id)).code, 'invoices');
  assert.equal((await acl.getResourceByCode({ namespace: 'erp', code: 'invoices' })).id, invoices.id);
  assert.equal(await acl.getResourceById('no-such-id'), null);
  assert.equal(await acl.getResourceByCode({ namespace: 'erp', code: 'nothing' }), null);
  const updated = await acl.updateResource('invoices', {
    namespace: 'erp', description: 'All invoices',
    actions: [{ name: 'invoices:read', description: 'read' }, { name: 'invoices:pay', description: 'pay' }, { name: 'invoices:void', description: 'void' }],
  });
  assert.equal(updated.description, 'All invoices');
  assert.deepEqual(updated.actions.map((a) => a.name), ['invoices:read', 'invoices:pay', 'invoices:void']);
  await refused(acl.createResource({ namespace: 'erp', code: 'invoices', actions: [{ name: 'x', description: 'x' }] }), 409);

  // An org: Finance > Payables; Ann in Payables, Bob nowhere.
  const acme = await org.create('Acme', 'ACME', 'acme');
  const financeId = (await org.addNode(acme.id, acme.rootNode.id, { name: 'Finance', code: 'finance' })).id;
  const payablesId = (await org.addNode(acme.id, financeId, { name: 'Payables', code: 'payables' })).id;
  const ann = await users.create({ username: 'acl-ann' });
  const bob = await users.create({ username: 'acl-bob' });
  await org.addMembers(payablesId, [ann.id]);

  // Grant to Finance: Ann inherits it through Payables.
  const granted = await acl.authorizeResource({ namespace: 'erp', resource: 'invoices', opts: [
    { targetType: 'ORG', targetIdentifier: financeId, actions: ['invoices:read'] }] });
  assert.equal(granted.code, 200);
  assert.equal(await acl.isAllowed(ann.id, 'invoices:2024-01', 'invoices:read', { namespace: 'erp' }), true);
  assert.equal(await acl.isAllowed(ann.id, 'invoices:2024-01', 'invoices:pay', { namespace: 'erp' }), false);
  assert.equal(await acl.isAllowed(bob.id, 'invoices:2024-01', 'invoices:read', { namespace: 'erp' }), false);
  const annRes = await acl.listAuthorizedResources('USER', ann.id, 'erp');
  assert.equal(annRes.totalCount, 1);
  assert.deepEqual(annRes.list[0], { code: 'invoices', type: 'DATA', actions: ['invoices:read'], apiIdentifier: 'https://erp.example.com/invoices' });
  const viaUsers = await users.listAuthorizedResources(ann.id, 'erp');
  assert.deepEqual(viaUsers, annRes);
  const byId = await org.listAuthorizedResourcesByNodeId(payablesId, 'erp');
  assert.equal(byId.totalCount, 1, 'Payables inherits Finance\'s grant');
  const byCode = await org.listAuthorizedResourcesByNodeCode(acme.id, 'finance', 'erp', { resourceType: 'DATA' });
  assert.deepEqual(byCode.list.map((r) => r.code), ['invoices']);
  const noMenus = await org.listAuthorizedResourcesByNodeCode(acme.id, 'finance', 'erp', { resourceType: 'MENU' });
  assert.equal(noMenus.totalCount, 0);

  // allow: a direct grant of one action to Bob.
  const allowed = await acl.allow(bob.id, 'invoices:7', 'invoices:pay', 'erp');
  assert.equal(allowed.code, 200);
  assert.equal(await acl.isAllowed(bob.id, 'invoices:7', 'invoices:pay', { namespace: 'erp' }), true);
  assert.equal(await acl.isAllowed(bob.id, 'invoices:8', 'invoices:pay', { namespace: 'erp' }), false);
  const targets = await acl.getAuthorizedTargets({ namespace: 'erp', resource: 'invoices:7', resourceType: 'DATA' });
  assert.deepEqual(targets, { totalCount: 1, list: [{ targetType: 'USER', targetIdentifier: bob.id, actions: ['invoices:pay'] }] });
  const orgTargets = await acl.getAuthorizedTargets({ namespace: 'erp', resource: 'invoices', resourceType: 'DATA', targetType: 'ORG',
    actions: { op: 'OR', list: ['invoices:read'] } });
  assert.deepEqual(orgTargets.list.map((t) => t.targetIdentifier), [financeId]);

  // The batch routes (REST): authorizeResources, listAuthorizedResourcesBatch, revokeResources.
  assert.equal(await acl.authorizeResources({ namespace: 'erp', opts: [
    { targetType: 'USER', targetIdentifiers: [bob.id], resources: [{ code: 'invoices', actions: ['invoices:read'], resourceType: 'DATA' }] }] }), true);
  assert.equal(await acl.isAllowed(bob.id, 'invoices', 'invoices:read', { namespace: 'erp' }), true);
  const batch = await acl.listAuthorizedResourcesBatch({ namespace: 'erp', targets: [
    { targetType: 'USER', targetIdentifier: bob.id }, { targetType: 'ORG', targetIdentifier: financeId }] });
  assert.deepEqual(batch.list.map((l) => l.list.map((r) => r.code)), [['invoices', 'invoices:7'], ['invoices']]);
  assert.deepEqual(batch.list[0].list[0], { code: 'invoices', type: 'DATA', actions: ['invoices:read'], apiIdentifier: 'https://erp.example.com/invoices' });
  assert.equal(await acl.revokeResources({ namespace: 'erp', opts: [
    { targetType: 'USER', targetIdentifiers: [bob.id], resources: [{ code: 'invoices', actions: ['invoices:read'], resourceType: 'DATA' }] }] }), true);
  assert.equal(await acl.isAllowed(bob.id, 'invoices', 'invoices:read', { namespace: 'erp' }), false);
  assert.equal(await acl.isAllowed(bob.id, 'invoices:7', 'invoices:pay', { namespace: 'erp' }), true, 'only what was named is revoked');

  // Moving Payables out of Finance takes Ann's permission away at once.
  await org.moveNode(acme.id, payablesId, acme.rootNode.id);
  assert.equal(await acl.isAllowed(ann.id, 'invoices:2024-01', 'invoices:read', { namespace: 'erp' }), false);
  await org.moveNode(acme.id, payablesId, financeId);
  assert.equal(await acl.isAllowed(ann.id, 'invoices:2024-01', 'invoices:read', { namespace: 'erp' }), true);

  // revokeResource (REST).
  assert.equal(await acl.revokeResource({ namespace: 'erp', resource: 'invoices', opts: [{ targetType: 'ORG', targetIdentifier: financeId }] }), true);
  assert.equal(await acl.isAllowed(ann.id, 'invoices:2024-01', 'invoices:read', { namespace: 'erp' }), false);

  // Refusals carry Authing's code and a readable message.
  const noUser = await refused(acl.authorizeResource({ namespace: 'erp', resource: 'invoices', opts: [
    { targetType: 'USER', targetIdentifier: 'nobody', actions: ['invoices:read'] }] }), 2004);
  assert.match(noUser.message, /nobody/);
  await refused(acl.authorizeResource({ namespace: 'erp', resource: 'invoices', opts: [
    { targetType: 'ROLE', targetIdentifier: 'admins', actions: ['invoices:read'] }] }), 400);
  await refused(acl.isAllowed('nobody', 'invoices', 'invoices:read', { namespace: 'erp' }), 2004);

  // Deleting a resource, then the namespace, removes their grants.
  assert.equal(await acl.deleteResource('invoices', 'erp'), true);
  assert.equal(await acl.isAllowed(bob.id, 'invoices:7', 'invoices:pay', { namespace: 'erp' }), false);
  assert.equal((await acl.listResources({ namespace: 'erp' })).totalCount, 1);
  assert.equal(await acl.deleteNamespace('spare'), true);
  assert.equal(await acl.deleteNamespace('erp'), true);
  assert.equal((await acl.listNamespaces()).total, 0);

  console.log(JSON.stringify({ ok: true, namespaceId: ns.id }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
