//! Hostile input, as an anonymous client or a second tenant sends it (issue 7): every one of
//! these once cost the server seconds of CPU, gigabytes, an unbounded lock wait or a malformed
//! frame. Each test drives a real server over loopback.

use std::time::Duration;

use axum::{Router, body::Body, routing::post};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, protocol::frame::coding::CloseCode};

use crate::harness::{POOL_SECRET, TestServer, before_deadline, wait_for_value};

/// `levels` fragments, each spreading the one before twice: 2^(levels-1) fields once expanded.
fn doubling_fragments(levels: usize) -> String {
    let mut doc = String::from("fragment F1 on Query { __typename } ");
    for i in 2..=levels {
        doc.push_str(&format!("fragment F{i} on Query {{ ...F{p} ...F{p} }} ", p = i - 1));
    }
    doc.push_str(&format!("query {{ ...F{levels} }}"));
    doc
}

#[tokio::test]
async fn exponential_fragments_are_refused_before_validation_without_a_token() {
    let s = TestServer::start().await;
    let anon = s.anonymous();
    // 30 levels: 2^29 fields. Validation alone ran a core for minutes on it.
    let doc = doubling_fragments(30);
    assert!(doc.len() < 1500);
    let answer = tokio::time::timeout(Duration::from_secs(10), anon.gql(&doc, json!({})))
        .await
        .expect("answered at once, not after expanding the fragments");
    let err = &answer["errors"][0];
    assert_eq!(err["extensions"]["code"], "QUERY_TOO_COMPLEX", "{answer}");
    assert!(err["message"]["message"].as_str().unwrap().contains("--max-query-nodes"), "{answer}");
    assert_eq!(err["message"]["code"], 400, "{answer}");
    // The server is not busy afterwards.
    let res = tokio::time::timeout(Duration::from_secs(2), anon.get("/healthz")).await.expect("healthz answers");
    assert_eq!(res.status(), 200);

    // A fragment chain nested far deeper than any real document is refused too (it would
    // otherwise recurse through async-graphql's validators).
    let mut chain = String::new();
    for i in 0..300 {
        chain.push_str(&format!("fragment C{i} on Query {{ ...C{} }} ", i + 1));
    }
    chain.push_str("fragment C300 on Query { __typename } { ...C0 }");
    let (code, message) = anon.error(&chain, json!({})).await;
    assert_eq!(code, "QUERY_TOO_COMPLEX", "{message}");

    // And documents larger than --max-query-bytes.
    let big = format!("{{ {} }}", "__typename ".repeat(12_000));
    let (code, message) = anon.error(&big, json!({})).await;
    assert_eq!(code, "QUERY_TOO_COMPLEX");
    assert!(message.contains("--max-query-bytes"), "{message}");
}

#[tokio::test]
async fn credential_checks_are_one_per_request_and_rate_limited() {
    let s = TestServer::start_with(|c| c.limits.auth_failures_per_minute = 3).await;
    let anon = s.anonymous();
    // 64 aliases of accessToken: refused before any hashing (64 root fields, 64 checks).
    let aliases: String = (0..64)
        .map(|i| format!("a{i}: accessToken(userPoolId: \"{}\", secret: \"wrong-secret-{i}\") {{ accessToken }} ", s.pool_id))
        .collect();
    let (code, _) = anon.error(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(code, "QUERY_TOO_COMPLEX");
    // Two are refused as well: one credential check per request.
    let two = format!(
        "{{ a: accessToken(userPoolId: \"{p}\", secret: \"x\") {{ accessToken }} b: accessToken(userPoolId: \"{p}\", secret: \"y\") {{ accessToken }} }}",
        p = s.pool_id
    );
    let (code, message) = anon.error(&two, json!({})).await;
    assert_eq!(code, "QUERY_TOO_COMPLEX");
    assert!(message.contains("credential"), "{message}");

    // Failed checks from one address: 3 a minute, then RATE_LIMITED with a retry time.
    let q = "query($id: String!, $s: String!) { accessToken(userPoolId: $id, secret: $s) { accessToken } }";
    for _ in 0..3 {
        let (code, _) = anon.error(q, json!({ "id": s.pool_id, "s": "wrong-secret-0000" })).await;
        assert_eq!(code, "INVALID_CREDENTIALS");
    }
    let answer = anon.gql(q, json!({ "id": s.pool_id, "s": POOL_SECRET })).await;
    let err = &answer["errors"][0];
    assert_eq!(err["extensions"]["code"], "RATE_LIMITED", "even the right secret waits: {answer}");
    assert!(err["extensions"]["retryAfter"].as_u64().is_some_and(|s| s >= 1), "{answer}");
    // The REST route shares the budget and answers 429 with Retry-After.
    let res = anon
        .post_json("/api/v3/get-management-token", json!({ "accessKeyId": s.pool_id, "accessKeySecret": POOL_SECRET }))
        .await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errorCode"], "RATE_LIMITED", "{body}");
}

#[tokio::test]
async fn a_huge_webhook_answer_is_read_only_as_far_as_it_is_kept() {
    let s = TestServer::start_with(|c| {
        c.webhooks.allow_hosts = vec!["127.0.0.1".into()];
        c.webhooks.timeout_secs = 30;
    })
    .await;
    let c = s.admin().await;
    // A receiver whose answer never ends: reading it whole would never finish.
    let endless = || async {
        let chunks = futures_util::stream::repeat_with(|| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'x'; 64 * 1024])));
        axum::response::Response::new(Body::from_stream(chunks))
    };
    let app = Router::new().route("/hook", post(endless));
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(tcp, app).await.unwrap() });
    let hook = c
        .data(
            "mutation($url: String!) { createWebhook(name: \"big\", url: $url, events: [\"user:created\"]) { id } }",
            json!({ "url": format!("http://127.0.0.1:{port}/hook") }),
        )
        .await["createWebhook"]["id"]
        .clone();
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        c.data("mutation($id: String!) { testWebhook(id: $id) { responseStatus responseBody error } }", json!({ "id": hook })),
    )
    .await
    .expect("testWebhook answers without reading the whole body");
    let t = &answer["testWebhook"];
    assert_eq!(t["responseStatus"], 200, "{answer}");
    assert!(t["error"].is_null(), "{answer}");
    let body = t["responseBody"].as_str().unwrap();
    assert!(body.starts_with("xxxx") && body.ends_with('…'), "kept the first bytes, marked as cut");
    assert!(body.len() <= 4096 + '…'.len_utf8(), "{} bytes kept", body.len());
}

#[tokio::test]
async fn a_write_that_waits_too_long_is_answered_service_unavailable() {
    let s = TestServer::start_with(|c| c.db_write_wait_secs = 1).await;
    let c = s.admin().await;
    // Another writer holds the database until the write was refused: on SQLite the writer turn,
    // on PostgreSQL the lock that orders event writers. It says when it holds it.
    let (held, holding) = tokio::sync::oneshot::channel::<()>();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let hold = {
        let state = s.state.clone();
        let postgres = s.db.is_postgres();
        tokio::spawn(async move {
            if postgres {
                let txn = state.db.begin().await.unwrap();
                txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({})", orgraph::domain::events::EVENT_ORDER_LOCK))
                    .await
                    .unwrap();
                let _ = held.send(());
                let _ = released.await;
                txn.commit().await.unwrap();
            } else {
                state
                    .writer
                    .write_plain(orgraph::domain::Actor::SYSTEM, async |_| {
                        let _ = held.send(());
                        let _ = released.await;
                        Ok(())
                    })
                    .await
                    .unwrap();
            }
        })
    };
    before_deadline("the other writer to hold the database", holding).await.expect("the other writer holds it");
    // The holder lets go only after this answer: a write that waited for ever would hang here.
    let answer = before_deadline(
        "the waiting write's answer",
        c.gql("mutation { createUser(userInfo: { username: \"waits\" }) { id } }", json!({})),
    )
    .await;
    let err = &answer["errors"][0];
    assert_eq!(err["extensions"]["code"], "SERVICE_UNAVAILABLE", "{answer}");
    assert!(err["extensions"]["retryAfter"].as_u64().is_some(), "{answer}");
    let _ = release.send(());
    hold.await.unwrap();
    // Nothing was written, and the same write succeeds now.
    c.data("mutation { createUser(userInfo: { username: \"waits\" }) { id } }", json!({})).await;
}

#[tokio::test]
async fn an_import_is_bounded_and_other_pools_write_meanwhile() {
    let s = TestServer::start_with(|c| c.limits.max_import_closure_rows = 50_000).await;
    let a = s.admin().await;
    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;

    // Chains 60 deep under the root: each brings 2 + 3 + ... + 61 = 1,890 closure rows. Five are
    // fine; thirty (56,701 rows) exceed 50,000 and are refused before any write.
    let chain = |prefix: &str, depth: usize| -> Value {
        let mut node = json!({ "name": format!("{prefix}-{depth}"), "code": format!("{prefix}-{depth}") });
        for d in (1..depth).rev() {
            node = json!({ "name": format!("{prefix}-{d}"), "code": format!("{prefix}-{d}"), "children": [node] });
        }
        node
    };
    let tree = move |chains: usize| json!({ "name": "Deep", "code": format!("deep{chains}"),
        "children": (0..chains).map(|i| chain(&format!("c{i}"), 60)).collect::<Vec<_>>() });
    let res = a.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": tree(30) })).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["statusCode"], 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("--max-import-closure-rows"), "{body}");
    assert_eq!(a.data("{ orgs { totalCount } }", json!({})).await["orgs"]["totalCount"], 0, "nothing imported");

    // An allowed import runs while another pool writes: that write waits its turn, then succeeds.
    let import = {
        let a = a.clone();
        tokio::spawn(async move { a.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": tree(5) })).await })
    };
    let other = b.data("mutation { createUser(userInfo: { username: \"meanwhile\" }) { id } }", json!({})).await;
    assert!(other["createUser"]["id"].is_string());
    let res = import.await.unwrap();
    assert_eq!(res.status(), 200);
    let org: Value = res.json().await.unwrap();
    let org_id = org["data"]["orgId"].as_str().or(org["data"]["id"].as_str()).unwrap().to_string();
    let nodes = a.data("query($id: String!) { org(id: $id) { nodes { id depth } } }", json!({ "id": org_id })).await;
    let nodes = nodes["org"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1 + 5 * 60);
    assert_eq!(nodes.iter().map(|n| n["depth"].as_i64().unwrap()).max(), Some(60));
    let problems = s.state.orgs.check_invariants(&org_id).await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test]
async fn a_refused_websocket_gets_a_well_formed_close_frame() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let url = format!("{}/graphql/ws", s.url.replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    // tungstenite is strict: a close frame over 125 bytes is a protocol error for it.
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": {
        "Authorization": format!("Bearer {}", c.token.as_ref().unwrap()),
        "x-authing-userpool-id": "a-pool-id-that-is-not-the-one-of-the-token-and-is-rather-long-0123456789" } });
    ws.send(Message::text(init.to_string())).await.unwrap();
    let frame = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("an answer") {
            Some(Ok(Message::Close(frame))) => break frame.expect("a close frame with a code"),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_ne!(frame.code, CloseCode::Normal);
    assert!(frame.reason.len() <= 123, "{} bytes", frame.reason.len());
    assert!(frame.reason.starts_with("FORBIDDEN"), "{}", frame.reason);
}

#[tokio::test]
async fn half_open_connections_are_dropped_and_do_not_block_others() {
    let s = TestServer::start_with(|c| c.limits.header_read_timeout_secs = 1).await;
    let addr = s.url.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for _ in 0..100 {
        let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap(); // never finished
        idle.push(conn);
    }
    // A normal request is served meanwhile.
    let res = s.anonymous().get("/healthz").await;
    assert_eq!(res.status(), 200);
    // After the header deadline every half-open connection is closed by the server.
    for mut conn in idle {
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf)).await.expect("closed by the server");
        // hyper may answer 408 before closing; either way the connection ends.
        if let Ok(n) = read
            && n > 0
        {
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"));
        }
    }
}

#[tokio::test]
async fn a_pager_sees_every_event_once_while_writers_commit_concurrently() {
    let s = TestServer::start_with(|c| c.db_max_connections = 16).await;
    let c = s.admin().await;
    const WRITERS: usize = 8;
    const EACH: usize = 40;
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let c = c.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..EACH {
                c.data("mutation($d: JSON!) { publishEvent(eventName: \"login\", data: $d) { id } }", json!({ "d": { "w": w, "i": i } }))
                    .await;
            }
        }));
    }
    let mut seen: Vec<String> = Vec::new();
    let mut after = "0".to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen.len() < WRITERS * EACH {
        assert!(tokio::time::Instant::now() < deadline, "pager saw {} of {}", seen.len(), WRITERS * EACH);
        let page = c
            .data("query($a: String) { events(after: $a, first: 7, eventNames: [\"login\"]) { id } }", json!({ "a": after }))
            .await;
        for e in page["events"].as_array().unwrap() {
            let id = e["id"].as_str().unwrap().to_string();
            after = id.clone();
            seen.push(id);
        }
    }
    for w in writers {
        w.await.unwrap();
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no event twice");
    let all = c.data("{ events(first: 1000, eventNames: [\"login\"]) { id } }", json!({})).await;
    let all: Vec<String> = all["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(all.len(), WRITERS * EACH);
    assert_eq!(seen, all, "the pager saw every event, in commit order, none skipped");
}

#[tokio::test]
async fn concurrent_failures_disable_a_webhook_exactly_at_the_limit() {
    let s = TestServer::start_with(|c| {
        c.webhooks.allow_hosts = vec!["127.0.0.1".into()];
        c.webhooks.retry_schedule_secs = vec![];
        c.webhooks.max_consecutive_failures = 3;
        c.webhooks.concurrency = 16;
        c.webhooks.poll_ms = 20;
    })
    .await;
    let c = s.admin().await;
    // A receiver that fails every request, answering none before all twelve have come: all
    // deliveries are in flight at once.
    let all_in_flight = std::sync::Arc::new(tokio::sync::Barrier::new(12));
    let failing = move || {
        let all_in_flight = all_in_flight.clone();
        async move {
            all_in_flight.wait().await;
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    let app = Router::new().route("/hook", post(failing));
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(tcp, app).await.unwrap() });
    let hook = c
        .data(
            "mutation($url: String!) { createWebhook(name: \"f\", url: $url, events: [\"login\"]) { id } }",
            json!({ "url": format!("http://127.0.0.1:{port}/hook") }),
        )
        .await["createWebhook"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Twelve events committed together: twelve deliveries sent at once, all failing.
    s.state
        .writer
        .write(&s.pool().await, async |_, outbox| {
            for i in 0..12 {
                outbox.record_published(orgraph::domain::events::EventName::Login, None, json!({ "i": i }));
            }
            Ok(())
        })
        .await
        .unwrap();
    let state = wait_for_value("every delivery to fail and the webhook to be disabled", || async {
        let state = c
            .data("query($id: String!) { webhook(id: $id) { enabled consecutiveFailures deliveries { list { status } } } }", json!({ "id": hook }))
            .await;
        let pending = state["webhook"]["deliveries"]["list"].as_array().unwrap().iter().any(|d| d["status"] != "failed");
        (!pending && state["webhook"]["enabled"] == false).then_some(state)
    })
    .await;
    assert_eq!(state["webhook"]["enabled"], false, "disabled: {state}");
    assert!(state["webhook"]["consecutiveFailures"].as_i64().unwrap() >= 3, "every failure counted: {state}");
    let disabled = c.data("{ events(eventNames: [\"webhook:disabled\"]) { data } }", json!({})).await;
    assert_eq!(disabled["events"].as_array().unwrap().len(), 1, "disabled once: {disabled}");
}
