//! A v3 call: who is calling and with which parameters. The Python SDK sends a bearer token from
//! `get-management-token`; the Node SDK sends no token but signs each request,
//! `authorization: authing <pool id>:<base64 HMAC-SHA1(secret, text)>` (see `signature`), with a
//! `date` header that must be within [`MAX_CLOCK_SKEW_SECS`] of the server's clock.

use axum::{
    extract::{FromRequest, Request},
    http::{HeaderMap, Method, header},
};
use serde_json::Value;

use super::{params::Params, signature::strings_to_sign};
use crate::{
    auth::Auth,
    domain::PoolId,
    error::{AppError, AppResult},
    http::{HttpState, envelope::V3Error, client_address::client_address},
};

/// How far a signed request's `date` may be from the server's clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

pub struct V3Call {
    pub pool: PoolId,
    pub params: Params,
}

impl FromRequest<HttpState> for V3Call {
    type Rejection = V3Error;

    async fn from_request(req: Request, http: &HttpState) -> Result<Self, V3Error> {
        let (parts, body) = req.into_parts();
        // The body limit layer has bounded it already; this bound only repeats it.
        let body = axum::body::to_bytes(body, http.app.config.limits.max_body_bytes)
            .await
            .map_err(|_| AppError::invalid("body", "the request body could not be read (too large?)"))?;
        let signed = signed_credential(&parts.headers).map(str::to_string);
        let verified = parts.extensions.get::<crate::http::idempotency::SignedCaller>().map(|c| c.0.clone());
        let pool = match (verified, signed) {
            (Some(pool), _) => pool,
            (None, Some(credential)) => verify_signed_request(http, &parts, &credential, &body).await?,
            (None, None) => Auth::from_headers(&http.app.tokens, &parts.headers).await.require()?,
        };
        let params = if parts.method == Method::GET || parts.method == Method::DELETE {
            let pairs: Vec<(String, String)> =
                url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect();
            Params::from_query(&pairs)
        } else {
            body_params(&body)?
        };
        Ok(V3Call { pool, params })
    }
}

/// The pool of a request signed with `credential` (`<pool id>:<signature>`), its signature
/// checked against the request's method, path, query, headers and `body`.
pub async fn verify_signed_request(http: &HttpState, parts: &axum::http::request::Parts, credential: &str, body: &[u8]) -> AppResult<PoolId> {
    let texts = strings_to_sign(parts.method.as_str(), &parts.headers, parts.uri.path(), parts.uri.query(), body);
    verify_signed(http, credential, &texts, &parts.headers, client_address(&parts.extensions)).await
}

/// `<pool id>:<signature>` checked against the texts the request may have been signed as.
async fn verify_signed(
    http: &HttpState,
    credential: &str,
    texts: &[String],
    headers: &HeaderMap,
    address: Option<std::net::IpAddr>,
) -> AppResult<PoolId> {
    let (pool_id, signature) = split_credential(credential)?;
    if !texts.is_empty() {
        check_date(headers)?;
    }
    http.app.pools.authenticate_signed(pool_id, texts, signature, address).await
}

/// `<pool id>:<signature>`, the part of `authorization: authing …` after the scheme.
pub fn split_credential(credential: &str) -> AppResult<(&str, &str)> {
    credential
        .trim()
        .rsplit_once(':')
        .ok_or_else(|| AppError::InvalidToken("authorization must be `authing <accessKeyId>:<signature>`".into()))
}

/// The credential of `authorization: authing <pool id>:<signature>`, when that is the scheme.
pub fn signed_credential(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().strip_prefix("authing "))
}

/// A signed request must say when it was made, close to now: a captured request cannot be
/// replayed later than that.
fn check_date(headers: &HeaderMap) -> AppResult<()> {
    let date = headers
        .get(header::DATE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AppError::InvalidToken("a signed request needs a `date` header".into()))?;
    let at = chrono::DateTime::parse_from_rfc2822(date.trim())
        .map_err(|_| AppError::InvalidToken(format!("the date header {date:?} is not an HTTP date")))?;
    if (chrono::Utc::now().timestamp() - at.timestamp()).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(AppError::InvalidToken(format!(
            "the date header {date:?} is more than {} minutes from the server's clock",
            MAX_CLOCK_SKEW_SECS / 60
        )));
    }
    Ok(())
}

/// A POST body: a JSON object, or nothing.
fn body_params(body: &[u8]) -> AppResult<Params> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Params::default());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(Params::from_json(map)),
        Ok(_) => Err(AppError::invalid("body", "the body must be a JSON object")),
        Err(e) => Err(AppError::invalid("body", format!("the body is not JSON: {e}"))),
    }
}
