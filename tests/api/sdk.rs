//! The official authing-js-sdk v4, unchanged, against a real orgraph. Node.js and npm must be
//! installed: without them this test fails and says so.

use std::{path::PathBuf, process::Command};

use serde_json::{Value, json};

use crate::harness::{POOL_SECRET, TestServer, before_deadline};

/// `tests/sdk` installed (with `npm ci`, once per test run) into a scratch folder under `target/`.
pub(crate) fn sdk_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| crate::harness::npm_package("tests/sdk", "target/sdk-node")).clone()
}

pub fn run_node(dir: &PathBuf, script: &str, env: &[(&str, &str)]) -> Value {
    let out = Command::new("node")
        .arg(script)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("Node.js is required for the SDK tests and could not be run: {e}"));
    summary_of(script, &out)
}

/// The JSON summary a script that succeeded printed last.
fn summary_of(script: &str, out: &std::process::Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("the script prints a JSON summary")
}

/// Run one of the SDK scripts against `s` with the first pool's credentials.
pub(crate) async fn run_sdk_script(s: &TestServer, script: &'static str) -> Value {
    let dir = tokio::task::spawn_blocking(sdk_dir).await.unwrap();
    let (url, pool) = (s.url.clone(), s.pool_id.clone());
    tokio::task::spawn_blocking(move || {
        run_node(&dir, script, &[
            ("ORGRAPH_HOST", &url),
            ("ORGRAPH_POOL_ID", &pool),
            ("ORGRAPH_POOL_SECRET", POOL_SECRET),
        ])
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn authing_js_sdk_manages_users() {
    let s = TestServer::start().await;
    let summary = run_sdk_script(&s, "users.cjs").await;
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["total"], 1);

    // What the SDK did is in the database: the password it encrypted was decrypted and hashed.
    let admin = s.admin().await;
    let alice = admin
        .data("query($id: String) { user(id: $id) { username nickname company } }", json!({ "id": summary["alice"] }))
        .await;
    assert_eq!(alice["user"], json!({ "username": "sdk-alice", "nickname": "Alicia", "company": "SDK Inc" }));
    use sea_orm::EntityTrait;
    let row = entity::user::Entity::find_by_id(summary["alice"].as_str().unwrap().to_string())
        .one(&s.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(orgraph::security::secret_hash::Hasher::new(1).verify("n3w-pass".into(), row.password_hash).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_claimed_sdk_document_validates_against_schema_graphql() {
    let dir = tokio::task::spawn_blocking(sdk_dir).await.unwrap();
    let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let summary = tokio::task::spawn_blocking(move || {
        run_node(&dir, "documents.cjs", &[("ORGRAPH_SCHEMA", schema.to_str().expect("utf-8 path"))])
    })
    .await
    .unwrap();
    assert_eq!(summary["failures"], json!([]));
    assert!(summary["checked"].as_u64().unwrap() >= 41);
}

#[tokio::test(flavor = "multi_thread")]
async fn authing_js_sdk_manages_org_trees_and_members() {
    let s = TestServer::start().await;
    let summary = run_sdk_script(&s, "orgs.cjs").await;
    assert_eq!(summary["ok"], true);
    // The state the SDK left is consistent and what it said.
    let org = summary["orgId"].as_str().unwrap();
    assert_eq!(s.state.orgs.check_invariants(org).await.unwrap(), Vec::<String>::new());
    let admin = s.admin().await;
    let d = admin
        .data("query($id: String!) { nodeById(id: $id) { path users { totalCount list { id } } } }", json!({ "id": summary["ops"] }))
        .await;
    assert_eq!(d["nodeById"]["users"]["list"], json!([{ "id": summary["alice"] }]));
    let d = admin.data("query($id: String!) { nodeById(id: $id) { path } }", json!({ "id": summary["backend"] })).await;
    assert_eq!(d["nodeById"]["path"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn authing_js_sdk_manages_permissions() {
    let s = TestServer::start().await;
    let summary = run_sdk_script(&s, "acl.cjs").await;
    assert_eq!(summary["ok"], true);
    // What the SDK did was recorded as events.
    let admin = s.admin().await;
    let d = admin.data("{ events(eventNames: [\"permission:add\", \"permission:revoke\", \"resource:created\", \"privilege-namespace:deleted\"]) { eventName } }", json!({})).await;
    let names: Vec<&str> = d["events"].as_array().unwrap().iter().map(|e| e["eventName"].as_str().unwrap()).collect();
    for name in ["permission:add", "permission:revoke", "resource:created", "privilege-namespace:deleted"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn graphql_ws_client_receives_events_live() {
    let s = TestServer::start().await;
    let token = s.admin().await.token.unwrap();
    let dir = tokio::task::spawn_blocking(sdk_dir).await.unwrap();
    let url = s.url.clone();
    let summary = tokio::task::spawn_blocking(move || {
        run_node(&dir, "subscribe.cjs", &[("ORGRAPH_HOST", &url), ("ORGRAPH_TOKEN", &token)])
    })
    .await
    .unwrap();
    assert_eq!(summary["names"], json!(["ws-a", "ws-b", "ws-c"]), "live, in order, once");
    assert_eq!(summary["refused"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn authing_js_sdk_event_sub_receives_events() {
    use tokio::io::AsyncWriteExt as _;
    let s = TestServer::start().await;
    let dir = tokio::task::spawn_blocking(sdk_dir).await.unwrap();
    let mut script = tokio::process::Command::new("node")
        .arg("event_sub.cjs")
        .current_dir(&dir)
        .envs([("ORGRAPH_HOST", s.url.as_str()), ("ORGRAPH_POOL_ID", s.pool_id.as_str()), ("ORGRAPH_POOL_SECRET", POOL_SECRET)])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("Node.js is required for the SDK tests and could not be run: {e}"));
    // The script creates its user once told on stdin that the server has subscribed its socket.
    s.wait_for_subscriptions(1).await;
    script.stdin.take().expect("stdin").write_all(b"subscribed\n").await.expect("the script reads stdin");
    let out = before_deadline("event_sub.cjs to finish", script.wait_with_output()).await.expect("node runs");
    let summary = summary_of("event_sub.cjs", &out);
    assert_eq!(summary["username"], "via-event-socket");
}
