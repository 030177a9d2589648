// The tabs a first visit opens with (GraphiQL keeps the user's own tabs after that).

const orgTree = `# The pool's organizations: each root node with two levels
# of childNodes, and a page of every node's members
# (variables {"page": 2, "limit": 5} for the next page).
query OrgTree($page: Int = 1, $limit: Int = 10) {
  orgs(page: 1, limit: 10) {
    totalCount
    list {
      id
      rootNode {
        ...NodeWithUsers
        childNodes {
          ...NodeWithUsers
          childNodes {
            ...NodeWithUsers
          }
        }
      }
    }
  }
}

fragment NodeWithUsers on Node {
  id
  name
  code
  depth
  users(page: $page, limit: $limit) {
    totalCount
    list { id username email }
  }
}
`;

const createOrg = `# Creates an organization (its root node is named after it).
# Its organization:created event shows in the Events tab of
# another browser window.
mutation CreateOrg($name: String!, $code: String) {
  createOrg(name: $name, code: $code) {
    id
    rootNode { id name code }
  }
}
`;

const events = `# The pool's events, live, as they are committed.
# Run it, then make a change from another browser window,
# the SDK or curl (switching tabs here stops it).
subscription Events {
  events {
    id
    eventName
    data
    createdAt
  }
}
`;

export const defaultTabs = [
  // No variables here: GraphiQL 5.4.0 leaves the first tab's variables editor empty on a first
  // visit (its provider takes initialQuery from tabs[0] but not initialVariables), so the
  // query carries its defaults instead.
  { query: orgTree },
  { query: createOrg, variables: JSON.stringify({ name: 'Playground org' }, null, 2) },
  { query: events },
];
