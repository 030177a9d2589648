//! The outbox: every change writes its events (seed 000's names and payloads) in its own
//! transaction; a refused change writes none; `events` lists them by cursor; `publishEvent`.

use serde_json::{Value, json};

use crate::{
    harness::{Client, TestServer},
    orgs::{add_node, create_org, id},
    users::create,
};

const EVENTS: &str = "query($after: String, $names: [String!], $org: String, $first: Int) {
    events(after: $after, eventNames: $names, orgId: $org, first: $first) { id eventName orgId data createdAt } }";

async fn events_after(c: &Client, after: Option<&str>) -> Vec<Value> {
    c.data(EVENTS, json!({ "after": after, "first": 1000 })).await["events"].as_array().unwrap().clone()
}

async fn last_id(c: &Client) -> Option<String> {
    events_after(c, None).await.last().map(|e| e["id"].as_str().unwrap().to_string())
}

/// The events since `after`, as (name, data).
async fn new_events(c: &Client, after: &Option<String>) -> Vec<(String, Value)> {
    events_after(c, after.as_deref())
        .await
        .into_iter()
        .map(|e| (e["eventName"].as_str().unwrap().to_string(), e["data"].clone()))
        .collect()
}

#[tokio::test]
async fn user_changes_emit_user_events() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let u = create(&c, json!({ "username": "ann", "password": "secret-pass" })).await;
    let got = new_events(&c, &None).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, "user:created");
    assert_eq!(got[1].0, "register", "seed 000: an administrator's create is a registration too");
    assert_eq!(got[0].1["user"]["username"], "ann");
    assert!(!got[0].1.to_string().contains("secret-pass") && !got[0].1.to_string().contains("argon2"), "no password in events");

    let mark = last_id(&c).await;
    c.data("mutation($id: String) { updateUser(id: $id, input: { nickname: \"A\" }) { id } }", json!({ "id": u["id"] })).await;
    let got = new_events(&c, &mark).await;
    assert_eq!(got, vec![("user:updated".to_string(), got[0].1.clone())]);
    assert_eq!(got[0].1["updates"], json!({ "nickname": "A" }));
    assert_eq!(got[0].1["user"]["nickname"], "A");

    // A refused change emits nothing.
    let mark = last_id(&c).await;
    let (code, _) = c.error("mutation { createUser(userInfo: { username: \"ann\" }) { id } }", json!({})).await;
    assert_eq!(code, "CONFLICT");
    let (code, _) = c.error("mutation($ids: [String!]!) { deleteUsers(ids: $ids) { code } }", json!({ "ids": [u["id"], "ghost"] })).await;
    assert_eq!(code, "NOT_FOUND");
    assert_eq!(new_events(&c, &mark).await, vec![]);

    // One update that is several things at once.
    c.data("mutation($id: String) { updateUser(id: $id, input: { password: \"n3w-pass\", blocked: true, status: Archived, customData: { a: 1 } }) { id } }",
        json!({ "id": u["id"] })).await;
    let names: Vec<String> = new_events(&c, &mark).await.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["user:updated", "user:password-changed", "user:udv-changed", "user:blocked", "user:archived"]);
    let all = new_events(&c, &mark).await;
    assert_eq!(all[0].1["updates"]["password"], "[changed]");
    assert_eq!(all[2].1["udv"], json!({ "a": 1 }));

    let mark = last_id(&c).await;
    c.data("mutation($ids: [String!]!) { deleteUsers(ids: $ids) { code } }", json!({ "ids": [u["id"]] })).await;
    let got = new_events(&c, &mark).await;
    assert_eq!(got[0].0, "user:deleted");
    assert_eq!(got[0].1["users"][0]["id"], u["id"]);
}

#[tokio::test]
async fn org_changes_emit_organization_events() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Acme", "acme").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let got = new_events(&c, &None).await;
    assert_eq!(got[0].0, "organization:created");
    assert_eq!(got[0].1["organization"]["id"], org_id.as_str());
    assert_eq!(got[0].1["organization"]["rootNodeId"], root.as_str());
    assert_eq!(got[0].1["rootNode"]["name"], "Acme");

    let mark = last_id(&c).await;
    let a = id(&add_node(&c, &org_id, &root, "A", Some("a")).await);
    let b = id(&add_node(&c, &org_id, &root, "B", None).await);
    let a1 = id(&add_node(&c, &org_id, &a, "A1", None).await);
    c.data("mutation($id: String!) { updateNode(id: $id, name: \"A!\") { id } }", json!({ "id": a })).await;
    c.data("mutation($o: String!, $n: String!, $t: String!) { moveNode(orgId: $o, nodeId: $n, targetParentId: $t) { id } }",
        json!({ "o": org_id, "n": a1, "t": b })).await;
    let u = id(&create(&c, json!({ "username": "m" })).await);
    c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": a1, "u": [u] })).await;
    c.data("mutation($u: [String!]!, $s: String!, $t: String!) { moveMembers(userIds: $u, sourceNodeId: $s, targetNodeId: $t) { code } }",
        json!({ "u": [u], "s": a1, "t": a })).await;
    c.data("mutation($n: String, $u: [String!]!) { removeMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": a, "u": [u] })).await;
    c.data("mutation($o: String!, $n: String!) { deleteNode(orgId: $o, nodeId: $n) { code } }", json!({ "o": org_id, "n": b })).await;

    let got = new_events(&c, &mark).await;
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, [
        "organization:node-added", "organization:node-added", "organization:node-added",
        "organization:node-updated", "organization:node-moved", "user:created", "register",
        "organization:member-added", "organization:member-removed", "organization:member-added",
        "organization:member-removed", "organization:node-deleted",
    ]);
    let added = &got[0].1;
    assert_eq!(added["node"]["name"], "A");
    assert_eq!(added["parentNode"]["id"], root.as_str());
    assert_eq!(added["organization"]["id"], org_id.as_str());
    assert_eq!(got[3].1["updates"], json!({ "name": "A!" }));
    let moved = &got[4].1;
    assert_eq!(moved["node"]["id"], a1.as_str());
    assert_eq!(moved["parentNode"]["id"], b.as_str());
    assert_eq!(moved["oldParent"]["id"], a.as_str());
    assert_eq!(moved["organization"]["id"], org_id.as_str());
    assert_eq!(got[7].1["node"]["id"], a1.as_str());
    assert_eq!(got[7].1["user"]["id"], u.as_str());
    let deleted: Vec<&str> = got[11].1["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(deleted, [b.as_str(), a1.as_str()], "the subtree, top first");

    // Filters: by name and by org.
    let d = c.data(EVENTS, json!({ "names": ["organization:node-moved"] })).await;
    assert_eq!(d["events"].as_array().unwrap().len(), 1);
    let other = create_org(&c, "Other", "other").await;
    let d = c.data(EVENTS, json!({ "org": id(&other) })).await;
    assert_eq!(d["events"].as_array().unwrap().len(), 1);
    assert_eq!(d["events"][0]["eventName"], "organization:created");

    // Import and delete.
    let mark = last_id(&c).await;
    let res = c.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": { "name": "Imp", "code": "imp", "children": [{ "name": "x" }] } })).await;
    assert_eq!(res.status(), 200);
    c.data("mutation($id: String!) { deleteOrg(id: $id) { code } }", json!({ "id": org_id })).await;
    let got = new_events(&c, &mark).await;
    assert_eq!(got[0].0, "organization:imported");
    assert_eq!(got[0].1["source"], "JSON");
    assert_eq!(got[0].1["nodesCount"], 2);
    assert_eq!(got[1].0, "organization:deleted");
    assert_eq!(got[1].1["organization"]["id"], org_id.as_str());
}

#[tokio::test]
async fn events_page_by_cursor_and_stay_in_their_pool() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    for i in 0..7 {
        create(&c, json!({ "username": format!("u{i}") })).await;
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let d = c.data(EVENTS, json!({ "after": after, "first": 3, "names": ["user:created"] })).await;
        let page = d["events"].as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|e| e["id"].as_str().unwrap().to_string());
        seen.extend(page.into_iter().map(|e| e["data"]["user"]["username"].as_str().unwrap().to_string()));
    }
    assert_eq!(seen, (0..7).map(|i| format!("u{i}")).collect::<Vec<_>>(), "oldest first, no gap, no repeat");
    let (code, _) = c.error(EVENTS, json!({ "first": 0 })).await;
    assert_eq!(code, "INVALID_INPUT");

    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;
    assert_eq!(events_after(&b, None).await, Vec::<Value>::new());
    assert_eq!(s.anonymous().error(EVENTS, json!({})).await.0, "UNAUTHENTICATED");
}

#[tokio::test]
async fn publish_event_takes_catalog_names_and_objects() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let d = c.data("{ webhookEventList { name description } }", json!({})).await;
    let names: Vec<&str> = d["webhookEventList"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    for n in ["login", "user:created", "organization:node-moved", "organization:member-added"] {
        assert!(names.contains(&n), "{n}");
    }
    let q = "mutation($n: String!, $d: JSON!) { publishEvent(eventName: $n, data: $d) { id eventName data } }";
    let d = c.data(q, json!({ "n": "login", "d": { "user": { "id": "x" } } })).await;
    assert_eq!(d["publishEvent"]["eventName"], "login");
    let listed = events_after(&c, None).await;
    assert_eq!(listed[0]["id"], d["publishEvent"]["id"]);
    assert_eq!(c.error(q, json!({ "n": "nonsense", "d": {} })).await.0, "INVALID_INPUT");
    assert_eq!(c.error(q, json!({ "n": "login", "d": [1] })).await.0, "INVALID_INPUT");
    assert_eq!(events_after(&c, None).await.len(), 1);
}
