//! GraphQL over Server-Sent Events on `/graphql`: graphql-sse's own client, and the protocol's
//! details read off the wire (one result then `complete`, event ids, `Last-Event-ID`, refusals,
//! a revoked token).

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    harness::{Client, TestServer},
    sdk::{run_node, sdk_dir},
};

/// The events of an SSE answer as they come: (event, id, data); comments are skipped.
struct Events {
    res: reqwest::Response,
    buf: String,
}

impl Events {
    async fn open(s: &TestServer, token: &str, body: Value, last_event_id: Option<&str>) -> Events {
        let mut req = reqwest::Client::new().post(format!("{}/graphql", s.url)).bearer_auth(token).header("accept", "text/event-stream").json(&body);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let res = req.send().await.expect("sent");
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Events { res, buf: String::new() }
    }

    async fn next(&mut self) -> Option<(String, Option<String>, Value)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (None, None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                let Some(event) = event else { continue };
                return Some((event, id, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(15), self.res.chunk()).await.expect("an event within 15 s").ok()??;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn create_user(c: &Client, name: &str) {
    c.data("mutation($u: String!) { createUser(userInfo: { username: $u }) { id } }", json!({ "u": name })).await;
}

/// The ids of the pool's `user:created` events, oldest first.
async fn created_ids(c: &Client) -> Vec<String> {
    let v = c.data("{ events(first: 1000, eventNames: [\"user:created\"]) { id } }", json!({})).await;
    v["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

const EVENTS: &str = "subscription { events(eventNames: [\"user:created\"]) { id eventName } }";

#[tokio::test]
async fn a_query_is_one_result_then_complete_and_refusals_are_json() {
    let s = TestServer::start().await;
    let token = s.admin().await.token.unwrap();
    let mut events = Events::open(&s, &token, json!({ "query": "{ orgs { totalCount } }" }), None).await;
    assert_eq!(events.next().await, Some(("next".into(), None, json!({ "data": { "orgs": { "totalCount": 0 } } }))));
    assert_eq!(events.next().await.map(|e| e.0), Some("complete".into()));
    assert_eq!(events.next().await, None, "the stream ends");

    // A request error is a result with the error, as the protocol carries it.
    let mut events = Events::open(&s, &token, json!({ "query": "{ nope }" }), None).await;
    let (event, _, data) = events.next().await.unwrap();
    assert_eq!(event, "next");
    assert_eq!(data["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{data}");
    // What is not a GraphQL request at all is refused before any stream, in JSON.
    let res = reqwest::Client::new().post(format!("{}/graphql", s.url)).header("accept", "text/event-stream").header("content-type", "application/json").body("{").send().await.unwrap();
    assert_eq!(res.status(), 400);
    // Over GET, a subscription is refused like a mutation.
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("query", EVENTS).finish();
    let res = reqwest::Client::new().get(format!("{}/graphql?{query}", s.url)).bearer_auth(&token).header("accept", "text/event-stream").send().await.unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn events_carry_their_ids_and_last_event_id_resumes_without_a_gap_or_a_repeat() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let token = c.token.clone().unwrap();
    for i in 0..3 {
        create_user(&c, &format!("before{i}")).await;
    }
    let ids = created_ids(&c).await;
    assert_eq!(ids.len(), 3);
    // Resume after the first: the second and third from the outbox, then a live one.
    let mut events = Events::open(&s, &token, json!({ "query": EVENTS }), Some(&ids[0])).await;
    for id in &ids[1..] {
        let (event, label, data) = events.next().await.unwrap();
        assert_eq!((event.as_str(), label.as_deref()), ("next", Some(id.as_str())));
        assert_eq!(data["data"]["events"]["id"], id.as_str());
    }
    create_user(&c, "live").await;
    let live = created_ids(&c).await.pop().unwrap();
    let (_, label, data) = events.next().await.unwrap();
    assert_eq!(label.as_deref(), Some(live.as_str()));
    assert_eq!(data["data"]["events"]["eventName"], "user:created");
    // `after` wins over the header.
    let mut events = Events::open(&s, &token, json!({ "query": format!("subscription {{ events(after: \"{}\", eventNames: [\"user:created\"]) {{ id }} }}", ids[1]) }), Some(&ids[0])).await;
    assert_eq!(events.next().await.unwrap().1.as_deref(), Some(ids[2].as_str()));
}

#[tokio::test]
async fn a_revoked_token_ends_the_stream_with_invalid_token() {
    let s = TestServer::start_with(|c| c.token_revocation_check_secs = 1).await;
    let token = s.admin().await.token.unwrap();
    let mut events = Events::open(&s, &token, json!({ "query": EVENTS }), None).await;
    s.state.pools.reset_secret(&s.pool_id).await.expect("reset");
    let (event, _, data) = events.next().await.unwrap();
    assert_eq!(event, "next");
    assert_eq!(data["errors"][0]["extensions"]["code"], "INVALID_TOKEN", "{data}");
    assert_eq!(events.next().await.map(|e| e.0), Some("complete".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_graphql_sse_client_receives_events_as_they_are_committed() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let dir = tokio::task::spawn_blocking(sdk_dir).await.unwrap();
    let (url, token) = (s.url.clone(), c.token.clone().unwrap());
    let client = tokio::task::spawn_blocking(move || run_node(&dir, "sse_subscribe.cjs", &[("ORGRAPH_HOST", &url), ("ORGRAPH_TOKEN", &token), ("COUNT", "3")]));
    // Users are created until the client has had its three events (it subscribes meanwhile).
    let mut made = 0;
    while !client.is_finished() && made < 300 {
        create_user(&c, &format!("sse{made}")).await;
        made += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = client.await.unwrap();
    let got: Vec<String> = out["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(got.len(), 3, "{out}");
    // Three consecutive user:created events, in commit order.
    let all = created_ids(&c).await;
    let first = all.iter().position(|id| *id == got[0]).expect("a committed event");
    assert_eq!(all[first..first + 3], got[..], "{out}");
}
