//! Authing's REST answers: v2 `{code, message, data}` and v3 `{statusCode, message, data}`.
//! Errors keep the same envelope, with the HTTP status as `code`/`statusCode` and our stable code
//! as `errorCode`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::json;

use crate::error::AppError;

pub fn v2_ok<T: Serialize>(data: T) -> Response {
    Json(json!({ "code": 200, "message": "", "data": data })).into_response()
}

pub fn v3_ok<T: Serialize>(data: T) -> Response {
    Json(json!({ "statusCode": 200, "message": "", "data": data })).into_response()
}

fn status_of(err: &AppError) -> StatusCode {
    match err {
        AppError::Unauthenticated
        | AppError::InvalidToken(_)
        | AppError::TokenExpired
        | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound { .. } => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The answer with `Retry-After` when the error says when to retry.
fn with_retry_after(err: &AppError, body: serde_json::Value) -> Response {
    let status = status_of(err);
    match err.retry_after() {
        Some(secs) => (status, [(axum::http::header::RETRY_AFTER, secs.to_string())], Json(body)).into_response(),
        None => (status, Json(body)).into_response(),
    }
}

/// A v2 error answer.
pub struct V2Error(pub AppError);
/// A v3 error answer.
pub struct V3Error(pub AppError);

impl From<AppError> for V2Error {
    fn from(e: AppError) -> Self {
        V2Error(e)
    }
}

impl From<AppError> for V3Error {
    fn from(e: AppError) -> Self {
        V3Error(e)
    }
}

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        self.0.log_if_internal();
        let status = status_of(&self.0);
        let body = json!({
            "code": status.as_u16(), "message": self.0.to_string(), "errorCode": self.0.code(), "data": null,
        });
        with_retry_after(&self.0, body)
    }
}

impl IntoResponse for V3Error {
    fn into_response(self) -> Response {
        self.0.log_if_internal();
        let status = status_of(&self.0);
        let body = json!({
            "statusCode": status.as_u16(), "message": self.0.to_string(), "errorCode": self.0.code(), "data": null,
        });
        with_retry_after(&self.0, body)
    }
}
