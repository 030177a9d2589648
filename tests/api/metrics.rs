//! `/metrics`: where it is served and to whom (not at all by default; `--metrics-public`;
//! `--metrics-token`; `--metrics-listen`), and every metric moving as the server works. Also the
//! request timeout, answered in the dialect of the route it cut short.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::{Value, json};

use crate::{
    harness::{TestServer, wait_until},
    subscriptions::subscribe,
    users::create,
    webhooks::{receiver, wait_for},
};

const TOKEN: &str = "metrics-token-0123456789";

async fn scrape(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{url}/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request sent")
}

#[tokio::test]
async fn metrics_are_served_only_where_and_to_whom_they_are_configured() {
    // By default: not served.
    let s = TestServer::start().await;
    assert_eq!(scrape(&s.url, None).await.status(), 404);
    assert_eq!(s.anonymous().get("/healthz").await.status(), 200);

    // --metrics-public: the main port, to anyone.
    let s = TestServer::start_with(|c| c.metrics.public = true).await;
    let res = scrape(&s.url, None).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("text").contains("orgraph_db_statements_total"));

    // --metrics-token: the main port, with the token only.
    let s = TestServer::start_with(|c| c.metrics.token = Some(TOKEN.into())).await;
    let res = scrape(&s.url, None).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("www-authenticate").is_some_and(|v| v.to_str().unwrap_or("").starts_with("Bearer")));
    assert_eq!(scrape(&s.url, Some("metrics-token-012345678")).await.status(), 401, "a prefix of the token");
    assert_eq!(scrape(&s.url, Some(&format!("{TOKEN}0"))).await.status(), 401, "a longer token");
    assert_eq!(scrape(&s.url, Some(TOKEN)).await.status(), 200);

    // --metrics-listen: its own address serves /metrics and nothing else; the main port does not.
    let s = TestServer::start_with(|c| c.metrics.listen = Some("127.0.0.1:0".parse().expect("addr"))).await;
    let metrics_url = s.metrics_url.clone().expect("the metrics address");
    assert_eq!(scrape(&s.url, None).await.status(), 404);
    let res = scrape(&metrics_url, None).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("text").contains("orgraph_db_statements_total"));
    for path in ["/healthz", "/graphql", "/api/v3/get-management-token"] {
        let res = reqwest::Client::new().get(format!("{metrics_url}{path}")).send().await.expect("sent");
        assert_eq!(res.status(), 404, "{path} on the metrics address");
    }

    // Both: the token is asked for on the metrics address too; the public flag opens nothing.
    let s = TestServer::start_with(|c| {
        c.metrics.listen = Some("127.0.0.1:0".parse().expect("addr"));
        c.metrics.token = Some(TOKEN.into());
        c.metrics.public = true;
    })
    .await;
    let metrics_url = s.metrics_url.clone().expect("the metrics address");
    assert_eq!(scrape(&metrics_url, None).await.status(), 401);
    assert_eq!(scrape(&metrics_url, Some(TOKEN)).await.status(), 200);
    assert_eq!(scrape(&s.url, Some(TOKEN)).await.status(), 404);
}

/// Every sample of a scrape, by name with labels as written (`name{a="x",b="y"}`).
async fn samples(s: &TestServer) -> HashMap<String, f64> {
    let res = scrape(&s.url, None).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("text");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(name, value)| (name.to_string(), value.parse::<f64>().expect("a number")))
        .collect()
}

fn value(samples: &HashMap<String, f64>, name: &str) -> f64 {
    samples.get(name).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn every_metric_moves_as_the_server_works() {
    let s = TestServer::start_with(|c| {
        c.metrics.public = true;
        c.webhooks.allow_hosts = vec!["127.0.0.1".into()];
        c.webhooks.retry_schedule_secs = vec![0.2];
        c.webhooks.poll_ms = 50;
    })
    .await;
    let c = s.admin().await;
    // The receiver fails the first delivery and takes its retry.
    let (r, url) = receiver(&[500]).await;
    c.data(
        "mutation($u: String!) { createWebhook(name: \"m\", url: $u, events: [\"user:created\"]) { id } }",
        json!({ "u": url }),
    )
    .await;
    let before = samples(&s).await;

    // A live subscription, counted while it is open.
    let mut ws = subscribe(&s, &c, "/graphql/ws", json!({})).await;
    s.wait_for_subscriptions(1).await;
    let during = samples(&s).await;
    assert_eq!(value(&during, "orgraph_subscriptions_active"), 1.0);
    ws.close(None).await.expect("closed");
    drop(ws);
    wait_until("the subscription to end", || async { s.state.metrics.subscriptions.get() == 0 }).await;

    // A user: one webhook delivery, failed once then sent.
    create(&c, json!({ "username": "metered" })).await;
    wait_for(&r, 2).await;
    s.wait_for_deliveries_to_finish().await;
    // Three more GraphQL requests and a route that does not exist.
    for _ in 0..3 {
        c.data("{ users { totalCount } }", json!({})).await;
    }
    assert_eq!(c.get("/api/v2/nothing-here").await.status(), 404);
    // With the worker stopped, the next user's delivery waits, due.
    s.stop_background().await;
    create(&c, json!({ "username": "waiting" })).await;
    // A statement the database refuses, on the server's own connections.
    let refused = Statement::from_string(s.state.db.get_database_backend(), "SELECT no_such_column FROM no_such_table");
    assert!(s.state.db.query_one_raw(refused).await.is_err());
    let after = samples(&s).await;

    let grew = |name: &str| value(&after, name) - value(&before, name);
    // Database statements: counted, timed, and the refused one.
    assert!(grew("orgraph_db_statements_total") >= 10.0, "{}", grew("orgraph_db_statements_total"));
    assert!(grew("orgraph_db_statement_seconds_total") > 0.0);
    assert_eq!(grew("orgraph_db_statement_errors_total"), 1.0);
    // HTTP requests by method, matched route and status: two creates and three reads.
    let graphql = "{method=\"POST\",route=\"/graphql/v2\"";
    assert_eq!(grew(&format!("orgraph_http_requests_total{graphql},status=\"200\"}}")), 5.0, "{after:?}");
    assert_eq!(grew("orgraph_http_requests_total{method=\"GET\",route=\"/api/{*rest}\",status=\"404\"}"), 1.0);
    assert_eq!(grew("orgraph_http_requests_total{method=\"GET\",route=\"/graphql/ws\",status=\"101\"}"), 1.0);
    // Their durations.
    assert_eq!(grew(&format!("orgraph_http_request_duration_seconds_count{graphql}}}")), 5.0);
    assert!(grew(&format!("orgraph_http_request_duration_seconds_sum{graphql}}}")) > 0.0);
    assert_eq!(grew("orgraph_http_request_duration_seconds_bucket{le=\"+Inf\",method=\"POST\",route=\"/graphql/v2\"}"), 5.0);
    // Webhook requests by outcome.
    assert_eq!(grew("orgraph_webhook_attempts_total{outcome=\"failed\"}"), 1.0);
    assert_eq!(grew("orgraph_webhook_attempts_total{outcome=\"succeeded\"}"), 1.0);
    // The subscription has ended.
    assert_eq!(value(&after, "orgraph_subscriptions_active"), 0.0);
    // The delivery queue, read at the scrape: one sent, one waiting and due.
    assert_eq!(value(&after, "orgraph_webhook_deliveries{status=\"succeeded\"}"), 1.0);
    assert_eq!(value(&after, "orgraph_webhook_deliveries{status=\"pending\"}"), 1.0);
    assert_eq!(value(&after, "orgraph_webhook_deliveries_due"), 1.0);
    assert_eq!(value(&before, "orgraph_webhook_deliveries_due"), 0.0);
}

/// A write that waits behind another (held by the test, on the same user row: SQLite's writer
/// turn, PostgreSQL's row lock) for longer than `--request-timeout-secs` is cancelled and
/// answered as its route answers a timeout; its change is never made.
#[tokio::test]
async fn a_request_longer_than_the_timeout_is_cancelled_and_answered_in_its_dialect() {
    let s = TestServer::start_with(|c| c.limits.request_timeout_secs = 1).await;
    let c = s.admin().await;
    let user = create(&c, json!({ "username": "slow", "nickname": "before" })).await["id"].as_str().expect("id").to_string();
    let pool = s.pool().await;
    let (holding, held) = tokio::sync::oneshot::channel::<()>();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let writer = s.state.writer.clone();
    let sql = format!("UPDATE users SET nickname = 'held' WHERE id = '{user}'");
    let held_write = tokio::spawn(async move {
        writer
            .write(&pool, async |txn, _| {
                txn.execute_unprepared(&sql).await?;
                let _ = holding.send(());
                let _ = released.await;
                Ok(())
            })
            .await
    });
    held.await.expect("the test holds the write");

    let started = std::time::Instant::now();
    // GraphQL: HTTP 408 with a GraphQL error: the code in extensions, and on /graphql/v2 the
    // message object Authing's SDKs read.
    let update = json!({ "query": "mutation($id: String!) { updateUser(id: $id, input: { nickname: \"graphql\" }) { id } }", "variables": { "id": user } });
    let res = c.post_json("/graphql/v2", update.clone()).await;
    assert_eq!(res.status(), 408);
    let body: Value = res.json().await.expect("a JSON body");
    assert_eq!(body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE", "{body}");
    assert_eq!(body["errors"][0]["message"]["statusCode"], 408, "{body}");
    assert!(body["errors"][0]["message"]["code"].is_i64(), "{body}");
    let res = c.post_json("/graphql", update).await;
    assert_eq!(res.status(), 408);
    let body: Value = res.json().await.expect("a JSON body");
    assert_eq!(body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE", "{body}");
    assert!(body["errors"][0]["message"].is_string(), "{body}");
    // REST v3: 408 in the v3 envelope.
    let res = c.post_json("/api/v3/update-user", json!({ "userId": user, "nickname": "v3" })).await;
    assert_eq!(res.status(), 408);
    let body: Value = res.json().await.expect("a JSON body");
    assert_eq!((body["statusCode"].as_u64(), body["errorCode"].as_str()), (Some(408), Some("SERVICE_UNAVAILABLE")), "{body}");
    let waited = started.elapsed();
    assert!(waited < std::time::Duration::from_secs(9), "all three cut at about 1 s each, long before the write wait: {waited:?}");

    // The held write commits; neither cancelled change was made.
    let _ = release.send(());
    held_write.await.expect("joined").expect("the held write commits");
    let d = c.data("query($id: String) { user(id: $id) { nickname } }", json!({ "id": user })).await;
    assert_eq!(d["user"]["nickname"], "held");
    // And the server writes on.
    let d = c.data("mutation($id: String!) { updateUser(id: $id, input: { nickname: \"after\" }) { nickname } }", json!({ "id": user })).await;
    assert_eq!(d["updateUser"]["nickname"], "after");
}
