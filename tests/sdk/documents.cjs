// Validates, with graphql-js, the GraphQL documents authing-js-sdk v4 sends (its
// src/types/graphql.v2.ts) against orgraph's schema.graphql. The operations orgraph claims are
// listed below; each must parse and validate unchanged. Prints a JSON summary.
const fs = require('node:fs');
const path = require('node:path');
const { buildSchema, parse, validate } = require('graphql');

const CLAIMED = [
  // issue 2: tokens and users
  'AccessTokenDocument', 'RefreshAccessTokenDocument',
  'CreateUserDocument', 'CreateUserWithCustomDataDocument',
  'UserDocument', 'UserWithCustomDataDocument',
  'UsersDocument', 'UsersWithCustomDataDocument',
  'UpdateUserDocument', 'DeleteUserDocument', 'DeleteUsersDocument',
  // issue 3: orgs, nodes, members
  'CreateOrgDocument', 'DeleteOrgDocument', 'OrgsDocument', 'OrgDocument',
  'AddNodeV2Document', 'AddNodeDocument', 'UpdateNodeDocument', 'DeleteNodeDocument', 'MoveNodeDocument',
  'IsRootNodeDocument', 'ChildrenNodesDocument', 'RootNodeDocument', 'NodeByIdDocument', 'NodeByCodeDocument',
  'NodeByIdWithMembersDocument', 'NodeByCodeWithMembersDocument', 'SearchNodesDocument',
  'AddMemberDocument', 'RemoveMemberDocument', 'MoveMembersDocument', 'SetMainDepartmentDocument',
  // issue 9: permissions
  'AllowDocument', 'AuthorizeResourceDocument', 'AuthorizedTargetsDocument', 'IsActionAllowedDocument',
  'IsActionDeniedDocument', 'AuthorizedResourcesDocument', 'ListNodeByCodeAuthorizedResourcesDocument',
  'ListNodeByIdAuthorizedResourcesDocument', 'ListUserAuthorizedResourcesDocument',
];

const schemaPath = process.env.ORGRAPH_SCHEMA;
const schema = buildSchema(fs.readFileSync(schemaPath, 'utf8'));
const sdkFile = path.join(path.dirname(require.resolve('authing-js-sdk/package.json')), 'src/types/graphql.v2.ts');
const source = fs.readFileSync(sdkFile, 'utf8');

// The file defines some documents twice; the SDK uses the last definition (later `export const`
// wins in its build), but both must validate.
const documents = {};
for (const m of source.matchAll(/export const (\w+Document) = `([\s\S]*?)`;/g)) {
  (documents[m[1]] ||= []).push(m[2]);
}

const failures = [];
for (const name of CLAIMED) {
  const docs = documents[name];
  if (!docs) { failures.push({ name, errors: ['not found in the SDK'] }); continue; }
  for (const doc of docs) {
    const errors = validate(schema, parse(doc)).map((e) => e.message);
    if (errors.length) failures.push({ name, errors });
  }
}
console.log(JSON.stringify({ checked: CLAIMED.length, failures }));
process.exit(failures.length ? 1 : 0);
