//! SCIM's error answers (RFC 7644, 3.12): `{"schemas": [Error], "status": "400", "scimType":
//! "invalidFilter", "detail": "..."}` with the HTTP status, for every refusal under `/scim/v2`,
//! those of the framework (unknown route, wrong method, body too large, timeout) included.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::schema::ERROR;
use crate::error::AppError;

pub const SCIM_JSON: &str = "application/scim+json";

#[derive(Debug)]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
    retry_after: Option<u64>,
}

impl ScimError {
    pub fn new(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError { status, scim_type, detail: detail.into(), retry_after: None }
    }

    /// A 400 with its `scimType` (`invalidFilter`, `invalidSyntax`, `invalidPath`, `invalidValue`,
    /// `noTarget`, `mutability`, `tooMany`).
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }
}

impl From<AppError> for ScimError {
    fn from(err: AppError) -> Self {
        err.log_if_internal();
        let retry_after = err.retry_after();
        let detail = err.to_string();
        let (status, scim_type) = match &err {
            AppError::NotFound { .. } => (StatusCode::NOT_FOUND, None),
            AppError::Conflict { .. } => (StatusCode::CONFLICT, Some("uniqueness")),
            // The domain refuses a filter whose comparison does not fit the attribute's type.
            AppError::InvalidInput { field: Some(f), .. } if f == "filter" => (StatusCode::BAD_REQUEST, Some("invalidFilter")),
            AppError::InvalidInput { .. } => (StatusCode::BAD_REQUEST, Some("invalidValue")),
            AppError::Unauthenticated | AppError::InvalidToken(_) | AppError::TokenExpired | AppError::InvalidCredentials => {
                (StatusCode::UNAUTHORIZED, None)
            }
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, None),
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, None),
            AppError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, None),
            AppError::Idempotency { code, .. } => (StatusCode::from_u16(crate::error::http_status_of(code)).unwrap_or(StatusCode::CONFLICT), None),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, None),
        };
        ScimError { status, scim_type, detail, retry_after }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({ "schemas": [ERROR], "status": self.status.as_str(), "detail": self.detail });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        let mut res = (self.status, body.to_string()).into_response();
        let headers = res.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scim\""));
        }
        res
    }
}

/// The SCIM router's error layer: answers no handler made (an unknown route, a method the route
/// does not take, a body over the limit, a timeout) become SCIM errors with the same status: SCIM
/// clients require an error body on every failure.
pub async fn scim_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if status.is_success() || status.is_redirection() {
        return response;
    }
    let is_scim_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(SCIM_JSON));
    if is_scim_json {
        return response;
    }
    let (scim_type, detail) = match status {
        StatusCode::NOT_FOUND => (None, "no such SCIM endpoint".to_string()),
        StatusCode::METHOD_NOT_ALLOWED => (None, "this endpoint does not take that method".to_string()),
        StatusCode::PAYLOAD_TOO_LARGE => (None, "the request body is too large".to_string()),
        StatusCode::REQUEST_TIMEOUT => (None, "the request took too long".to_string()),
        other => {
            let text = match axum::body::to_bytes(response.into_body(), 4096).await {
                Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).into_owned(),
                _ => other.canonical_reason().unwrap_or("error").to_string(),
            };
            (other.is_client_error().then_some("invalidSyntax"), text)
        }
    };
    ScimError::new(status, scim_type, detail).into_response()
}
