//! Event delivery benchmark: the real server on a loopback port, a real webhook receiver and
//! real WebSocket subscribers. Reports, with 1, 10 and 100 webhooks:
//!   1. drain: a backlog of events is published while no worker runs (so the publishing rate does
//!      not bound the figure), then the worker starts: deliveries per second until the last one;
//!   2. steady: the worker runs while a paced publisher sends events at a fixed rate
//!      (BENCH_RATES, events/s per scenario): commit→delivery p50/p99/max;
//!
//! and commit→subscriber latency with 1,000 concurrent `graphql-transport-ws` subscribers.
//!
//! Events are published with `publishEvent` (one transaction each); "commit" is the moment the
//! mutation's answer arrives. The receiver verifies every signature with the `standardwebhooks`
//! crate and counts deliveries by `webhook-id` (the event's id) and webhook (each webhook's URL
//! has its own query): each (event, webhook) pair must arrive, and
//! repeats are reported.
//!
//!   cargo bench --bench events            # SQLite; DATABASE_URL=postgres://… for PostgreSQL
//!
//! Knobs: BENCH_BACKLOG (events in the drain scenarios: "2000,1000,100" for 1, 10, 100 webhooks),
//! BENCH_RATES ("1000,300,30" events/s), BENCH_STEADY_SECS (5), BENCH_SUBSCRIBERS (1000),
//! BENCH_ONLY_WEBHOOKS=1 skips the subscribers; BENCH_ENTITIES=N makes the drain's deliveries be
//! about N entities (`seq % N`; published events are about none), so that each webhook sends an
//! entity's deliveries one after the other (N large: the cost of the order check alone);
//! BENCH_PERF_FIFO (the control file of
//! `perf record -D -1 --control fifo:FILE`) profiles only the drain with BENCH_PERF_WEBHOOKS (10).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use orgraph::{cli::Cli, state::AppState};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use standardwebhooks::Webhook;
use tokio_tungstenite::{connect_async, tungstenite::{Message, client::IntoClientRequest}};
use tokio_util::sync::CancellationToken;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn env_list(name: &str, default: [usize; 3]) -> [usize; 3] {
    let parsed: Vec<usize> = std::env::var(name).unwrap_or_default().split(',').filter_map(|v| v.trim().parse().ok()).collect();
    parsed.try_into().unwrap_or(default)
}

type Arrivals = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

/// What the webhook receiver saw: arrivals by marker, delivery ids, bad signatures.
#[derive(Default)]
struct Seen {
    arrivals: HashMap<String, Vec<Instant>>,
    ids: HashSet<String>,
    repeats: usize,
    bad_signatures: usize,
    last: Option<Instant>,
}

#[derive(Clone)]
struct Receiver {
    wh: Arc<Webhook>,
    seen: Arc<Mutex<Seen>>,
}

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    match std::env::var("DATABASE_URL") {
        Ok(admin) if admin.starts_with("postgres") => {
            let name = format!("orgraph_bench_{}", orgraph::ids::random_hex(4));
            let conn = Database::connect(&admin).await?;
            conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
            let outcome = bench(format!("{base}/{name}"), "postgres").await;
            // Dropped whatever happened: a failed run leaves no database behind.
            conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
            outcome
        }
        _ => bench(format!("sqlite://{}?mode=rwc", tmp.path().join("events.db").display()), "sqlite").await,
    }
}

async fn bench(url: String, backend: &str) -> anyhow::Result<()> {
    let backlog = env_list("BENCH_BACKLOG", [2000, 1000, 100]);
    let rates = env_list("BENCH_RATES", [1000, 300, 30]);
    let steady_secs = env_num("BENCH_STEADY_SECS", 5) as u64;
    let subscribers = env_num("BENCH_SUBSCRIBERS", 1000);
    let entities = env_num("BENCH_ENTITIES", 0);
    let mut config = Cli::parse_from(["orgraph"]).config;
    config.database_url = url;
    config.bootstrap_pool_id = Some("benchpool".into());
    config.bootstrap_pool_secret = Some("bench-secret-0123456789".into());
    config.webhooks.allow_hosts = vec!["127.0.0.1".into()];
    config.webhooks.poll_ms = 100;
    config.webhooks.concurrency = 64;
    let (state, _) = AppState::open(config).await?;
    let background = orgraph::app::Background::start_without_delivery(&state).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(orgraph::app::serve(state.clone(), listener, std::future::pending()));
    let token = state.pools.login("benchpool", "bench-secret-0123456789", None).await?.token;
    let http = reqwest::Client::new();
    println!("backend: {backend}");

    let receiver = Receiver { wh: Arc::new(Webhook::new(SECRET)?), seen: Arc::default() };
    let app = Router::new().route("/hook", post(receive)).with_state(receiver.clone());
    let hook_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_url = format!("http://{}/hook", hook_listener.local_addr()?);
    tokio::spawn(async move { axum::serve(hook_listener, app).await });

    let gql = |query: String, variables: Value| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            let v: Value = http.post(format!("{base}/graphql")).bearer_auth(token).json(&json!({ "query": query, "variables": variables })).send().await?.json().await?;
            anyhow::ensure!(v.get("errors").is_none(), "{v}");
            Ok::<_, anyhow::Error>(v)
        }
    };
    // Owns its handles, so the paced publisher can spawn each request.
    let publish = {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        move |marker: String| {
            let (http, url, token) = (http.clone(), format!("{base}/graphql"), token.clone());
            async move {
                let query = "mutation($d: JSON!) { publishEvent(eventName: \"login\", data: $d) { id } }";
                let v: Value = http.post(url).bearer_auth(token).json(&json!({ "query": query, "variables": { "d": { "marker": marker } } })).send().await?.json().await?;
                anyhow::ensure!(v.get("errors").is_none(), "{v}");
                Ok::<_, anyhow::Error>(())
            }
        }
    };
    let start_worker = || {
        let stop = CancellationToken::new();
        let task = tokio::spawn(orgraph::delivery::worker::run(
            state.writer.clone(), state.sender.clone(), state.config.webhooks.clone(), state.metrics.clone(), stop.clone()));
        (stop, task)
    };

    let mut hooks: Vec<String> = Vec::new();
    for (i, n) in [1usize, 10, 100].into_iter().enumerate() {
        while hooks.len() < n {
            let v = gql("mutation($u: String!, $s: String) { createWebhook(name: \"b\", url: $u, secret: $s, events: [\"login\"]) { id } }".into(),
                json!({ "u": format!("{hook_url}?w={}", hooks.len()), "s": SECRET })).await?;
            hooks.push(v["data"]["createWebhook"]["id"].as_str().unwrap_or_default().to_string());
        }

        // Drain: publish the backlog with no worker running, then time the worker.
        *receiver.seen.lock().unwrap() = Seen::default();
        let count = backlog[i];
        let published = Instant::now();
        let markers: Vec<String> = (0..count).map(|k| format!("d{n}-{k}")).collect();
        futures_util::stream::iter(markers.iter().cloned().map(&publish)).buffer_unordered(8).collect::<Vec<_>>().await.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        let publish_secs = published.elapsed().as_secs_f64();
        // Autovacuum would have analyzed a table this busy within its minute's nap; without
        // statistics PostgreSQL's plans for a fresh table assume it is nearly empty.
        if entities > 0 {
            state.db.execute_unprepared(&format!("UPDATE delivery SET entity = 'user:' || (seq % {entities}) WHERE status = 'pending'")).await?;
        }
        if backend == "postgres" {
            state.db.execute_unprepared("ANALYZE delivery").await?;
        }
        perf_control(n, "enable");
        let (stop, task) = start_worker();
        let started = Instant::now();
        let expected = count * n;
        wait_for(&receiver, expected).await;
        perf_control(n, "disable");
        stop.cancel();
        task.await?;
        {
            let seen = receiver.seen.lock().unwrap();
            let secs = seen.last.map_or(f64::NAN, |l| l.duration_since(started).as_secs_f64());
            println!(
                "drain  {n:>3} webhook(s){}: {count} events published in {publish_secs:.2} s ({:.0}/s), then {}/{expected} deliveries in {secs:.2} s = {:.0} deliveries/s{}",
                if entities > 0 { format!(" about {entities} entities") } else { String::new() }, count as f64 / publish_secs, seen.ids.len(), seen.ids.len() as f64 / secs, check(&seen, &markers, n));
        }

        // Steady: a paced publisher while the worker runs.
        *receiver.seen.lock().unwrap() = Seen::default();
        let rate = rates[i].max(1);
        let (stop, task) = start_worker();
        let committed: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let total = rate * steady_secs as usize;
        let markers: Vec<String> = (0..total).map(|k| format!("s{n}-{k}")).collect();
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
        let began = Instant::now();
        let mut inflight = tokio::task::JoinSet::new();
        for marker in markers.iter().cloned() {
            tick.tick().await;
            let (publish, committed) = (publish.clone(), committed.clone());
            inflight.spawn(async move {
                publish(marker.clone()).await?;
                committed.lock().unwrap().insert(marker, Instant::now());
                Ok::<_, anyhow::Error>(())
            });
        }
        while let Some(r) = inflight.join_next().await {
            r??;
        }
        let achieved = total as f64 / began.elapsed().as_secs_f64();
        let expected = total * n;
        wait_for(&receiver, expected).await;
        stop.cancel();
        task.await?;
        let seen = receiver.seen.lock().unwrap();
        let committed = committed.lock().unwrap();
        let mut lat: Vec<Duration> = seen.arrivals.iter().flat_map(|(m, ts)| ts.iter().map(|t| t.saturating_duration_since(committed[m]))).collect();
        lat.sort();
        println!(
            "steady {n:>3} webhook(s): {total} events at {achieved:.0}/s ({:.0} deliveries/s), {}/{expected} delivered; commit→delivery p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms{}",
            achieved * n as f64, seen.ids.len(), pct(&lat, 0.5), pct(&lat, 0.99), lat.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0), check(&seen, &markers, n));
    }
    if env_num("BENCH_ONLY_WEBHOOKS", 0) == 1 {
        return cleanup(state, background).await;
    }
    // Quiet the webhooks before the subscriber scenario.
    for h in &hooks {
        gql("mutation($id: String!) { updateWebhook(id: $id, enabled: false) { id } }".into(), json!({ "id": h })).await?;
    }

    // Subscribers.
    let ws_url = format!("{}/graphql/ws", base.replacen("http", "ws", 1));
    let seen: Arrivals = Arc::default();
    let mut tasks = Vec::new();
    for _ in 0..subscribers {
        let (ws_url, token, seen) = (ws_url.clone(), token.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            let mut req = ws_url.into_client_request()?;
            req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
            let (mut ws, _) = connect_async(req).await?;
            ws.send(Message::text(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }).to_string())).await?;
            ws.send(Message::text(json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { events(eventNames: [\"login\"]) { data } }" } }).to_string())).await?;
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Text(t) = msg {
                    let v: Value = serde_json::from_str(&t)?;
                    if let Some(m) = v["payload"]["data"]["events"]["data"]["marker"].as_str() {
                        seen.lock().unwrap().entry(m.to_string()).or_default().push(Instant::now());
                    }
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // all connect and subscribe
    let rounds = 20;
    let mut committed = HashMap::new();
    for i in 0..rounds {
        let marker = format!("s{i}");
        gql("mutation($d: JSON!) { publishEvent(eventName: \"login\", data: $d) { id } }".into(), json!({ "d": { "marker": marker } })).await?;
        committed.insert(marker, Instant::now());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = seen.lock().unwrap().clone();
    let mut lat: Vec<Duration> = got.iter().flat_map(|(m, ts)| ts.iter().map(|t| t.saturating_duration_since(committed[m]))).collect();
    lat.sort();
    println!(
        "{subscribers} subscribers: {} of {} event receipts; commit→subscriber p50 {:.1} ms, p99 {:.1} ms",
        lat.len(), subscribers * rounds, pct(&lat, 0.5), pct(&lat, 0.99));
    for t in tasks {
        t.abort();
    }
    cleanup(state, background).await
}

async fn cleanup(state: AppState, background: orgraph::app::Background) -> anyhow::Result<()> {
    background.stop().await;
    drop(state);
    Ok(())
}

/// Wait until `expected` distinct deliveries arrived (at most 120 s).
async fn wait_for(receiver: &Receiver, expected: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while receiver.seen.lock().unwrap().ids.len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Every event reached every webhook once: what is missing, repeated or badly signed.
fn check(seen: &Seen, markers: &[String], n: usize) -> String {
    let missing: usize = markers.iter().map(|m| n.saturating_sub(seen.arrivals.get(m).map_or(0, Vec::len))).sum();
    if missing == 0 && seen.repeats == 0 && seen.bad_signatures == 0 {
        return "; all checked".into();
    }
    format!("; MISSING {missing}, repeated {}, bad signatures {}", seen.repeats, seen.bad_signatures)
}

async fn receive(State(r): State<Receiver>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> &'static str {
    let now = Instant::now();
    if r.wh.verify(&body, &headers).is_err() {
        r.seen.lock().unwrap().bad_signatures += 1;
        return "bad signature";
    }
    let event = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let id = format!("{event}/{}", uri.query().unwrap_or_default());
    let marker = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v["data"]["marker"].as_str().map(str::to_string));
    let mut seen = r.seen.lock().unwrap();
    if !seen.ids.insert(id) {
        seen.repeats += 1;
        return "ok";
    }
    if let Some(m) = marker {
        seen.arrivals.entry(m).or_default().push(now);
    }
    seen.last = Some(now);
    "ok"
}

/// With BENCH_PERF_FIFO (a `perf record --control fifo:…` file) and BENCH_PERF_WEBHOOKS (10),
/// profile only that drain: perf is told to start and stop around it.
fn perf_control(n: usize, command: &str) {
    if let Ok(fifo) = std::env::var("BENCH_PERF_FIFO")
        && env_num("BENCH_PERF_WEBHOOKS", 10) == n
    {
        let _ = std::fs::write(fifo, format!("{command}\n"));
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}
