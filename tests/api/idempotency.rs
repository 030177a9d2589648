//! `Idempotency-Key` on GraphQL mutations (`/graphql`, `/graphql/v2`) and v3 POSTs: a retry
//! answers what the first answered and applies nothing twice, also while the first runs and
//! after the server was killed; another request with the key is refused.

use std::process::{Child, Command, Stdio};

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::harness::{Client, TestDb, TestServer, wait_ready};

const CREATE: &str = "mutation($u: CreateUserInput!) { createUser(userInfo: $u) { id username } }";

/// POST `body` to `path` with `key`: status, whether it was a replay, and the body.
async fn keyed(c: &Client, path: &str, key: &str, body: Value) -> (u16, bool, Value) {
    let mut req = c.http.post(format!("{}{path}", c.base)).header("idempotency-key", key).json(&body);
    if let Some(t) = &c.token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("sent");
    let status = res.status().as_u16();
    let replayed = res.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
    (status, replayed, res.json().await.expect("JSON"))
}

fn create_user(name: &str) -> Value {
    json!({ "query": CREATE, "variables": { "u": { "username": name } } })
}

async fn users_named(c: &Client, name: &str) -> usize {
    let d = c.data("{ users(limit: 200) { list { username } } }", json!({})).await;
    d["users"]["list"].as_array().unwrap().iter().filter(|u| u["username"] == name).count()
}

async fn events_named(c: &Client, name: &str) -> usize {
    let d = c.data("query($n: [String!]) { events(after: \"0\", eventNames: $n, first: 1000) { id } }", json!({ "n": [name] })).await;
    d["events"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_key_replays_the_first_answer_refuses_another_request_and_belongs_to_its_pool() {
    let s = TestServer::start().await;
    let c = s.admin().await;

    // GraphQL over HTTP: the first runs, the retry is the same answer, applied once.
    let (status, replayed, first) = keyed(&c, "/graphql", "k-1", create_user("ann")).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    let (status, replayed, again) = keyed(&c, "/graphql", "k-1", create_user("ann")).await;
    assert_eq!((status, replayed, &again), (200, true, &first));
    assert_eq!(users_named(&c, "ann").await, 1);
    assert_eq!(events_named(&c, "user:created").await, 1, "no second event either");

    // Another request with the same key: 422, nothing applied.
    let (status, _, refused) = keyed(&c, "/graphql", "k-1", create_user("bob")).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["code"], "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(users_named(&c, "bob").await, 0);

    // Authing's endpoint, and its error shape.
    let (_, _, v2) = keyed(&c, "/graphql/v2", "k-2", create_user("carl")).await;
    assert_eq!(keyed(&c, "/graphql/v2", "k-2", create_user("carl")).await.2, v2);
    let (status, _, refused) = keyed(&c, "/graphql/v2", "k-2", create_user("dora")).await;
    assert_eq!(status, 422);
    assert_eq!(refused["errors"][0]["extensions"]["code"], "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(refused["errors"][0]["message"]["statusCode"], 422, "{refused}");

    // v3: the same, in its envelope.
    let (status, _, made) = keyed(&c, "/api/v3/create-user", "k-3", json!({ "username": "erin" })).await;
    assert_eq!((status, made["statusCode"].as_i64()), (200, Some(200)), "{made}");
    let (_, replayed, again) = keyed(&c, "/api/v3/create-user", "k-3", json!({ "username": "erin" })).await;
    assert!(replayed);
    assert_eq!(again, made, "the same requestId too: the first answer itself");
    let (status, _, refused) = keyed(&c, "/api/v3/create-user", "k-3", json!({ "username": "fred" })).await;
    assert_eq!((status, refused["errorCode"].as_str()), (422, Some("IDEMPOTENCY_KEY_REUSED")), "{refused}");
    assert_eq!(users_named(&c, "erin").await, 1);

    // A v3 request signed as authing-node-sdk signs it: the key is the signing pool's; a bad
    // signature is refused as the route refuses it, and nothing is kept for it.
    let signed = |username: &str, secret: &str| {
        let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let text = format!("POST\ndate:{date}\nx-authing-sdk-version:test\n/api/v3/create-user?username={username}");
        c.http
            .post(format!("{}/api/v3/create-user", c.base))
            .header("date", date)
            .header("x-authing-sdk-version", "test")
            .header("authorization", format!("authing {}:{}", s.pool_id, crate::v3::sign(secret, &text)))
            .header("idempotency-key", "k-signed")
            .json(&json!({ "username": username }))
    };
    let refused: Value = signed("sig", "not-the-secret").send().await.unwrap().json().await.unwrap();
    assert_eq!(refused["errorCode"], "INVALID_CREDENTIALS", "{refused}");
    let first: Value = signed("sig", crate::harness::POOL_SECRET).send().await.unwrap().json().await.unwrap();
    assert_eq!(first["statusCode"], 200, "{first}");
    let res = signed("sig", crate::harness::POOL_SECRET).send().await.unwrap();
    assert_eq!(res.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(res.json::<Value>().await.unwrap(), first);
    assert_eq!(users_named(&c, "sig").await, 1);

    // An answer that applied nothing (a validation error) is kept too.
    let (_, _, bad) = keyed(&c, "/graphql", "k-4", json!({ "query": CREATE, "variables": { "u": { "username": "ann" } } })).await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "CONFLICT", "{bad}");
    assert!(keyed(&c, "/graphql", "k-4", json!({ "query": CREATE, "variables": { "u": { "username": "ann" } } })).await.1);

    // An event stream is not keyed: refused rather than run unprotected.
    let res = c.http.post(format!("{}/graphql", c.base)).bearer_auth(c.token.as_ref().unwrap()).header("idempotency-key", "k-5")
        .header("accept", "text/event-stream").json(&create_user("hal")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(users_named(&c, "hal").await, 0);

    // A malformed key is refused; keys are per pool.
    let (status, _, refused) = keyed(&c, "/graphql", "has space", create_user("gina")).await;
    assert_eq!((status, refused["errors"][0]["extensions"]["code"].as_str()), (400, Some("INVALID_INPUT")), "{refused}");
    let (pool2, secret2) = s.new_pool("other").await;
    let other = s.client_for(&pool2, &secret2).await;
    let (status, replayed, theirs) = keyed(&other, "/graphql", "k-1", create_user("ann")).await;
    assert_eq!((status, replayed), (200, false), "another pool's key k-1 is its own: {theirs}");
    assert_ne!(theirs["data"]["createUser"]["id"], first["data"]["createUser"]["id"]);
}

#[tokio::test]
async fn concurrent_retries_wait_for_the_first_and_apply_once() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let answers = futures_util::future::join_all((0..6).map(|_| keyed(&c, "/graphql", "burst", create_user("once")))).await;
    let first = &answers[0].2;
    assert!(first["data"]["createUser"]["id"].is_string(), "{first}");
    for (status, _, body) in &answers {
        assert_eq!((*status, body), (200, first));
    }
    assert_eq!(answers.iter().filter(|a| !a.1).count(), 1, "one ran, the others replayed it");
    assert_eq!(users_named(&c, "once").await, 1);
}

/// The server binary on `db`, listening on a fresh port: the child and its base URL.
fn start_binary(db: &TestDb) -> (Child, String) {
    let port = crate::harness::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_orgraph"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--database-url", &db.url, "--bootstrap-pool-id", "idem",
               "--bootstrap-pool-secret", "idem-secret-0123456789", "--request-timeout-secs", "2", "--db-write-wait-secs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    (child, format!("http://127.0.0.1:{port}"))
}

async fn client_of(base: &str) -> Client {
    let http = reqwest::Client::new();
    let token: Value = http.post(format!("{base}/api/v3/get-management-token"))
        .json(&json!({ "accessKeyId": "idem", "accessKeySecret": "idem-secret-0123456789" }))
        .send().await.unwrap().json().await.unwrap();
    Client { http, base: base.to_string(), token: token["data"]["access_token"].as_str().map(str::to_string), pool_header: None }
}

fn kill(mut child: Child) {
    child.kill().expect("SIGKILL");
    child.wait().ok();
}

#[tokio::test]
async fn a_mutation_retried_with_its_key_after_a_sigkill_applies_once() {
    let db = TestDb::new().await;
    let (server, base) = start_binary(&db);
    wait_ready(&base).await;
    let c = client_of(&base).await;

    // Answered, then killed: the restarted server replays the answer.
    let (_, _, first) = keyed(&c, "/graphql", "after-kill", create_user("survivor")).await;
    kill(server);
    let (server, base) = start_binary(&db);
    wait_ready(&base).await;
    let c = client_of(&base).await;
    let (status, replayed, again) = keyed(&c, "/graphql", "after-kill", create_user("survivor")).await;
    assert_eq!((status, replayed, &again), (200, true, &first));
    assert_eq!(users_named(&c, "survivor").await, 1);

    // Killed while the mutation waits for the database (a lock the test holds): nothing
    // committed, so the retry runs it, once.
    let locker = Database::connect(&db.url).await.unwrap();
    let txn = sea_orm::TransactionTrait::begin(&locker).await.unwrap();
    if db.is_postgres() {
        txn.execute_unprepared("LOCK TABLE users IN ACCESS EXCLUSIVE MODE").await.unwrap();
    } else {
        txn.execute_unprepared("UPDATE users SET nickname = nickname WHERE 0").await.unwrap();
    }
    let pending = tokio::spawn({
        let c = c.clone();
        async move { keyed(&c, "/graphql", "mid-kill", create_user("midway")).await }
    });
    if db.is_postgres() {
        // The key is claimed and the mutation waits for the lock: the kill lands mid-request.
        crate::harness::wait_until("the key to be claimed", || async {
            let row = locker.query_one_raw(sea_orm::Statement::from_string(locker.get_database_backend(), "SELECT COUNT(*) AS n FROM idempotency_key WHERE idem_key = 'mid-kill'")).await;
            row.ok().flatten().and_then(|r| r.try_get::<i64>("", "n").ok()) == Some(1)
        })
        .await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    kill(server);
    let _ = pending.await;
    txn.rollback().await.unwrap();
    let (server, base) = start_binary(&db);
    wait_ready(&base).await;
    let c = client_of(&base).await;
    let (status, _, retried) = keyed(&c, "/graphql", "mid-kill", create_user("midway")).await;
    assert_eq!(status, 200, "{retried}");
    assert!(retried["data"]["createUser"]["id"].is_string(), "{retried}");
    assert_eq!(users_named(&c, "midway").await, 1);
    assert_eq!(keyed(&c, "/graphql", "mid-kill", create_user("midway")).await.2, retried);

    // Kept answers are sealed at rest.
    let row = locker
        .query_one_raw(sea_orm::Statement::from_string(locker.get_database_backend(), "SELECT body FROM idempotency_key WHERE idem_key = 'after-kill'"))
        .await
        .unwrap()
        .expect("the key's row");
    let body: String = row.try_get("", "body").unwrap();
    assert!(body.starts_with("v1:") && !body.contains("survivor"), "sealed: {body}");

    // A key left running by a server that is gone, having applied nothing: the retry takes it
    // over and runs the request, once.
    locker
        .execute_unprepared(&format!(
            "INSERT INTO idempotency_key (user_pool_id, idem_key, request_hash, state, applied, owner, claimed_at, created_at)
             SELECT user_pool_id, 'orphan', request_hash, 'running', {f}, 'gone', 0, created_at FROM idempotency_key WHERE idem_key = 'after-kill'",
            f = if db.is_postgres() { "false" } else { "0" }
        ))
        .await
        .unwrap();
    let (status, replayed, taken) = keyed(&c, "/graphql", "orphan", create_user("survivor")).await;
    assert_eq!((status, replayed), (200, false), "{taken}");
    assert_eq!(taken["errors"][0]["extensions"]["code"], "CONFLICT", "it ran (survivor exists): {taken}");
    let (status, replayed, again) = keyed(&c, "/graphql", "orphan", create_user("survivor")).await;
    assert_eq!((status, replayed, &again), (200, true, &taken));

    // A change written outside the event path (a SCIM token) marks its key applied too.
    let scim = json!({ "query": "mutation { createScimToken(name: \"idp\") { id } }" });
    let (_, _, made) = keyed(&c, "/graphql", "scim", scim.clone()).await;
    assert!(made["data"]["createScimToken"]["id"].is_string(), "{made}");
    locker
        .execute_unprepared("UPDATE idempotency_key SET state = 'running', owner = 'gone', claimed_at = 0, body = NULL WHERE idem_key = 'scim'")
        .await
        .unwrap();
    let (status, _, refused) = keyed(&c, "/graphql", "scim", scim).await;
    assert_eq!((status, refused["errors"][0]["extensions"]["code"].as_str()), (409, Some("IDEMPOTENCY_KEY_APPLIED")), "{refused}");
    assert_eq!(c.data("{ scimTokens { id } }", json!({})).await["scimTokens"].as_array().unwrap().len(), 1);

    // Killed after its commit and before its answer was kept (the key says applied, running,
    // in a server that is gone): the retry is told, and applies nothing.
    let (_, _, made) = keyed(&c, "/graphql", "lost", create_user("lost-answer")).await;
    assert!(made["data"]["createUser"]["id"].is_string());
    locker
        .execute_unprepared("UPDATE idempotency_key SET state = 'running', owner = 'gone', claimed_at = 0, body = NULL WHERE idem_key = 'lost'")
        .await
        .unwrap();
    let (status, _, refused) = keyed(&c, "/graphql", "lost", create_user("lost-answer")).await;
    assert_eq!((status, refused["errors"][0]["extensions"]["code"].as_str()), (409, Some("IDEMPOTENCY_KEY_APPLIED")), "{refused}");
    assert_eq!(users_named(&c, "lost-answer").await, 1);
    kill(server);
}
