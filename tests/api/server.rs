//! Server basics: health, GraphiQL, limits, both GraphQL paths, and the binary itself (first
//! start, restart, --help, SIGTERM).

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use serde_json::{Value, json};

use crate::harness::{TestDb, TestServer, WAIT_DEADLINE, before_deadline, free_port, wait_until};

#[tokio::test]
async fn health_readiness_and_graphiql() {
    let s = TestServer::start().await;
    let anon = s.anonymous();
    let res = anon.get("/healthz").await;
    assert_eq!(res.status(), 200);
    let res = anon.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["database"], "ok");
    let res = anon.get("/graphql").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("graphiql"), "GraphiQL page");
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let s = TestServer::start().await;
    s.state.db.clone().close().await.ok();
    let res = s.anonymous().get("/readyz").await;
    assert_eq!(res.status(), 503);
}

#[tokio::test]
async fn both_graphql_paths_serve_the_same_schema() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let q = "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }";
    assert_eq!(c.gql_at("/graphql", q, json!({})).await, c.gql_at("/graphql/v2", q, json!({})).await);
}

#[tokio::test]
async fn depth_complexity_and_size_limits() {
    let s = TestServer::start_with(|c| {
        c.limits.max_query_depth = 3;
        c.limits.max_query_complexity = 20;
        c.limits.max_body_bytes = 4096;
    })
    .await;
    let c = s.admin().await;
    let deep = "{ __schema { types { fields { type { name } } } } }";
    let (code, msg) = c.error(deep, json!({})).await;
    assert_eq!(code, "QUERY_TOO_COMPLEX");
    assert!(msg.to_lowercase().contains("nested"), "{msg}");
    let wide = format!("{{ {} }}", (0..30).map(|i| format!("a{i}: users {{ totalCount }}")).collect::<Vec<_>>().join(" "));
    let (code, msg) = c.error(&wide, json!({})).await;
    assert_eq!(code, "QUERY_TOO_COMPLEX");
    assert!(msg.to_lowercase().contains("complex"), "{msg}");
    let big = json!({ "query": "{ users { totalCount } }", "variables": { "pad": "x".repeat(10_000) } });
    let res = c.post_json("/graphql/v2", big).await;
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn malformed_requests_get_errors_not_crashes() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let (code, _) = c.error("{ users { ", json!({})).await;
    assert_eq!(code, "GRAPHQL_VALIDATION_FAILED");
    let res = c.http.post(format!("{}/graphql/v2", s.url)).header("content-type", "application/json").body("{not json").send().await.unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let res = c.post_json("/api/v3/get-management-token", json!("a string")).await;
    assert!(res.status().is_client_error());
    // The server still answers.
    c.data("{ users { totalCount } }", json!({})).await;
}

/// Start the real binary; returns the child and the lines it printed on stdout.
fn spawn_binary(db_url: &str, port: u16) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_orgraph"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--database-url", db_url])
        .env_remove("ORGRAPH_BOOTSTRAP_POOL_ID")
        .env_remove("ORGRAPH_BOOTSTRAP_POOL_SECRET")
        .env_remove("ORGRAPH_JWT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts")
}

async fn wait_ready(port: u16) {
    crate::harness::wait_ready(&format!("http://127.0.0.1:{port}")).await;
}

/// SIGTERM, then the exit status once the process has exited; if it has not by the deadline,
/// SIGKILL and fail.
fn sigterm_and_wait(child: &mut std::process::Child) -> std::process::ExitStatus {
    sigterm(child);
    wait_for_exit(child)
}

fn sigterm(child: &std::process::Child) {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
}

/// The exit status once the process has exited; if it has not by the deadline, SIGKILL and fail.
fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    let (exited, exit) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let _ = exited.send(child.wait());
        });
        match exit.recv_timeout(WAIT_DEADLINE) {
            Ok(status) => status.expect("the exit status"),
            Err(_) => {
                // The waiting thread returns once the process is gone.
                Command::new("kill").args(["-KILL", &pid]).status().expect("kill");
                panic!("server did not stop on SIGTERM within {} s", WAIT_DEADLINE.as_secs());
            }
        }
    })
}

#[tokio::test]
async fn binary_first_start_prints_the_pool_once_and_restarts_cleanly() {
    let db = TestDb::new().await;
    let port = free_port();
    let mut child = spawn_binary(&db.url, port);
    let stdout = child.stdout.take().unwrap();
    wait_ready(port).await;
    let status = sigterm_and_wait(&mut child);
    assert!(status.success(), "graceful exit on SIGTERM: {status}");
    let printed: Vec<String> = BufReader::new(stdout).lines().map_while(Result::ok).collect();
    let field = |name: &str| printed.iter().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string());
    let pool_id = field("userPoolId:").expect("pool id printed");
    let secret = field("secret:").expect("secret printed");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!stderr.contains(&secret), "the secret never reaches the log");
    assert!(stderr.contains("finished processing request"), "request log lines: {stderr}");

    // Second start on the same database: no new pool, the printed credentials work.
    let port = free_port();
    let mut child = spawn_binary(&db.url, port);
    let stdout = child.stdout.take().unwrap();
    wait_ready(port).await;
    let res: Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v3/get-management-token"))
        .json(&json!({ "accessKeyId": pool_id, "accessKeySecret": secret }))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(res["statusCode"], 200, "{res}");
    assert!(sigterm_and_wait(&mut child).success());
    let printed: Vec<String> = BufReader::new(stdout).lines().map_while(Result::ok).collect();
    assert!(printed.iter().all(|l| !l.starts_with("secret:")), "no second pool: {printed:?}");
}

#[test]
fn help_explains_every_option() {
    let out = Command::new(env!("CARGO_BIN_EXE_orgraph")).arg("--help").output().expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in ["--listen", "--database-url", "--jwt-secret", "--token-ttl-secs", "--token-max-lifetime-secs", "--token-revocation-check-secs", "--log-level",
                 "--bootstrap-pool-id", "--bootstrap-pool-secret", "--max-query-depth", "--max-page-size",
                 "--trusted-proxies", "--forwarded-header", "--cors-allowed-origins", "--metrics-listen", "--metrics-token",
                 "--metrics-public"] {
        assert!(help.contains(flag), "--help mentions {flag}");
    }
}

#[tokio::test]
async fn environment_proxies_do_not_carry_webhooks_past_the_address_guard() {
    // A "proxy" that records whether anything connected to it.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_port = proxy.local_addr().unwrap().port();
    let (reached, mut reached_rx) = tokio::sync::mpsc::channel::<()>(1);
    tokio::spawn(async move {
        while let Ok((_conn, _)) = proxy.accept().await {
            let _ = reached.send(()).await;
        }
    });
    let db = TestDb::new().await;
    let port = free_port();
    // `localhost` resolves to a loopback address, which webhooks may not reach.
    let mut child = Command::new(env!("CARGO_BIN_EXE_orgraph"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--database-url", &db.url])
        .env("ORGRAPH_BOOTSTRAP_POOL_ID", "proxytest")
        .env("ORGRAPH_BOOTSTRAP_POOL_SECRET", "proxy-test-secret-0123")
        .env("HTTP_PROXY", format!("http://127.0.0.1:{proxy_port}"))
        .env("http_proxy", format!("http://127.0.0.1:{proxy_port}"))
        .env("ALL_PROXY", format!("http://127.0.0.1:{proxy_port}"))
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    wait_ready(port).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let gql = |query: &str, token: Option<&str>| {
        let mut req = http.post(format!("http://127.0.0.1:{port}/graphql")).json(&json!({ "query": query }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let token: Value = gql("{ accessToken(userPoolId: \"proxytest\", secret: \"proxy-test-secret-0123\") { accessToken } }", None)
        .await.unwrap().json().await.unwrap();
    let token = token["data"]["accessToken"]["accessToken"].as_str().unwrap().to_string();
    let hook: Value = gql("mutation { createWebhook(name: \"p\", url: \"http://localhost:9/hook\", events: [\"login\"]) { id } }", Some(&token))
        .await.unwrap().json().await.unwrap();
    let id = hook["data"]["createWebhook"]["id"].as_str().unwrap().to_string();
    let test: Value = gql(&format!("mutation {{ testWebhook(id: \"{id}\") {{ responseStatus error }} }}"), Some(&token))
        .await.unwrap().json().await.unwrap();
    assert!(test["data"]["testWebhook"]["responseStatus"].is_null(), "{test}");
    assert!(test["data"]["testWebhook"]["error"].as_str().is_some_and(|e| !e.is_empty()), "{test}");
    assert!(reached_rx.try_recv().is_err(), "the environment's proxy was not used");
    assert!(sigterm_and_wait(&mut child).success());
}

#[tokio::test]
async fn errors_speak_each_endpoints_dialect() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let q = "query($id: String) { user(id: $id) { id } }";
    // /graphql/v2: Authing's message object with its numeric code; extensions.code kept.
    let v2 = c.gql(q, json!({ "id": "nobody" })).await;
    let e = &v2["errors"][0];
    assert_eq!(e["message"]["code"], 2004, "{v2}");
    assert_eq!(e["message"]["statusCode"], 404);
    assert!(e["message"]["message"].as_str().unwrap().contains("nobody"));
    assert_eq!(e["extensions"]["code"], "NOT_FOUND");
    // Parse errors too (no path, raised by async-graphql).
    let bad = c.gql("{ users { ", json!({})).await;
    assert_eq!(bad["errors"][0]["message"]["code"], 400, "{bad}");
    // Without a token: Authing's 2020.
    let anon = s.anonymous().gql("{ users { totalCount } }", json!({})).await;
    assert_eq!(anon["errors"][0]["message"]["code"], 2020, "{anon}");
    // /graphql: the spec's string message.
    let (code, message) = c.spec_error(q, json!({ "id": "nobody" })).await;
    assert_eq!(code, "NOT_FOUND");
    assert!(message.contains("nobody"));
    // An unknown route under /api/ answers a JSON envelope with 404, never an empty body.
    for path in ["/api/v2/nothing-here", "/api/v3/nothing-here"] {
        let res = c.get(path).await;
        assert_eq!(res.status(), 404);
        let body: Value = res.json().await.expect("a JSON body");
        assert_eq!(body["errorCode"], "NOT_FOUND", "{body}");
    }
    let v3: Value = c.get("/api/v3/nothing-here").await.json().await.unwrap();
    assert_eq!((v3["statusCode"].as_i64(), v3["apiCode"].as_i64()), (Some(404), Some(404)));
}

#[tokio::test]
async fn each_rest_dialect_answers_its_refusals_in_its_own_shape() {
    let s = TestServer::start_with(|c| c.limits.max_body_bytes = 4096).await;
    let anon = s.anonymous();
    let big = json!({ "pad": "x".repeat(10_000) });
    // v2: HTTP 200 and the envelope, whether the handler, its caller extractor or the router refused.
    for (res, status) in [
        (anon.get("/api/v2/orgs").await, 401u64),
        (anon.get("/api/v2/acl/is-allowed").await, 405),
        (s.admin().await.post_json("/api/v2/acl/is-allowed", big.clone()).await, 413),
    ] {
        let http = u64::from(res.status().as_u16());
        let body: Value = res.json().await.expect("a JSON body");
        assert_eq!((body["statusCode"].as_u64(), body["code"].is_i64()), (Some(status), true), "{body}");
        assert!(http == 200 || http == status, "{http}");
    }
    // v3: the HTTP status and the v3 envelope.
    for (res, status) in [(anon.get("/api/v3/list-department-members").await, 401u64), (anon.post_json("/api/v3/create-department", big.clone()).await, 413)] {
        assert_eq!(u64::from(res.status().as_u16()), status);
        let body: Value = res.json().await.expect("a JSON body");
        assert_eq!((body["statusCode"].as_u64(), body["apiCode"].is_u64()), (Some(status), true), "{body}");
    }
    // SCIM: a SCIM error.
    for (res, status) in [(anon.get("/scim/v2/Users").await, 401u16), (anon.get("/scim/elsewhere").await, 404)] {
        assert_eq!(res.status().as_u16(), status);
        let body: Value = res.json().await.expect("a JSON body");
        assert_eq!(body["status"], status.to_string(), "{body}");
    }
}

/// A webhook receiver that never answers: it tells when a request has arrived, and holds the
/// connection open until `hold` is dropped.
async fn silent_receiver() -> (String, tokio::sync::oneshot::Receiver<()>, tokio::sync::oneshot::Sender<()>) {
    use tokio::io::AsyncReadExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let (arrived_tx, arrived) = tokio::sync::oneshot::channel();
    let (hold, held) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.expect("the webhook request");
        let mut buf = vec![0u8; 64 * 1024];
        let _ = conn.read(&mut buf).await;
        let _ = arrived_tx.send(());
        let _ = held.await;
        drop(conn);
    });
    (url, arrived, hold)
}

/// SIGTERM while a request is in flight: the listener closes at once (new connections are
/// refused), the request still completes, and the process exits 0. The request is slow for
/// real: testWebhook waits for a receiver that never answers, until the server's own webhook
/// timeout (3 s) ends it; a server that did not drain would be gone long before. The request
/// log names each request's client as the trusted proxy forwarded it.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_drains_requests_in_flight_and_refuses_new_ones() {
    let db = TestDb::new().await;
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_orgraph"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--database-url", &db.url])
        .args(["--webhook-allow-hosts", "127.0.0.1", "--webhook-timeout-secs", "3", "--trusted-proxies", "127.0.0.1/32"])
        .env("ORGRAPH_BOOTSTRAP_POOL_ID", "draintest")
        .env("ORGRAPH_BOOTSTRAP_POOL_SECRET", "drain-test-secret-0123")
        .env("ORGRAPH_LOG_FORMAT", "json")
        .env_remove("ORGRAPH_JWT_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    // The log is read as it comes, so that the pipe never fills.
    let stderr = child.stderr.take().expect("stderr");
    let log = std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>().join("\n"));
    wait_ready(port).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/graphql"))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({ "query": "{ accessToken(userPoolId: \"draintest\", secret: \"drain-test-secret-0123\") { accessToken } }" }))
        .send().await.unwrap().json().await.unwrap();
    let token = token["data"]["accessToken"]["accessToken"].as_str().expect("a token").to_string();
    let (hook_url, arrived, hold) = silent_receiver().await;
    let gql = |query: String| http.post(format!("{base}/graphql")).bearer_auth(&token).json(&json!({ "query": query })).send();
    let hook: Value = gql(format!("mutation {{ createWebhook(name: \"d\", url: \"{hook_url}\", events: [\"login\"]) {{ id }} }}"))
        .await.unwrap().json().await.unwrap();
    let id = hook["data"]["createWebhook"]["id"].as_str().expect("a webhook").to_string();

    // testWebhook waits for the receiver: a request in flight.
    let in_flight = tokio::spawn(gql(format!("mutation {{ testWebhook(id: \"{id}\") {{ responseStatus error }} }}")));
    before_deadline("the webhook request to arrive", arrived).await.expect("arrived");
    sigterm(&child);
    wait_until("the listener to close", || async { tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() }).await;
    let res = before_deadline("the request in flight to finish", in_flight).await.expect("joined").expect("answered despite SIGTERM");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("JSON");
    let test = &body["data"]["testWebhook"];
    assert!(test["responseStatus"].is_null() && test["error"].as_str().is_some_and(|e| !e.is_empty()), "the send timed out: {body}");
    drop(hold);

    let status = tokio::task::spawn_blocking(move || wait_for_exit(&mut child)).await.expect("joined");
    assert!(status.success(), "exit 0 after draining: {status}");
    let log = log.join().expect("log read");
    assert!(log.contains(r#""client":"203.0.113.9""#), "the request log names the forwarded client: {log}");
}
