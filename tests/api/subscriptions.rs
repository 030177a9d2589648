//! Subscriptions over WebSocket with a real client: both protocols, token in connection_init,
//! replay with `after` then live with no gap and no repeat, filters and pool isolation.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

use crate::{
    harness::{Client, TestServer},
    users::create,
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn open(s: &TestServer, path: &str, protocol: &str) -> Ws {
    open_at(&s.url.replacen("http", "ws", 1), path, protocol).await
}

/// A WebSocket to `ws_base` (`ws://host:port`) and `path`.
async fn open_at(ws_base: &str, path: &str, protocol: &str) -> Ws {
    let url = format!("{ws_base}{path}");
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert("sec-websocket-protocol", protocol.parse().expect("header"));
    connect_async(req).await.expect("websocket connects").0
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.expect("send");
}

/// The next JSON message, skipping keep-alives; None when the socket closed.
pub(crate) async fn recv(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a message within 10 s")?;
        match msg {
            Ok(Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).expect("JSON message");
                if v["type"] == "ka" || v["type"] == "ping" || v["type"] == "pong" {
                    continue;
                }
                return Some(v);
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

const SUB: &str = "subscription($names: [String!], $after: String) { events(eventNames: $names, after: $after) { id eventName data } }";

/// A `graphql-transport-ws` subscription of `client`'s pool.
pub(crate) async fn subscribe(s: &TestServer, c: &Client, path: &str, vars: Value) -> Ws {
    subscribe_at(&s.url.replacen("http", "ws", 1), c, path, vars).await
}

/// The same through any address (a reverse proxy's).
pub(crate) async fn subscribe_at(ws_base: &str, c: &Client, path: &str, vars: Value) -> Ws {
    subscribe_to(ws_base, c, path, SUB, vars).await
}

/// A `graphql-transport-ws` subscription of `client`'s pool to `query`.
pub(crate) async fn subscribe_to(ws_base: &str, c: &Client, path: &str, query: &str, vars: Value) -> Ws {
    let mut ws = open_at(ws_base, path, "graphql-transport-ws").await;
    send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", c.token.as_ref().unwrap()) } })).await;
    assert_eq!(recv(&mut ws).await.expect("ack")["type"], "connection_ack");
    send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": vars } })).await;
    ws
}

pub(crate) async fn next_event(ws: &mut Ws) -> Value {
    let msg = recv(ws).await.expect("an event");
    assert!(msg["type"] == "next" || msg["type"] == "data", "{msg}");
    msg["payload"]["data"]["events"].clone()
}

#[tokio::test]
async fn replay_then_live_without_gap_or_repeat() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    create(&c, json!({ "username": "before" })).await;
    let only = ["user:created"];
    let mut ws = subscribe(&s, &c, "/graphql/ws", json!({ "after": "0", "names": only })).await;
    let first = next_event(&mut ws).await;
    assert_eq!(first["eventName"], "user:created");
    assert_eq!(first["data"]["user"]["username"], "before");
    for name in ["live1", "live2"] {
        create(&c, json!({ "username": name })).await;
        let e = next_event(&mut ws).await;
        assert_eq!(e["data"]["user"]["username"], name, "in order, once each");
    }
    // Resume from the first event: everything after it, once.
    let mut again = subscribe(&s, &c, "/graphql", json!({ "after": first["id"], "names": only })).await;
    assert_eq!(next_event(&mut again).await["data"]["user"]["username"], "live1");
    assert_eq!(next_event(&mut again).await["data"]["user"]["username"], "live2");
    create(&c, json!({ "username": "live3" })).await;
    assert_eq!(next_event(&mut again).await["data"]["user"]["username"], "live3");
    assert_eq!(next_event(&mut ws).await["data"]["user"]["username"], "live3");
}

#[tokio::test]
async fn filters_and_pools_apply() {
    let s = TestServer::start().await;
    let a = s.admin().await;
    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;
    let mut ws_b = subscribe(&s, &b, "/graphql/ws", json!({ "after": "0" })).await;
    let mut ws_a = subscribe(&s, &a, "/graphql/ws", json!({ "after": "0", "names": ["organization:created"] })).await;
    create(&a, json!({ "username": "in-a" })).await;
    a.data("mutation { createOrg(name: \"Org A\") { id } }", json!({})).await;
    create(&b, json!({ "username": "in-b" })).await;
    let e = next_event(&mut ws_b).await;
    assert_eq!(e["data"]["user"]["username"], "in-b", "B sees only its pool");
    let e = next_event(&mut ws_a).await;
    assert_eq!(e["eventName"], "organization:created", "A sees only the names it asked for");
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_works() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let mut ws = open(&s, "/graphql/ws", "graphql-ws").await;
    send(&mut ws, json!({ "type": "connection_init", "payload": { "token": c.token.as_ref().unwrap() } })).await;
    assert_eq!(recv(&mut ws).await.expect("ack")["type"], "connection_ack");
    send(&mut ws, json!({ "id": "7", "type": "start", "payload": { "query": SUB, "variables": { "after": "0" } } })).await;
    create(&c, json!({ "username": "legacy" })).await;
    let msg = recv(&mut ws).await.expect("data");
    assert_eq!(msg["type"], "data");
    assert_eq!(msg["id"], "7");
    assert_eq!(msg["payload"]["data"]["events"]["data"]["user"]["username"], "legacy");
}

#[tokio::test]
async fn bad_or_missing_tokens_close_the_socket() {
    let s = TestServer::start().await;
    for payload in [json!({}), json!({ "Authorization": "Bearer not-a-token" })] {
        let mut ws = open(&s, "/graphql/ws", "graphql-transport-ws").await;
        send(&mut ws, json!({ "type": "connection_init", "payload": payload })).await;
        let answer = recv(&mut ws).await;
        assert!(answer.is_none() || answer.as_ref().is_some_and(|m| m["type"] != "connection_ack"), "{answer:?}");
    }
    // A token of another pool than the header names is refused too.
    let c = s.admin().await;
    let mut ws = open(&s, "/graphql/ws", "graphql-transport-ws").await;
    send(&mut ws, json!({ "type": "connection_init", "payload": {
        "Authorization": format!("Bearer {}", c.token.as_ref().unwrap()), "x-authing-userpool-id": "other" } })).await;
    let answer = recv(&mut ws).await;
    assert!(answer.is_none() || answer.as_ref().is_some_and(|m| m["type"] != "connection_ack"), "{answer:?}");
}

/// Two instances on one database, their admins, and a subscription to `user:created` on the
/// second, listening to live events only (nothing can come from its own outbox replay).
async fn two_instances_and_a_live_subscriber() -> (TestServer, TestServer, Client, Client, Ws) {
    let s1 = TestServer::start().await;
    let s2 = s1.second().await;
    let (c1, c2) = (s1.admin().await, s2.admin().await);
    let ws = subscribe(&s2, &c2, "/graphql/ws", json!({ "names": ["user:created"] })).await;
    s2.wait_for_subscriptions(1).await;
    (s1, s2, c1, c2, ws)
}

#[tokio::test]
async fn a_change_on_one_instance_reaches_subscribers_of_another() {
    if crate::harness::skipped_on_sqlite("several instances share a PostgreSQL database, not a SQLite file") {
        return;
    }
    let (_s1, _s2, c1, c2, mut ws) = two_instances_and_a_live_subscriber().await;
    create(&c1, json!({ "username": "from-instance-1" })).await;
    let e = next_event(&mut ws).await;
    assert_eq!(e["data"]["user"]["username"], "from-instance-1");
    create(&c2, json!({ "username": "from-instance-2" })).await;
    let e = next_event(&mut ws).await;
    assert_eq!(e["data"]["user"]["username"], "from-instance-2");
    create(&c1, json!({ "username": "third" })).await;
    let e = next_event(&mut ws).await;
    assert_eq!(e["data"]["user"]["username"], "third", "each event once, though it came both locally and relayed");
}

#[tokio::test]
async fn an_event_committed_while_the_relay_reconnects_arrives_without_waiting_for_the_next() {
    if crate::harness::skipped_on_sqlite("several instances share a PostgreSQL database, not a SQLite file") {
        return;
    }
    use sea_orm::ConnectionTrait;
    let (s1, _s2, c1, _c2, mut ws) = two_instances_and_a_live_subscriber().await;
    // Cut the relays' connections (both instances'): the next commit happens while they reconnect.
    let cut = s1
        .state
        .db
        .execute_unprepared("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
        .await
        .expect("terminate the listeners");
    assert_eq!(cut.rows_affected(), 2, "one relay connection per instance");
    create(&c1, json!({ "username": "while-reconnecting" })).await;
    let e = next_event(&mut ws).await;
    assert_eq!(e["data"]["user"]["username"], "while-reconnecting");
}

#[tokio::test]
async fn authing_event_socket_sends_one_json_message_per_event() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let token = c.token.clone().unwrap();
    let base = s.url.replacen("http", "ws", 1);
    let (mut ws, _) = connect_async(format!("{base}/events/v1/management/sub?code=user:created&token={token}")).await.expect("connects");
    s.wait_for_subscriptions(1).await; // the server side subscribes after the upgrade
    c.data("mutation { createOrg(name: \"not a user event\") { id } }", json!({})).await;
    create(&c, json!({ "username": "socket" })).await;
    let msg = recv(&mut ws).await.expect("a message");
    assert_eq!(msg["eventName"], "user:created");
    assert_eq!(msg["data"]["user"]["username"], "socket");
    // A bad token or an unknown event name is refused before the upgrade.
    assert!(connect_async(format!("{base}/events/v1/management/sub?code=user:created&token=bad")).await.is_err());
    assert!(connect_async(format!("{base}/events/v1/management/sub?code=nonsense&token={token}")).await.is_err());
}

/// The close frame that ends `ws` (its code and reason), skipping the messages before it.
pub(crate) async fn close_frame(ws: &mut Ws) -> (u16, String) {
    crate::harness::before_deadline("the socket's close frame", async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return (u16::from(frame.code), frame.reason.to_string()),
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => panic!("the socket ended without a close frame"),
                Some(Ok(_)) => {}
            }
        }
    })
    .await
}

#[tokio::test]
async fn a_secret_reset_closes_the_pools_open_sockets_and_only_those() {
    let s = TestServer::start_with(|c| c.token_revocation_check_secs = 1).await;
    let a = s.admin().await;
    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;
    let only = json!({ "names": ["user:created"] });
    // Pool A: both GraphQL protocols, on both paths, and the event socket with a token.
    let mut current = subscribe(&s, &a, "/graphql/ws", only.clone()).await;
    let mut legacy = open(&s, "/graphql", "graphql-ws").await;
    send(&mut legacy, json!({ "type": "connection_init", "payload": { "token": a.token.as_ref().unwrap() } })).await;
    assert_eq!(recv(&mut legacy).await.expect("ack")["type"], "connection_ack");
    send(&mut legacy, json!({ "id": "7", "type": "start", "payload": { "query": SUB, "variables": only } })).await;
    let base = s.url.replacen("http", "ws", 1);
    let url = format!("{base}/events/v1/management/sub?code=user:created&token={}", a.token.as_ref().unwrap());
    let (mut events, _) = connect_async(url).await.expect("the event socket opens");
    // Pool B: a subscription that must outlive A's reset.
    let mut kept = subscribe(&s, &b, "/graphql/ws", only.clone()).await;
    s.wait_for_subscriptions(4).await;

    s.state.pools.reset_secret(&s.pool_id).await.expect("reset");
    for (name, ws) in [("graphql-transport-ws", &mut current), ("graphql-ws", &mut legacy), ("event socket", &mut events)] {
        let (code, reason) = close_frame(ws).await;
        assert_eq!(code, 4403, "{name}: {reason}");
        assert!(reason.starts_with("INVALID_TOKEN") && reason.len() <= 123, "{name}: {reason}");
    }
    create(&b, json!({ "username": "still-served" })).await;
    assert_eq!(next_event(&mut kept).await["data"]["user"]["username"], "still-served");
}
