//! What each Authing SDK puts in `/graphql/v2` variables, read as it means it: authing-js-sdk's
//! `[]` for a list means "none", the PHP SDK's `[]` for a string it has no value for means null.

use serde_json::json;

use crate::{
    harness::TestServer,
    orgs::{add_node, create_org, id},
    users::create,
};

/// authing-js-sdk's `updateNode` document (it declares, and sends, every variable: paging of the
/// answer's members included), with the leaders orgraph documents on `updateNode`.
const UPDATE_NODE: &str = "mutation updateNode($page: Int, $limit: Int, $sortBy: SortByEnum, $includeChildrenNodes: Boolean,
    $id: String!, $name: String, $code: String, $description: String, $leaderUserIds: [String!]) {
  updateNode(id: $id, name: $name, code: $code, description: $description, leaderUserIds: $leaderUserIds) {
    id leaderUserId leaderUserIds
    users(page: $page, limit: $limit, sortBy: $sortBy, includeChildrenNodes: $includeChildrenNodes) { totalCount }
  }
}";

/// The PHP SDK's `listAuthorizedResourcesByNodeCode` document: `$resourceType` is a `String`.
const PHP_NODE_RESOURCES: &str = "query listNodeByCodeAuthorizedResources($orgId: String!, $code: String!, $namespace: String, $resourceType: String) {
  nodeByCode(orgId: $orgId, code: $code) {
    authorizedResources(namespace: $namespace, resourceType: $resourceType) { totalCount list { code type actions } }
  }
}";

#[tokio::test]
async fn an_empty_list_clears_the_leaders_on_graphql_v2() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Acme", "acme").await;
    let dep = id(&add_node(&c, &id(&org), &id(&org["rootNode"]), "Sales", Some("sales")).await);
    let (ann, bob) = (id(&create(&c, json!({ "username": "ann" })).await), id(&create(&c, json!({ "username": "bob" })).await));
    let sdk_variables = |leaders: serde_json::Value| {
        json!({ "page": 1, "limit": 10, "sortBy": null, "includeChildrenNodes": true, "id": dep, "name": null, "code": null,
            "description": null, "leaderUserIds": leaders })
    };
    let set = c.data(UPDATE_NODE, sdk_variables(json!([ann, bob]))).await;
    assert_eq!(set["updateNode"]["leaderUserIds"], json!([ann, bob]));
    // null keeps them (the SDK sends every variable, set or not)...
    let kept = c.data(UPDATE_NODE, sdk_variables(json!(null))).await;
    assert_eq!(kept["updateNode"]["leaderUserIds"], json!([ann, bob]));
    // ... and [] clears them, as documented.
    let cleared = c.data(UPDATE_NODE, sdk_variables(json!([]))).await;
    assert_eq!((&cleared["updateNode"]["leaderUserId"], &cleared["updateNode"]["leaderUserIds"]), (&json!(null), &json!([])), "{cleared}");
    let read = c.data("query($id: String!) { nodeById(id: $id) { leaderUserIds } }", json!({ "id": dep })).await;
    assert_eq!(read["nodeById"]["leaderUserIds"], json!([]), "the clear was written");
}

#[tokio::test]
async fn the_php_sdks_empty_array_for_a_string_reads_as_null() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let ns: serde_json::Value = c
        .post_json(&format!("/api/v2/resource-namespace/{}", s.pool_id), json!({ "code": "books-ns", "name": "Books" }))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(ns["code"], 200, "{ns}");
    let books: serde_json::Value = c
        .post_json("/api/v2/resources", json!({ "namespace": "books-ns", "code": "books", "type": "DATA", "actions": [{ "name": "books:read" }] }))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(books["code"], 200, "{books}");
    let org = create_org(&c, "Acme", "acme").await;
    let sales = id(&add_node(&c, &id(&org), &id(&org["rootNode"]), "Sales", Some("sales")).await);
    c.data("mutation($o: [AuthorizeResourceOpt]) { authorizeResource(namespace: \"books-ns\", resource: \"books:1\", resourceType: DATA, opts: $o) { code } }",
        json!({ "o": [{ "targetType": "ORG", "targetIdentifier": sales, "actions": ["books:read"] }] })).await;
    // `listAuthorizedResourcesByNodeCode($orgId, 'sales', 'books-ns')`: no resource type, sent as [].
    let d = c.data(PHP_NODE_RESOURCES, json!({ "orgId": id(&org), "code": "sales", "namespace": "books-ns", "resourceType": [] })).await;
    assert_eq!(d["nodeByCode"]["authorizedResources"], json!({ "totalCount": 1, "list": [{ "code": "books:1", "type": "DATA", "actions": ["books:read"] }] }));
}
