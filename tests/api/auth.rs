//! Access tokens: GraphQL `accessToken`/`refreshAccessToken`, the v3 REST route, every way a
//! token can be wrong, a session's maximum lifetime, and the revocation of a pool's tokens when
//! its secret changes (in this process, in the command line's, at another instance's start).

use std::{collections::HashMap, sync::Arc, time::Duration};

use base64::Engine as _;
use orgraph::{
    error::AppResult,
    security::tokens::{Clock, EpochSource, SystemClock, TokenService, TokenSettings},
};
use serde_json::{Value, json};

use crate::{
    harness::{Client, POOL_SECRET, TestServer, wait_for_value},
    orgs::statements_of,
    tools::orgraph,
};

const ACCESS_TOKEN: &str =
    "query($id: String!, $s: String!) { accessToken(userPoolId: $id, secret: $s) { accessToken exp iat } }";
const ME: &str = "{ users { totalCount } }";

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

#[tokio::test]
async fn access_token_is_a_jwt_scoped_to_the_pool() {
    let s = TestServer::start().await;
    let anon = s.anonymous();
    let data = anon.data(ACCESS_TOKEN, json!({ "id": s.pool_id, "s": POOL_SECRET })).await;
    let res = &data["accessToken"];
    let token = res["accessToken"].as_str().expect("token");
    let c = claims(token);
    assert_eq!(c["scoped_userpool_id"], s.pool_id.as_str());
    assert_eq!(c["exp"], res["exp"]);
    assert_eq!(c["iat"], res["iat"]);
    assert_eq!(res["exp"].as_i64().unwrap() - res["iat"].as_i64().unwrap(), 86_400);
    // The token opens the pool's operations.
    let data = anon.with_token(token).data(ME, json!({})).await;
    assert_eq!(data["users"]["totalCount"], 0);
}

#[tokio::test]
async fn wrong_secret_and_unknown_pool_give_the_same_error() {
    let s = TestServer::start().await;
    let anon = s.anonymous();
    let (code, msg) = anon.error(ACCESS_TOKEN, json!({ "id": s.pool_id, "s": "not-the-secret" })).await;
    assert_eq!(code, "INVALID_CREDENTIALS");
    let (code2, msg2) = anon.error(ACCESS_TOKEN, json!({ "id": "no-such-pool", "s": POOL_SECRET })).await;
    assert_eq!((code2, msg2), (code, msg));
}

/// Every pool at epoch 0 (no secret ever changed): enough for a test's own token service, which
/// only signs.
struct FirstEpoch;

#[async_trait::async_trait]
impl EpochSource for FirstEpoch {
    async fn epochs(&self, pools: &[String]) -> AppResult<HashMap<String, i64>> {
        Ok(pools.iter().map(|p| (p.clone(), 0)).collect())
    }
}

/// A token service signing with `key` by `clock`, its tokens living `ttl` seconds.
fn signer(key: &[u8], ttl: u64, clock: Arc<dyn Clock>) -> TokenService {
    let settings = TokenSettings { ttl: Duration::from_secs(ttl), max_lifetime: Duration::from_secs(7 * 86_400), epoch_recheck: Duration::from_secs(5) };
    TokenService::with_clock(key, settings, Arc::new(FirstEpoch), clock).expect("a long enough key")
}

/// The system clock an hour ago.
struct HourAgo;

impl Clock for HourAgo {
    fn now(&self) -> i64 {
        SystemClock.now() - 3600
    }
}

#[tokio::test]
async fn missing_malformed_forged_and_expired_tokens_are_refused() {
    const JWT_KEY: &str = "the-test-servers-jwt-key-0123456789";
    let s = TestServer::start_with(|c| c.jwt_secret = Some(JWT_KEY.into())).await;
    let anon = s.anonymous();
    assert_eq!(anon.error(ME, json!({})).await.0, "UNAUTHENTICATED");
    assert_eq!(anon.with_token("garbage").error(ME, json!({})).await.0, "INVALID_TOKEN");

    // Same claims, signed with another key.
    let forged = signer(&[9u8; 32], 60, Arc::new(SystemClock)).issue(&s.pool_id, 0).unwrap().token;
    let (code, msg) = anon.with_token(&forged).error(ME, json!({})).await;
    assert_eq!(code, "INVALID_TOKEN");
    assert!(msg.contains("signature"), "{msg}");

    // `alg: none` with the right claims.
    let real = s.admin().await.token.unwrap();
    let parts: Vec<&str> = real.split('.').collect();
    let none_header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{}.", parts[1]);
    assert_eq!(anon.with_token(&unsigned).error(ME, json!({})).await.0, "INVALID_TOKEN");

    // A token past its exp: signed with the server's key by a clock an hour behind.
    let past = signer(JWT_KEY.as_bytes(), 60, Arc::new(HourAgo));
    let expired = anon.with_token(&past.issue(&s.pool_id, 0).unwrap().token);
    let (code, _) = expired.error(ME, json!({})).await;
    assert_eq!(code, "TOKEN_EXPIRED");
    // The same by the system clock is valid: time alone refused the other.
    let present = signer(JWT_KEY.as_bytes(), 60, Arc::new(SystemClock));
    anon.with_token(&present.issue(&s.pool_id, 0).unwrap().token).data(ME, json!({})).await;
}

#[tokio::test]
async fn pool_header_must_match_the_token() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let mut wrong = admin.clone();
    wrong.pool_header = Some("another-pool".into());
    let (code, msg) = wrong.error(ME, json!({})).await;
    assert_eq!(code, "FORBIDDEN");
    assert!(msg.contains("another-pool"), "{msg}");
    // Without the header the token alone decides.
    let mut none = admin.clone();
    none.pool_header = None;
    none.data(ME, json!({})).await;
}

const REFRESH: &str = "mutation($t: String) { refreshAccessToken(accessToken: $t) { accessToken exp iat } }";

#[tokio::test]
async fn refresh_access_token_gives_a_new_token_for_the_same_pool() {
    const JWT_KEY: &str = "the-test-servers-jwt-key-0123456789";
    let s = TestServer::start_with(|c| c.jwt_secret = Some(JWT_KEY.into())).await;
    let admin = s.admin().await;
    let old = admin.token.clone().unwrap();
    let data = s.anonymous().data(REFRESH, json!({ "t": old })).await;
    let new = data["refreshAccessToken"]["accessToken"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(claims(new)["scoped_userpool_id"], s.pool_id.as_str());
    s.anonymous().with_token(new).data(ME, json!({})).await;

    // Without the argument, the bearer token is refreshed: here one issued an hour ago (by the
    // server's key), so the new one's exp is later by that hour, of the same pool and session.
    let hour_old = signer(JWT_KEY.as_bytes(), 86_400, Arc::new(HourAgo)).issue(&s.pool_id, 0).unwrap().token;
    let bearer = s.anonymous().with_token(&hour_old);
    let data = bearer.data(REFRESH, json!({})).await;
    let res = &data["refreshAccessToken"];
    let refreshed = res["accessToken"].as_str().expect("a token");
    let (before, after) = (claims(&hour_old), claims(refreshed));
    assert_eq!(after["scoped_userpool_id"], s.pool_id.as_str(), "the same pool");
    assert_eq!(after["exp"], res["exp"]);
    assert!(after["exp"].as_i64().unwrap() >= before["exp"].as_i64().unwrap() + 3_600, "later: {before} then {after}");
    assert_eq!(after["auth_time"], before["auth_time"], "the same session");
    // It authenticates, for its pool: users made with it are the pool's.
    let fresh = s.anonymous().with_token(refreshed);
    fresh.data("mutation { createUser(userInfo: { username: \"by-refreshed\" }) { id } }", json!({})).await;
    let listed = admin.data("{ users { totalCount list { username } } }", json!({})).await;
    assert_eq!(listed["users"], json!({ "totalCount": 1, "list": [{ "username": "by-refreshed" }] }));

    // Nothing to refresh, or a bad token.
    assert_eq!(s.anonymous().error(REFRESH, json!({})).await.0, "UNAUTHENTICATED");
    assert_eq!(s.anonymous().error(REFRESH, json!({ "t": "x.y.z" })).await.0, "INVALID_TOKEN");
}

#[tokio::test]
async fn refreshing_never_extends_a_session_past_its_maximum_lifetime() {
    let s = TestServer::start_with(|c| {
        c.token_ttl_secs = 2;
        c.token_max_lifetime_secs = 3;
    })
    .await;
    let login = s.admin().await.token.unwrap();
    let start = claims(&login)["iat"].as_i64().unwrap();
    assert_eq!(claims(&login)["auth_time"], start);
    // Refresh the newest token again and again until refused: every new token ends by the
    // login + 3 s and keeps the login time; the refusal comes once the last one has expired.
    let chain = std::sync::Mutex::new((login, Vec::<i64>::new()));
    let refusal = wait_for_value("the refresh chain to be refused", || async {
        let current = chain.lock().unwrap().0.clone();
        let res = s.anonymous().gql(REFRESH, json!({ "t": current })).await;
        let Some(next) = res["data"]["refreshAccessToken"]["accessToken"].as_str() else {
            return Some(res["errors"][0]["extensions"]["code"].as_str().unwrap_or("").to_string());
        };
        let c = claims(next);
        assert_eq!(c["auth_time"], start, "the session's start is kept");
        let exp = c["exp"].as_i64().unwrap();
        assert!(exp <= start + 3, "exp {exp} is past the login {start} + 3 s");
        let mut chain = chain.lock().unwrap();
        chain.0 = next.to_string();
        chain.1.push(exp);
        None
    })
    .await;
    assert_eq!(refusal, "TOKEN_EXPIRED");
    let (last, exps) = chain.into_inner().unwrap();
    assert_eq!(exps.last(), Some(&(start + 3)), "the chain reached the session's end: {exps:?}");
    assert!(SystemClock.now() > start + 3, "refused only after the end");
    assert_eq!(s.anonymous().with_token(&last).error(REFRESH, json!({})).await.0, "TOKEN_EXPIRED", "as the bearer too");
    // A new login begins a new session.
    s.admin().await.data(REFRESH, json!({})).await;
}

#[tokio::test]
async fn v3_management_token_route() {
    let s = TestServer::start().await;
    let anon = s.anonymous();
    let res = anon
        .post_json("/api/v3/get-management-token", json!({ "accessKeyId": s.pool_id, "accessKeySecret": POOL_SECRET }))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["statusCode"], 200);
    assert_eq!(body["data"]["expires_in"], 86_400);
    let token = body["data"]["access_token"].as_str().expect("access_token");
    assert_eq!(claims(token)["scoped_userpool_id"], s.pool_id.as_str());
    anon.with_token(token).data(ME, json!({})).await;

    let res = anon
        .post_json("/api/v3/get-management-token", json!({ "accessKeyId": s.pool_id, "accessKeySecret": "nope" }))
        .await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["statusCode"], 401);
    assert_eq!(body["errorCode"], "INVALID_CREDENTIALS");

    let res = anon.post_json("/api/v3/get-management-token", json!({})).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn the_signing_key_is_kept_in_the_database_across_restarts() {
    let s = TestServer::start().await;
    let token = s.admin().await.token.unwrap();
    let url = s.db.url.clone();
    let pool = s.pool_id.clone();
    // A second server on the same database accepts the first one's token.
    let mut config = crate::harness::test_config(&url);
    config.bootstrap_pool_id = Some(pool);
    let (state, _) = orgraph::state::AppState::open(config).await.expect("second start");
    let verified = state.tokens.verify(&token).await.expect("same key");
    assert_eq!(verified.scoped_userpool_id, s.pool_id);
}

/// How each surface answers a request with `c`'s token, in the form each gives a refused token:
/// GraphQL on `/graphql` and `/graphql/v2` (`extensions.code`; `/graphql/v2` also Authing's
/// number), v2 REST (the envelope's `errorCode` and `code`, HTTP 200) and v3 REST (`errorCode`
/// and the HTTP status). "ok" where the request was served.
async fn surfaces(c: &Client) -> [String; 4] {
    let spec = c.gql_at("/graphql", ME, json!({})).await;
    let spec = match &spec["errors"][0] {
        Value::Null => "ok".to_string(),
        e => e["extensions"]["code"].as_str().unwrap_or("?").to_string(),
    };
    let v2 = c.gql(ME, json!({})).await;
    let v2 = match &v2["errors"][0] {
        Value::Null => "ok".to_string(),
        e => format!("{} {}", e["extensions"]["code"].as_str().unwrap_or("?"), e["message"]["code"]),
    };
    let res = c.get("/api/v2/orgs/count").await;
    let http = res.status().as_u16();
    let body: Value = res.json().await.expect("a v2 envelope");
    let rest_v2 = match body["code"].as_i64() {
        Some(200) => "ok".to_string(),
        _ => format!("{} {} {http}", body["errorCode"].as_str().unwrap_or("?"), body["code"]),
    };
    let res = c.get("/api/v3/list-organizations?page=1&limit=1").await;
    let http = res.status().as_u16();
    let body: Value = res.json().await.expect("a v3 envelope");
    let rest_v3 = match body["statusCode"].as_i64() {
        Some(200) => "ok".to_string(),
        _ => format!("{} {http}", body["errorCode"].as_str().unwrap_or("?")),
    };
    [spec, v2, rest_v2, rest_v3]
}

const SERVED: [&str; 4] = ["ok", "ok", "ok", "ok"];
/// What every surface answers an invalid token (a forged one answers the same).
const REFUSED: [&str; 4] = ["INVALID_TOKEN", "INVALID_TOKEN 2207", "INVALID_TOKEN 2207 200", "INVALID_TOKEN 401"];

/// The same client, on another instance.
fn at(c: &Client, other: &TestServer) -> Client {
    Client { base: other.url.clone(), ..c.clone() }
}

#[tokio::test]
async fn a_secret_reset_by_the_command_line_revokes_earlier_tokens_on_every_surface_and_instance() {
    const BOUND: u64 = 2;
    let s = TestServer::start_with(|c| c.token_revocation_check_secs = BOUND).await;
    let other = s.second_with(|c| c.token_revocation_check_secs = BOUND).await;
    // A token of the first pool, served (and so remembered) by both instances; and a token of
    // another pool.
    let old = s.admin().await;
    assert_eq!(surfaces(&old).await, SERVED);
    assert_eq!(surfaces(&at(&old, &other)).await, SERVED);
    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;
    // A forged token is refused in the same forms a revoked one will be.
    assert_eq!(surfaces(&old.with_token("not.a.token")).await, REFUSED);

    // `orgraph pool reset-secret`, in its own process.
    let out = orgraph(&s, &["pool", "reset-secret", &s.pool_id]).await;
    let reset = std::time::Instant::now();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let secret = stdout.lines().find_map(|l| l.strip_prefix("secret:")).map(str::trim).expect("the new secret printed").to_string();

    // Both instances refuse the old token on every surface, within the bound (and some slack
    // for a busy machine).
    for (name, client) in [("this instance", old.clone()), ("the other instance", at(&old, &other))] {
        crate::harness::wait_until(&format!("{name} to refuse the old token"), || async { surfaces(&client).await == REFUSED }).await;
        let waited = reset.elapsed();
        assert!(waited <= Duration::from_secs(BOUND + 3), "{name} refused it only after {waited:?}");
        let (_, message) = client.error(ME, json!({})).await;
        assert!(message.contains("secret was changed"), "{message}");
    }
    // It can be refreshed into a new one nowhere; the old secret logs in no more.
    assert_eq!(old.error(REFRESH, json!({})).await.0, "INVALID_TOKEN");
    let (code, _) = other.anonymous().error(REFRESH, json!({ "t": old.token })).await;
    assert_eq!(code, "INVALID_TOKEN");
    let (code, _) = s.anonymous().error(ACCESS_TOKEN, json!({ "id": s.pool_id, "s": POOL_SECRET })).await;
    assert_eq!(code, "INVALID_CREDENTIALS");

    // A token of the new secret is served by both; the other pool's never stopped being.
    let new = s.client_for(&s.pool_id, &secret).await;
    assert_eq!(surfaces(&new).await, SERVED);
    assert_eq!(surfaces(&at(&new, &other)).await, SERVED);
    assert_eq!(surfaces(&b).await, SERVED);
    assert_eq!(surfaces(&at(&b, &other)).await, SERVED);
}

#[tokio::test]
async fn a_secret_changed_in_this_process_or_at_start_revokes_there_at_once() {
    let s = TestServer::start().await;
    let old = s.admin().await;
    // A remembered token costs no statement.
    let remembered = statements_of(&s, || async { old.data("{ __typename }", json!({})).await; }).await;
    assert_eq!(remembered, 0, "no query per request");

    // Reset by this process: refused at once (no waiting for the bound of 5 s).
    let secret = s.state.pools.reset_secret(&s.pool_id).await.expect("reset");
    assert_eq!(surfaces(&old).await, REFUSED);
    let current = s.client_for(&s.pool_id, &secret).await;
    assert_eq!(surfaces(&current).await, SERVED);

    // An instance started with another configured secret sets it, which revokes the tokens of
    // the one before: at once on that instance, within the bound on the first.
    let restarted = s.second_with(|c| c.bootstrap_pool_secret = Some("another-secret-0123456789abcdef".into())).await;
    assert_eq!(surfaces(&at(&current, &restarted)).await, REFUSED);
    crate::harness::wait_until("the first instance to refuse it", || async { surfaces(&current).await == REFUSED }).await;
    let newest = restarted.client_for(&s.pool_id, "another-secret-0123456789abcdef").await;
    assert_eq!(surfaces(&newest).await, SERVED);
    assert_eq!(surfaces(&at(&newest, &s)).await, SERVED);
}
