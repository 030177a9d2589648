//! `Idempotency-Key` on the routes that change things: POSTs to `/graphql`, `/graphql/v2` and
//! `/api/v3/*`. The caller's pool is found as the route finds it (a bearer token, or a v3
//! signature, verified here once and handed on), the request is fingerprinted (method, path,
//! query, content type, body), and `domain::idempotency` decides: run it, replay the first
//! answer, or refuse, in the route's dialect. A request without the header, or whose caller is
//! unknown, passes untouched (the route answers it).

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{HttpState, envelope::V3Error, v3::call::{signed_credential, verify_signed_request}};
use crate::{
    auth::Auth,
    domain::{
        PoolId,
        idempotency::{Answer, Claim, MAX_ANSWER_BYTES},
    },
    error::{AppError, code},
};

pub const HEADER: &str = "idempotency-key";
/// Set on an answer replayed from a key.
pub const REPLAYED: &str = "idempotent-replayed";

/// The pool of a v3 request whose signature this layer verified (the route does not verify it
/// again).
#[derive(Clone)]
pub struct SignedCaller(pub PoolId);

#[derive(Clone, Copy)]
enum Dialect {
    Graphql(super::graphql_over_http::Answer),
    Authing,
    V3,
}

impl Dialect {
    fn of(path: &str, headers: &HeaderMap) -> Self {
        if path == "/graphql/v2" {
            Dialect::Authing
        } else if path.starts_with("/api/v3/") {
            Dialect::V3
        } else {
            Dialect::Graphql(super::graphql_over_http::negotiate(headers).unwrap_or(super::graphql_over_http::Answer::Json))
        }
    }

    fn error(self, err: AppError) -> Response {
        let status = StatusCode::from_u16(crate::error::http_status_of(err.code())).unwrap_or(StatusCode::BAD_REQUEST);
        match self {
            Dialect::V3 => V3Error(err).into_response(),
            Dialect::Authing => super::envelope::graphql_error_answer(true, super::graphql_over_http::Answer::Json, status, err.code(), err.authing_code(), &err.to_string()),
            Dialect::Graphql(answer) => super::envelope::graphql_error_answer(false, answer, status, err.code(), err.authing_code(), &err.to_string()),
        }
    }
}

pub async fn layer(State(http): State<HttpState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.headers().contains_key(HEADER) {
        return next.run(req).await;
    }
    let dialect = Dialect::of(req.uri().path(), req.headers());
    if super::graphql_sse::asks_for_events(req.headers()) {
        // An event stream runs its operation while the answer is sent, after this layer is done.
        return dialect.error(AppError::invalid("Idempotency-Key", "Idempotency-Key is not taken with Accept: text/event-stream; send the mutation as a plain POST"));
    }
    let (req, claim) = match prepare(&http, dialect, req).await {
        Ok(prepared) => prepared,
        Err(answer) => return answer,
    };
    let claimed = match claim {
        None => return next.run(req).await,
        Some(Claim::Replay(answer)) => return replay(answer),
        Some(Claim::Run(claimed)) => claimed,
    };
    // Run to the end, and keep the answer, even if the client goes away meanwhile: its retry
    // then gets the answer rather than a request cut short.
    let run = tokio::spawn({
        let http = http.clone();
        async move {
            let mut guard = Unfinished(Some((http.clone(), claimed.clone())));
            let response = claimed.scope(next.run(req)).await;
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await;
            let kept = bytes.as_ref().ok().and_then(|bytes| kept_answer(&parts, bytes));
            guard.0 = None;
            finish(&http, &claimed, kept).await;
            (parts, bytes)
        }
    });
    match run.await {
        Ok((parts, Ok(bytes))) => Response::from_parts(parts, Body::from(bytes)),
        _ => dialect.error(AppError::internal(anyhow::anyhow!("the answer of a keyed request could not be read"))),
    }
}

/// The request with its body read back in, and what its key says: nothing (no known caller: the
/// route answers it), run it, or replay; `Err`: the answer (a refusal). The body is read within
/// the request timeout; the wait for the key's first request has its own bound (`claim`).
async fn prepare(http: &HttpState, dialect: Dialect, req: Request) -> Result<(Request, Option<Claim>), Response> {
    let (mut parts, body) = req.into_parts();
    let key = parts.headers.get(HEADER).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_string();
    let timeout = std::time::Duration::from_secs(http.app.config.limits.request_timeout_secs);
    let body = match tokio::time::timeout(timeout, axum::body::to_bytes(body, http.app.config.limits.max_body_bytes)).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response()),
        Err(_) => return Err(StatusCode::REQUEST_TIMEOUT.into_response()),
    };
    let pool = match signed_credential(&parts.headers).map(str::to_string) {
        Some(credential) if matches!(dialect, Dialect::V3) => {
            match verify_signed_request(http, &parts, &credential, &body).await {
                Ok(pool) => {
                    parts.extensions.insert(SignedCaller(pool.clone()));
                    Some(pool)
                }
                Err(e) => return Err(dialect.error(e)),
            }
        }
        _ => Auth::from_headers(&http.app.tokens, &parts.headers).await.require().ok(),
    };
    let claim = match pool {
        Some(pool) => Some(http.app.idempotency.claim(&pool, &key, &fingerprint(&parts, &body)).await.map_err(|e| dialect.error(e))?),
        None => None,
    };
    Ok((Request::from_parts(parts, Body::from(body)), claim))
}

/// A keyed request still running: if it ends another way (a panic), its key is released in
/// the background.
struct Unfinished(Option<(HttpState, crate::domain::idempotency::Claimed)>);

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let (Some((http, claimed)), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(async move { finish(&http, &claimed, None).await });
        }
    }
}

async fn finish(http: &HttpState, claimed: &crate::domain::idempotency::Claimed, answer: Option<Answer>) {
    if let Err(e) = http.app.idempotency.finish(claimed, answer).await {
        tracing::warn!(error = %e, "keeping an idempotency key's answer failed; a retry finds it stale");
    }
}

/// What makes two requests the same request.
fn fingerprint(parts: &axum::http::request::Parts, body: &Bytes) -> String {
    let mut hash = Sha256::new();
    for part in [parts.method.as_str(), parts.uri.path(), parts.uri.query().unwrap_or("")] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    // The answer's shape depends on Accept (GraphQL over HTTP's media types and statuses).
    for name in [header::CONTENT_TYPE, header::ACCEPT] {
        hash.update(parts.headers.get(name).map(HeaderValue::as_bytes).unwrap_or_default());
        hash.update([0]);
    }
    hash.update(body);
    hex::encode(hash.finalize())
}

/// The answer to keep for replays; none for one worth retrying (a failure on the server's side,
/// a timeout, busy), one too large, or one that is not text.
fn kept_answer(parts: &axum::http::response::Parts, body: &Bytes) -> Option<Answer> {
    let status = parts.status.as_u16();
    if parts.status.is_server_error() || status == 408 || status == 429 || body.len() > MAX_ANSWER_BYTES || retryable_graphql_error(body) {
        return None;
    }
    Some(Answer {
        status,
        content_type: parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string),
        body: String::from_utf8(body.to_vec()).ok()?,
    })
}

/// A GraphQL answer whose errors say a retry may succeed, or ask for another request (an
/// automatic persisted query the server does not know yet: the client sends the document next,
/// with the same key).
fn retryable_graphql_error(body: &Bytes) -> bool {
    let Ok(answer) = serde_json::from_slice::<Value>(body) else { return false };
    answer.get("errors").and_then(Value::as_array).is_some_and(|errors| {
        errors.iter().any(|e| {
            matches!(
                e.pointer("/extensions/code").and_then(Value::as_str),
                Some(code::SERVICE_UNAVAILABLE | code::INTERNAL_SERVER_ERROR | code::RATE_LIMITED | code::PERSISTED_QUERY_NOT_FOUND)
            )
        })
    })
}

fn replay(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    if let Some(t) = answer.content_type.and_then(|t| HeaderValue::from_str(&t).ok()) {
        response.headers_mut().insert(header::CONTENT_TYPE, t);
    }
    response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    response
}
