//! The operator tools, run as the built binary against the test server's database:
//! `orgraph export` → `orgraph import` into another pool → export again gives the same company
//! (JSON and CSV), bad rows are refused with where they are and nothing is written, an import
//! stopped midway is finished by running it again, and `orgraph doctor` finds a corrupted count.

use std::{collections::HashMap, path::Path, process::Output};

use orgraph::domain::{
    PoolId,
    org_tree::{DepartmentPatch, NodePatch, NodeRef},
    users::{CreateOptions, UserPatch},
};
use serde_json::{Value, json};

use crate::harness::TestServer;

/// Run the binary on the test server's database.
pub async fn orgraph(s: &TestServer, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_orgraph"))
        .arg("--database-url")
        .arg(&s.db.url)
        .args(args)
        .env("ORGRAPH_LOG", "warn")
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("the orgraph binary runs")
}

/// Run the binary, which must succeed; its stderr.
pub async fn ok(s: &TestServer, args: &[&str]) -> String {
    let out = orgraph(s, args).await;
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "orgraph {args:?} failed: {stderr}\n{}", String::from_utf8_lossy(&out.stdout));
    stderr
}

fn text(v: &str) -> Option<Option<String>> {
    Some(Some(v.to_string()))
}

/// A small company: two orgs, codes, a code-less node, order and i18n, users with profile
/// fields, custom data and a password, memberships with a main department and a leader flag,
/// node leaders.
async fn company(s: &TestServer, pool: &PoolId) {
    let users = &s.state.users;
    let mut ids = Vec::new();
    for (i, name) in ["ann", "bob", "cid", "dee"].iter().enumerate() {
        let mut patch = UserPatch { username: text(name), email: text(&format!("{name}@example.com")), ..Default::default() };
        patch.profile.name = text(&format!("{name} Example"));
        patch.profile.city = text("Lyon");
        if i == 0 {
            patch.phone = text("+33600000001");
            patch.password = Some("Secret-123".into());
            patch.custom_data = Some(json!({ "team": "red", "level": 3 }).as_object().unwrap().clone());
            patch.gender = Some("F".into());
        }
        ids.push(users.create(pool, patch, CreateOptions::default()).await.unwrap().id);
    }
    let orgs = &s.state.orgs;
    let root = DepartmentPatch { code: Some(Some("example".into())), description: Some(Some("the company".into())), ..DepartmentPatch::named("Example") };
    let org = orgs.create_org(pool, root, None).await.unwrap();
    let dev = DepartmentPatch {
        code: Some(Some("dev".into())),
        description: Some(Some("builders".into())),
        order: Some(Some(7)),
        name_i18n: Some(Some(r#"{"en-US":"Dev"}"#.into())),
        ..DepartmentPatch::named("Dev")
    };
    let dev = orgs.add_node(pool, &org.id, None, dev.into()).await.unwrap();
    let web = DepartmentPatch { code: Some(Some("web".into())), ..DepartmentPatch::named("Web") };
    let web = orgs.add_node(pool, &org.id, Some(&dev.id), web.into()).await.unwrap();
    let misc = orgs.add_node(pool, &org.id, Some(&web.id), DepartmentPatch::named("Misc").into()).await.unwrap();
    let other = orgs.create_org(pool, DepartmentPatch::named("Other"), None).await.unwrap();
    let node = |id: &str| NodeRef::Id(id.to_string());
    orgs.add_members(pool, &node(&dev.id), &ids[0..2], None).await.unwrap();
    orgs.add_members(pool, &node(&web.id), &ids[1..3], Some(true)).await.unwrap();
    orgs.add_members(pool, &node(&misc.id), &ids[3..4], None).await.unwrap();
    orgs.add_members(pool, &node(&other.root_node_id), &ids[0..1], None).await.unwrap();
    orgs.set_main_department(pool, &ids[1], Some(&web.id)).await.unwrap();
    orgs.set_main_department(pool, &ids[0], Some(&dev.id)).await.unwrap();
    let leaders = NodePatch { leader_user_ids: Some(vec![ids[2].clone(), ids[1].clone()]), ..Default::default() };
    orgs.update_node(pool, &web.id, leaders).await.unwrap();
}

/// An export with its ids replaced by names (usernames, node codes or names), rows sorted: two
/// exports of the same company compare equal.
fn normalized(path: &Path) -> Value {
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut names: HashMap<String, String> = HashMap::new();
    for u in doc["users"].as_array().unwrap() {
        names.insert(u["id"].as_str().unwrap().into(), format!("user:{}", u["username"].as_str().unwrap()));
    }
    for n in doc["nodes"].as_array().unwrap() {
        let name = n["code"].as_str().or(n["name"].as_str()).unwrap();
        names.insert(n["id"].as_str().unwrap().into(), format!("node:{name}"));
    }
    let rename = |v: &Value| -> Value {
        match v {
            Value::String(s) => Value::from(names.get(s).cloned().unwrap_or_else(|| s.clone())),
            Value::Array(a) => Value::Array(a.iter().map(|s| Value::from(names[s.as_str().unwrap()].clone())).collect()),
            other => other.clone(),
        }
    };
    let mut out = json!({});
    for (table, refs) in [("users", &["id"][..]), ("nodes", &["id", "parentId", "leaderUserIds"][..]), ("memberships", &["nodeId", "userId"][..])] {
        let mut rows: Vec<Value> = doc[table]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let mut r = r.clone();
                // New ids were given: the organization's is not compared.
                if let Some(o) = r.as_object_mut() {
                    o.remove("orgId");
                }
                for k in refs {
                    if let Some(v) = r.get(*k) {
                        r[*k] = rename(v);
                    }
                }
                r
            })
            .collect();
        rows.sort_by_key(|r| r.to_string());
        out[table] = Value::Array(rows);
    }
    out
}

async fn invariants_hold(s: &TestServer, pool: &str) {
    let pool = s.state.pools.named(pool).await.unwrap();
    for org in s.state.orgs.org_ids(&pool).await.unwrap() {
        assert_eq!(s.state.orgs.check_invariants(&org).await.unwrap(), Vec::<String>::new());
    }
}

#[tokio::test]
async fn export_import_export_gives_the_same_company_in_json_and_csv() {
    let s = TestServer::start().await;
    let pool = s.pool().await;
    company(&s, &pool).await;
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.json");
    ok(&s, &["export", "--pool", &s.pool_id, "--with-password-hashes", first.to_str().unwrap()]).await;
    let original = normalized(&first);
    assert_eq!(original["users"].as_array().unwrap().len(), 4);
    assert_eq!(original["nodes"].as_array().unwrap().len(), 5);
    assert_eq!(original["memberships"].as_array().unwrap().len(), 6);
    assert!(original["users"].to_string().contains("$argon2"), "the password hash is exported when asked");

    // JSON into a second pool, as a template (the first pool keeps its ids).
    let (json_pool, _) = s.new_pool("json").await;
    let stderr = ok(&s, &["import", "--pool", &json_pool, "--new-ids", first.to_str().unwrap()]).await;
    assert!(stderr.contains("created 5 departments, 4 users, 6 memberships"), "{stderr}");
    invariants_hold(&s, &json_pool).await;
    let again = dir.path().join("again.json");
    ok(&s, &["export", "--pool", &json_pool, "--with-password-hashes", again.to_str().unwrap()]).await;
    assert_eq!(normalized(&again), original);

    // CSV out of the first pool, into a third.
    let csv = dir.path().join("csv");
    ok(&s, &["export", "--pool", &s.pool_id, "--with-password-hashes", csv.to_str().unwrap()]).await;
    for f in ["nodes.csv", "users.csv", "memberships.csv"] {
        assert!(csv.join(f).exists(), "{f} written");
    }
    let (csv_pool, _) = s.new_pool("csv").await;
    ok(&s, &["import", "--pool", &csv_pool, "--new-ids", csv.to_str().unwrap()]).await;
    invariants_hold(&s, &csv_pool).await;
    let third = dir.path().join("third.json");
    ok(&s, &["export", "--pool", &csv_pool, "--with-password-hashes", third.to_str().unwrap()]).await;
    assert_eq!(normalized(&third), original);

    // Importing the same file again changes nothing.
    let stderr = ok(&s, &["import", "--pool", &json_pool, "--new-ids", first.to_str().unwrap()]).await;
    assert!(stderr.contains("created 0 departments, 0 users, 0 memberships"), "{stderr}");
    ok(&s, &["export", "--pool", &json_pool, "--with-password-hashes", again.to_str().unwrap()]).await;
    assert_eq!(normalized(&again), original);
}

#[tokio::test]
async fn bad_rows_are_refused_with_where_they_are_and_nothing_is_written() {
    let s = TestServer::start().await;
    let (pool, _) = s.new_pool("target").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    let doc = json!({
        "format": "orgraph-company", "version": 1,
        "nodes": [
            { "id": "r", "code": "root", "name": "Root" },
            { "id": "a", "parentId": "r", "code": "a", "name": "A" },
            { "id": "b", "parentId": "nowhere", "code": "b", "name": "B" },
            { "id": "c", "parentId": "r", "code": "a", "name": "C" }
        ],
        "users": [
            { "id": "u1", "username": "ann" },
            { "id": "u2", "username": "bob", "email": "not an address" },
            { "id": "u3", "username": "ann" }
        ],
        "memberships": [
            { "nodeId": "a", "userId": "u1", "isMainDepartment": true },
            { "nodeId": "a", "userId": "ghost" }
        ]
    });
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = orgraph(&s, &["import", "--pool", &pool, file.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a bad file fails: {stderr}");
    for needle in ["/users/1: ", "e-mail address", "/users/2: username \"ann\" is also the username of the user at /users/0",
                   "/nodes/2: parentId \"nowhere\"", "/nodes/3: code \"a\"", "/memberships/1: userId \"ghost\"", "nothing was written"] {
        assert!(stderr.contains(needle), "{needle:?} in {stderr}");
    }

    // CSV: named by file and line.
    let csv = dir.path().join("csv");
    std::fs::create_dir_all(&csv).unwrap();
    std::fs::write(csv.join("nodes.csv"), "id,parentId,code,name\nr,,root,Root\na,r,a,A\n").unwrap();
    std::fs::write(csv.join("users.csv"), "id,username,email\nu1,ann,ann@example.com\nu2,bob,bob@@example\n").unwrap();
    std::fs::write(csv.join("memberships.csv"), "nodeId,userId,isMainDepartment\na,u1,maybe\n").unwrap();
    let out = orgraph(&s, &["import", "--pool", &pool, csv.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("users.csv:3: "), "{stderr}");
    assert!(stderr.contains("memberships.csv:2: isMainDepartment must be true or false"), "{stderr}");

    let pool = s.state.pools.named(&pool).await.unwrap();
    assert!(s.state.orgs.org_ids(&pool).await.unwrap().is_empty(), "no organization written");
    let page = orgraph::domain::pagination::Page::new(Some(1), Some(10), 200).unwrap();
    let users = s.state.users.list(&pool, page, Default::default(), false).await.unwrap();
    assert_eq!(users.total_count, 0, "no user written");
}

#[tokio::test]
async fn an_import_stopped_midway_is_finished_by_running_it_again() {
    let s = TestServer::start().await;
    let pool = s.pool().await;
    company(&s, &pool).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("company.json");
    ok(&s, &["export", "--pool", &s.pool_id, file.to_str().unwrap()]).await;
    let original = normalized(&file);
    // An empty database with the same pool: the file's ids are kept.
    let pool_id = s.pool_id.clone();
    let t = TestServer::start_with(move |c| c.bootstrap_pool_id = Some(pool_id)).await;
    let path = file.to_str().unwrap();
    // 4 users, 5 nodes, 6 memberships in batches of 2: stop inside each kind of row in turn.
    for limit in ["3", "7", "12"] {
        let stderr = ok(&t, &["import", "--pool", &t.pool_id, "--batch-size", "2", "--limit", limit, path]).await;
        assert!(stderr.contains("stopped at --limit"), "{stderr}");
        invariants_hold(&t, &t.pool_id).await;
    }
    let stderr = ok(&t, &["import", "--pool", &t.pool_id, "--batch-size", "2", path]).await;
    assert!(stderr.contains("created 0 departments, 0 users, 3 memberships, 0 event apps"), "{stderr}");
    assert!(stderr.contains("skipped (already there) 5 departments, 4 users, 3 memberships, 0 event apps"), "{stderr}");
    invariants_hold(&t, &t.pool_id).await;
    let after = dir.path().join("after.json");
    ok(&t, &["export", "--pool", &t.pool_id, after.to_str().unwrap()]).await;
    assert_eq!(normalized(&after), original);
    let raw = |p: &std::path::Path| serde_json::from_slice::<Value>(&std::fs::read(p).unwrap()).unwrap();
    assert_eq!(raw(&after), raw(&file), "the same ids and times");
}

#[tokio::test]
async fn doctor_says_ok_on_a_healthy_database_and_finds_a_wrong_count() {
    let s = TestServer::start().await;
    let pool = s.pool().await;
    company(&s, &pool).await;
    let out = orgraph(&s, &["doctor"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("OK: nothing to do"), "{stdout}");

    let root = s.state.orgs.org_by_code(&pool, "example").await.unwrap().root_node_id;
    orgraph::storage::sql::exec(&s.state.db, "UPDATE node SET subtree_member_count = subtree_member_count + 5 WHERE id = $1", vec![root.clone().into()])
        .await
        .unwrap();
    let out = orgraph(&s, &["doctor"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a broken count fails: {stdout}");
    assert!(stdout.contains(&format!("node {root} subtree_member_count")), "{stdout}");
    assert!(stdout.contains("orgraph doctor --repair"), "says what to do: {stdout}");

    let out = orgraph(&s, &["doctor", "--repair"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    invariants_hold(&s, &s.pool_id).await;
    let out = orgraph(&s, &["doctor"]).await;
    assert!(out.status.success());

    // A webhook the worker disabled after failing deliveries.
    let c = s.admin().await;
    let d = c.data("mutation { createWebhook(name: \"crm\", url: \"https://crm.example.com/hook\", events: [\"user:created\"]) { id } }", json!({})).await;
    let hook = d["createWebhook"]["id"].as_str().unwrap().to_string();
    orgraph::storage::sql::exec(&s.state.db, "UPDATE webhook SET enabled = $1, consecutive_failures = 50 WHERE id = $2", vec![false.into(), hook.clone().into()])
        .await
        .unwrap();
    let out = orgraph(&s, &["doctor"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains(&format!("webhook {hook} (\"crm\"")) && stdout.contains("disabled after 50 failed deliveries"), "{stdout}");
    assert!(stdout.contains("replayEvents"), "says what to do: {stdout}");
}

/// A CSV folder written by hand: a tree four levels deep (40 departments), 60 users, members
/// at every level (20 of them in two departments, some of one branch), main departments, and
/// leaders of the file and of the pool (`pool_leader`, in no file).
fn deep_company(dir: &Path, pool_leader: &str) {
    let mut nodes = vec!["id,parentId,code,name,leaderUserIds".to_string(), "r,,root,Root,".into()];
    let mut ids = vec!["r".to_string()];
    for i in 0..3 {
        nodes.push(format!("a{i},r,a{i},A{i},"));
        ids.push(format!("a{i}"));
    }
    for i in 0..3 {
        for j in 0..3 {
            let leaders = if (i, j) == (0, 0) { "u1 u2" } else { "" };
            nodes.push(format!("b{i}{j},a{i},b{i}{j},B{i}{j},{leaders}"));
            ids.push(format!("b{i}{j}"));
        }
    }
    for i in 0..3 {
        for j in 0..3 {
            for k in 0..3 {
                let leaders = if (i, j, k) == (0, 0, 0) { pool_leader } else { "" };
                // A code-less node among them, named like its siblings' parent.
                let code = if k == 2 { String::new() } else { format!("c{i}{j}{k}") };
                nodes.push(format!("c{i}{j}{k},b{i}{j},{code},C{i}{j}{k},{leaders}"));
                ids.push(format!("c{i}{j}{k}"));
            }
        }
    }
    let users: Vec<String> = std::iter::once("id,username,email".to_string())
        .chain((0..60).map(|i| format!("u{i},user{i},user{i}@example.com")))
        .collect();
    let mut members = vec!["nodeId,userId,isMainDepartment,isLeader".to_string()];
    for i in 0..60 {
        members.push(format!("{},u{i},{},{}", ids[i % 40], i < 30, i % 7 == 0));
    }
    for i in 0..20 {
        members.push(format!("{},u{i},false,false", ids[(i * 7 + 3) % 40]));
    }
    std::fs::create_dir_all(dir).unwrap();
    for (file, lines) in [("nodes.csv", nodes), ("users.csv", users), ("memberships.csv", members)] {
        std::fs::write(dir.join(file), lines.join("\n") + "\n").unwrap();
    }
}

#[tokio::test]
async fn a_deep_csv_import_in_small_batches_stopped_midway_ends_with_right_counts() {
    let s = TestServer::start().await;
    let (pool_id, _) = s.new_pool("deep").await;
    let pool = s.state.pools.named(&pool_id).await.unwrap();
    let leader = s.state.users.create(&pool, UserPatch { username: text("boss"), ..Default::default() }, CreateOptions::default()).await.unwrap().id;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("deep");
    deep_company(&csv, &leader);
    let path = csv.to_str().unwrap();
    // 60 users, 40 nodes, 80 memberships in batches of 7 (a batch spans levels): stop among the
    // nodes, then among the memberships.
    for limit in ["70", "120"] {
        let stderr = ok(&s, &["import", "--pool", &pool_id, "--batch-size", "7", "--limit", limit, path]).await;
        assert!(stderr.contains("stopped at --limit"), "{stderr}");
        invariants_hold(&s, &pool_id).await;
    }
    let stderr = ok(&s, &["import", "--pool", &pool_id, "--batch-size", "7", path]).await;
    assert!(stderr.contains("created 0 departments, 0 users, 60 memberships"), "{stderr}");
    assert!(stderr.contains("skipped (already there) 40 departments, 60 users, 20 memberships"), "{stderr}");
    invariants_hold(&s, &pool_id).await;

    let orgs = s.state.orgs.org_ids(&pool).await.unwrap();
    assert_eq!(orgs.len(), 1);
    let export = dir.path().join("deep.json");
    ok(&s, &["export", "--pool", &pool_id, export.to_str().unwrap()]).await;
    let doc: Value = serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    let node = |id: &str| doc["nodes"].as_array().unwrap().iter().find(|n| n["id"] == id).cloned().unwrap();
    assert_eq!(node("b00")["leaderUserIds"], json!(["u1", "u2"]));
    assert_eq!(node("c000")["leaderUserIds"], json!([leader]));
    assert_eq!(node("c222")["parentId"], "b22");
    assert_eq!(doc["memberships"].as_array().unwrap().len(), 80);
    let mains = doc["memberships"].as_array().unwrap().iter().filter(|m| m["isMainDepartment"] == true).count();
    assert_eq!(mains, 30);

    // Again: nothing new, the same company.
    let stderr = ok(&s, &["import", "--pool", &pool_id, path]).await;
    assert!(stderr.contains("created 0 departments, 0 users, 0 memberships"), "{stderr}");
    invariants_hold(&s, &pool_id).await;
}
