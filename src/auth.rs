//! Who is calling: the pool of a verified bearer token, checked against the
//! `x-authing-userpool-id` header the SDKs send.

use axum::http::HeaderMap;

use std::sync::Arc;

use crate::{
    domain::PoolId,
    error::AppError,
    security::tokens::{Claims, TokenService},
};

pub const POOL_HEADER: &str = "x-authing-userpool-id";

/// The outcome of reading a request's credentials. Operations that need a pool call
/// [`Auth::require`]; the others (`accessToken`, health checks) ignore it.
#[derive(Debug, Clone)]
pub enum Auth {
    Anonymous,
    /// A valid token: its pool, and its claims (what `refreshAccessToken` renews).
    Pool(PoolId, Arc<Claims>),
    Rejected(Rejection),
}

#[derive(Debug, Clone)]
pub enum Rejection {
    Invalid(String),
    Expired,
    PoolMismatch { token_pool: String, header_pool: String },
}

impl Auth {
    pub async fn from_headers(tokens: &TokenService, headers: &HeaderMap) -> Auth {
        let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else { return Auth::Anonymous };
        let Some(token) = value.to_str().ok().and_then(bearer) else {
            return Auth::Rejected(Rejection::Invalid("Authorization must be `Bearer <token>`".into()));
        };
        let claims = match tokens.verify(token).await {
            Ok(c) => c,
            Err(AppError::TokenExpired) => return Auth::Rejected(Rejection::Expired),
            Err(e) => return Auth::Rejected(Rejection::Invalid(e.to_string())),
        };
        let header_pool = headers.get(POOL_HEADER).and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or("");
        if !header_pool.is_empty() && header_pool != claims.scoped_userpool_id {
            return Auth::Rejected(Rejection::PoolMismatch {
                token_pool: claims.scoped_userpool_id,
                header_pool: header_pool.to_string(),
            });
        }
        Auth::Pool(PoolId::trusted(claims.scoped_userpool_id.clone()).acting_as(&claims.sub), Arc::new(claims))
    }

    /// The caller's pool, or why there is none.
    pub fn require(&self) -> Result<PoolId, AppError> {
        self.claims().map(|c| PoolId::trusted(c.scoped_userpool_id.clone()).acting_as(&c.sub))
    }

    /// The claims of the caller's token, or why there is none.
    pub fn claims(&self) -> Result<Arc<Claims>, AppError> {
        match self {
            Auth::Pool(_, claims) => Ok(claims.clone()),
            Auth::Anonymous => Err(AppError::Unauthenticated),
            Auth::Rejected(Rejection::Expired) => Err(AppError::TokenExpired),
            Auth::Rejected(Rejection::Invalid(why)) => Err(AppError::InvalidToken(why.clone())),
            Auth::Rejected(Rejection::PoolMismatch { token_pool, header_pool }) => Err(AppError::Forbidden(
                format!("the token is for user pool {token_pool}, the {POOL_HEADER} header names {header_pool}"),
            )),
        }
    }
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}
