// Drives authing-node-sdk 4.0.1 (GenAuth v3, every request HMAC-signed) against orgraph as a
// v3-only user: organizations, departments (move, leaders, status, open ids), users, members, a
// user's departments; then bad input on each group, then deletes it all. Asserts on every value
// returned. Prints one JSON line; exits non-zero on the first failed assertion.
const assert = require('node:assert/strict');
const { ManagementClient } = require('authing-node-sdk');

const { ORGRAPH_HOST: host, ORGRAPH_POOL_ID: accessKeyId, ORGRAPH_POOL_SECRET: accessKeySecret } = process.env;

// Every answer is an envelope (HTTP 200, as GenAuth answers this SDK): success has statusCode 200.
function ok(r) {
  assert.equal(r.statusCode, 200, JSON.stringify(r));
  assert.equal(r.message, '');
  return r.data;
}

function refused(r, statusCode, text) {
  assert.equal(r.statusCode, statusCode, JSON.stringify(r));
  assert.equal(typeof r.apiCode, 'number', JSON.stringify(r));
  assert.equal(typeof r.requestId, 'string');
  assert.ok(r.message.length > 3, JSON.stringify(r));
  if (text) assert.match(r.message, text);
  return r;
}

async function main() {
  const c = new ManagementClient({ accessKeyId, accessKeySecret, host });

  // Organizations.
  const acme = ok(await c.createOrganization({ organizationName: 'Acme', organizationCode: 'acme', description: 'HQ', openDepartmentId: 'ext-root' }));
  assert.deepEqual([acme.organizationCode, acme.organizationName, acme.description, acme.openDepartmentId, acme.status], ['acme', 'Acme', 'HQ', 'ext-root', 'Active']);
  assert.equal(acme.hasChildren, false);
  const generated = ok(await c.createOrganization({ organizationName: 'Spare', organizationCode: '' }));
  assert.match(generated.organizationCode, /^org-/);

  // Departments: `root` names the organization's root; parents by id, code or open id.
  const eng = ok(await c.createDepartment({ organizationCode: 'acme', parentDepartmentId: 'root', name: 'Eng', code: 'eng', openDepartmentId: 'ext-eng', customData: { floor: 3 } }));
  assert.deepEqual([eng.parentDepartmentId, eng.organizationCode, eng.code, eng.openDepartmentId, eng.status], [acme.departmentId, 'acme', 'eng', 'ext-eng', true]);
  assert.deepEqual(eng.customData, { floor: 3 });
  const dev = ok(await c.createDepartment({ organizationCode: 'acme', parentDepartmentId: 'eng', departmentIdType: 'code', name: 'Dev', code: 'dev' }));
  assert.deepEqual([dev.parentDepartmentId, dev.parentDepartmentCode], [eng.departmentId, 'eng']);
  const sales = ok(await c.createDepartment({ organizationCode: 'acme', parentDepartmentId: 'ext-root', departmentIdType: 'open_department_id', name: 'Sales', code: 'sales', isVirtualNode: true }));
  assert.equal(sales.isVirtualNode, true);

  // Users, one and a batch (one transaction), one of them straight into a department.
  const ann = ok(await c.createUser({ username: 'ann', email: 'Ann@Example.com', nickname: 'Ann', departmentIds: [eng.departmentId], customData: { level: 1 } }));
  assert.deepEqual([ann.username, ann.email, ann.status, ann.departmentIds], ['ann', 'ann@example.com', 'Activated', [eng.departmentId]]);
  const [ben, cat] = ok(await c.createUsersBatch({ list: [{ username: 'ben', name: 'Ben' }, { username: 'cat', phone: '13800000000' }] }));
  assert.deepEqual([ben.username, cat.phone], ['ben', '13800000000']);

  // Members.
  ok(await c.addDepartmentMembers({ organizationCode: 'acme', departmentId: 'dev', departmentIdType: 'code', userIds: [ben.userId] }));
  const everyone = ok(await c.listDepartmentMembers({ organizationCode: 'acme', departmentId: 'root', includeChildrenDepartments: true, withDepartmentIds: true }));
  assert.equal(everyone.totalCount, 2);
  assert.deepEqual(everyone.list.map((u) => u.username).sort(), ['ann', 'ben']);
  assert.deepEqual(ok(await c.listDepartmentMemberIds({ organizationCode: 'acme', departmentId: eng.departmentId })), [ann.userId]);
  const found = ok(await c.searchDepartmentMembers({ organizationCode: 'acme', departmentId: 'root', keywords: 'BE', includeChildrenDepartments: true }));
  assert.deepEqual([found.totalCount, found.list[0].username], [1, 'ben']);
  assert.equal(ok(await c.isUserInDepartment({ userId: ben.userId, organizationCode: 'acme', departmentId: 'eng', departmentIdType: 'code', includeChildrenDepartments: true })).inDepartment, true);
  assert.equal(ok(await c.isUserInDepartment({ userId: ben.userId, organizationCode: 'acme', departmentId: 'eng', departmentIdType: 'code' })).inDepartment, false);

  // Move Dev under Sales with leaders, rename it: one call, one transaction.
  const moved = ok(await c.updateDepartment({ organizationCode: 'acme', departmentId: dev.departmentId, parentDepartmentId: sales.departmentId, leaderUserIds: [ben.userId, ann.userId], name: 'Dev2' }));
  assert.deepEqual([moved.parentDepartmentId, moved.name, moved.leaderUserIds], [sales.departmentId, 'Dev2', [ben.userId, ann.userId]]);
  assert.equal(ok(await c.isUserInDepartment({ userId: ben.userId, organizationCode: 'acme', departmentId: 'sales', departmentIdType: 'code', includeChildrenDepartments: true })).inDepartment, true);
  const children = ok(await c.listChildrenDepartments({ organizationCode: 'acme', departmentId: 'root' }));
  assert.deepEqual(children.list.map((d) => d.name).sort(), ['Eng', 'Sales']);
  assert.equal(ok(await c.getAllDepartments({ organizationCode: 'acme' })).totalCount, 3);
  assert.equal(ok(await c.getParentDepartment({ organizationCode: 'acme', departmentId: dev.departmentId })).departmentId, sales.departmentId);
  const byOpenId = ok(await c.getDepartment({ organizationCode: 'acme', departmentId: 'ext-eng', departmentIdType: 'open_department_id', withCustomData: true }));
  assert.deepEqual([byOpenId.departmentId, byOpenId.customData, byOpenId.hasChildren], [eng.departmentId, { floor: 3 }, false]);
  assert.equal(ok(await c.getDepartmentById({ departmentId: sales.departmentId })).hasChildren, true);
  assert.deepEqual(ok(await c.searchDepartments({ organizationCode: 'acme', keywords: 'dev' })).map((d) => d.code), ['dev']);
  const listed = ok(await c.searchDepartmentsList({ organizationCode: 'acme', page: 1, limit: 10, advancedFilter: [{ field: 'name', operator: 'IN', value: ['Eng', 'Sales'] }], sort: [{ field: 'name', order: 'desc' }] }));
  assert.deepEqual(listed.map((d) => d.name), ['Sales', 'Eng']);

  // A user's departments: replaced at once, then read with their paths.
  ok(await c.setUserDepartments({ userId: cat.userId, departments: [{ departmentId: eng.departmentId, isMainDepartment: true }, { departmentId: dev.departmentId, isLeader: true }] }));
  const catDeps = ok(await c.getUserDepartments({ userId: 'cat', userIdType: 'username', withDepartmentPaths: true, sortBy: 'DepartmentName', orderBy: 'Asc' }));
  assert.equal(catDeps.totalCount, 2);
  assert.deepEqual(catDeps.list.map((d) => [d.name, d.isMainDepartment, d.isLeader]), [['Dev2', false, true], ['Eng', true, false]]);
  assert.deepEqual(catDeps.list[0].departmentCodePath, ['acme', 'sales', 'dev']);

  // Status: a disabled department is left out of a filtered child list.
  assert.equal(ok(await c.updateNodeStatus({ departmentId: sales.departmentId, status: false })).status, false);
  assert.deepEqual(ok(await c.listChildrenDepartments({ organizationCode: 'acme', departmentId: 'root', status: true })).list.map((d) => d.name), ['Eng']);

  // Users: search, legacy list, update, read one and a batch.
  const searched = ok(await c.listUsers({ keywords: 'ben', options: { pagination: { page: 1, limit: 10 } } }));
  assert.deepEqual(searched.list.map((u) => u.username), ['ben']);
  const byStatus = ok(await c.listUsers({ advancedFilter: [{ field: 'status', operator: 'EQUAL', value: 'Activated' }], options: { pagination: { page: 1, limit: 2 }, sort: [{ field: 'username', order: 'asc' }] } }));
  assert.deepEqual([byStatus.totalCount, byStatus.list.map((u) => u.username)], [3, ['ann', 'ben']]);
  assert.equal(ok(await c.listUsersLegacy({ page: 1, limit: 2 })).totalCount, 3);
  const annie = ok(await c.updateUser({ userId: ann.userId, nickname: 'Annie', customData: { level: 2 } }));
  assert.deepEqual([annie.nickname, annie.customData], ['Annie', { level: 2 }]);
  const annRead = ok(await c.getUser({ userId: 'ann', userIdType: 'username', withCustomData: true, withDepartmentIds: true, flatCustomData: true }));
  assert.deepEqual([annRead.userId, annRead.level, annRead.departmentIds], [ann.userId, 2, [eng.departmentId]]);
  assert.deepEqual(ok(await c.getUserBatch({ userIds: [cat.userId, ben.userId] })).map((u) => u.username), ['cat', 'ben']);

  // Organizations: rename with a new code, disable, list, search, batch.
  const renamed = ok(await c.updateOrganization({ organizationCode: 'acme', organizationNewCode: 'acme2', organizationName: 'Acme Inc', leaderUserIds: [ann.userId] }));
  assert.deepEqual([renamed.organizationCode, renamed.organizationName, renamed.leaderUserIds, renamed.membersCount], ['acme2', 'Acme Inc', [ann.userId], 3]);
  ok(await c.updateOrganizationStatus({ rootNodeId: acme.departmentId, status: 'Inactive' }));
  const inactive = ok(await c.listOrganizations({ status: false }));
  assert.deepEqual(inactive.list.map((o) => o.organizationCode), ['acme2']);
  assert.equal(ok(await c.listOrganizations({ fetchAll: true })).totalCount, 2);
  assert.deepEqual(ok(await c.searchOrganizations({ keywords: 'ACME' })).list.map((o) => o.organizationCode), ['acme2']);
  assert.deepEqual(ok(await c.getOrganizationsBatch({ organizationCodeList: ['acme2', 'nope', generated.organizationCode] })).map((o) => o.organizationName), ['Acme Inc', 'Spare']);
  const tree = ok(await c.createDepartmentTree({ name: 'Tree', children: ['A', 'B'] }));
  assert.equal(tree.addDepartment, 3);

  // Bad input: a clear envelope, nothing changed.
  refused(await c.getOrganization({ organizationCode: 'acme' }), 404, /organization/);
  refused(await c.createDepartment({ organizationCode: 'nope', parentDepartmentId: 'root', name: 'X' }), 404, /nope/);
  refused(await c.createDepartment({ organizationCode: 'acme2', parentDepartmentId: 'root', name: 'Eng again', code: 'eng' }), 409);
  refused(await c.createOrganization({ organizationName: 'Bad', organizationCode: '额！ ' }), 400, /code/);
  refused(await c.updateDepartment({ organizationCode: 'acme2', departmentId: 'sales', departmentIdType: 'code', parentDepartmentId: 'dev' }), 400, /under itself/);
  refused(await c.updateDepartment({ organizationCode: 'acme2', departmentId: 'eng', departmentIdType: 'code', leaderUserIds: ['no-such-user'] }), 404);
  refused(await c.createUser({ nickname: 'nobody' }), 400);
  refused(await c.createUser({ username: 'ann' }), 409, /username/);
  refused(await c.listUsers({ options: { pagination: { page: 1, limit: 51 } } }), 400, /limit/);
  refused(await c.listOrganizations({ page: 0 }), 400, /page/);
  refused(await c.removeDepartmentMembers({ organizationCode: 'acme2', departmentId: 'eng', departmentIdType: 'code', userIds: [ben.userId] }), 404);
  refused(await c.setUserDepartments({ userId: cat.userId, departments: [{ departmentId: 'no-such-department' }] }), 404);
  refused(await c.getDepartment({ organizationCode: 'acme2', departmentId: 'x', departmentIdType: 'sync_relation' }), 400, /departmentIdType/);
  const batchErr = refused(await c.createUsersBatch({ list: [{ username: 'dora' }, { username: 'eve', email: 'not-an-email' }] }), 400, /list\[1\]/);
  assert.equal(ok(await c.listUsers({ keywords: 'dora' })).totalCount, 0, 'the batch created nobody');
  refused(await c.updateOrganizationStatus({ rootNodeId: eng.departmentId, status: 'Active' }), 400);

  // Clean up.
  ok(await c.removeDepartmentMembers({ organizationCode: 'acme2', departmentId: 'dev', departmentIdType: 'code', userIds: [ben.userId] }));
  ok(await c.deleteDepartment({ organizationCode: 'acme2', departmentId: 'dev', departmentIdType: 'code' }));
  refused(await c.getDepartment({ organizationCode: 'acme2', departmentId: dev.departmentId }), 404);
  ok(await c.deleteUsersBatch({ userIds: [ann.userId, ben.userId] }));
  ok(await c.deleteUsersBatch({ userIds: ['cat'], options: { userIdType: 'username' } }));
  ok(await c.deleteOrganization({ organizationCode: 'acme2' }));
  refused(await c.getOrganization({ organizationCode: 'acme2' }), 404);

  console.log(JSON.stringify({ ok: true, org: acme.departmentId, batchError: batchErr.message, spare: generated.organizationCode }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
