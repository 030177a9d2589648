// orgraph from the GenAuth v3 Node.js SDK (npm authing-node-sdk 4): an organization, a
// department, a user in it, then the department's members. Every request is signed with the pool
// secret (no token to fetch). Run after `(cd examples/sdk && npm ci)`:
//   ORGRAPH_POOL_ID=<userPoolId> ORGRAPH_POOL_SECRET=<secret> node examples/sdk/node-v3.mjs
import { ManagementClient } from 'authing-node-sdk';

const env = (name, fallback) => process.env[name] ?? fallback ?? fail(`set ${name} (printed at orgraph's first start)`);
function fail(message) {
  throw new Error(message);
}

const client = new ManagementClient({
  host: env('ORGRAPH_URL', 'http://127.0.0.1:3000'),
  accessKeyId: env('ORGRAPH_POOL_ID'),
  accessKeySecret: env('ORGRAPH_POOL_SECRET'),
});

// This SDK answers every call with an envelope: statusCode 200 on success, else a message.
function ok(answer) {
  if (answer.statusCode !== 200) fail(`${answer.statusCode} ${answer.message}`);
  return answer.data;
}

const run = Date.now().toString(36); // new names on every run
const code = `example-${run}`;
const org = ok(await client.createOrganization({ organizationName: 'Example Inc', organizationCode: code }));
const eng = ok(await client.createDepartment({
  organizationCode: code, parentDepartmentId: 'root', name: 'Engineering', code: 'eng',
}));
const ada = ok(await client.createUser({ username: `ada-${run}`, departmentIds: [eng.departmentId] }));
const members = ok(await client.listDepartmentMembers({
  organizationCode: code, departmentId: 'eng', departmentIdType: 'code',
}));

console.log(JSON.stringify({
  organization: org.organizationCode,
  department: eng.name,
  user: ada.username,
  members: members.list.map((user) => user.username),
}));
