//! Org tree benchmark: generates an org of 10,000 nodes with 200,000 users (~260,000
//! memberships), starts the real server on a loopback port, and measures over HTTP:
//!   1. nodeById { users(page 1, limit 10, includeChildrenNodes: true) } at the root;
//!   2. the same at a mid-level node (~2% of the users);
//!   3. moveNode of a subtree of ~1% of the nodes, back and forth between its parent and a node
//!      as deep in another branch (so every move leaves and joins as many ancestors), while one
//!      client reads a leaf's member page and another renames a leaf, back to back;
//!   4. org(id) listing all nodes;
//!
//! and, in the same run, the bare SQL statement behind the members page, and keyset pages deep in
//! a subtree against its first page (scenario `keyset`).
//!
//!   cargo bench --bench org_tree                       # SQLite (temporary file)
//!   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench org_tree
//!
//! Knobs: BENCH_NODES (10000), BENCH_USERS (200000), BENCH_SECONDS (10 per read scenario),
//! BENCH_CONCURRENCY (8), BENCH_MOVES (10), BENCH_MOVE_NODES (nodes / 100: the size of the moved
//! subtree), BENCH_ORG_SELECTION (the node fields of scenario 4), BENCH_KEEP_DB (1: keep the
//! database and print its URL, e.g. to EXPLAIN a statement on it), BENCH_ONLY_MOVES (1: skip the
//! read scenarios), BENCH_WATCH (1: a subscriber watches the moved subtree's branch, so each move
//! also writes its users' subtree-member-left/-entered events).

#[path = "common/shape.rs"]
mod shape;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Parser;
use entity::{membership, node, node_closure, user};
use orgraph::{
    state::AppState,
    cli::Cli,
    domain::{
        PoolId,
        org_tree::{DepartmentPatch, MemberSort, MembersQuery, member_page_plan, member_page_statement},
        pagination::{Page, TimestampOrder},
    },
    views::user::columns_of,
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{ActiveValue::Set, ConnectionTrait, Database, EntityTrait, Statement, Value};
use serde_json::json;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Dataset {
    /// Departments generated (the org's nodes, root included).
    nodes: usize,
    org_id: String,
    root: String,
    mid: String,
    mid_users: i64,
    move_node: String,
    move_size: usize,
    move_users: i64,
    /// Ancestors a move leaves (as many as it joins).
    move_leaves: usize,
    move_targets: (String, String),
    /// The depth-1 department above the moved subtree (each move takes it out and back in).
    move_branch: String,
    leaf: String,
    leaf_members: i64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let nodes = env_num("BENCH_NODES", 10_000);
    let users = env_num("BENCH_USERS", 200_000);
    let seconds = env_num("BENCH_SECONDS", 10) as u64;
    let concurrency = env_num("BENCH_CONCURRENCY", 8);
    let moves = env_num("BENCH_MOVES", 10);
    let move_nodes = env_num("BENCH_MOVE_NODES", nodes / 100);
    let keep_db = env_num("BENCH_KEEP_DB", 0) == 1;
    let reads = env_num("BENCH_ONLY_MOVES", 0) != 1;

    // A fresh database: a SQLite file, or a new PostgreSQL database next to DATABASE_URL's.
    let tmp = tempfile::tempdir()?;
    let (url, backend, pg_drop) = match std::env::var("DATABASE_URL") {
        Ok(admin) if admin.starts_with("postgres") => {
            let name = format!("orgraph_bench_{}", orgraph::ids::random_hex(4));
            let conn = Database::connect(&admin).await?;
            conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
            conn.close().await?;
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
            (format!("{base}/{name}"), "postgres", Some((admin, name)))
        }
        _ => (format!("sqlite://{}?mode=rwc", tmp.path().join("bench.db").display()), "sqlite", None),
    };

    let mut config = Cli::parse_from(["orgraph"]).config;
    config.database_url = url;
    config.bootstrap_pool_id = Some("benchpool".into());
    config.bootstrap_pool_secret = Some("bench-secret-0123456789".into());
    config.log_level = "warn".into();
    let (state, _) = AppState::open(config).await?;
    let _background = orgraph::app::Background::start(&state).await?;
    let pool = state.pools.authenticate("benchpool", "bench-secret-0123456789", None).await?;

    let t = Instant::now();
    let ds = generate(&state, &pool, nodes, users, move_nodes).await?;
    println!("backend: {backend}");
    println!("dataset: {} nodes, {users} users, generated in {:.1} s", ds.nodes, t.elapsed().as_secs_f64());
    let (size, plain) = (database_bytes(&state.db).await?, plain_bytes(&state.config.database_url, &tmp).await?);
    println!("database size: {:.0} MB; the same data in the plain schema (benches/postgraphile/schema.sql): {:.0} MB; ratio {:.2}x",
        size as f64 / 1e6, plain as f64 / 1e6, size as f64 / plain.max(1) as f64);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(orgraph::app::serve(state.clone(), listener, async {
        let _ = stopped.await;
    }));
    let token = state.pools.login("benchpool", "bench-secret-0123456789", None).await?.token;
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let meter = Meter::new(&state)?;
    let (leaf, leaf_members) = leaf_node(&state, &ds.org_id).await?;
    let run = |scenario: &str| std::env::var("BENCH_SCENARIOS").map_or(true, |s| s.split(',').any(|x| x.trim() == scenario));

    // Bare SQL of the members page, on the same connection pool the server uses: the reference
    // the pages below are compared with.
    let q = MembersQuery { page: Page::new(Some(1), Some(10), 200)?, sort: MemberSort::User(TimestampOrder::CreatedAtDesc), include_children: true,
        columns: columns_of(["id", "username", "email", "createdAt"]) };
    for (label, node) in [("root", &ds.root), ("mid", &ds.mid), ("leaf", &leaf)].into_iter().filter(|_| reads && run("sql")) {
        let model = node::Entity::find_by_id(node.clone()).one(&state.db).await?.ok_or_else(|| anyhow::anyhow!("node {node}"))?;
        let plan = member_page_plan(q, &model).ok_or_else(|| anyhow::anyhow!("an empty page"))?;
        let (sql, values) = member_page_statement(q, plan, &model);
        let mut times = Vec::new();
        for _ in 0..500 {
            let stmt = Statement::from_sql_and_values(state.db.get_database_backend(), &sql, values.clone());
            let t = Instant::now();
            let rows = state.db.query_all_raw(stmt).await?;
            times.push(t.elapsed());
            assert_eq!(rows.len(), 10.min(if label == "leaf" { leaf_members as usize } else { 10 }));
        }
        report(&format!("bare SQL members page ({label}, {plan:?})"), &mut times, None);
    }

    // Keyset pages: page 1,000 (or the last full page of a smaller subtree) started after the
    // previous page's last member, against page 1 and the same page by offset.
    for (label, node) in [("root", &ds.root), ("mid", &ds.mid)].into_iter().filter(|_| reads && run("keyset")) {
        let model = node::Entity::find_by_id(node.clone()).one(&state.db).await?.ok_or_else(|| anyhow::anyhow!("node {node}"))?;
        let deep = (model.subtree_member_count / 10).clamp(2, 1_000);
        let page = |n: i64| Page::new(Some(n), Some(10), 200).map(|page| MembersQuery { page, ..q });
        let before = state.orgs.members_after(&model, page(deep - 1)?, None).await?;
        let after = before.last().map(|m| m.position.clone());
        let by_offset: Vec<String> = state.orgs.members_after(&model, page(deep)?, None).await?.into_iter().map(|m| m.user.id).collect();
        for (what, q, after) in [("page 1", page(1)?, None), ("keyset", page(1)?, after.clone()), ("offset", page(deep)?, None)] {
            let mut times = Vec::new();
            for i in 0..330 {
                let t = Instant::now();
                let rows = state.orgs.members_after(&model, q, after.clone()).await?;
                // The first 30 warm the caches and the database's plans.
                if i >= 30 {
                    times.push(t.elapsed());
                }
                anyhow::ensure!(rows.len() == 10, "{what}: {} rows", rows.len());
                anyhow::ensure!(what == "page 1" || rows.iter().map(|m| &m.user.id).eq(by_offset.iter()), "{what}: not page {deep}");
            }
            let what = if what == "page 1" { what.to_string() } else { format!("page {deep} by {what}") };
            report(&format!("storage members page ({label}, {what})"), &mut times, None);
        }
    }

    let members = "query($id: String!) { nodeById(id: $id) { id users(page: 1, limit: 10, includeChildrenNodes: true) { totalCount list { id username email createdAt } } } }";
    for (label, node, expect) in [("root", &ds.root, users as i64), ("mid", &ds.mid, ds.mid_users), ("leaf", &leaf, leaf_members)] {
        if !reads || !run(label) {
            continue;
        }
        let body = json!({ "query": members, "variables": { "id": node } });
        let check = move |v: &serde_json::Value| v["data"]["nodeById"]["users"]["totalCount"].as_i64() == Some(expect);
        load(&meter, &client, &base, &token, &format!("nodeById+users subtree page ({label}, {expect} users)"), body, seconds, concurrency, check).await?;
    }

    let selection = std::env::var("BENCH_ORG_SELECTION").unwrap_or_else(|_| "id name code depth path children".into());
    let org_q = format!("query($id: String!) {{ org(id: $id) {{ id nodes {{ {selection} }} }} }}");
    let body = json!({ "query": org_q, "variables": { "id": ds.org_id } });
    let n = ds.nodes;
    if reads && run("org") {
        let rss = PeakRss::reset();
        load(&meter, &client, &base, &token, &format!("org(id) with all {nodes} nodes"), body, seconds, concurrency.min(4), move |v| {
            v["data"]["org"]["nodes"].as_array().map(Vec::len) == Some(n)
        })
        .await?;
        rss.report("org(id) listing");
    }

    // The same reads as of an instant before a change (the leaf renamed): the org's listing and
    // the member pages, read from the versions.
    if reads && run("asof") {
        let past = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let rename = json!({ "query": "mutation($id: String!) { updateNode(id: $id, name: \"renamed\") { id } }", "variables": { "id": ds.leaf } });
        let v: serde_json::Value = client.post(format!("{base}/graphql/v2")).bearer_auth(&token).json(&rename).send().await?.json().await?;
        anyhow::ensure!(v.get("errors").is_none(), "rename failed: {v}");
        // Wait until the instant is settled (no commit stamped before it can still be running),
        // as a past a client asks about is; a recent one is read afresh each time.
        let settled = orgraph::domain::history::SETTLED_AFTER.to_std().unwrap_or_default() + Duration::from_secs(1);
        println!("waiting {} s for the instant to settle", settled.as_secs());
        tokio::time::sleep(settled).await;
        let org_then = format!("query($id: String!, $at: String) {{ org(id: $id, asOf: $at) {{ id nodes {{ {selection} }} }} }}");
        let body = json!({ "query": org_then, "variables": { "id": ds.org_id, "at": past } });
        let rss = PeakRss::reset();
        load(&meter, &client, &base, &token, &format!("org(id, asOf) with all {nodes} nodes"), body, seconds, concurrency.min(4), move |v| {
            v["data"]["org"]["nodes"].as_array().map(Vec::len) == Some(n)
        })
        .await?;
        rss.report("org(id, asOf) listing");
        let members_then = "query($id: String!, $at: String) { nodeById(id: $id, asOf: $at) { id users(page: 1, limit: 10, includeChildrenNodes: true) { totalCount list { id username email createdAt } } } }";
        for (label, node, expect) in [("root", &ds.root, users as i64), ("mid", &ds.mid, ds.mid_users), ("leaf", &leaf, leaf_members)] {
            let body = json!({ "query": members_then, "variables": { "id": node, "at": past } });
            let check = move |v: &serde_json::Value| v["data"]["nodeById"]["users"]["totalCount"].as_i64() == Some(expect);
            load(&meter, &client, &base, &token, &format!("nodeById(asOf)+users subtree page ({label}, {expect} users)"), body, seconds, concurrency.min(4), check).await?;
        }
    }

    // moveNode of the 1% subtree, back and forth between its parent and a node as deep
    // elsewhere, while a reader and a writer measure how long they wait meanwhile.
    let mv = "mutation($o: String!, $n: String!, $t: String!) { moveNode(orgId: $o, nodeId: $n, targetParentId: $t) { id } }";
    let moving = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let leaf_q = json!({ "query": "query($id: String!) { nodeById(id: $id) { users(page: 1, limit: 10) { totalCount list { id } } } }", "variables": { "id": ds.leaf } });
    let rename = "mutation($id: String!, $name: String!) { updateNode(id: $id, name: $name) { id } }";
    let mut sides = Vec::new();
    for writer in [false, true] {
        let (client, url, token, moving, leaf, leaf_q, expect) =
            (client.clone(), format!("{base}/graphql/v2"), token.clone(), moving.clone(), ds.leaf.clone(), leaf_q.clone(), ds.leaf_members);
        sides.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while moving.load(std::sync::atomic::Ordering::Relaxed) {
                let body = if writer { json!({ "query": rename, "variables": { "id": leaf, "name": format!("leaf-{}", times.len()) } }) } else { leaf_q.clone() };
                let t = Instant::now();
                let v: serde_json::Value = client.post(&url).bearer_auth(&token).json(&body).send().await?.json().await?;
                times.push(t.elapsed());
                anyhow::ensure!(v.get("errors").is_none(), "concurrent request failed: {v}");
                anyhow::ensure!(writer || v["data"]["nodeById"]["users"]["totalCount"].as_i64() == Some(expect), "bad leaf page: {v}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok::<_, anyhow::Error>(times)
        }));
    }
    if env_num("BENCH_WATCH", 0) == 1 {
        // A subscriber watches the moved subtree's branch: every move writes who left or entered it.
        let now = chrono::Utc::now().timestamp();
        orgraph::storage::tree::subtree::watch(&state.db, pool.as_str(), &ds.move_branch, now + 86_400, now).await?;
        println!("watching the moved subtree's branch: each move crosses {} users", ds.move_users);
    }
    let mut times = Vec::new();
    for i in 0..moves {
        let target = if i % 2 == 0 { &ds.move_targets.0 } else { &ds.move_targets.1 };
        let body = json!({ "query": mv, "variables": { "o": ds.org_id, "n": ds.move_node, "t": target } });
        let t = Instant::now();
        let v: serde_json::Value = client.post(format!("{base}/graphql/v2")).bearer_auth(&token).json(&body).send().await?.json().await?;
        times.push(t.elapsed());
        anyhow::ensure!(v.get("errors").is_none(), "moveNode failed: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    moving.store(false, std::sync::atomic::Ordering::Relaxed);
    println!("moves (ms): {}", times.iter().map(|t| format!("{:.0}", t.as_secs_f64() * 1000.0)).collect::<Vec<_>>().join(" "));
    let label = format!("moveNode of a {}-node subtree ({} users, {} ancestors left and {} joined)",
        ds.move_size, ds.move_users, ds.move_leaves, ds.move_leaves);
    report_max(&label, &mut times);
    for (label, side) in [(format!("meanwhile: leaf member page ({} members)", ds.leaf_members), sides.remove(0)), ("meanwhile: updateNode of a leaf".to_string(), sides.remove(0))] {
        report_max(&label, &mut side.await??);
    }

    let _ = stop.send(());
    let _ = server.await;
    drop(state);
    if keep_db {
        println!("kept database: {}", match &pg_drop { Some((admin, name)) => format!("{}/{name}", admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b)), None => tmp.keep().join("bench.db").display().to_string() });
        return Ok(());
    }
    if let Some((admin, name)) = pg_drop {
        let conn = Database::connect(&admin).await?;
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    }
    Ok(())
}

/// Closed-loop load: `concurrency` clients send `body` back to back for `seconds`.
#[allow(clippy::too_many_arguments)]
async fn load(
    meter: &Meter,
    client: &reqwest::Client,
    base: &str,
    token: &str,
    label: &str,
    body: serde_json::Value,
    seconds: u64,
    concurrency: usize,
    check: impl Fn(&serde_json::Value) -> bool + Send + Sync + Copy + 'static,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let body = Arc::new(body);
    let started = Instant::now();
    let usage = meter.start();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, token, body) = (client.clone(), format!("{base}/graphql/v2"), token.to_string(), body.clone());
        tasks.push(meter.spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let res = client.post(&url).bearer_auth(&token).json(&*body).send().await?;
                anyhow::ensure!(res.status() == 200, "HTTP {}", res.status());
                let v: serde_json::Value = res.json().await?;
                times.push(t.elapsed());
                anyhow::ensure!(v.get("errors").is_none() && check(&v), "bad answer: {}", v.to_string().chars().take(300).collect::<String>());
            }
            Ok::<_, anyhow::Error>(times)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed();
    report(label, &mut all, Some((elapsed, concurrency)));
    usage.report(meter, all.len());
    Ok(())
}

fn report(label: &str, times: &mut [Duration], load: Option<(Duration, usize)>) {
    if times.is_empty() {
        return;
    }
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0;
    match load {
        Some((elapsed, c)) => println!(
            "{label}: {} requests, {:.0} req/s (concurrency {c}), p50 {:.2} ms, p99 {:.2} ms",
            times.len(), times.len() as f64 / elapsed.as_secs_f64(), pct(0.5), pct(0.99)),
        None => println!("{label}: {} runs, p50 {:.3} ms, p99 {:.3} ms", times.len(), pct(0.5), pct(0.99)),
    }
}

/// The leaf whose direct members are closest to 26 (the median leaf's), for the cheapest page:
/// where orgraph's own cost per request shows most.
async fn leaf_node(state: &AppState, org_id: &str) -> anyhow::Result<(String, i64)> {
    let sql = "SELECT n.id, n.member_count FROM node n WHERE n.org_id = $1 AND NOT EXISTS (SELECT 1 FROM node c WHERE c.parent_id = n.id)
               ORDER BY abs(n.member_count - 26), n.id LIMIT 1";
    let row = state.db.query_one_raw(Statement::from_sql_and_values(state.db.get_database_backend(), sql, vec![Value::from(org_id.to_string())])).await?;
    let row = row.ok_or_else(|| anyhow::anyhow!("no leaf"))?;
    Ok((row.try_get("", "id")?, row.try_get("", "member_count")?))
}

/// Server-side cost of a load: the load generator runs on its own runtime (threads named
/// `bench-client`), so the CPU time of every other thread of the process is the server's
/// (tokio workers, SQLite's connection threads). Also counts statements sent per request.
struct Meter {
    clients: Option<tokio::runtime::Runtime>,
    state: AppState,
}

impl Drop for Meter {
    fn drop(&mut self) {
        // A runtime may not be dropped from async code; its tasks have finished anyway.
        if let Some(rt) = self.clients.take() {
            rt.shutdown_background();
        }
    }
}

struct Usage {
    server_ns: u64,
    client_ns: u64,
    statements: u64,
}

impl Meter {
    fn new(state: &AppState) -> anyhow::Result<Self> {
        let clients = tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("bench-client").enable_all().build()?;
        Ok(Meter { clients: Some(clients), state: state.clone() })
    }

    fn spawn<F: std::future::Future<Output: Send + 'static> + Send + 'static>(&self, f: F) -> tokio::task::JoinHandle<F::Output> {
        match &self.clients {
            Some(rt) => rt.spawn(f),
            None => tokio::spawn(f),
        }
    }

    fn start(&self) -> Usage {
        let (server_ns, client_ns) = thread_cpu_ns();
        Usage { server_ns, client_ns, statements: self.state.metrics.statements() }
    }
}

impl Usage {
    fn report(&self, meter: &Meter, requests: usize) {
        let (server_ns, client_ns) = thread_cpu_ns();
        let n = requests.max(1) as f64;
        println!(
            "  per request: server CPU {:.3} ms, load generator CPU {:.3} ms, {:.2} statements",
            (server_ns - self.server_ns) as f64 / n / 1e6,
            (client_ns - self.client_ns) as f64 / n / 1e6,
            (meter.state.metrics.statements() - self.statements) as f64 / n
        );
    }
}

/// CPU time (ns) of this process's threads: (everything but the load generator, the load generator).
fn thread_cpu_ns() -> (u64, u64) {
    let (mut server, mut client) = (0, 0);
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        // schedstat: time on CPU (ns), time waiting, slices.
        let ns: u64 = std::fs::read_to_string(task.path().join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
            .unwrap_or(0);
        if name.starts_with("bench-client") { client += ns } else { server += ns }
    }
    (server, client)
}

/// The process's peak RSS over a span (Linux: writing 5 to clear_refs resets VmHWM to the current
/// RSS). It counts the load generator and what the dataset's generation left too: the growth
/// from the start bounds what the span needed.
struct PeakRss(String);

impl PeakRss {
    fn reset() -> Self {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        PeakRss(status_field("VmRSS:"))
    }

    fn report(self, label: &str) {
        println!("  {label}: RSS {} before, peak {} (the whole bench process)", self.0, status_field("VmHWM:"));
    }
}

fn status_field(name: &str) -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string()).unwrap_or_default()
}

/// Like [`report`], with the maximum.
fn report_max(label: &str, times: &mut [Duration]) {
    if times.is_empty() {
        return;
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p50 = times[(times.len() - 1) / 2];
    println!("{label}: {} runs, p50 {:.1} ms, max {:.1} ms", times.len(), ms(p50), times.last().map_or(0.0, |d| ms(*d)));
}

/// The size of the benchmark's database: PostgreSQL's, or the SQLite database's pages (what
/// the file holds once its WAL is checkpointed, whether or not a reader holds the WAL now).
async fn database_bytes(db: &sea_orm::DatabaseConnection) -> anyhow::Result<u64> {
    let sql = if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        "SELECT pg_database_size(current_database()) AS b"
    } else {
        "SELECT page_count * page_size AS b FROM pragma_page_count(), pragma_page_size()"
    };
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    Ok(row.map(|r| r.try_get::<i64>("", "b")).transpose()?.unwrap_or(0) as u64)
}

/// The tables and indexes of the plain schema PostGraphile serves (benches/postgraphile), the
/// same rows copied in: the denominator of the storage goal, measured in the same run. On
/// PostgreSQL a schema of its own (dropped after), on SQLite a file of its own.
const PLAIN: &[&str] = &[
    "CREATE TABLE {s}departments (id text PRIMARY KEY, org_id text NOT NULL, parent_id text, code text, name text NOT NULL,
        created_at timestamp NOT NULL, updated_at timestamp NOT NULL)",
    "CREATE TABLE {s}department_closure (ancestor_id text NOT NULL, descendant_id text NOT NULL, depth int NOT NULL,
        PRIMARY KEY (ancestor_id, descendant_id))",
    "CREATE TABLE {s}users (id text PRIMARY KEY, username text UNIQUE, email text, phone text, name text, nickname text, photo text,
        created_at timestamp NOT NULL, updated_at timestamp NOT NULL)",
    "CREATE TABLE {s}memberships (department_id text NOT NULL, user_id text NOT NULL, is_main_department boolean NOT NULL,
        joined_at timestamp NOT NULL, PRIMARY KEY (department_id, user_id))",
    "INSERT INTO {s}departments SELECT id, org_id, parent_id, code, name, created_at, updated_at FROM node",
    "INSERT INTO {s}department_closure SELECT ancestor_id, descendant_id, depth FROM node_closure",
    "INSERT INTO {s}users SELECT id, username, email, phone, name, nickname, photo, created_at, updated_at FROM users",
    "INSERT INTO {s}memberships SELECT node_id, user_id, is_main_department, joined_at FROM membership",
    "CREATE INDEX {s}departments_org_id_idx ON {t}departments (org_id)",
    "CREATE INDEX {s}departments_parent_id_idx ON {t}departments (parent_id)",
    "CREATE INDEX {s}department_closure_descendant_idx ON {t}department_closure (descendant_id)",
    "CREATE INDEX {s}users_created_at_id_idx ON {t}users (created_at, id)",
    "CREATE INDEX {s}memberships_user_id_idx ON {t}memberships (user_id)",
];

async fn plain_bytes(url: &str, tmp: &tempfile::TempDir) -> anyhow::Result<u64> {
    // One connection: SQLite's ATTACH holds for the connection that ran it.
    let db = &Database::connect(sea_orm::ConnectOptions::new(url).max_connections(1).to_owned()).await?;
    let postgres = db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    // PostgreSQL: the schema prefixes the table names, never the index names; SQLite: the
    // attached database prefixes the index names, never the table names.
    let (s, t) = if postgres { ("plain.", "plain.") } else { ("plain.", "") };
    if postgres {
        db.execute_unprepared("DROP SCHEMA IF EXISTS plain CASCADE; CREATE SCHEMA plain").await?;
    } else {
        let file = tmp.path().join("plain.db");
        db.execute_unprepared(&format!("ATTACH DATABASE '{}' AS plain", file.display())).await?;
    }
    for sql in PLAIN {
        let sql = if postgres { sql.replace("INDEX {s}", "INDEX ") } else { sql.to_string() };
        db.execute_unprepared(&sql.replace("{s}", s).replace("{t}", t)).await?;
    }
    let bytes = if postgres {
        let sql = "SELECT SUM(pg_total_relation_size(c.oid))::bigint AS b FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'plain'::regnamespace";
        db.execute_unprepared("VACUUM ANALYZE").await?;
        let row = db.query_one_raw(Statement::from_string(sea_orm::DatabaseBackend::Postgres, sql)).await?;
        let b = row.map(|r| r.try_get::<i64>("", "b")).transpose()?.unwrap_or(0) as u64;
        db.execute_unprepared("DROP SCHEMA plain CASCADE").await?;
        b
    } else {
        db.execute_unprepared("DETACH DATABASE plain").await?;
        let file = tmp.path().join("plain.db");
        let b = std::fs::metadata(&file)?.len();
        std::fs::remove_file(file)?;
        b
    };
    Ok(bytes)
}

/// Seeded data: a tree with fan-out 2 to 12 and depth at most 6 (deeper only when six levels cannot hold `n_nodes`, see `common/shape.rs`); each user in one node, 30% in
/// a second one.
/// A write transaction for seeding rows straight into the database, outside the server's write
/// gate (the server is not serving yet): `BEGIN IMMEDIATE` on SQLite, so it never fails later for
/// want of the lock.
async fn begin_write(db: &sea_orm::DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() }).await
}

async fn generate(state: &AppState, pool: &PoolId, n_nodes: usize, n_users: usize, move_nodes: usize) -> anyhow::Result<Dataset> {
    let mut rng = StdRng::seed_from_u64(42);
    let db = &state.db;
    let org = state.orgs.create_org(pool, DepartmentPatch { code: Some(Some("bench".into())), ..DepartmentPatch::named("Bench") }, None).await?;
    let root = org.root_node_id.clone();
    let now = chrono::Utc::now();

    // Tree, breadth first.
    let (parent_of, depth) = shape::tree_shape(&mut rng, n_nodes);
    let ids: Vec<String> = std::iter::once(root.clone()).chain((1..parent_of.len()).map(|_| orgraph::ids::new_id())).collect();
    let n_nodes = ids.len();
    let mut rows = Vec::new();
    let mut closure = Vec::new();
    for i in 1..n_nodes {
        let mut row = node::ActiveModel {
            id: Set(ids[i].clone()),
            user_pool_id: Set(pool.as_str().into()),
            org_id: Set(org.id.clone()),
            parent_id: Set(parent_of[i].map(|p| ids[p].clone())),
            leader_user_id: Set(None),
            depth: Set(depth[i]),
            member_count: Set(0),
            subtree_member_count: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        DepartmentPatch { code: Some(Some(format!("d{i}"))), ..DepartmentPatch::named(format!("dept-{i}")) }.apply_new(&mut row)?;
        rows.push(row);
        let (mut a, mut d) = (Some(i), 0);
        while let Some(x) = a {
            closure.push(node_closure::ActiveModel { ancestor_id: Set(ids[x].clone()), descendant_id: Set(ids[i].clone()), depth: Set(d) });
            a = parent_of[x];
            d += 1;
        }
    }
    let txn = begin_write(db).await?;
    for chunk in rows.chunks(500) {
        node::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    for chunk in closure.chunks(3000) {
        node_closure::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    // Rows written here bypass the server's write path: their versions are stamped as it does.
    orgraph::storage::history::stamp::stamp(&txn, "bench").await?;
    txn.commit().await?;

    // Users, oldest first.
    let mut user_ids = Vec::with_capacity(n_users);
    let txn = begin_write(db).await?;
    let mut batch = Vec::new();
    for u in 0..n_users {
        let id = orgraph::ids::new_id();
        let t = now - chrono::Duration::seconds((n_users - u) as i64);
        let mut row = orgraph::domain::users::new_row(pool, t);
        row.id = Set(id.clone());
        row.username = Set(Some(format!("user{u}")));
        row.email = Set(Some(format!("user{u}@example.com")));
        batch.push(row);
        user_ids.push(id);
        if batch.len() == 500 {
            user::Entity::insert_many(std::mem::take(&mut batch)).exec(&txn).await?;
        }
    }
    if !batch.is_empty() {
        user::Entity::insert_many(batch).exec(&txn).await?;
    }
    // Rows written here bypass the server's write path: their versions are stamped as it does.
    orgraph::storage::history::stamp::stamp(&txn, "bench").await?;
    txn.commit().await?;

    // Memberships.
    let txn = begin_write(db).await?;
    let mut batch = Vec::new();
    let member = |node: usize, user: &String, main: bool, batch: &mut Vec<membership::ActiveModel>| {
        batch.push(membership::ActiveModel {
            node_id: Set(ids[node].clone()),
            user_id: Set(user.clone()),
            user_pool_id: Set(pool.as_str().into()),
            org_id: Set(org.id.clone()),
            is_leader: Set(false),
            is_main_department: Set(main),
            joined_at: Set(now),
        });
    };
    for u in &user_ids {
        let first = rng.gen_range(0..n_nodes);
        member(first, u, true, &mut batch);
        if rng.gen_bool(0.3) {
            let second = rng.gen_range(0..n_nodes);
            if second != first {
                member(second, u, false, &mut batch);
            }
        }
        if batch.len() >= 2000 {
            membership::Entity::insert_many(std::mem::take(&mut batch)).exec(&txn).await?;
        }
    }
    if !batch.is_empty() {
        membership::Entity::insert_many(batch).exec(&txn).await?;
    }
    orgraph::storage::tree::counts::rebuild(&txn, &org.id).await?;
    // Rows written here bypass the server's write path: their versions are stamped as it does.
    orgraph::storage::history::stamp::stamp(&txn, "bench").await?;
    txn.commit().await?;
    if state.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        state.db.execute_unprepared("ANALYZE").await?;
    }

    // Pick the benchmark targets from the generated shape.
    let mut subtree_size = vec![1usize; n_nodes];
    for i in (1..n_nodes).rev() {
        if let Some(p) = parent_of[i] {
            subtree_size[p] += subtree_size[i];
        }
    }
    let counts: HashMap<String, i64> = node::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|n| (n.id, n.subtree_member_count))
        .collect();
    let target_mid = n_users as i64 / 50; // ~2% of the users
    let mid = (1..n_nodes)
        .filter(|&i| depth[i] == 2)
        .min_by_key(|&i| (counts[&ids[i]] - target_mid).abs())
        .unwrap_or(1);
    // The moved subtree: the one closest to `move_nodes` nodes below depth 1, and a target as deep
    // as its parent in another depth-1 branch.
    let branch = |mut x: usize| {
        while depth[x] > 1 {
            x = parent_of[x].unwrap_or(0);
        }
        x
    };
    let mv = (1..n_nodes)
        .filter(|&i| depth[i] >= 2)
        .min_by_key(|&i| ((subtree_size[i] as i64 - move_nodes as i64).abs(), -depth[i]))
        .unwrap_or(1);
    let parent = parent_of[mv].unwrap_or(0);
    let target = (1..n_nodes).find(|&i| depth[i] == depth[parent] && branch(i) != branch(mv)).unwrap_or(0);
    let leaf = (1..n_nodes).rev().find(|&i| subtree_size[i] == 1 && branch(i) != branch(mv) && branch(i) != branch(target)).unwrap_or(0);
    let leaf_members = node::Entity::find_by_id(ids[leaf].clone()).one(db).await?.map_or(0, |n| n.member_count);
    Ok(Dataset {
        nodes: n_nodes,
        org_id: org.id,
        root,
        mid: ids[mid].clone(),
        mid_users: counts[&ids[mid]],
        move_node: ids[mv].clone(),
        move_size: subtree_size[mv],
        move_users: counts[&ids[mv]],
        move_leaves: depth[parent] as usize,
        move_targets: (ids[target].clone(), ids[parent].clone()),
        move_branch: ids[branch(mv)].clone(),
        leaf: ids[leaf].clone(),
        leaf_members,
    })
}
