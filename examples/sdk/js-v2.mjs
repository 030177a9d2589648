// orgraph from Authing's v2 JavaScript SDK (npm authing-js-sdk 4): an organization, a
// department, a user in it, then the department's members. The SDK gets a management token
// with the pool id and secret and speaks GraphQL and v2 REST. Run after
// `(cd examples/sdk && npm ci)`:
//   ORGRAPH_POOL_ID=<userPoolId> ORGRAPH_POOL_SECRET=<secret> node examples/sdk/js-v2.mjs
import { ManagementClient } from 'authing-js-sdk';

const env = (name, fallback) => process.env[name] ?? fallback ?? fail(`set ${name} (printed at orgraph's first start)`);
function fail(message) {
  throw new Error(message);
}

const management = new ManagementClient({
  host: env('ORGRAPH_URL', 'http://127.0.0.1:3000'),
  userPoolId: env('ORGRAPH_POOL_ID'),
  secret: env('ORGRAPH_POOL_SECRET'),
  onError: () => {}, // failed calls throw {code, message}; the SDK would also print them
});

const run = Date.now().toString(36); // new names on every run
const org = await management.org.create('Example Inc', 'created by js-v2.mjs', `example-${run}`);
const eng = await management.org.addNode(org.id, org.rootNode.id, { name: 'Engineering', code: 'eng' });
const ada = await management.users.create({ username: `ada-${run}`, password: 'correct horse battery' });
await management.org.addMembers(eng.id, [ada.id]);
const members = await management.org.listMembers(eng.id);

console.log(JSON.stringify({
  organization: org.rootNode.code,
  department: eng.name,
  user: ada.username,
  members: members.list.map((user) => user.username),
}));
