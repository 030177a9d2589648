//! Access tokens: GraphQL `accessToken`/`refreshAccessToken`, the v3 REST route, and every way a
//! token can be wrong.

use base64::Engine as _;
use orgraph::security::tokens::{Clock, SystemClock, TokenService};
use serde_json::{Value, json};

use crate::harness::{POOL_SECRET, TestServer};

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

#[tokio::test]
async fn missing_malformed_forged_and_expired_tokens_are_refused() {
    const JWT_KEY: &str = "the-test-servers-jwt-key-0123456789";
    let s = TestServer::start_with(|c| c.jwt_secret = Some(JWT_KEY.into())).await;
    let anon = s.anonymous();
    assert_eq!(anon.error(ME, json!({})).await.0, "UNAUTHENTICATED");
    assert_eq!(anon.with_token("garbage").error(ME, json!({})).await.0, "INVALID_TOKEN");

    // Same claims, signed with another key.
    let other = TokenService::new(&[9u8; 32], std::time::Duration::from_secs(60)).unwrap();
    let forged = other.issue(&s.pool_id).unwrap().token;
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
    struct HourAgo;
    impl Clock for HourAgo {
        fn now(&self) -> i64 {
            SystemClock.now() - 3600
        }
    }
    let past = TokenService::with_clock(JWT_KEY.as_bytes(), std::time::Duration::from_secs(60), std::sync::Arc::new(HourAgo)).unwrap();
    let expired = anon.with_token(&past.issue(&s.pool_id).unwrap().token);
    let (code, _) = expired.error(ME, json!({})).await;
    assert_eq!(code, "TOKEN_EXPIRED");
    // The same by the system clock is valid: time alone refused the other.
    let present = TokenService::new(JWT_KEY.as_bytes(), std::time::Duration::from_secs(60)).unwrap();
    anon.with_token(&present.issue(&s.pool_id).unwrap().token).data(ME, json!({})).await;
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

#[tokio::test]
async fn refresh_access_token_gives_a_new_token_for_the_same_pool() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let old = admin.token.clone().unwrap();
    let q = "mutation($t: String) { refreshAccessToken(accessToken: $t) { accessToken exp iat } }";
    let data = s.anonymous().data(q, json!({ "t": old })).await;
    let new = data["refreshAccessToken"]["accessToken"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(claims(new)["scoped_userpool_id"], s.pool_id.as_str());
    s.anonymous().with_token(new).data(ME, json!({})).await;
    // Without the argument, the bearer token is refreshed.
    let data = admin.data(q, json!({})).await;
    assert!(data["refreshAccessToken"]["accessToken"].is_string());
    // Nothing to refresh, or a bad token.
    assert_eq!(s.anonymous().error(q, json!({})).await.0, "UNAUTHENTICATED");
    assert_eq!(s.anonymous().error(q, json!({ "t": "x.y.z" })).await.0, "INVALID_TOKEN");
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
    let verified = state.tokens.verify(&token).expect("same key");
    assert_eq!(verified.scoped_userpool_id, s.pool_id);
}
