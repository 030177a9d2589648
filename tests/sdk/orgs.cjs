// Drives authing-js-sdk v4's ManagementClient.org against orgraph, asserting on what every call
// returns. Prints one JSON line; exits non-zero on the first failed assertion.
const assert = require('node:assert/strict');
const { ManagementClient } = require('authing-js-sdk');
const { refused } = require('./refused.cjs');

const { ORGRAPH_HOST: host, ORGRAPH_POOL_ID: userPoolId, ORGRAPH_POOL_SECRET: secret } = process.env;

async function main() {
  const mc = new ManagementClient({ userPoolId, secret, host, onError: () => {} });
  const org = mc.org;

  // create: one root node; findById rebuilds the tree client-side
  const created = await org.create('Feifan Tech', 'Example Technology LLC', 'feifan');
  assert.equal(created.rootNode.name, 'Feifan Tech');
  assert.equal(created.rootNode.code, 'feifan');
  assert.equal(created.rootNode.root, true);
  assert.deepEqual(created.rootNode.path, [created.rootNode.id]);
  assert.equal(created.nodes.length, 1);
  const orgId = created.id;
  const rootId = created.rootNode.id;

  // addNode (addNodeV2) and updateNode
  const ops = await org.addNode(orgId, rootId, { name: 'Operations', code: 'ops', order: 1 });
  assert.equal(ops.name, 'Operations');
  assert.equal(ops.depth, 1);
  assert.deepEqual(ops.path, [rootId, ops.id]);
  const dev = await org.addNode(orgId, rootId, { name: 'Research', code: 'dev', order: 5, description: 'R&D' });
  const backend = await org.addNode(orgId, dev.id, { name: 'Backend', code: 'backend' });
  assert.deepEqual(backend.path, [rootId, dev.id, backend.id]);
  const renamed = await org.updateNode(backend.id, { name: 'Backend Team' });
  assert.equal(renamed.name, 'Backend Team');
  assert.equal(renamed.code, 'backend', 'fields left out are kept');
  assert.equal(renamed.users.totalCount, 0);
  const dup = await refused(org.addNode(orgId, rootId, { name: 'Dup', code: 'ops' }), 409);
  assert.match(dup.message, /code "ops" is already used/);

  // getNodeById, findById, list
  const got = await org.getNodeById(dev.id);
  assert.equal(got.description, 'R&D');
  assert.deepEqual(got.children, [backend.id]);
  const tree = await org.findById(orgId);
  assert.equal(tree.id, orgId);
  assert.equal(tree.rootNode.children.length, 2);
  const top = tree.tree; // the SDK rebuilds the tree from `nodes` and their child ids
  assert.equal(top.id, rootId);
  assert.equal(top.children[0].code, 'dev', 'larger order first');
  assert.equal(top.children[0].children[0].code, 'backend');
  const listed = await org.list(1, 10);
  assert.equal(listed.totalCount, 1);
  assert.equal(listed.list[0].id, orgId);

  // isRootNode, listChildren, rootNode, searchNodes
  assert.equal(await org.isRootNode(orgId, rootId), true);
  assert.equal(await org.isRootNode(orgId, dev.id), false);
  const children = await org.listChildren(dev.id);
  assert.deepEqual(children.map((n) => n.id), [backend.id]);
  const root = await org.rootNode(orgId);
  assert.equal(root.id, rootId);
  assert.deepEqual(root.codePath, ['feifan']);
  const found = await org.searchNodes('backend');
  assert.deepEqual(found.map((n) => n.id), [backend.id]);
  assert.deepEqual(found[0].namePath, ['Feifan Tech', 'Research', 'Backend Team']);

  // members
  const alice = await mc.users.create({ username: 'org-alice' });
  const bob = await mc.users.create({ username: 'org-bob' });
  const added = await org.addMembers(backend.id, [alice.id, bob.id]);
  assert.equal(added.totalCount, 2);
  await org.addMembers(dev.id, [alice.id]);
  const direct = await org.listMembers(dev.id);
  assert.equal(direct.totalCount, 1, 'includeChildrenNodes defaults to false');
  const all = await org.listMembers(dev.id, { includeChildrenNodes: true });
  assert.equal(all.totalCount, 2, 'alice counted once');
  assert.deepEqual(all.list.map((u) => u.username).sort(), ['org-alice', 'org-bob']);
  const paged = await org.listMembers(rootId, { includeChildrenNodes: true, page: 2, limit: 1 });
  assert.equal(paged.list.length, 1);
  const afterRemove = await org.removeMembers(backend.id, [bob.id]);
  assert.equal(afterRemove.totalCount, 1);
  assert.equal(await org.moveMembers({ userIds: [alice.id], sourceNodeId: backend.id, targetNodeId: ops.id }), true);
  const main = await org.setMainDepartment(alice.id, ops.id);
  assert.equal(main.code, 200);
  assert.equal((await org.listMembers(ops.id)).totalCount, 1);

  // moveNode: the whole tree comes back; under itself is refused
  const moved = await org.moveNode(orgId, backend.id, ops.id);
  assert.equal(moved.tree.children.find((n) => n.id === ops.id).children[0].id, backend.id);
  await refused(org.moveNode(orgId, dev.id, dev.id), 400);

  // importByJson, exportByOrgId, exportAll
  const imported = await org.importByJson({
    name: 'Imported', code: 'imported',
    children: [{ code: 'a', name: 'A', children: [{ code: 'b', name: 'B' }] }],
  });
  assert.equal(imported.name, 'Imported');
  assert.equal(imported.children[0].children[0].code, 'b');
  const exported = await org.exportByOrgId(orgId);
  assert.equal(exported.id, rootId);
  const opsExport = exported.children.find((n) => n.id === ops.id);
  assert.deepEqual(opsExport.members.map((m) => m.username), ['org-alice']);
  assert.equal(opsExport.children[0].id, backend.id);
  const everything = await org.exportAll();
  assert.equal(everything.length, 2);

  // deleteNode, deleteById
  const delNode = await org.deleteNode(orgId, dev.id);
  assert.equal(delNode.code, 200);
  await refused(org.getNodeById(dev.id), 404);
  // The same through the SDK's default onError, which throws a plain {code, message}.
  const plain = new ManagementClient({ userPoolId, secret, host });
  const gone = await refused(plain.org.getNodeById(dev.id), 404);
  assert.match(gone.message, /not found/);
  const delOrg = await org.deleteById(imported.orgId);
  assert.equal(delOrg.code, 200);
  assert.equal((await org.list()).totalCount, 1);

  console.log(JSON.stringify({ ok: true, orgId, ops: ops.id, backend: backend.id, alice: alice.id }));
}

main().catch((err) => {
  console.error(require('node:util').inspect(err, { depth: 5 }));
  process.exit(1);
});
