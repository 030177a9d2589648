//! The operator commands and the database: only `serve`, `pool create` and `migrate up` may
//! create a database (or its tables); every other command refuses a database that is missing,
//! that is not orgraph's, or whose migrations are pending, and changes nothing. `orgraph migrate
//! status|up|down`. All run as the real binary, on SQLite and PostgreSQL.

use std::{path::PathBuf, process::Output};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;

use crate::harness::{TestDb, TestServer, skipped_on_sqlite};

/// Run the binary on `url` with nothing from the environment.
pub async fn orgraph_on(url: &str, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_orgraph"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env("ORGRAPH_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("ORGRAPH_BOOTSTRAP_POOL_ID")
        .env_remove("ORGRAPH_BOOTSTRAP_POOL_SECRET")
        .output()
        .await
        .expect("the orgraph binary runs")
}

/// Its standard output and error, together.
pub fn said(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Run the binary, which must succeed; its standard output.
pub async fn ok_on(url: &str, args: &[&str]) -> String {
    let out = orgraph_on(url, args).await;
    assert!(out.status.success(), "orgraph {args:?} failed: {}", said(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The file of a SQLite URL.
pub fn sqlite_file(url: &str) -> PathBuf {
    PathBuf::from(url.trim_start_matches("sqlite://").split('?').next().expect("a path"))
}

/// How many tables the database has (of any application).
async fn tables(url: &str) -> i64 {
    let db = Database::connect(url.replace("mode=rwc", "mode=rw")).await.expect("connect");
    let sql = if url.starts_with("sqlite") {
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'"
    } else {
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()"
    };
    let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.expect("counted").expect("a row");
    let n: i64 = row.try_get("", "n").expect("a count");
    db.close().await.ok();
    n
}

/// The commands that work on an existing orgraph database and must create nothing; `dir` holds
/// their files.
fn operator_commands(dir: &std::path::Path) -> Vec<Vec<String>> {
    let file = |name: &str| dir.join(name).display().to_string();
    std::fs::write(dir.join("in.json"), json!({ "format": "orgraph-company", "version": 1, "nodes": [], "users": [], "memberships": [] }).to_string())
        .expect("written");
    [
        vec!["export", "--pool", "p", &file("out.json")],
        vec!["import", "--pool", "p", &file("in.json")],
        vec!["doctor"],
        vec!["scim-token", "list", "--pool", "p"],
        vec!["scim-token", "create", "--pool", "p"],
        vec!["pool", "list"],
        vec!["pool", "reset-secret", "p"],
        vec!["backup", &file("backup.db")],
        vec!["migrate", "status"],
        vec!["migrate", "down"],
    ]
    .into_iter()
    .map(|c| c.into_iter().map(str::to_string).collect())
    .collect()
}

#[tokio::test]
async fn operator_commands_refuse_a_missing_database_and_create_nothing() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    // SQLite: the default form of the URL, `mode=rwc`, with a file that does not exist (a typo);
    // PostgreSQL: a database of a name that does not exist.
    let (url, name) = if db.is_postgres() {
        let name = format!("orgraph_missing_{}", orgraph::ids::random_hex(4));
        (format!("{}/{name}", db.url.rsplit_once('/').unwrap().0), name)
    } else {
        let path = dir.path().join("typo.db");
        (format!("sqlite://{}?mode=rwc", path.display()), path.display().to_string())
    };
    for args in operator_commands(dir.path()) {
        if args[0] == "backup" && db.is_postgres() {
            continue;
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = orgraph_on(&url, &args).await;
        let said = said(&out);
        assert!(!out.status.success(), "orgraph {args:?} fails on a missing database: {said}");
        assert!(said.contains(&name), "orgraph {args:?} names the database {name}: {said}");
        if !db.is_postgres() {
            assert!(!PathBuf::from(&name).exists(), "orgraph {args:?} created no file: {said}");
            assert!(said.contains("does not exist"), "{said}");
        }
    }
}

#[tokio::test]
async fn operator_commands_refuse_a_database_without_orgraph_tables_and_change_nothing() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        // An empty file is an empty SQLite database.
        std::fs::write(sqlite_file(&db.url), b"").unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    for args in operator_commands(dir.path()) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = orgraph_on(&db.url, &args).await;
        let said = said(&out);
        if args == ["migrate", "status"] {
            // Status tells, and changes nothing either.
            assert!(out.status.success(), "{said}");
            assert!(said.contains("pending") && said.contains("not an orgraph database"), "{said}");
            continue;
        }
        assert!(!out.status.success(), "orgraph {args:?} fails: {said}");
        if args[0] == "backup" && db.is_postgres() {
            continue;
        }
        assert!(said.contains("not an orgraph database"), "orgraph {args:?} says what the database is: {said}");
        assert!(said.contains("orgraph migrate up"), "orgraph {args:?} says what to do: {said}");
    }
    if !db.is_postgres() {
        assert_eq!(std::fs::metadata(sqlite_file(&db.url)).unwrap().len(), 0, "the file was not written");
    }
    assert_eq!(tables(&db.url).await, 0, "no table was created");
}

#[tokio::test]
async fn pool_create_on_an_empty_database_makes_only_that_pool() {
    let db = TestDb::new().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_orgraph"))
        .args(["--database-url", &db.url, "pool", "create", "--name", "first", "--id", "firstpool"])
        .env("ORGRAPH_LOG", "warn")
        .env("ORGRAPH_BOOTSTRAP_POOL_ID", "bootpool")
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("runs");
    assert!(out.status.success(), "{}", said(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("userPoolId: firstpool"), "{}", said(&out));
    let listed = ok_on(&db.url, &["pool", "list"]).await;
    let ids: Vec<&str> = listed.lines().filter_map(|l| l.split('\t').next()).collect();
    assert_eq!(ids, ["firstpool"], "{listed}");
}

/// `orgraph migrate status`: (name, applied) per migration, in order.
async fn status(url: &str) -> Vec<(String, bool)> {
    let out = ok_on(url, &["migrate", "status"]).await;
    out.lines()
        .filter_map(|l| {
            let (state, name) = l.split_once(char::is_whitespace)?;
            Some((name.trim().to_string(), state == "applied"))
        })
        .collect()
}

#[tokio::test]
async fn migrate_status_up_and_down() {
    let db = TestDb::new().await;
    let all = Migrator::migrations().len();

    let out = ok_on(&db.url, &["migrate", "up"]).await;
    assert_eq!(out.lines().filter(|l| l.starts_with("applied ")).count(), all, "{out}");
    let st = status(&db.url).await;
    assert_eq!(st.len(), all, "every migration is listed");
    assert!(st.iter().all(|(_, applied)| *applied), "{st:?}");
    assert_eq!(ok_on(&db.url, &["pool", "list"]).await, "", "migrate up makes no pool");
    let out = ok_on(&db.url, &["migrate", "up"]).await;
    assert!(out.contains("nothing to apply"), "{out}");

    // The last one rolled back: pending, and the operator commands refuse the database.
    let out = ok_on(&db.url, &["migrate", "down"]).await;
    let last = st[all - 1].0.clone();
    assert!(out.contains(&format!("rolled back {last}")), "{out}");
    let st = status(&db.url).await;
    assert_eq!(st.iter().filter(|(_, applied)| !applied).map(|(n, _)| n.clone()).collect::<Vec<_>>(), std::slice::from_ref(&last));
    let out = orgraph_on(&db.url, &["pool", "list"]).await;
    assert!(!out.status.success());
    assert!(said(&out).contains(&last) && said(&out).contains("orgraph migrate up"), "{}", said(&out));
    let out = orgraph_on(&db.url, &["doctor"]).await;
    assert!(!out.status.success());
    assert!(said(&out).contains("1 migration(s) pending") && said(&out).contains("orgraph migrate up"), "{}", said(&out));

    // Two more.
    let out = ok_on(&db.url, &["migrate", "down", "-n", "2"]).await;
    assert_eq!(out.lines().filter(|l| l.starts_with("rolled back ")).count(), 2, "{out}");
    assert_eq!(status(&db.url).await.iter().filter(|(_, applied)| !applied).count(), 3);

    // Up again: everything works, the server starts on it.
    let out = ok_on(&db.url, &["migrate", "up"]).await;
    assert_eq!(out.lines().filter(|l| l.starts_with("applied ")).count(), 3, "{out}");
    assert!(status(&db.url).await.iter().all(|(_, applied)| *applied));
    let url = db.url.clone();
    let s = TestServer::start_with(move |c| c.database_url = url).await;
    let c = s.admin().await;
    let org = c.data("mutation { createOrg(name: \"Acme\", code: \"acme\") { id } }", json!({})).await;
    let org = org["createOrg"]["id"].as_str().unwrap().to_string();
    c.data("mutation($o: String!) { addNodeV2(orgId: $o, name: \"Dev\") { id } }", json!({ "o": org })).await;
    let out = ok_on(&db.url, &["doctor"]).await;
    assert!(out.contains("OK"), "{out}");
}

#[tokio::test]
async fn instances_migrating_together_take_turns_on_postgresql() {
    if skipped_on_sqlite("one SQLite file is served by one process") {
        return;
    }
    let db = TestDb::new().await;
    let runs: Vec<Output> = futures_util::future::join_all((0..4).map(|_| orgraph_on(&db.url, &["migrate", "up"]))).await;
    for out in &runs {
        assert!(out.status.success(), "every one succeeds: {}", said(out));
    }
    let applied: usize = runs.iter().map(|o| String::from_utf8_lossy(&o.stdout).lines().filter(|l| l.starts_with("applied ")).count()).sum();
    assert_eq!(applied, Migrator::migrations().len(), "each migration was applied once, by one of them");
    assert!(status(&db.url).await.iter().all(|(_, applied)| *applied));
}

#[tokio::test]
async fn instances_starting_together_on_an_empty_database_make_one_first_pool() {
    if skipped_on_sqlite("one SQLite file is served by one process") {
        return;
    }
    // Without a configured pool id: one random first pool, whoever starts first.
    let db = TestDb::new().await;
    let opened = futures_util::future::join_all((0..4).map(|_| {
        let mut config = crate::harness::test_config(&db.url);
        (config.bootstrap_pool_id, config.bootstrap_pool_secret) = (None, None);
        orgraph::state::AppState::open(config)
    }))
    .await;
    let created = opened
        .iter()
        .filter(|o| matches!(o, Ok((_, orgraph::domain::pools::Bootstrap::Created(_)))))
        .count();
    assert!(opened.iter().all(Result::is_ok), "every instance starts: {:?}", opened.iter().filter_map(|o| o.as_ref().err()).collect::<Vec<_>>());
    assert_eq!(created, 1, "one of them made the first pool");
    let (state, _) = opened.into_iter().next().expect("one").expect("started");
    assert_eq!(state.pools.list().await.expect("pools").len(), 1, "one pool in all");

    // With a configured id and secret: every instance starts, and the pool exists once.
    let db = TestDb::new().await;
    let config = crate::harness::test_config(&db.url);
    let opened = futures_util::future::join_all((0..4).map(|_| orgraph::state::AppState::open(config.clone()))).await;
    assert!(opened.iter().all(Result::is_ok), "every instance starts: {:?}", opened.iter().filter_map(|o| o.as_ref().err()).collect::<Vec<_>>());
    let (state, _) = opened.into_iter().next().expect("one").expect("started");
    let pools = state.pools.list().await.expect("pools");
    assert_eq!(pools.iter().map(|p| Some(p.id.clone())).collect::<Vec<_>>(), vec![config.bootstrap_pool_id], "the configured pool, once");
}

/// Record `version` as applied, as another program's migrator would.
async fn record_migration(url: &str, version: &str) {
    let db = Database::connect(url.replace("mode=rwc", "mode=rw")).await.expect("connect");
    let sql = format!("INSERT INTO seaql_migrations (version, applied_at) VALUES ('{version}', 0)");
    db.execute_unprepared(&sql).await.expect("recorded");
    db.close().await.ok();
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_orgraph_or_another_program_is_refused() {
    let db = TestDb::new().await;
    ok_on(&db.url, &["migrate", "up"]).await;
    record_migration(&db.url, "m20991231_000099_from_the_future").await;
    let st = ok_on(&db.url, &["migrate", "status"]).await;
    assert!(st.contains("unknown m20991231_000099_from_the_future"), "{st}");
    let serve = ["serve", "--listen", "127.0.0.1:0"];
    for args in [&["pool", "list"][..], &["migrate", "up"], &["migrate", "down"], &serve] {
        let out = tokio::time::timeout(crate::harness::WAIT_DEADLINE, orgraph_on(&db.url, args)).await.expect("it exits");
        assert!(!out.status.success(), "orgraph {args:?}: {}", said(&out));
        assert!(said(&out).contains("migrated by a newer orgraph") && said(&out).contains("m20991231_000099_from_the_future"), "{}", said(&out));
    }

    // A database only another program migrated with the same migrator: not orgraph's.
    let other = TestDb::new().await;
    if !other.is_postgres() {
        std::fs::write(sqlite_file(&other.url), b"").unwrap();
    }
    let url = other.url.replace("mode=rwc", "mode=rw");
    let created = Database::connect(&url).await.expect("connect");
    created.execute_unprepared("CREATE TABLE seaql_migrations (version VARCHAR PRIMARY KEY, applied_at BIGINT NOT NULL)").await.expect("made");
    created.close().await.ok();
    record_migration(&url, "m20200101_000001_their_tables").await;
    for args in [&["pool", "list"][..], &["migrate", "up"], &serve] {
        let out = tokio::time::timeout(crate::harness::WAIT_DEADLINE, orgraph_on(&url, args)).await.expect("it exits");
        assert!(!out.status.success(), "orgraph {args:?}: {}", said(&out));
        assert!(said(&out).contains("another application's database"), "{}", said(&out));
    }
    assert_eq!(tables(&url).await, 1, "nothing was added to it");
}
