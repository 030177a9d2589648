//! Permissions on users and org nodes (issue 9): namespaces, resources, grants, inheritance
//! down the tree, and what moves, membership changes and deletions do to the answers.

use serde_json::{Value, json};

use crate::{
    harness::{Client, TestServer, v2_status},
    orgs::{add_node, create_org, id, statements_of, wide_tree},
    users::create,
};

const AUTHORIZE: &str = "mutation($ns: String, $r: String, $opts: [AuthorizeResourceOpt]) {
    authorizeResource(namespace: $ns, resource: $r, opts: $opts) { code message } }";
const ALLOWED: &str = "query($r: String!, $a: String!, $u: String!, $ns: String) { isActionAllowed(resource: $r, action: $a, userId: $u, namespace: $ns) }";
const USER_RESOURCES: &str = "query($id: String, $ns: String) { user(id: $id) { authorizedResources(namespace: $ns) { totalCount list { code type actions apiIdentifier } } } }";

async fn allowed(c: &Client, user: &str, resource: &str, action: &str) -> bool {
    // Both the REST route the JS SDK calls and the GraphQL query the PHP SDK calls.
    let rest: Value = c
        .post_json("/api/v2/acl/is-allowed", json!({ "namespace": "books-ns", "userId": user, "resource": resource, "action": action }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["code"], 200, "{rest}");
    let gql = c.data(ALLOWED, json!({ "r": resource, "a": action, "u": user, "ns": "books-ns" })).await;
    assert_eq!(rest["data"]["allowed"], gql["isActionAllowed"], "REST and GraphQL agree");
    rest["data"]["allowed"].as_bool().unwrap()
}

async fn setup(c: &Client, pool: &str) {
    let ns: Value = c
        .post_json(&format!("/api/v2/resource-namespace/{pool}"), json!({ "code": "books-ns", "name": "Books" }))
        .await
        .json()
        .await
        .unwrap();
    assert!(ns["data"]["id"].is_i64(), "a namespace id is a number: {ns}");
    let res: Value = c
        .post_json("/api/v2/resources", json!({ "namespace": "books-ns", "code": "books", "type": "DATA", "description": "All books",
            "actions": [{ "name": "books:read", "description": "read" }, { "name": "books:write" }], "apiIdentifier": "https://api/books" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res["data"]["code"], "books", "{res}");
}

#[tokio::test]
async fn grants_to_a_node_reach_its_subtree_and_follow_moves_and_memberships() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    setup(&c, &s.pool_id).await;
    let org = create_org(&c, "Acme", "acme").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let sales = id(&add_node(&c, &org_id, &root, "Sales", Some("sales")).await);
    let emea = id(&add_node(&c, &org_id, &sales, "EMEA", Some("emea")).await);
    let eng = id(&add_node(&c, &org_id, &root, "Eng", Some("eng")).await);
    let ann = id(&create(&c, json!({ "username": "ann" })).await);
    let bob = id(&create(&c, json!({ "username": "bob" })).await);
    c.data("mutation($n: String!, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": emea, "u": [ann] })).await;

    // A grant to Sales applies to the members of EMEA below it.
    let d = c.data(AUTHORIZE, json!({ "ns": "books-ns", "r": "books:1", "opts": [{ "targetType": "ORG", "targetIdentifier": sales, "actions": ["books:read"] }] })).await;
    assert_eq!(d["authorizeResource"]["code"], 200);
    assert!(allowed(&c, &ann, "books:1", "books:read").await);
    assert!(!allowed(&c, &ann, "books:1", "books:write").await, "only the granted action");
    assert!(!allowed(&c, &ann, "books:2", "books:read").await, "only the granted instance");
    assert!(!allowed(&c, &bob, "books:1", "books:read").await, "bob is in no department");
    let list = c.data(USER_RESOURCES, json!({ "id": ann, "ns": "books-ns" })).await;
    assert_eq!(list["user"]["authorizedResources"], json!({ "totalCount": 1, "list": [
        { "code": "books:1", "type": "DATA", "actions": ["books:read"], "apiIdentifier": "https://api/books" }] }));
    let node = c.data("query($id: String!) { nodeById(id: $id) { authorizedResources(namespace: \"books-ns\", resourceType: \"DATA\") { totalCount list { code } } } }",
        json!({ "id": emea })).await;
    assert_eq!(node["nodeById"]["authorizedResources"]["totalCount"], 1, "inherited from Sales");

    // Moving EMEA under Eng takes the permission away at once; moving it back gives it again.
    c.data("mutation($o: String!, $n: String!, $t: String!) { moveNode(orgId: $o, nodeId: $n, targetParentId: $t) { id } }", json!({ "o": org_id, "n": emea, "t": eng })).await;
    assert!(!allowed(&c, &ann, "books:1", "books:read").await);
    c.data("mutation($o: String!, $n: String!, $t: String!) { moveNode(orgId: $o, nodeId: $n, targetParentId: $t) { id } }", json!({ "o": org_id, "n": emea, "t": sales })).await;
    assert!(allowed(&c, &ann, "books:1", "books:read").await);
    // Leaving the department takes it away too.
    c.data("mutation($n: String!, $u: [String!]!) { removeMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": emea, "u": [ann] })).await;
    assert!(!allowed(&c, &ann, "books:1", "books:read").await);

    // A direct grant, with a wildcard on the code: every instance, every action of books.
    c.data("mutation($u: String) { allow(resource: \"books:*\", action: \"books:*\", userId: $u, namespace: \"books-ns\") { code } }", json!({ "u": bob })).await;
    assert!(allowed(&c, &bob, "books:42", "books:write").await);
    let targets = c.data("{ authorizedTargets(namespace: \"books-ns\", resource: \"books:*\", resourceType: DATA) { totalCount list { targetType targetIdentifier actions } } }", json!({})).await;
    assert_eq!(targets["authorizedTargets"]["list"], json!([{ "targetType": "USER", "targetIdentifier": bob, "actions": ["books:*"] }]));

    // Revoking (REST, as the JS SDK does) takes it back.
    let r: Value = c.post_json("/api/v2/acl/revoke-resource", json!({ "namespace": "books-ns", "resource": "books:*",
        "opts": [{ "targetType": "USER", "targetIdentifier": bob }] })).await.json().await.unwrap();
    assert_eq!(r["code"], 200, "{r}");
    assert!(!allowed(&c, &bob, "books:42", "books:write").await);

    // Deleting the node removes the grants made to it; deleting the resource removes its grants.
    c.data(AUTHORIZE, json!({ "ns": "books-ns", "r": "books", "opts": [{ "targetType": "ORG", "targetIdentifier": eng, "actions": ["books:read"] }] })).await;
    c.data(AUTHORIZE, json!({ "ns": "books-ns", "r": "books", "opts": [{ "targetType": "USER", "targetIdentifier": bob, "actions": ["books:read"] }] })).await;
    c.data("mutation($o: String!, $n: String!) { deleteNode(orgId: $o, nodeId: $n) { code } }", json!({ "o": org_id, "n": eng })).await;
    let t = c.data("{ authorizedTargets(namespace: \"books-ns\", resource: \"books\", resourceType: DATA) { totalCount } }", json!({})).await;
    assert_eq!(t["authorizedTargets"]["totalCount"], 1, "the node's grant went with it");
    let del: Value = c.http.delete(format!("{}/api/v2/resources/books?namespace=books-ns", s.url)).bearer_auth(c.token.as_ref().unwrap())
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(del["code"], 200, "{del}");
    assert!(!allowed(&c, &bob, "books", "books:read").await, "the resource's grants went with it");
    let gone: Value = c.get("/api/v2/resources/detail?namespace=books-ns&code=books").await.json().await.unwrap();
    assert_eq!((gone["code"].as_i64(), gone["data"].is_null()), (Some(200), true), "an unknown resource is data: null");

    // Every change wrote permission events in its transaction.
    let ev = c.data("{ events(eventNames: [\"permission:add\", \"permission:revoke\"]) { eventName data } }", json!({})).await;
    let ev = ev["events"].as_array().unwrap();
    assert_eq!(ev.iter().filter(|e| e["eventName"] == "permission:revoke").count(), 1);
    let first = &ev[0]["data"];
    assert_eq!(first["targetType"], "ORG");
    assert_eq!(first["targetIdentifiers"], json!([sales]));
    assert_eq!(first["namespace"], "books-ns");
    assert_eq!(first["userPoolId"], s.pool_id.as_str());
    assert_eq!(first["policies"], first["policyCodes"]);
}

#[tokio::test]
async fn bad_grants_change_nothing_and_pools_stay_apart() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    setup(&c, &s.pool_id).await;
    let ann = id(&create(&c, json!({ "username": "ann" })).await);
    // An unknown user, an unknown node, a role: refused, and the valid target is not granted.
    for (ty, target, code) in [("USER", "nobody", "NOT_FOUND"), ("ORG", "no-node", "NOT_FOUND"), ("ROLE", "admins", "INVALID_INPUT")] {
        let (got, _) = c.error(AUTHORIZE, json!({ "ns": "books-ns", "r": "books", "opts": [
            { "targetType": "USER", "targetIdentifier": ann, "actions": ["books:read"] },
            { "targetType": ty, "targetIdentifier": target, "actions": ["books:read"] }] })).await;
        assert_eq!(got, code, "{ty}");
    }
    assert!(!allowed(&c, &ann, "books", "books:read").await, "nothing was granted");
    // A namespace that does not exist.
    let (code, _) = c.error(AUTHORIZE, json!({ "ns": "nope", "r": "books", "opts": [{ "targetType": "USER", "targetIdentifier": ann, "actions": ["x"] }] })).await;
    assert_eq!(code, "NOT_FOUND");
    // Another pool: cannot grant to this pool's user, sees none of its namespaces or resources,
    // and cannot use this pool's id in the namespace routes.
    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;
    let (code, _) = b.error(AUTHORIZE, json!({ "r": "books", "opts": [{ "targetType": "USER", "targetIdentifier": ann, "actions": ["books:read"] }] })).await;
    assert_eq!(code, "NOT_FOUND");
    let list: Value = b.get(&format!("/api/v2/resource-namespace/{pool_b}")).await.json().await.unwrap();
    assert_eq!(list["data"]["totalCount"], 0, "{list}");
    assert_eq!(v2_status(b.get(&format!("/api/v2/resource-namespace/{}", s.pool_id)).await).await, 403);
    let res: Value = b.get("/api/v2/resources?namespace=books-ns").await.json().await.unwrap();
    assert_eq!(res["errorCode"], "NOT_FOUND", "{res}");
    // A duplicate resource or namespace code is a conflict; a bad resource type is refused.
    let dup: Value = c.post_json("/api/v2/resources", json!({ "namespace": "books-ns", "code": "books", "actions": [] })).await.json().await.unwrap();
    assert_eq!(dup["errorCode"], "CONFLICT");
    let bad: Value = c.post_json("/api/v2/resources", json!({ "namespace": "books-ns", "code": "pens", "type": "TOYS" })).await.json().await.unwrap();
    assert_eq!(bad["errorCode"], "INVALID_INPUT");
}

#[tokio::test]
async fn permission_checks_cost_a_fixed_number_of_statements_whatever_the_tree_size() {
    let s = TestServer::start_with(|c| c.webhooks.poll_ms = 60_000).await;
    let c = s.admin().await;
    let mut costs = Vec::new();
    for width in [2, 5] {
        let (org_id, root) = wide_tree(&s, &c, width).await;
        c.data(AUTHORIZE, json!({ "r": format!("doc{width}"), "opts": [{ "targetType": "ORG", "targetIdentifier": root, "actions": ["read"] }] })).await;
        let member = c.data("query($id: String!) { org(id: $id) { nodes { users { list { id } } } } }", json!({ "id": org_id })).await;
        let user = member["org"]["nodes"].as_array().unwrap().iter().find_map(|n| n["users"]["list"][0]["id"].as_str()).unwrap().to_string();
        let q = json!({ "r": format!("doc{width}"), "a": "read", "u": user, "ns": "default" });
        assert_eq!(c.data(ALLOWED, q.clone()).await["isActionAllowed"], true, "inherited from the root");
        let check = statements_of(&s, || async { c.data(ALLOWED, q.clone()).await; }).await;
        let list = statements_of(&s, || async { c.data(USER_RESOURCES, json!({ "id": user, "ns": "default" })).await; }).await;
        costs.push((check, list));
    }
    eprintln!("statement costs (isAllowed, user resources): {costs:?}");
    assert_eq!(costs[0], costs[1], "must not grow with the tree: {costs:?}");
    assert!(costs[0].0 <= 3 && costs[0].1 <= 3, "{costs:?}");
}

/// A v2 REST answer's body (HTTP 200 whether it succeeded or not).
async fn v2(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 200);
    res.json().await.expect("a v2 envelope")
}

/// What `user authorizedResources` lists for a user (GraphQL), to compare the batch list with.
async fn resources_of(c: &Client, user: &str) -> Value {
    c.data(USER_RESOURCES, json!({ "id": user, "ns": "books-ns" })).await["user"]["authorizedResources"].clone()
}

#[tokio::test]
async fn batch_grants_and_revokes_are_all_or_nothing_and_list_back_per_target() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    setup(&c, &s.pool_id).await;
    let pens: Value = v2(c.post_json("/api/v2/resources", json!({ "namespace": "books-ns", "code": "pens", "type": "DATA", "actions": [{ "name": "pens:use" }] })).await).await;
    assert_eq!(pens["code"], 200, "{pens}");
    let menu: Value = v2(c.post_json("/api/v2/resources", json!({ "namespace": "books-ns", "code": "menu", "type": "MENU", "actions": [{ "name": "show" }] })).await).await;
    assert_eq!(menu["code"], 200, "{menu}");
    let org = create_org(&c, "Acme", "acme").await;
    let sales = id(&add_node(&c, &id(&org), &id(&org["rootNode"]), "Sales", Some("sales")).await);
    let ann = id(&create(&c, json!({ "username": "ann" })).await);
    let bob = id(&create(&c, json!({ "username": "bob" })).await);
    c.data("mutation($n: String!, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": sales, "u": [ann] })).await;

    // authing-js-sdk's acl.authorizeResources body: several targets, several resources each.
    let granted = v2(c.post_json("/api/v2/acl/authorize-resources", json!({ "namespace": "books-ns", "opts": [
        { "targetType": "USER", "targetIdentifiers": [bob], "resources": [
            { "code": "books", "actions": ["books:read", "books:write"], "resourceType": "DATA" },
            { "code": "pens", "actions": ["pens:use"], "resourceType": "DATA" },
            { "code": "menu", "actions": ["show"], "resourceType": "MENU" }] },
        { "targetType": "ORG", "targetIdentifiers": [sales], "resources": [
            { "code": "books", "actions": ["books:read"], "resourceType": "DATA" }] }] })).await).await;
    assert_eq!(granted["code"], 200, "{granted}");
    assert!(allowed(&c, &bob, "books", "books:write").await);
    assert!(allowed(&c, &bob, "pens", "pens:use").await);
    assert!(allowed(&c, &ann, "books", "books:read").await, "through Sales");
    assert!(!allowed(&c, &ann, "books", "books:write").await);

    // acl.listAuthorizedResourcesBatch: one answer per target, in their order, as each one's own
    // list says; of one type when asked.
    let listed = v2(c.post_json("/api/v2/acl/list-authorized-resources-batch", json!({ "namespace": "books-ns", "targets": [
        { "targetType": "USER", "targetIdentifier": bob }, { "targetType": "USER", "targetIdentifier": ann },
        { "targetType": "ORG", "targetIdentifier": sales }] })).await).await;
    let list = listed["data"]["list"].as_array().expect("a list");
    assert_eq!(list.len(), 3, "{listed}");
    assert_eq!(list[0]["totalCount"], 3);
    assert_eq!(list[0]["list"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect::<Vec<_>>(), ["books", "menu", "pens"]);
    assert_eq!(list[0]["list"][0], json!({ "code": "books", "type": "DATA", "actions": ["books:read", "books:write"], "apiIdentifier": "https://api/books" }));
    for (i, user) in [(0, &bob), (1, &ann)] {
        let own = resources_of(&c, user).await;
        assert_eq!(list[i]["totalCount"], own["totalCount"], "{listed} vs {own}");
        assert_eq!(list[i]["list"].as_array().unwrap().iter().map(|r| &r["code"]).collect::<Vec<_>>(),
                   own["list"].as_array().unwrap().iter().map(|r| &r["code"]).collect::<Vec<_>>());
    }
    assert_eq!(list[2], json!({ "totalCount": 1, "list": [{ "code": "books", "type": "DATA", "actions": ["books:read"], "apiIdentifier": "https://api/books" }] }));
    let menus = v2(c.post_json("/api/v2/acl/list-authorized-resources-batch", json!({ "namespace": "books-ns", "resourceType": "MENU",
        "targets": [{ "targetType": "USER", "targetIdentifier": bob }] })).await).await;
    assert_eq!(menus["data"]["list"], json!([{ "totalCount": 1, "list": [{ "code": "menu", "type": "MENU", "actions": ["show"], "apiIdentifier": null }] }]));

    // A batch with one bad target grants nothing at all: Ann does not get the pens.
    let refused = v2(c.post_json("/api/v2/acl/authorize-resources", json!({ "namespace": "books-ns", "opts": [
        { "targetType": "USER", "targetIdentifiers": [ann], "resources": [{ "code": "pens", "actions": ["pens:use"] }] },
        { "targetType": "USER", "targetIdentifiers": ["nobody"], "resources": [{ "code": "books", "actions": ["books:read"] }] }] })).await).await;
    assert_eq!(refused["errorCode"], "NOT_FOUND", "{refused}");
    assert!(!allowed(&c, &ann, "pens", "pens:use").await, "nothing of the refused batch was granted");

    // acl.revokeResources: Bob loses the books, keeps the pens; Sales loses the books.
    let revoked = v2(c.post_json("/api/v2/acl/revoke-resources", json!({ "namespace": "books-ns", "opts": [
        { "targetType": "USER", "targetIdentifiers": [bob], "resources": [{ "code": "books", "actions": ["books:read", "books:write"], "resourceType": "DATA" }] },
        { "targetType": "ORG", "targetIdentifiers": [sales], "resources": [{ "code": "books", "actions": ["books:read"], "resourceType": "DATA" }] }] })).await).await;
    assert_eq!(revoked["code"], 200, "{revoked}");
    assert!(!allowed(&c, &bob, "books", "books:read").await);
    assert!(allowed(&c, &bob, "pens", "pens:use").await, "only what was named is revoked");
    assert!(!allowed(&c, &ann, "books", "books:read").await);
    let t = c.data("{ authorizedTargets(namespace: \"books-ns\", resource: \"books\", resourceType: DATA) { totalCount } }", json!({})).await;
    assert_eq!(t["authorizedTargets"]["totalCount"], 0);
    // A revoke batch with a bad entry revokes nothing: Bob keeps the pens.
    let refused = v2(c.post_json("/api/v2/acl/revoke-resources", json!({ "namespace": "books-ns", "opts": [
        { "targetType": "USER", "targetIdentifiers": [bob], "resources": [{ "code": "pens" }] },
        { "targetType": "USER", "targetIdentifiers": [bob], "resources": [{ "code": "bad code" }] }] })).await).await;
    assert_eq!(refused["errorCode"], "INVALID_INPUT", "{refused}");
    assert!(allowed(&c, &bob, "pens", "pens:use").await, "nothing of the refused batch was revoked");

    // Each batch was one change: one transaction's events, permission:add then permission:revoke.
    let ev = c.data("{ events(eventNames: [\"permission:add\", \"permission:revoke\"]) { eventName data } }", json!({})).await;
    let names: Vec<&str> = ev["events"].as_array().unwrap().iter().map(|e| e["eventName"].as_str().unwrap()).collect();
    assert_eq!(names, ["permission:add", "permission:add", "permission:add", "permission:add", "permission:revoke", "permission:revoke"], "{ev}");
}

#[tokio::test]
async fn namespaces_are_updated_and_deleted_by_id() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    setup(&c, &s.pool_id).await;
    let spare = v2(c.post_json(&format!("/api/v2/resource-namespace/{}", s.pool_id), json!({ "code": "spare", "name": "Spare" })).await).await;
    let spare_id = spare["data"]["id"].as_i64().expect("a numeric id");
    let res = v2(c.post_json("/api/v2/resources", json!({ "namespace": "spare", "code": "bolts", "actions": [{ "name": "bolts:use" }] })).await).await;
    assert_eq!(res["code"], 200, "{res}");
    let ann = id(&create(&c, json!({ "username": "ann" })).await);
    c.data(AUTHORIZE, json!({ "ns": "spare", "r": "bolts", "opts": [{ "targetType": "USER", "targetIdentifier": ann, "actions": ["bolts:use"] }] })).await;

    // PUT …/{pool}/{id}: renamed, recoded, described; read back from the list.
    let path = format!("/api/v2/resource-namespace/{}/{spare_id}", s.pool_id);
    let updated = v2(c.put_json(&path, json!({ "code": "parts", "name": "Spare parts", "description": "tmp" })).await).await;
    assert_eq!(updated["code"], 200, "{updated}");
    assert_eq!((updated["data"]["id"].as_i64(), updated["data"]["code"].as_str()), (Some(spare_id), Some("parts")));
    let listed = v2(c.get(&format!("/api/v2/resource-namespace/{}?page=1&limit=10", s.pool_id)).await).await;
    let row = listed["data"]["list"].as_array().unwrap().iter().find(|n| n["id"] == spare_id).cloned().expect("still listed");
    assert_eq!((row["code"].clone(), row["name"].clone(), row["description"].clone()), (json!("parts"), json!("Spare parts"), json!("tmp")));
    let bolts = v2(c.get("/api/v2/resources?namespace=parts").await).await;
    assert_eq!(bolts["data"]["totalCount"], 1, "its resources follow it: {bolts}");
    // Refusals: a code taken, an id that is not a number, another pool's id in the route, another
    // pool's token on this pool's namespace id.
    let taken = v2(c.put_json(&path, json!({ "code": "books-ns" })).await).await;
    assert_eq!(taken["errorCode"], "CONFLICT", "{taken}");
    assert_eq!(v2_status(c.put_json(&format!("/api/v2/resource-namespace/{}/x1", s.pool_id), json!({ "name": "n" })).await).await, 400);
    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;
    assert_eq!(v2_status(b.put_json(&path, json!({ "name": "mine" })).await).await, 403);
    assert_eq!(v2_status(b.put_json(&format!("/api/v2/resource-namespace/{pool_b}/{spare_id}"), json!({ "name": "mine" })).await).await, 404);
    assert_eq!(v2_status(b.delete(&format!("/api/v2/resource-namespace/{pool_b}/{spare_id}")).await).await, 404);

    // DELETE …/{pool}/{id}: gone from the list, with its resources and their grants.
    let deleted = v2(c.delete(&path).await).await;
    assert_eq!(deleted["code"], 200, "{deleted}");
    let listed = v2(c.get(&format!("/api/v2/resource-namespace/{}", s.pool_id)).await).await;
    assert!(listed["data"]["list"].as_array().unwrap().iter().all(|n| n["id"] != spare_id), "{listed}");
    assert_eq!(v2(c.get("/api/v2/resources?namespace=parts").await).await["errorCode"], "NOT_FOUND");
    let list = c.data(USER_RESOURCES, json!({ "id": ann, "ns": "parts" })).await;
    assert_eq!(list["user"]["authorizedResources"]["totalCount"], 0);
    assert_eq!(v2_status(c.delete(&path).await).await, 404, "deleted once");
    // The other namespace is untouched.
    assert_eq!(v2(c.get("/api/v2/resources?namespace=books-ns").await).await["data"]["totalCount"], 1);
}

/// The document authing-js-sdk 4.23.55 sends (src/types/graphql.v2.ts): no namespace, so the
/// default one.
const SDK_IS_ACTION_DENIED: &str = "query isActionDenied($resource: String!, $action: String!, $userId: String!) {
  isActionDenied(resource: $resource, action: $action, userId: $userId)
}";

#[tokio::test]
async fn is_action_denied_answers_the_opposite_of_the_grants() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    setup(&c, &s.pool_id).await;
    let ann = id(&create(&c, json!({ "username": "ann" })).await);
    let bob = id(&create(&c, json!({ "username": "bob" })).await);
    let denied = |user: &str, resource: &str, action: &str| {
        let (c, v) = (c.clone(), json!({ "resource": resource, "action": action, "userId": user }));
        async move { c.data(SDK_IS_ACTION_DENIED, v).await["isActionDenied"].as_bool().expect("a boolean") }
    };
    // Nothing granted yet: denied.
    assert!(denied(&ann, "docs:1", "docs:read").await);
    // A grant in the default namespace (where the SDK's document asks).
    c.data("mutation($u: String) { allow(resource: \"docs:*\", action: \"docs:read\", userId: $u) { code } }", json!({ "u": ann })).await;
    assert!(!denied(&ann, "docs:1", "docs:read").await, "granted: not denied");
    assert!(denied(&ann, "docs:1", "docs:write").await, "another action");
    assert!(denied(&ann, "notes:1", "docs:read").await, "another resource");
    assert!(denied(&bob, "docs:1", "docs:read").await, "another user");
    // With a namespace: the grant is in another one.
    let q = "query($r: String!, $a: String!, $u: String!, $ns: String) { isActionDenied(resource: $r, action: $a, userId: $u, namespace: $ns) }";
    let d = c.data(q, json!({ "r": "docs:1", "a": "docs:read", "u": ann, "ns": "books-ns" })).await;
    assert_eq!(d["isActionDenied"], true);
    c.data(AUTHORIZE, json!({ "ns": "books-ns", "r": "books", "opts": [{ "targetType": "USER", "targetIdentifier": bob, "actions": ["books:read"] }] })).await;
    let d = c.data(q, json!({ "r": "books", "a": "books:read", "u": bob, "ns": "books-ns" })).await;
    assert_eq!(d["isActionDenied"], false);
    // Revoked: denied again. An unknown user is an error, not an answer.
    let r = v2(c.post_json("/api/v2/acl/revoke-resource", json!({ "resource": "docs:*", "opts": [{ "targetType": "USER", "targetIdentifier": ann }] })).await).await;
    assert_eq!(r["code"], 200, "{r}");
    assert!(denied(&ann, "docs:1", "docs:read").await);
    let (code, _) = c.error(SDK_IS_ACTION_DENIED, json!({ "resource": "docs:1", "action": "docs:read", "userId": "nobody" })).await;
    assert_eq!(code, "NOT_FOUND");
}
