//! The official Python SDK of the v3 API (PyPI `authing==5.1.0`), unchanged, against a real
//! orgraph: management token and `list_department_members`. Python 3 with venv must be there;
//! the packages are installed once into `target/sdk-py`.

use std::{path::PathBuf, process::Command};

use serde_json::{Value, json};

use crate::{harness::{POOL_SECRET, TestServer}, orgs::{add_node, create_org, id}, users::create};

pub(crate) fn venv() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| venv_with("tests/sdk-py/requirements.txt", "target/sdk-py")).clone()
}

/// A virtual environment in `scratch` (under `target/`) with the packages of `requirements`
/// installed, again only when that file changed. Without python3 the calling test fails and
/// says so.
pub(crate) fn venv_with(requirements: &str, scratch: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join(scratch);
    let stamp = dir.join("installed.txt");
    let wanted = std::fs::read_to_string(root.join(requirements)).unwrap_or_else(|e| panic!("{requirements}: {e}"));
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let status = Command::new("python3")
            .args(["-m", "venv", dir.to_str().expect("utf-8 path")])
            .status()
            .unwrap_or_else(|e| panic!("python3 is required for the Python SDK test and could not be run: {e}"));
        assert!(status.success(), "python3 -m venv failed");
        let out = Command::new(dir.join("bin/pip"))
            .args(["install", "-q", "-r"])
            .arg(root.join(requirements))
            .output()
            .expect("pip runs");
        assert!(out.status.success(), "pip install failed: {}", String::from_utf8_lossy(&out.stderr));
        std::fs::write(&stamp, wanted).expect("stamp");
    }
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_lists_department_members() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Acme", "acme-py").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let dev = id(&add_node(&c, &org_id, &root, "Dev", Some("dev")).await);
    let mut users = Vec::new();
    for (name, custom) in [("ann", json!({ "level": 3 })), ("ben", json!({})), ("cat", json!({}))] {
        users.push(id(&create(&c, json!({ "username": name, "customData": custom })).await));
    }
    c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": dev, "u": users })).await;
    c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": root, "u": [users[0]] })).await;

    let venv = tokio::task::spawn_blocking(venv).await.unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk-py/department_members.py");
    let (url, pool) = (s.url.clone(), s.pool_id.clone());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(venv.join("bin/python"))
            .arg(script)
            .env("ORGRAPH_HOST", url)
            .env("ORGRAPH_POOL_ID", pool)
            .env("ORGRAPH_POOL_SECRET", POOL_SECRET)
            .env("ORGRAPH_ORG_CODE", "acme-py")
            .output()
            .expect("python runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("JSON summary");
    assert_eq!(r["total"], 3, "ann counted once though she sits in two nodes");
    let mut names: Vec<String> = serde_json::from_value(r["users"].clone()).unwrap();
    names.sort();
    assert_eq!(names, ["ann", "ben", "cat"]);
    assert_eq!(r["customData"]["ann"], json!({ "level": 3 }));
    let mut ann_deps: Vec<String> = serde_json::from_value(r["departmentIds"]["ann"].clone()).unwrap();
    ann_deps.sort();
    let mut want = vec![root.clone(), dev.clone()];
    want.sort();
    assert_eq!(ann_deps, want);
    assert_eq!(r["directTotal"], 1);
    assert_eq!(r["page2"], json!(["ben"]), "by code, oldest first, page 2 of size 1");
    assert_eq!(r["tooManyCode"], "INVALID_INPUT");
}

/// Run `tests/sdk-py/<script>` with `env` and parse the JSON line it prints last. The SDK never
/// times out (it passes no timeout to `requests`, and `sub_event` blocks), so the run is killed
/// after `limit` and the test fails saying so.
pub(crate) async fn run_python(script: &str, env: &[(&str, &str)], limit: std::time::Duration) -> Value {
    let venv = tokio::task::spawn_blocking(venv).await.unwrap();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk-py").join(script);
    let child = tokio::process::Command::new(venv.join("bin/python"))
        .arg(path)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python runs");
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{script} ran longer than {limit:?} and was killed"))
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("the script prints a JSON summary")
}
