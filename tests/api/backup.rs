//! Backups and restores, as the operations guide tells them: `orgraph backup` of a live SQLite
//! database while writes go on (consistent: a prefix of the writes, and `orgraph doctor` passes
//! on it), a server started on a backup answers as the original did, restoring a SQLite backup is
//! stop, copy, start; on PostgreSQL, `pg_dump -Fc` and `pg_restore` into a new database.

use std::{
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use serde_json::{Value, json};

use crate::{
    harness::{Client, POOL_SECRET, TestDb, TestServer, WAIT_DEADLINE, before_deadline, free_port, skipped_on_sqlite, wait_ready, wait_until},
    operations::{ok_on, orgraph_on, said, sqlite_file},
};

/// The server's answers to the questions a restore must answer alike: its organizations with
/// every node and their members, every user with their departments, its webhooks. Lists are
/// sorted, as rows that tie on their order may come in any order from another copy.
async fn answers(c: &Client) -> Value {
    let orgs = c
        .data(
            "{ orgs(limit: 200) { totalCount list { id createdAt rootNode { id name code } nodes {
                 id name code parentId depth order description leaderUserIds
                 users(limit: 200) { totalCount list { id username } } } } }
               webhooks { id name url events enabled contentType consecutiveFailures hasSecret } }",
            json!({}),
        )
        .await;
    let mut users = Vec::new();
    for page in 1.. {
        let d = c
            .data(
                "query($p: Int) { users(page: $p, limit: 200) { totalCount list { id username email phone createdAt updatedAt
                   departments { totalCount list { department { id name } isMainDepartment isLeader } } } } }",
                json!({ "p": page }),
            )
            .await;
        let list = d["users"]["list"].as_array().expect("a list").clone();
        let total = d["users"]["totalCount"].as_u64().expect("a count") as usize;
        let empty = list.is_empty();
        users.extend(list);
        if users.len() >= total || empty {
            break;
        }
    }
    sorted(json!({ "orgs": orgs, "users": users }))
}

fn sorted(v: Value) -> Value {
    match v {
        Value::Array(a) => {
            let mut a: Vec<Value> = a.into_iter().map(sorted).collect();
            a.sort_by_key(|v| v.to_string());
            Value::Array(a)
        }
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, sorted(v))).collect()),
        other => other,
    }
}

/// A small company through the API: an organization with departments, users, memberships (one
/// leader, a main department), a webhook no event of these tests reaches.
async fn company(c: &Client) -> String {
    let org = c.data("mutation { createOrg(name: \"Acme\", code: \"acme\", description: \"the company\") { id rootNode { id } } }", json!({})).await;
    let org_id = org["createOrg"]["id"].as_str().unwrap().to_string();
    let mut nodes = Vec::new();
    for (i, name) in ["Dev", "Ops", "Sales"].iter().enumerate() {
        let d = c
            .data(
                "mutation($o: String!, $n: String!, $c: String!, $r: Int) { addNodeV2(orgId: $o, name: $n, code: $c, order: $r) { id } }",
                json!({ "o": org_id, "n": name, "c": name.to_lowercase(), "r": i }),
            )
            .await;
        nodes.push(d["addNodeV2"]["id"].as_str().unwrap().to_string());
    }
    let mut users = Vec::new();
    for name in ["ann", "bob", "cid", "dee"] {
        let d = c
            .data(
                "mutation($u: String!, $e: String!) { createUser(userInfo: { username: $u, email: $e, password: \"Secret-123\" }) { id } }",
                json!({ "u": name, "e": format!("{name}@example.com") }),
            )
            .await;
        users.push(d["createUser"]["id"].as_str().unwrap().to_string());
    }
    c.data("mutation($n: String!, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": nodes[0], "u": &users[0..2] })).await;
    c.data("mutation($n: String!, $u: [String!]!) { addMember(nodeId: $n, userIds: $u, isLeader: true) { id } }", json!({ "n": nodes[1], "u": &users[2..3] })).await;
    c.data("mutation($u: String!, $d: String!) { setMainDepartment(userId: $u, departmentId: $d) { code } }", json!({ "u": users[0], "d": nodes[0] })).await;
    c.data(
        "mutation { createWebhook(name: \"crm\", url: \"https://crm.example.com/hook\", events: [\"login\"], enabled: false) { id } }",
        json!({}),
    )
    .await;
    org_id
}

/// A server on the database at `url` (a copy), with the original's first pool.
async fn server_on(url: String, pool_id: &str) -> TestServer {
    let pool_id = pool_id.to_string();
    TestServer::start_with(move |c| {
        c.database_url = url;
        c.bootstrap_pool_id = Some(pool_id);
    })
    .await
}

#[tokio::test]
async fn a_backup_of_a_live_sqlite_database_is_consistent_and_answers_as_the_original() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let during = dir.path().join("during.db");
    if s.db.is_postgres() {
        let out = orgraph_on(&s.db.url, &["backup", during.to_str().unwrap()]).await;
        assert!(!out.status.success());
        assert!(said(&out).contains("pg_dump"), "points at pg_dump: {}", said(&out));
        assert!(!during.exists());
        return;
    }
    let c = s.admin().await;
    let org = company(&c).await;

    // Writes go on, one after the other: user w{i}, then department n{i}, then w{i} joins n{i}.
    let (done, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let writer = {
        let (c, org, done, stop) = (c.clone(), org.clone(), done.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let u = c.data("mutation($u: String!) { createUser(userInfo: { username: $u }) { id } }", json!({ "u": format!("w{i}") })).await;
                let n = c
                    .data("mutation($o: String!, $n: String!) { addNodeV2(orgId: $o, name: $n, code: $n) { id } }", json!({ "o": org, "n": format!("n{i}") }))
                    .await;
                c.data(
                    "mutation($n: String!, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }",
                    json!({ "n": n["addNodeV2"]["id"], "u": [u["createUser"]["id"]] }),
                )
                .await;
                i += 1;
                done.store(i, Ordering::SeqCst);
            }
        })
    };
    wait_until("some writes", || async { done.load(Ordering::SeqCst) >= 3 }).await;
    let before = done.load(Ordering::SeqCst);
    let out = ok_on(&s.db.url, &["backup", during.to_str().unwrap()]).await;
    let after = done.load(Ordering::SeqCst);
    assert!(out.contains(&during.display().to_string()), "says where: {out}");
    assert!(!writer.is_finished(), "the writes went on");
    // A backup never overwrites a file.
    let again = orgraph_on(&s.db.url, &["backup", during.to_str().unwrap()]).await;
    assert!(!again.status.success() && said(&again).contains("exists"), "{}", said(&again));
    stop.store(true, Ordering::SeqCst);
    before_deadline("the writer to stop", writer).await.expect("every write succeeded");

    // The copy is a consistent database: doctor passes, and it holds a prefix of the writes.
    let during_url = format!("sqlite://{}?mode=rw", during.display());
    let doctor = ok_on(&during_url, &["doctor"]).await;
    assert!(doctor.contains("OK"), "{doctor}");
    let copy = server_on(during_url, &s.pool_id).await;
    let got = answers(&copy.admin().await).await;
    let written = |prefix: char| -> Vec<u64> {
        let mut found: Vec<u64> = Vec::new();
        for u in got["users"].as_array().unwrap() {
            if let Some(n) = u["username"].as_str().and_then(|n| n.strip_prefix(prefix)).and_then(|n| n.parse().ok()) {
                found.push(n);
            }
        }
        found.sort();
        found
    };
    let users = written('w');
    let nodes: Vec<(u64, Vec<String>)> = got["orgs"]["orgs"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["nodes"].as_array().unwrap().clone())
        .filter_map(|n| {
            let i = n["name"].as_str()?.strip_prefix('n')?.parse().ok()?;
            let members = n["users"]["list"].as_array()?.iter().map(|u| u["username"].as_str().unwrap_or("").to_string()).collect();
            Some((i, members))
        })
        .collect();
    let (a, b) = (users.len() as u64, nodes.len() as u64);
    assert_eq!(users, (0..a).collect::<Vec<_>>(), "the users written before the backup, all of them");
    let mut node_numbers: Vec<u64> = nodes.iter().map(|(i, _)| *i).collect();
    node_numbers.sort();
    assert_eq!(node_numbers, (0..b).collect::<Vec<_>>(), "the departments written before the backup");
    let joined = nodes.iter().filter(|(_, m)| !m.is_empty()).count() as u64;
    for (i, members) in &nodes {
        assert!(members.is_empty() || members == &[format!("w{i}")], "n{i} holds only w{i}: {members:?}");
    }
    // Everything committed before the backup began is in it; nothing begun after it ended.
    assert!(before <= a && a <= after + 1, "{before} rounds before the backup, {after} after it, {a} in it");
    assert!(a - 1 <= joined && joined <= b && b <= a, "a prefix of the writes: {a} users, {b} departments, {joined} memberships");
    assert!(nodes.iter().filter(|(_, m)| !m.is_empty()).all(|(i, _)| *i < joined), "the first memberships");

    // Writes stopped: a backup now answers every question as the live server does, and a token
    // the live server issued works on it (the signing key is in the database).
    let quiet = dir.path().join("quiet.db");
    ok_on(&s.db.url, &["backup", quiet.to_str().unwrap()]).await;
    let restored = server_on(format!("sqlite://{}?mode=rw", quiet.display()), &s.pool_id).await;
    let live = answers(&c).await;
    assert_eq!(answers(&Client { base: restored.url.clone(), ..c.clone() }).await, live);
    assert!(live["users"].as_array().unwrap().len() > 4, "the answers hold the writes");
}

/// `orgraph serve` on `url` with a known first pool; its address once it is ready.
async fn serve(url: &str) -> (tokio::process::Child, String) {
    let port = free_port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_orgraph"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", url, "--log-level", "warn"])
        .args(["--bootstrap-pool-id", "restorepool", "--bootstrap-pool-secret", POOL_SECRET])
        .env_remove("DATABASE_URL")
        .env_remove("ORGRAPH_JWT_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    (child, base)
}

/// SIGTERM, and wait for the exit.
async fn stop(mut child: tokio::process::Child) {
    let pid = child.id().expect("running").to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    let status = tokio::time::timeout(WAIT_DEADLINE, child.wait()).await.expect("stopped on SIGTERM").expect("exit status");
    assert!(status.success(), "{status}");
}

async fn admin_of(base: &str) -> Client {
    let http = reqwest::Client::new();
    let d: Value = http
        .post(format!("{base}/graphql/v2"))
        .json(&json!({ "query": "query($s: String!) { accessToken(userPoolId: \"restorepool\", secret: $s) { accessToken } }", "variables": { "s": POOL_SECRET } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = d["data"]["accessToken"]["accessToken"].as_str().expect("a token").to_string();
    Client { http, base: base.to_string(), token: Some(token), pool_header: Some("restorepool".into()) }
}

#[tokio::test]
async fn restoring_a_sqlite_backup_is_stop_copy_start() {
    let db = TestDb::new().await;
    if db.is_postgres() {
        return; // PostgreSQL's procedure is the test below.
    }
    let (server, base) = serve(&db.url).await;
    let c = admin_of(&base).await;
    company(&c).await;
    let at_backup = answers(&c).await;
    let dir = tempfile::tempdir().unwrap();
    // A quote and a space in the name: the name is passed to SQLite as a value, never quoted.
    let backup = dir.path().join("orgraph's backup.db");
    ok_on(&db.url, &["backup", backup.to_str().unwrap()]).await;
    c.data("mutation { createUser(userInfo: { username: \"after\" }) { id } }", json!({})).await;
    assert_ne!(answers(&c).await, at_backup);

    // Stop the server, put the backup in place of the database file (without the old WAL and
    // shared-memory files), start it again.
    stop(server).await;
    let file = sqlite_file(&db.url);
    std::fs::copy(&backup, &file).expect("copied into place");
    for stale in ["-wal", "-shm"] {
        let p = format!("{}{stale}", file.display());
        if std::path::Path::new(&p).exists() {
            std::fs::remove_file(&p).expect("removed");
        }
    }
    let (server, base) = serve(&db.url).await;
    let c = admin_of(&base).await;
    assert_eq!(answers(&c).await, at_backup, "the state at the backup, without the later write");
    stop(server).await;
    let doctor = ok_on(&db.url, &["doctor"]).await;
    assert!(doctor.contains("OK"), "{doctor}");
}

/// A PostgreSQL client program: the server's version's if installed, else the one on the path.
fn pg_program(name: &str) -> String {
    ["/usr/lib/postgresql/15/bin", "/usr/bin"]
        .iter()
        .map(|dir| format!("{dir}/{name}"))
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or_else(|| name.to_string())
}

async fn run(program: &str, args: &[&str]) {
    let out = tokio::process::Command::new(pg_program(program)).args(args).output().await.unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", said(&out));
}

#[tokio::test]
async fn a_postgresql_database_restored_with_pg_restore_answers_as_the_original() {
    if skipped_on_sqlite("pg_dump and pg_restore") {
        return;
    }
    let s = TestServer::start().await;
    let c = s.admin().await;
    company(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("orgraph.dump");
    // While the server runs: pg_dump reads one consistent snapshot.
    run("pg_dump", &["--format=custom", "--file", dump.to_str().unwrap(), &s.db.url]).await;
    // Into a new, empty database.
    let restored = TestDb::new().await;
    run("pg_restore", &["--no-owner", "--exit-on-error", "--dbname", &restored.url, dump.to_str().unwrap()]).await;
    let doctor = ok_on(&restored.url, &["doctor"]).await;
    assert!(doctor.contains("OK"), "{doctor}");
    let r = server_on(restored.url.clone(), &s.pool_id).await;
    assert_eq!(answers(&Client { base: r.url.clone(), ..c.clone() }).await, answers(&c).await);
}
