//! v3 webhooks and the event centre (issue 10), through both official SDKs unchanged
//! (authing-node-sdk 4.0.1 signing with HMAC-SHA1, PyPI authing 5.1.0 with a bearer token) against
//! a real server, a real webhook receiver on loopback, the event socket and a GraphQL subscription;
//! and the rules the SDK scripts cannot see: the socket's signature check, pool isolation, the
//! address guard on hand-made requests, refusals that change nothing.

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use tokio_tungstenite::{connect_async, tungstenite::client::IntoClientRequest};

use crate::{
    harness::{Client, POOL_SECRET, TestServer},
    sdk::{run_node, sdk_dir},
    sdk_py::run_python,
    subscriptions::{next_event, recv, subscribe},
    webhooks::{Received, header, receiver, server, wait_for},
};

/// A v3 call with the bearer token (as the Python SDK makes it): (HTTP status, body). The status
/// is the envelope's `statusCode`, and every answer is the envelope.
async fn v3(c: &Client, path: &str, body: Option<Value>) -> (u16, Value) {
    let res = match body {
        Some(body) => c.post_json(path, body).await,
        None => c.get(path).await,
    };
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("a JSON envelope");
    assert_eq!(body["statusCode"], status, "statusCode is the HTTP status: {body}");
    (status, body)
}

async fn names_of_events(c: &Client) -> Vec<String> {
    let d = c.data("{ events(first: 1000) { eventName } }", json!({})).await;
    d["events"].as_array().unwrap().iter().map(|e| e["eventName"].as_str().unwrap().to_string()).collect()
}

/// The requests the receiver got that were sent by hand (`trigger-webhook`), and the others.
fn split_triggered(got: &[Received], marker: &str) -> (Vec<Received>, Vec<Received>) {
    got.iter().cloned().partition(|r| header(r, "x-trigger") == marker)
}

#[tokio::test(flavor = "multi_thread")]
async fn node_sdk_manages_webhooks_and_publishes_custom_events() {
    let s = server(true).await;
    let (r, url) = receiver(&[]).await;
    let admin = s.admin().await;
    let event_type = "shop.order.paid";
    let mut ws = subscribe(&s, &admin, "/graphql/ws", json!({ "names": [event_type] })).await;
    s.wait_for_subscriptions(1).await;

    let dir = tokio::task::spawn_blocking(sdk_dir).await.unwrap();
    let (host, pool) = (s.url.clone(), s.pool_id.clone());
    let summary = tokio::task::spawn_blocking(move || {
        run_node(&dir, "v3_webhooks_events.cjs", &[
            ("ORGRAPH_HOST", &host),
            ("ORGRAPH_POOL_ID", &pool),
            ("ORGRAPH_POOL_SECRET", POOL_SECRET),
            ("ORGRAPH_APP", "shop"),
            ("ORGRAPH_RECEIVER", &url),
        ])
    })
    .await
    .unwrap();
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["socket"].as_array().unwrap().len(), 2, "the socket got both events once: {summary}");

    // The GraphQL subscription got the three published events, in order.
    for order in ["o-1", "o-2", "o-3"] {
        let e = next_event(&mut ws).await;
        assert_eq!((e["eventName"].as_str(), e["data"]["orderId"].as_str()), (Some(event_type), Some(order)));
    }
    // The receiver got three deliveries and the triggered request, with its headers and body.
    let got = wait_for(&r, 4).await;
    let (triggered, delivered) = split_triggered(&got, "node");
    assert_eq!(triggered.len(), 1);
    assert_eq!(serde_json::from_str::<Value>(&triggered[0].body).unwrap(), json!({ "hello": "node" }));
    assert_eq!(header(&triggered[0], "content-type"), "application/json");
    assert_eq!(header(&triggered[0], "x-authing-webhook-secret"), "node-hook-secret");
    assert!(header(&triggered[0], "webhook-signature").starts_with("v1,"));
    let mut orders: Vec<String> = delivered
        .iter()
        .map(|d| {
            let body: Value = serde_json::from_str(&d.body).unwrap();
            assert_eq!(body["eventName"], event_type);
            body["data"]["orderId"].as_str().unwrap().to_string()
        })
        .collect();
    orders.sort();
    assert_eq!(orders, ["o-1", "o-2", "o-3"]);
    // The outbox holds those three and nothing else: no refused call wrote an event.
    assert_eq!(names_of_events(&admin).await, [event_type; 3]);
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_manages_webhooks_and_publishes_custom_events() {
    let s = server(true).await;
    let (r, url) = receiver(&[]).await;
    let admin = s.admin().await;
    let event_type = "billing.invoice.sent";
    let mut ws = subscribe(&s, &admin, "/graphql/ws", json!({ "names": [event_type] })).await;
    s.wait_for_subscriptions(1).await;

    let summary = run_python(
        "v3_webhooks_events.py",
        &[
            ("ORGRAPH_HOST", &s.url),
            ("ORGRAPH_POOL_ID", &s.pool_id),
            ("ORGRAPH_POOL_SECRET", POOL_SECRET),
            ("ORGRAPH_APP", "billing"),
            ("ORGRAPH_RECEIVER", &url),
        ],
        Duration::from_secs(180),
    )
    .await;
    assert_eq!(summary["ok"], true);
    for invoice in 1..=3 {
        let e = next_event(&mut ws).await;
        assert_eq!((e["eventName"].as_str(), e["data"]["invoice"].as_i64()), (Some(event_type), Some(invoice)));
    }
    let got = wait_for(&r, 4).await;
    let (triggered, delivered) = split_triggered(&got, "python");
    assert_eq!(triggered.len(), 1);
    assert_eq!(serde_json::from_str::<Value>(&triggered[0].body).unwrap(), json!({ "hello": "python" }));
    assert_eq!(delivered.len(), 3);
    // Created as a form webhook, switched to JSON before the first event.
    assert!(delivered.iter().all(|d| header(d, "content-type") == "application/json"));
    assert_eq!(names_of_events(&admin).await, [event_type; 3]);
}

fn websocket_signature(secret: &str) -> String {
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(b"websocket\n");
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Open the event socket as the v3 SDKs do: no token, `authorization: authing <id>:<signature>`.
async fn signed_socket(
    s: &TestServer,
    code: &str,
    authorization: Option<String>,
) -> Result<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>, u16> {
    let url = format!("{}/events/v1/management/sub?code={code}", s.url.replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    if let Some(a) = authorization {
        req.headers_mut().insert("authorization", a.parse().unwrap());
    }
    match connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[tokio::test]
async fn event_socket_takes_the_v3_signature_and_custom_codes() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    assert_eq!(v3(&admin, "/api/v3/create-event-app", Some(json!({ "identifier": "crm", "name": "CRM", "logo": "" }))).await.0, 200);
    let (status, defined) = v3(&admin, "/api/v3/define-event", Some(json!({ "eventType": "crm.lead.won", "eventDescription": "A lead was won" }))).await;
    assert_eq!(status, 200);
    assert_eq!(defined["data"]["code"], "crm.lead.won");
    let auth = format!("authing {}:{}", s.pool_id, websocket_signature(POOL_SECRET));

    // A custom code, and a built-in one by its v3 name (stored under the catalog's `role:add`).
    let mut custom = signed_socket(&s, "crm.lead.won", Some(auth.clone())).await.expect("a signed socket opens");
    let mut role = signed_socket(&s, "role:created", Some(auth.clone())).await.expect("a v3 name is a code");
    let q = "mutation($n: String!, $d: JSON!) { publishEvent(eventName: $n, data: $d) { eventName } }";
    // GraphQL publishes the custom type too: one rule for both surfaces.
    let d = admin.data(q, json!({ "n": "crm.lead.won", "d": { "lead": 7 } })).await;
    assert_eq!(d["publishEvent"]["eventName"], "crm.lead.won");
    let d = admin.data(q, json!({ "n": "role:created", "d": { "role": { "code": "r" } } })).await;
    assert_eq!(d["publishEvent"]["eventName"], "role:add");
    let msg = recv(&mut custom).await.expect("the custom event");
    assert_eq!((msg["eventName"].as_str(), &msg["data"]), (Some("crm.lead.won"), &json!({ "lead": 7 })));
    let msg = recv(&mut role).await.expect("the role event");
    assert_eq!(msg["eventName"], "role:add");

    // Refused before the upgrade: a wrong signature, another pool's secret, no credentials, a
    // malformed header, an undefined code, a code defined only in another pool.
    let (pool_b, secret_b) = s.new_pool("B").await;
    let wrong = format!("authing {}:{}", s.pool_id, websocket_signature("not the secret at all"));
    assert_eq!(signed_socket(&s, "crm.lead.won", Some(wrong)).await.err(), Some(401));
    let cross = format!("authing {}:{}", s.pool_id, websocket_signature(&secret_b));
    assert_eq!(signed_socket(&s, "crm.lead.won", Some(cross)).await.err(), Some(401));
    assert_eq!(signed_socket(&s, "crm.lead.won", None).await.err(), Some(401));
    assert_eq!(signed_socket(&s, "crm.lead.won", Some("authing nocolon".into())).await.err(), Some(401));
    assert_eq!(signed_socket(&s, "crm.lead.lost", Some(auth.clone())).await.err(), Some(400));
    let auth_b = format!("authing {pool_b}:{}", websocket_signature(&secret_b));
    assert_eq!(signed_socket(&s, "crm.lead.won", Some(auth_b.clone())).await.err(), Some(400), "pool B defined no such type");
    let mut b_socket = signed_socket(&s, "user:created", Some(auth_b)).await.expect("pool B's own signature");
    // Pool B's socket does not get pool A's events.
    crate::users::create(&admin, json!({ "username": "pool-a-user" })).await;
    let b = s.client_for(&pool_b, &secret_b).await;
    crate::users::create(&b, json!({ "username": "pool-b-user" })).await;
    assert_eq!(recv(&mut b_socket).await.expect("pool B's event")["data"]["user"]["username"], "pool-b-user");
}

#[tokio::test]
async fn webhook_routes_refuse_without_changing_and_keep_pools_apart() {
    let s = server(true).await;
    let (r, url) = receiver(&[]).await;
    let a = s.admin().await;
    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;
    let create = json!({ "name": "a", "url": url, "contentType": "application/json", "events": ["user:created", "role:created"] });
    let (status, hook) = v3(&a, "/api/v3/create-webhook", Some(create.clone())).await;
    assert_eq!(status, 200, "{hook}");
    let id = hook["data"]["webhookId"].as_str().unwrap().to_string();
    // No secret given: a whsec_ one was generated, shown in this answer only.
    let generated = hook["data"]["secret"].as_str().expect("the generated secret");
    assert!(orgraph::domain::webhooks::secret::whsec_key(generated).is_some_and(|k| k.is_ok()), "{generated}");
    let (_, fetched) = v3(&a, &format!("/api/v3/get-webhook?webhookId={id}"), None).await;
    assert_eq!(fetched["data"].get("secret"), None, "shown once: {fetched}");
    let (status, refused) = v3(&a, "/api/v3/create-webhook", Some(json!({ "name": "b", "url": url, "contentType": "application/json", "events": ["user:created"], "secret": "whsec_c2hvcnQ=" }))).await;
    assert_eq!(status, 400, "a whsec_ secret of 5 bytes: {refused}");
    // GraphQL sees the same webhook, with the catalog's names.
    let d = a.data("query($id: String!) { webhook(id: $id) { events hasSecret } }", json!({ "id": id })).await;
    assert_eq!(d["webhook"], json!({ "events": ["user:created", "role:add"], "hasSecret": true }));

    // Pool B cannot read, change, delete, log or trigger pool A's webhook.
    assert_eq!(v3(&b, &format!("/api/v3/get-webhook?webhookId={id}"), None).await.0, 404);
    assert_eq!(v3(&b, "/api/v3/update-webhook", Some(json!({ "webhookId": id, "name": "taken" }))).await.0, 404);
    assert_eq!(v3(&b, "/api/v3/delete-webhook", Some(json!({ "webhookIds": [id] }))).await.0, 404);
    assert_eq!(v3(&b, "/api/v3/get-webhook-logs", Some(json!({ "webhookId": id }))).await.0, 404);
    assert_eq!(v3(&b, "/api/v3/trigger-webhook", Some(json!({ "webhookId": id }))).await.0, 404);
    assert_eq!(v3(&b, "/api/v3/list-webhooks", None).await.1["data"]["totalCount"], 0);
    // Pool B's custom types are its own: pool A's app does not make them defined there.
    assert_eq!(v3(&a, "/api/v3/create-event-app", Some(json!({ "identifier": "erp", "name": "ERP", "logo": "" }))).await.0, 200);
    assert_eq!(v3(&a, "/api/v3/define-event", Some(json!({ "eventType": "erp.po.created", "eventDescription": "d" }))).await.0, 200);
    assert_eq!(v3(&b, "/api/v3/define-event", Some(json!({ "eventType": "erp.po.created", "eventDescription": "d" }))).await.0, 404);
    assert_eq!(v3(&b, "/api/v3/pub-event", Some(json!({ "eventType": "erp.po.created", "eventData": {} }))).await.0, 400);
    assert_eq!(v3(&b, "/api/v3/list-event-apps", None).await.1["data"]["totalCount"], 0);

    // Without a body, trigger sends the test event; with one, that body.
    let (status, t) = v3(&a, "/api/v3/trigger-webhook", Some(json!({ "webhookId": id }))).await;
    assert_eq!(status, 200);
    assert_eq!(t["data"]["response"]["status"], 200);
    assert_eq!(t["data"]["request"]["body"], json!({ "eventName": "test", "data": { "description": "A test from GenAuth Webhook" } }));
    let (_, t) = v3(&a, "/api/v3/trigger-webhook", Some(json!({ "webhookId": id, "requestBody": "plain", "requestHeaders": { "content-type": "text/plain" } }))).await;
    assert_eq!(t["data"]["response"]["headers"]["x-receiver"], "orgraph-test");
    let got = wait_for(&r, 2).await;
    assert_eq!((got[1].body.as_str(), header(&got[1], "content-type")), ("plain", "text/plain"));

    // Refusals change nothing: the webhook is as it was, no event was written, nothing was sent.
    let before = v3(&a, &format!("/api/v3/get-webhook?webhookId={id}"), None).await.1;
    for (path, body, want) in [
        ("/api/v3/create-webhook", json!({ "url": url, "contentType": "application/json", "events": ["user:created"] }), 400),
        ("/api/v3/create-webhook", json!({ "name": "x", "url": url, "events": ["user:created"] }), 400),
        ("/api/v3/update-webhook", json!({ "webhookId": id, "name": "renamed", "events": ["user:created", "nope"] }), 400),
        ("/api/v3/update-webhook", json!({ "name": "renamed" }), 400),
        ("/api/v3/delete-webhook", json!({ "webhookIds": "" }), 400),
        ("/api/v3/delete-webhook", json!({ "webhookIds": [id, "missing"] }), 404),
        ("/api/v3/get-webhook-logs", json!({}), 400),
        ("/api/v3/trigger-webhook", json!({ "webhookId": id, "requestHeaders": { "Content-Length": "1" } }), 400),
        ("/api/v3/trigger-webhook", json!({ "webhookId": id, "requestHeaders": { "x-authing-webhook-secret": "x" } }), 400),
        ("/api/v3/pub-event", json!({ "eventType": "user:created" }), 400),
        ("/api/v3/pub-event", json!({ "eventType": "erp.po.created", "eventData": "{\"unterminated\"" }), 400),
        ("/api/v3/pub-event", json!({ "eventData": {} }), 400),
        ("/api/v3/create-event-app", json!({ "identifier": "erp", "name": "again", "logo": "" }), 409),
        ("/api/v3/create-event-app", json!({ "identifier": "x".repeat(65), "name": "n", "logo": "" }), 400),
        ("/api/v3/define-event", json!({ "eventType": "erp.po.created", "eventDescription": "again" }), 409),
        ("/api/v3/define-event", json!({ "eventType": "erp.po created", "eventDescription": "d" }), 400),
    ] {
        let (status, body) = v3(&a, path, Some(body.clone())).await;
        assert_eq!(status, want, "{path} {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()) && body["data"].is_null(), "{body}");
    }
    assert_eq!(v3(&a, &format!("/api/v3/get-webhook?webhookId={id}"), None).await.1["data"], before["data"]);
    assert_eq!(v3(&a, "/api/v3/list-webhooks?page=1&limit=50", None).await.1["data"]["totalCount"], 1);
    assert_eq!(v3(&a, "/api/v3/list-events", None).await.1["data"]["totalCount"], 1);
    assert_eq!(v3(&a, "/api/v3/list-event-apps", None).await.1["data"]["totalCount"], 1);
    assert!(names_of_events(&a).await.is_empty(), "no refused call wrote an event");
    assert_eq!(r.got.lock().unwrap().len(), 2, "no refused trigger sent anything");

    // Deleting several at once: all or none.
    let (_, second) = v3(&a, "/api/v3/create-webhook", Some(create)).await;
    let second = second["data"]["webhookId"].as_str().unwrap().to_string();
    let (status, deleted) = v3(&a, "/api/v3/delete-webhook", Some(json!({ "webhookIds": [id, second] }))).await;
    assert_eq!((status, &deleted["data"]), (200, &json!({ "success": true })));
    assert_eq!(v3(&a, "/api/v3/list-webhooks", None).await.1["data"]["totalCount"], 0);
}

#[tokio::test]
async fn trigger_webhook_goes_through_the_address_guard() {
    let s = server(false).await;
    let (r, url) = receiver(&[]).await;
    let a = s.admin().await;
    let create = json!({ "name": "ssrf", "url": url, "contentType": "application/json", "events": ["user:created"] });
    let id = v3(&a, "/api/v3/create-webhook", Some(create)).await.1["data"]["webhookId"].as_str().unwrap().to_string();
    let (status, t) = v3(&a, "/api/v3/trigger-webhook", Some(json!({ "webhookId": id, "requestBody": { "x": 1 } }))).await;
    assert_eq!(status, 200, "the call worked; the request was refused: {t}");
    assert_eq!(t["data"]["success"], false);
    assert!(t["data"]["response"]["status"].is_null());
    assert!(t["data"]["errorMessage"].as_str().unwrap().contains("may not reach"), "{t}");
    // trigger-webhook answers once its one request is over: one sent would have arrived by now.
    assert!(r.got.lock().unwrap().is_empty(), "nothing reached the loopback receiver");
}

#[tokio::test]
async fn a_secret_reset_closes_signed_event_sockets_of_that_pool() {
    let s = TestServer::start_with(|c| c.token_revocation_check_secs = 1).await;
    let (pool_b, secret_b) = s.new_pool("B").await;
    let signed_a = format!("authing {}:{}", s.pool_id, websocket_signature(POOL_SECRET));
    let signed_b = format!("authing {pool_b}:{}", websocket_signature(&secret_b));
    let mut a_socket = signed_socket(&s, "user:created", Some(signed_a.clone())).await.expect("pool A's signature");
    let mut b_socket = signed_socket(&s, "user:created", Some(signed_b)).await.expect("pool B's signature");
    s.wait_for_subscriptions(2).await;

    let secret = s.state.pools.reset_secret(&s.pool_id).await.expect("reset");
    let (code, reason) = crate::subscriptions::close_frame(&mut a_socket).await;
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.starts_with("INVALID_TOKEN") && reason.len() <= 123, "{reason}");
    // The old signature opens no new socket; the new secret's does; pool B's socket stays.
    assert_eq!(signed_socket(&s, "user:created", Some(signed_a)).await.err(), Some(401));
    let signed_new = format!("authing {}:{}", s.pool_id, websocket_signature(&secret));
    signed_socket(&s, "user:created", Some(signed_new)).await.expect("the new secret's signature");
    let b = s.client_for(&pool_b, &secret_b).await;
    crate::users::create(&b, json!({ "username": "still-served" })).await;
    assert_eq!(recv(&mut b_socket).await.expect("pool B's event")["data"]["user"]["username"], "still-served");
}
