//! Event delivery benchmark: the real server on a loopback port, a real webhook receiver and
//! real WebSocket subscribers. Reports
//!   1. webhook deliveries per second and commit→delivery latency with 1, 10 and 100 webhooks;
//!   2. commit→subscriber latency with 1,000 concurrent `graphql-transport-ws` subscribers.
//!
//! Events are published with `publishEvent` (one transaction each); "commit" is the moment the
//! mutation's answer arrives.
//!
//!   cargo bench --bench events            # SQLite; DATABASE_URL=postgres://… for PostgreSQL
//!
//! Knobs: BENCH_EVENTS (200 per webhook scenario), BENCH_SUBSCRIBERS (1000).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, extract::State, routing::post};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use orgraph::{cli::Cli, state::AppState};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio_tungstenite::{connect_async, tungstenite::{Message, client::IntoClientRequest}};

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

type Arrivals = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let events = env_num("BENCH_EVENTS", 200);
    let subscribers = env_num("BENCH_SUBSCRIBERS", 1000);
    let tmp = tempfile::tempdir()?;
    let (url, backend, pg_drop) = match std::env::var("DATABASE_URL") {
        Ok(admin) if admin.starts_with("postgres") => {
            let name = format!("orgraph_bench_{}", orgraph::ids::random_hex(4));
            let conn = Database::connect(&admin).await?;
            conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
            (format!("{base}/{name}"), "postgres", Some((admin, name)))
        }
        _ => (format!("sqlite://{}?mode=rwc", tmp.path().join("events.db").display()), "sqlite", None),
    };
    let mut config = Cli::parse_from(["orgraph"]).config;
    config.database_url = url;
    config.bootstrap_pool_id = Some("benchpool".into());
    config.bootstrap_pool_secret = Some("bench-secret-0123456789".into());
    config.webhooks.allow_hosts = vec!["127.0.0.1".into()];
    config.webhooks.poll_ms = 100;
    config.webhooks.concurrency = 64;
    let (state, _) = AppState::open(config).await?;
    let _background = orgraph::app::Background::start(&state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(orgraph::app::serve(state.clone(), listener, std::future::pending()));
    let token = state.tokens.issue("benchpool")?.token;
    let http = reqwest::Client::new();
    println!("backend: {backend}");

    // The receiver notes when each event (by its marker) arrives.
    let arrivals: Arrivals = Arc::default();
    let app = Router::new().route("/hook", post(receive)).with_state(arrivals.clone());
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

    let mut hooks: Vec<String> = Vec::new();
    for n in [1usize, 10, 100] {
        while hooks.len() < n {
            let v = gql("mutation($u: String!) { createWebhook(name: \"b\", url: $u, events: [\"login\"]) { id } }".into(), json!({ "u": hook_url })).await?;
            hooks.push(v["data"]["createWebhook"]["id"].as_str().unwrap_or_default().to_string());
        }
        arrivals.lock().unwrap().clear();
        let count = if n == 100 { events / 4 } else { events };
        let started = Instant::now();
        let mut committed: HashMap<String, Instant> = HashMap::new();
        for i in 0..count {
            let marker = format!("w{n}-{i}");
            gql("mutation($d: JSON!) { publishEvent(eventName: \"login\", data: $d) { id } }".into(), json!({ "d": { "marker": marker } })).await?;
            committed.insert(marker, Instant::now());
        }
        let expected = count * n;
        let deadline = Instant::now() + Duration::from_secs(120);
        while arrivals.lock().unwrap().values().map(Vec::len).sum::<usize>() < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = started.elapsed();
        let got = arrivals.lock().unwrap().clone();
        let mut lat: Vec<Duration> = got.iter().flat_map(|(m, ts)| ts.iter().map(|t| t.saturating_duration_since(committed[m]))).collect();
        let delivered: usize = lat.len();
        lat.sort();
        println!(
            "{n} webhook(s): {count} events, {delivered}/{expected} deliveries in {:.2} s = {:.0} deliveries/s; commit→delivery p50 {:.1} ms, p99 {:.1} ms",
            elapsed.as_secs_f64(), delivered as f64 / elapsed.as_secs_f64(), pct(&lat, 0.5), pct(&lat, 0.99));
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
    drop(state);
    if let Some((admin, name)) = pg_drop {
        let conn = Database::connect(&admin).await?;
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    }
    Ok(())
}

async fn receive(State(arrivals): State<Arrivals>, body: Bytes) -> &'static str {
    if let Ok(v) = serde_json::from_slice::<Value>(&body)
        && let Some(m) = v["data"]["marker"].as_str()
    {
        arrivals.lock().unwrap().entry(m.to_string()).or_default().push(Instant::now());
    }
    "ok"
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}
