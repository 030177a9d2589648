//! The `message` of v2 REST successes: Authing's documented sample's, route by route (SDK users
//! log it and some compare it).

use serde_json::{Value, json};

use crate::{
    harness::{Client, TestServer},
    orgs::{add_node, create_org, id},
    users::create,
};

async fn message(res: reqwest::Response) -> String {
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(body["code"], 200, "a success: {body}");
    body["message"].as_str().unwrap_or("<not a string>").to_string()
}

async fn get(c: &Client, path: &str) -> String {
    message(c.get(path).await).await
}

#[tokio::test]
async fn v2_successes_answer_authings_documented_messages() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Acme", "acme").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let dev = id(&add_node(&c, &org_id, &root, "Dev", Some("dev")).await);
    let ann = id(&create(&c, json!({ "username": "ann" })).await);
    c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": dev, "u": [ann] })).await;

    // Seed 003's sample, word for word.
    let seed: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}/tests/fixtures/seed-003-node-members.json", env!("CARGO_MANIFEST_DIR"))).expect("fixture"),
    )
    .expect("fixture is JSON");
    assert_eq!(seed["message"], "获取组织结构用户成功");
    assert_eq!(get(&c, &format!("/api/v2/orgs/nodes/{dev}/members?page=1&limit=10")).await, seed["message"].as_str().unwrap_or_default());

    assert_eq!(get(&c, &format!("/api/v2/orgs/export?org_id={org_id}")).await, "导出数据成功");
    assert_eq!(get(&c, "/api/v2/orgs/export").await, "导出数据成功");
    let imported = c.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": { "name": "Imported", "code": "imported" } })).await;
    assert_eq!(message(imported).await, "", "the import's sample answers an empty message");

    let pool = &s.pool_id;
    let created: Value = c.post_json(&format!("/api/v2/resource-namespace/{pool}"), json!({ "code": "books-ns", "name": "Books" })).await.json().await.expect("JSON");
    let ns_id = created["data"]["id"].as_i64().expect("a namespace id");
    assert_eq!(get(&c, &format!("/api/v2/resource-namespace/{pool}?page=1&limit=10")).await, "请求成功");
    let renamed = c.http.put(format!("{}/api/v2/resource-namespace/{pool}/{ns_id}", s.url)).bearer_auth(c.token.as_deref().unwrap_or_default())
        .json(&json!({ "name": "Library" })).send().await.expect("sent");
    assert_eq!(message(renamed).await, "请求成功");

    let resource = c.post_json("/api/v2/resources", json!({ "namespace": "books-ns", "code": "books", "type": "DATA", "actions": [{ "name": "books:read" }] })).await;
    assert_eq!(message(resource).await, "创建成功");
    let changed = c.post_json("/api/v2/resources/books", json!({ "namespace": "books-ns", "description": "All books" })).await;
    assert_eq!(message(changed).await, "修改成功");
    assert_eq!(get(&c, "/api/v2/resources/detail?namespace=books-ns&code=books").await, "", "the detail's sample answers an empty message");
}
