//! Webhooks against a real HTTP receiver on loopback: headers, Standard Webhooks signature, both
//! content types, retries after errors, the delivery log, testWebhook, and the address guard.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use axum::{Router, body::Bytes, extract::State, http::{HeaderMap, StatusCode}, routing::post};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sea_orm::EntityTrait as _;
use sha2::Sha256;

use crate::{
    harness::{Client, TestServer, WAIT_DEADLINE, before_deadline, wait_for_value, wait_ready, wait_until},
    users::create,
};

#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub headers: HeaderMap,
    pub body: String,
    /// The query of the URL it was sent to (tests tell webhooks to one receiver apart by it).
    pub query: String,
}

impl Received {
    /// Which message to which webhook: the `webhook-id` (the event's) and the URL's query.
    fn message(&self) -> (String, String) {
        (header(self, "webhook-id").to_string(), self.query.clone())
    }
}

#[derive(Clone, Default)]
pub(crate) struct Receiver {
    pub got: Arc<Mutex<Vec<Received>>>,
    /// Status codes to answer with, in order; 200 once they run out.
    answers: Arc<Mutex<VecDeque<u16>>>,
    /// How many requests `got` holds, announced as each arrives.
    arrived: tokio::sync::watch::Sender<usize>,
}

/// Records the request; answers the next status with a header and a JSON body, so that the
/// logs and trigger answers have something to show.
async fn receive(State(r): State<Receiver>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> impl axum::response::IntoResponse {
    let count = {
        let mut got = r.got.lock().unwrap();
        got.push(Received { headers, body: String::from_utf8_lossy(&body).to_string(), query: uri.query().unwrap_or("").to_string() });
        got.len()
    };
    r.arrived.send_replace(count);
    let code = r.answers.lock().unwrap().pop_front().unwrap_or(200);
    (StatusCode::from_u16(code).unwrap(), [("x-receiver", "orgraph-test")], axum::Json(json!({ "received": true })))
}

/// A receiver on 127.0.0.1; returns its URL.
pub(crate) async fn receiver(answers: &[u16]) -> (Receiver, String) {
    let r = Receiver { answers: Arc::new(Mutex::new(answers.iter().copied().collect())), ..Default::default() };
    let app = Router::new().route("/hook", post(receive)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

pub(crate) async fn server(allow_loopback: bool) -> TestServer {
    TestServer::start_with(|c| tune(c, allow_loopback)).await
}

fn tune(c: &mut orgraph::config::Config, allow_loopback: bool) {
    if allow_loopback {
        c.webhooks.allow_hosts = vec!["127.0.0.1".into()];
    }
    c.webhooks.retry_schedule_secs = vec![0.2, 0.2, 0.2];
    c.webhooks.poll_ms = 50;
}

async fn create_webhook(c: &Client, url: &str, content_type: &str, events: &[&str]) -> String {
    let q = "mutation($u: String!, $t: WebhookContentType, $e: [String!]!) {
        createWebhook(name: \"h\", url: $u, secret: \"shh-secret\", contentType: $t, events: $e) { id hasSecret } }";
    let d = c.data(q, json!({ "u": url, "t": content_type, "e": events })).await;
    assert_eq!(d["createWebhook"]["hasSecret"], true);
    d["createWebhook"]["id"].as_str().unwrap().to_string()
}

/// Wait until the receiver has got `n` requests; they and any more that came.
pub(crate) async fn wait_for(r: &Receiver, n: usize) -> Vec<Received> {
    before_deadline(&format!("{n} requests at the receiver"), r.arrived(n)).await
}

impl Receiver {
    /// Resolves once `n` requests have arrived, with those that have.
    async fn arrived(&self, n: usize) -> Vec<Received> {
        let mut count = self.arrived.subscribe();
        // The sender lives in `self`, so the channel stays open while this waits.
        let _ = count.wait_for(|&got| got >= n).await;
        self.got.lock().unwrap().clone()
    }
}

async fn deliveries(c: &Client, hook: &str) -> Value {
    let q = "query($id: String!) { webhook(id: $id) { deliveries { totalCount list { id eventId status attempts lastError
        attemptLog { responseStatus requestHeaders error } } } } }";
    c.data(q, json!({ "id": hook })).await["webhook"]["deliveries"].clone()
}

/// Wait until the webhook's newest delivery has left the pending/delivering states.
async fn settled(c: &Client, hook: &str) -> Value {
    wait_for_value(&format!("the newest delivery of webhook {hook} to succeed or fail"), || async {
        let newest = deliveries(c, hook).await["list"][0].clone();
        let status = newest["status"].as_str().unwrap_or("");
        (status == "succeeded" || status == "failed").then_some(newest)
    })
    .await
}

pub(crate) fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn json_delivery_is_signed_and_carries_authing_headers() {
    let s = server(true).await;
    let c = s.admin().await;
    let (r, url) = receiver(&[]).await;
    let hook = create_webhook(&c, &url, "JSON", &["user:created"]).await;
    c.data("mutation { createOrg(name: \"not subscribed\") { id } }", json!({})).await;
    create(&c, json!({ "username": "hooked" })).await;
    let got = wait_for(&r, 1).await;
    let req = &got[0];
    let body: Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(body["eventName"], "user:created");
    assert_eq!(body["data"]["user"]["username"], "hooked");
    assert_eq!(header(req, "content-type"), "application/json");
    assert_eq!(header(req, "user-agent"), "authing-webhook@2.0");
    assert_eq!(header(req, "x-authing-webhook-secret"), "shh-secret");
    assert_eq!(header(req, "x-genauth-token"), "shh-secret");
    assert_eq!(header(req, "x-authing-userpool-id"), s.pool_id);
    // Verify as a receiver would: HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}".
    let (id, ts) = (header(req, "webhook-id"), header(req, "webhook-timestamp"));
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"shh-secret").unwrap();
    mac.update(format!("{id}.{ts}.{}", req.body).as_bytes());
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(header(req, "webhook-signature"), expected);
    let d = settled(&c, &hook).await;
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["eventId"], id, "webhook-id is the event's id");
    assert_eq!(d["attemptLog"][0]["responseStatus"], 200);
    assert_eq!(d["attemptLog"][0]["requestHeaders"]["x-authing-webhook-secret"], "***", "secrets are masked in the log");
    // Deliveries are written with their event: the org event, not subscribed, made none.
    assert_eq!(deliveries(&c, &hook).await["totalCount"], 1, "one delivery: the org event was not subscribed");
    assert_eq!(r.got.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn form_delivery_and_retries_after_errors() {
    let s = server(true).await;
    let c = s.admin().await;
    let (r, url) = receiver(&[500, 503]).await;
    let hook = create_webhook(&c, &url, "FORM", &["user:created"]).await;
    create(&c, json!({ "username": "retried" })).await;
    let got = wait_for(&r, 3).await;
    assert_eq!(header(&got[0], "content-type"), "application/x-www-form-urlencoded");
    let form: Vec<(String, String)> = url::form_urlencoded::parse(got[2].body.as_bytes()).into_owned().collect();
    assert_eq!(form[0], ("eventName".to_string(), "user:created".to_string()));
    let data: Value = serde_json::from_str(&form[1].1).unwrap();
    assert_eq!(data["user"]["username"], "retried");
    let ids: Vec<&str> = got.iter().map(|g| header(g, "webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "the same webhook-id on every retry: {ids:?}");
    let d = settled(&c, &hook).await;
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["attempts"], 3);
    let codes: Vec<Value> = d["attemptLog"].as_array().unwrap().iter().map(|a| a["responseStatus"].clone()).collect();
    assert_eq!(codes, [json!(500), json!(503), json!(200)]);
}

/// The worker claims, sends and records deliveries in batches: ten webhooks on one event are
/// claimed together, the first answers fail, and every delivery is still retried until it
/// succeeds, once, with each request in its log.
#[tokio::test]
async fn a_batch_with_failures_retries_each_and_loses_none() {
    let s = server(true).await;
    let c = s.admin().await;
    let (r, url) = receiver(&[500, 503, 500, 502, 500, 500, 503]).await;
    let mut hooks = Vec::new();
    for i in 0..10 {
        hooks.push(create_webhook(&c, &format!("{url}?hook={i}"), "JSON", &["user:created"]).await);
    }
    for name in ["batch-1", "batch-2", "batch-3"] {
        create(&c, json!({ "username": name })).await;
    }
    let got = wait_for(&r, 37).await;
    let mut logged = 0;
    for hook in &hooks {
        wait_until(&format!("the 3 deliveries of webhook {hook} to succeed"), || async {
            let d = deliveries(&c, hook).await;
            d["totalCount"] == 3 && d["list"].as_array().unwrap().iter().all(|x| x["status"] == "succeeded")
        })
        .await;
        let d = deliveries(&c, hook).await;
        for delivery in d["list"].as_array().unwrap() {
            assert_eq!(delivery["status"], "succeeded", "{d}");
            let log = delivery["attemptLog"].as_array().unwrap();
            assert_eq!(delivery["attempts"].as_u64().unwrap() as usize, log.len(), "every request logged: {delivery}");
            logged += log.len();
        }
    }
    assert_eq!(logged, 37, "30 deliveries and 7 failed requests");
    let mut messages: Vec<(String, String)> = got.iter().map(Received::message).collect();
    messages.sort_unstable();
    messages.dedup();
    assert_eq!(messages.len(), 30);
    // Every delivery has succeeded, so none can be claimed again; once the worker has stopped,
    // no send is in flight either: the count is final.
    s.stop_background().await;
    assert_eq!(r.got.lock().unwrap().len(), 37, "nothing sent again after it succeeded");
}

/// Two instances on one database share the deliveries: their claims never take the same one,
/// so each is sent exactly once.
#[tokio::test]
async fn two_instances_never_send_one_delivery_twice() {
    let s1 = server(true).await;
    let s2 = s1.second_with(|c| tune(c, true)).await;
    let c = s1.admin().await;
    let (r, url) = receiver(&[]).await;
    for i in 0..10 {
        create_webhook(&c, &format!("{url}?hook={i}"), "JSON", &["login"]).await;
    }
    let publish = "mutation($d: JSON!) { publishEvent(eventName: \"login\", data: $d) { id } }";
    for i in 0..30 {
        // Alternate the instances, so both workers are woken with work to claim.
        let client = if i % 2 == 0 { c.clone() } else { s2.admin().await };
        client.data(publish, json!({ "d": { "i": i } })).await;
    }
    let got = wait_for(&r, 300).await;
    // Once every delivery has its final state and both workers have stopped (each finishing
    // its sends in flight), nothing more can arrive: a delivery sent twice would be counted.
    s1.wait_for_deliveries_to_finish().await;
    s1.stop_background().await;
    s2.stop_background().await;
    let got_late = r.got.lock().unwrap().len();
    let mut messages: Vec<(String, String)> = got.iter().map(Received::message).collect();
    messages.sort_unstable();
    messages.dedup();
    assert_eq!(messages.len(), 300, "every delivery sent");
    assert_eq!(got_late, 300, "none sent twice");
}

#[tokio::test]
async fn a_receiver_that_is_down_is_retried_then_marked_failed() {
    let s = server(true).await;
    let c = s.admin().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let hook = create_webhook(&c, &format!("http://127.0.0.1:{port}/hook"), "JSON", &["user:created"]).await;
    create(&c, json!({ "username": "nobody-home" })).await;
    let d = settled(&c, &hook).await;
    assert_eq!(d["status"], "failed");
    assert_eq!(d["attempts"], 4, "the first try and the 3 retries of the schedule");
    assert!(d["lastError"].as_str().unwrap().contains("connect"), "{d}");
}

#[tokio::test]
async fn loopback_is_refused_unless_allowed_and_urls_are_checked() {
    let s = server(false).await;
    let c = s.admin().await;
    let (r, url) = receiver(&[]).await;
    let hook = create_webhook(&c, &url, "JSON", &["user:created"]).await;
    let localhost = create_webhook(&c, &url.replace("127.0.0.1", "localhost"), "JSON", &["user:created"]).await;
    create(&c, json!({ "username": "ssrf" })).await;
    for h in [&hook, &localhost] {
        let d = settled(&c, h).await;
        assert_eq!(d["status"], "failed");
        assert!(d["lastError"].as_str().unwrap().contains("may not reach"), "{d}");
    }
    assert!(r.got.lock().unwrap().is_empty(), "nothing reached the receiver");
    let q = "mutation($u: String!) { createWebhook(name: \"x\", url: $u, events: [\"user:created\"]) { id } }";
    for bad in ["ftp://example.com/x", "not a url", "http://user:pw@example.com/"] {
        assert_eq!(c.error(q, json!({ "u": bad })).await.0, "INVALID_INPUT", "{bad}");
    }
    let q = "mutation { createWebhook(name: \"x\", url: \"https://example.com\", events: [\"nope\"]) { id } }";
    assert_eq!(c.error(q, json!({})).await.0, "INVALID_INPUT");
}

#[tokio::test]
async fn test_webhook_answers_with_request_and_response_and_pools_are_separate() {
    let s = server(true).await;
    let c = s.admin().await;
    let (r, url) = receiver(&[]).await;
    let hook = create_webhook(&c, &url, "JSON", &["user:created"]).await;
    let d = c.data("mutation($id: String!) { testWebhook(id: $id) { url requestBody responseStatus durationMs error } }", json!({ "id": hook })).await;
    let t = &d["testWebhook"];
    assert_eq!(t["responseStatus"], 200);
    let body: Value = serde_json::from_str(t["requestBody"].as_str().unwrap()).unwrap();
    assert_eq!(body["data"], json!({ "description": "A test from GenAuth Webhook" }));
    assert_eq!(wait_for(&r, 1).await.len(), 1);

    // Another pool's events never reach this pool's webhook; a disabled webhook gets nothing.
    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;
    create(&b, json!({ "username": "other-pool" })).await;
    c.data("mutation($id: String!) { updateWebhook(id: $id, enabled: false) { enabled } }", json!({ "id": hook })).await;
    create(&c, json!({ "username": "while-disabled" })).await;
    // No delivery row was written with those events, so nothing can be sent later.
    assert_eq!(deliveries(&c, &hook).await["totalCount"], 0);
    assert_eq!(r.got.lock().unwrap().len(), 1);
    assert_eq!(b.error("query($id: String!) { webhook(id: $id) { id } }", json!({ "id": hook })).await.0, "NOT_FOUND");
    // Another pool cannot delete it; its own pool can, and then it is gone everywhere.
    assert_eq!(b.error("mutation($id: String!) { deleteWebhook(id: $id) { code } }", json!({ "id": hook })).await.0, "NOT_FOUND");
    assert_eq!(c.data("{ webhooks { id } }", json!({})).await["webhooks"], json!([{ "id": hook }]));
    let d = c.data("mutation($id: String!) { deleteWebhook(id: $id) { code } }", json!({ "id": hook })).await;
    assert_eq!(d["deleteWebhook"]["code"], 200);
    assert_eq!(c.data("{ webhooks { id } }", json!({})).await["webhooks"], json!([]));
    assert_eq!(c.error("query($id: String!) { webhook(id: $id) { id } }", json!({ "id": hook })).await.0, "NOT_FOUND");
    assert_eq!(c.error("mutation($id: String!) { deleteWebhook(id: $id) { code } }", json!({ "id": hook })).await.0, "NOT_FOUND");
    let row = entity::webhook::Entity::find_by_id(hook.clone()).one(&s.state.db).await.expect("read webhook row");
    assert!(row.is_none(), "the webhook's row is deleted");
}

#[tokio::test]
async fn manual_recovery_and_disabling_after_failures() {
    let s = TestServer::start_with(|c| {
        c.webhooks.allow_hosts = vec!["127.0.0.1".into()];
        c.webhooks.retry_schedule_secs = vec![];
        c.webhooks.poll_ms = 50;
        c.webhooks.max_consecutive_failures = 2;
    })
    .await;
    let c = s.admin().await;
    // A receiver that is down: each delivery fails at once (no retries configured).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let hook = create_webhook(&c, &format!("http://127.0.0.1:{port}/hook"), "JSON", &["user:created"]).await;
    create(&c, json!({ "username": "first" })).await;
    let failed = settled(&c, &hook).await;
    assert_eq!(failed["status"], "failed");

    // The receiver comes up; retryDelivery sends the failed one again, with the same id.
    let r = Receiver::default();
    let app = Router::new().route("/hook", post(receive)).with_state(r.clone());
    let tcp = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move { axum::serve(tcp, app).await.unwrap() });
    c.data("mutation($id: String!) { retryDelivery(id: $id) { code } }", json!({ "id": failed["id"] })).await;
    let got = wait_for(&r, 1).await;
    assert_eq!(header(&got[0], "webhook-id"), failed["eventId"].as_str().unwrap());
    assert_eq!(settled(&c, &hook).await["status"], "succeeded");

    // replayEvents queues the subscribed events since a point again (here: all of them).
    create(&c, json!({ "username": "second" })).await;
    wait_for(&r, 2).await;
    let d = c.data("mutation($id: String!) { replayEvents(webhookId: $id, since: \"0\") }", json!({ "id": hook })).await;
    assert_eq!(d["replayEvents"], 2);
    let got = wait_for(&r, 4).await;
    let mut names: Vec<String> = got[2..].iter().map(|g| serde_json::from_str::<Value>(&g.body).unwrap()["data"]["user"]["username"].as_str().unwrap().to_string()).collect();
    names.sort();
    assert_eq!(names, ["first", "second"]);
    assert_eq!(c.error("mutation { retryDelivery(id: \"nope\") { code } }", json!({})).await.0, "NOT_FOUND");

    // Two failed deliveries in a row disable the webhook, and an event says so.
    let dead = create_webhook(&c, "http://127.0.0.1:9/hook", "JSON", &["organization:created"]).await;
    for (failed, name) in [(1, "o1"), (2, "o2")] {
        c.data("mutation($n: String!) { createOrg(name: $n) { id } }", json!({ "n": name })).await;
        wait_until(&format!("delivery {failed} of the dead webhook to fail"), || async {
            let d = deliveries(&c, &dead).await;
            d["totalCount"] == failed && d["list"].as_array().unwrap().iter().all(|x| x["status"] == "failed")
        })
        .await;
    }
    let d = wait_for_value("the dead webhook to be disabled", || async {
        let d = c.data("query($id: String!) { webhook(id: $id) { enabled consecutiveFailures } }", json!({ "id": dead })).await;
        (d["webhook"]["enabled"] == false).then_some(d)
    })
    .await;
    assert_eq!(d["webhook"]["consecutiveFailures"], 2);
    let d = c.data("{ events(eventNames: [\"webhook:disabled\"]) { data } }", json!({})).await;
    assert_eq!(d["events"][0]["data"]["webhook"]["id"], dead.as_str());
}

/// The real binary, killed with SIGKILL after a commit and before its delivery: after a restart
/// the event is still delivered (the delivery row was written with it).
#[tokio::test]
async fn nothing_is_lost_when_the_server_is_killed_before_delivering() {
    use std::process::{Command, Stdio};
    let db = crate::harness::TestDb::new().await;
    let hook_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let start = || {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_orgraph"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--database-url", &db.url,
                   "--bootstrap-pool-id", "killpool", "--bootstrap-pool-secret", "kill-secret-0123456789",
                   "--webhook-allow-hosts", "127.0.0.1", "--webhook-retry-schedule", "0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3",
                   "--webhook-poll-ms", "50", "--webhook-timeout-secs", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts");
        (child, format!("http://127.0.0.1:{port}"))
    };
    let http = reqwest::Client::new();
    let gql = |base: String, token: String, query: String| {
        let http = http.clone();
        async move {
            let v: Value = http.post(format!("{base}/graphql")).bearer_auth(token).json(&json!({ "query": query })).send().await.unwrap().json().await.unwrap();
            assert!(v.get("errors").is_none(), "{v}");
            v
        }
    };

    let (mut first, base) = start();
    wait_ready(&base).await;
    let token: Value = http.post(format!("{base}/api/v3/get-management-token"))
        .json(&json!({ "accessKeyId": "killpool", "accessKeySecret": "kill-secret-0123456789" }))
        .send().await.unwrap().json().await.unwrap();
    let token = token["data"]["access_token"].as_str().unwrap().to_string();
    gql(base.clone(), token.clone(), format!(
        "mutation {{ createWebhook(name: \"k\", url: \"http://127.0.0.1:{hook_port}/hook\", events: [\"user:created\"]) {{ id }} }}")).await;
    gql(base.clone(), token.clone(), "mutation { createUser(userInfo: { username: \"survivor\" }) { id } }".into()).await;
    // The receiver is down, so nothing can have been delivered yet. Kill the server outright.
    first.kill().expect("SIGKILL");
    first.wait().unwrap();

    let r = Receiver::default();
    let app = Router::new().route("/hook", post(receive)).with_state(r.clone());
    let tcp = tokio::net::TcpListener::bind(("127.0.0.1", hook_port)).await.unwrap();
    tokio::spawn(async move { axum::serve(tcp, app).await.unwrap() });

    let (mut second, base) = start();
    wait_ready(&base).await;
    // Not `wait_for`: the server is killed whether the request came or not.
    let got = tokio::time::timeout(WAIT_DEADLINE, r.arrived(1)).await.unwrap_or_default();
    second.kill().ok();
    second.wait().ok();
    assert!(!got.is_empty(), "the event committed before the kill was delivered after the restart");
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["data"]["user"]["username"], "survivor");
}

#[tokio::test]
async fn a_deliverys_webhook_id_is_its_events_id_the_cursor_every_stream_resumes_from() {
    let s = server(true).await;
    let c = s.admin().await;
    let (first, first_url) = receiver(&[]).await;
    let (second, second_url) = receiver(&[503]).await;
    create_webhook(&c, &first_url, "JSON", &["user:created"]).await;
    create_webhook(&c, &second_url, "JSON", &["user:created"]).await;
    for name in ["u1", "u2", "u3"] {
        create(&c, json!({ "username": name })).await;
    }
    // The second receiver fails its first request once: 4 requests for 3 events.
    let (a, b) = (wait_for(&first, 3).await, wait_for(&second, 4).await);
    let ids = |got: &[Received], name: &str| -> Vec<String> {
        got.iter()
            .filter(|g| serde_json::from_str::<Value>(&g.body).unwrap()["data"]["user"]["username"] == name)
            .map(|g| header(g, "webhook-id").to_string())
            .collect()
    };
    let events = c.data("{ events(first: 1000, eventNames: [\"user:created\"]) { id data } }", json!({})).await["events"].clone();
    for name in ["u1", "u2", "u3"] {
        let event = events.as_array().unwrap().iter().find(|e| e["data"]["user"]["username"] == name).expect("the event");
        let id = event["id"].as_str().unwrap();
        assert_eq!(ids(&a, name), [id], "{name}: the event's id");
        assert!(!ids(&b, name).is_empty() && ids(&b, name).iter().all(|i| i == id), "{name}: the same id for every webhook and retry: {:?}", ids(&b, name));
    }
    // After an outage, a receiver resumes from the last webhook-id it handled.
    let last_handled = &ids(&a, "u1")[0];
    let rest = c.data("query($a: String) { events(after: $a, eventNames: [\"user:created\"]) { data } }", json!({ "a": last_handled })).await;
    let names: Vec<&str> = rest["events"].as_array().unwrap().iter().map(|e| e["data"]["user"]["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["u2", "u3"]);
}

/// A receiver that logs each request's (event name, username, answer) and fails the first
/// request about one user.
#[derive(Clone, Default)]
struct FailsOneUser {
    failing: String,
    log: Arc<Mutex<Vec<(String, String, u16)>>>,
}

async fn fail_one_user(State(r): State<FailsOneUser>, body: Bytes) -> StatusCode {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (name, user) = (body["eventName"].as_str().unwrap_or("").to_string(), body["data"]["user"]["username"].as_str().unwrap_or("").to_string());
    let mut log = r.log.lock().unwrap();
    let first_about_failing = user == r.failing && !log.iter().any(|(_, u, _)| *u == r.failing);
    let code = if first_about_failing { 500 } else { 200 };
    log.push((name, user, code));
    StatusCode::from_u16(code).unwrap()
}

#[tokio::test]
async fn a_users_later_events_wait_for_its_failed_delivery_while_other_users_events_go_on() {
    let s = TestServer::start_with(|c| {
        tune(c, true);
        // A long backoff: the retry comes only when asked for.
        c.webhooks.retry_schedule_secs = vec![600.0];
    })
    .await;
    let c = s.admin().await;
    let r = FailsOneUser { failing: "ann".into(), ..Default::default() };
    let app = Router::new().route("/hook", post(fail_one_user)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let hook = create_webhook(&c, &url, "JSON", &["user:created", "user:updated"]).await;

    let ann = create(&c, json!({ "username": "ann" })).await["id"].as_str().unwrap().to_string();
    c.data("mutation($id: String!) { updateUser(id: $id, input: { nickname: \"Annie\" }) { id } }", json!({ "id": ann })).await;
    for name in ["bob", "carl"] {
        create(&c, json!({ "username": name })).await;
    }
    // Ann's creation failed; bob's and carl's went on; her update waits behind her creation.
    wait_until("ann's failure and the other users' events", || async { r.log.lock().unwrap().len() >= 3 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    let log = r.log.lock().unwrap().clone();
    let mut early: Vec<(String, String, u16)> = log.clone();
    early.sort();
    assert_eq!(
        early,
        [("user:created".to_string(), "ann".to_string(), 500), ("user:created".into(), "bob".into(), 200), ("user:created".into(), "carl".into(), 200)],
        "{log:?}"
    );
    // Retried by hand: her creation, then (at once, not after the backoff) her update.
    let failed = deliveries(&c, &hook).await["list"].as_array().unwrap().iter().find(|d| d["attempts"] == 1 && d["status"] == "pending").cloned().expect("ann's failed delivery");
    c.data("mutation($id: String!) { retryDelivery(id: $id) { code } }", json!({ "id": failed["id"] })).await;
    wait_until("ann's creation and update", || async { r.log.lock().unwrap().len() >= 5 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = r.log.lock().unwrap().clone();
    let about = |user: &str| -> Vec<(String, u16)> { log.iter().filter(|(_, u, _)| u == user).map(|(n, _, c)| (n.clone(), *c)).collect() };
    assert_eq!(about("ann"), [("user:created".to_string(), 500), ("user:created".into(), 200), ("user:updated".into(), 200)], "{log:?}");
    assert_eq!(log.len(), 5, "each event once: {log:?}");
    // Replayed, her events keep what orders them: their entity.
    c.data("mutation($id: String!) { replayEvents(webhookId: $id, since: \"0\") }", json!({ "id": hook })).await;
    let rows = entity::delivery::Entity::find().all(&s.state.db).await.unwrap();
    let hers = rows.iter().filter(|d| d.entity.as_deref() == Some(format!("user:{ann}").as_str())).count();
    assert_eq!(hers, 4, "her two events, sent and replayed, each about her: {rows:?}");
}
