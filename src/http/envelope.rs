//! Authing's REST answers: v2 `{code, message, data}` and v3 `{statusCode, message, apiCode,
//! requestId, data}`. The one conversion of domain errors for REST:
//!
//! - v2 errors answer HTTP 200, as Authing does: its SDKs read the body only of 2xx answers (axios
//!   throws a bare "Request failed with status code 404" otherwise, PHP a generic exception), so
//!   the numeric `code` (see `AppError::authing_code`), `message`, `statusCode` (the HTTP status
//!   the error stands for) and `errorCode` (the stable code) travel in the body.
//! - v3 errors answer with their HTTP status, also in `statusCode`, and the numeric `apiCode`;
//!   except to authing-node-sdk (see [`v3_status_for_node_sdk`]).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::json;

use crate::error::{AppError, http_status_of};

/// A v2 success whose documented sample answers an empty message (or that has no sample).
pub fn v2_ok<T: Serialize>(data: T) -> Response {
    v2_ok_saying("", data)
}

/// A v2 success with Authing's message for that route (`super::v2_messages`).
pub fn v2_ok_saying<T: Serialize>(message: &'static str, data: T) -> Response {
    Json(json!({ "code": 200, "message": message, "data": data })).into_response()
}

pub fn v3_ok<T: Serialize>(data: T) -> Response {
    Json(json!({ "statusCode": 200, "message": "", "apiCode": 200, "requestId": crate::ids::new_id(), "data": data })).into_response()
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
        let err = self.0;
        err.log_if_internal();
        let body = json!({
            "code": err.authing_code(), "message": err.to_string(), "statusCode": http_status_of(err.code()),
            "errorCode": err.code(), "data": null,
        });
        answer(StatusCode::OK, &err, body)
    }
}

impl IntoResponse for V3Error {
    fn into_response(self) -> Response {
        let err = self.0;
        err.log_if_internal();
        let status = http_status_of(err.code());
        let body = json!({
            "statusCode": status, "message": err.to_string(), "apiCode": err.authing_code(), "errorCode": err.code(),
            "requestId": crate::ids::new_id(), "data": null,
        });
        answer(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), &err, body)
    }
}

/// The answer, with `Retry-After` when the error says when to retry.
fn answer(status: StatusCode, err: &AppError, body: serde_json::Value) -> Response {
    match err.retry_after() {
        Some(secs) => (status, [(axum::http::header::RETRY_AFTER, secs.to_string())], Json(body)).into_response(),
        None => (status, Json(body)).into_response(),
    }
}

/// True when the answer already is JSON (an envelope).
fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("application/graphql-response+json"))
}

/// The v2 REST router's error layer: answers no handler made (an unknown route, a body that is
/// not JSON, a method the route does not take, a body over the limit, a timeout) become v2
/// envelopes too; the SDKs parse every answer as JSON.
pub async fn v2_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    match unenveloped_error(response).await {
        Ok(response) => response,
        Err((status, code, text)) => {
            let body = json!({ "code": status.as_u16(), "message": text, "statusCode": status.as_u16(), "errorCode": code, "data": null });
            (status, Json(body)).into_response()
        }
    }
}

/// The v3 router's error layer: the same, as v3 envelopes.
pub async fn v3_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    match unenveloped_error(response).await {
        Ok(response) => response,
        Err((status, code, text)) => {
            let body = json!({
                "statusCode": status.as_u16(), "message": text, "apiCode": status.as_u16(), "errorCode": code,
                "requestId": crate::ids::new_id(), "data": null,
            });
            (status, Json(body)).into_response()
        }
    }
}

/// The GraphQL routes' error layer: refusals no resolver made (a body over the limit, a
/// timeout, a method the route does not take) become GraphQL error answers, with the code in
/// `extensions.code`; on `/graphql/v2` the `message` is the object Authing's SDKs read.
/// Upgrades (101) and answers that are JSON already pass as they are.
pub async fn graphql_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let authing = req.uri().path() == "/graphql/v2";
    let answer = super::graphql_over_http::negotiate(req.headers()).unwrap_or(super::graphql_over_http::Answer::Json);
    let response = next.run(req).await;
    if !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    match unenveloped_error(response).await {
        Ok(response) => response,
        Err((status, code, text)) => graphql_error_answer(authing, answer, status, code, crate::error::authing_code_of(code), &text),
    }
}

/// A request's error as a GraphQL answer: `extensions.code`, and on `/graphql/v2` (`authing`)
/// the `message` object Authing's SDKs read.
pub fn graphql_error_answer(authing: bool, answer: super::graphql_over_http::Answer, status: StatusCode, code: &str, numeric: i64, text: &str) -> Response {
    let message = if authing { super::graphql::authing_message(numeric, text, status.as_u16()) } else { json!(text) };
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let content_type = if authing { "application/json" } else { answer.content_type() };
    match serde_json::to_vec(&body) {
        Ok(bytes) => (status, [(axum::http::header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(_) => status.into_response(),
    }
}

/// `Ok` with an answer to leave as it is (a success, or an envelope already); else the error's
/// status, stable code and text.
async fn unenveloped_error(response: Response) -> Result<Response, (StatusCode, &'static str, String)> {
    let status = response.status();
    if status.is_success() || is_json(&response) {
        return Ok(response);
    }
    let text = match axum::body::to_bytes(response.into_body(), 4096).await {
        Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).into_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let code = match status.as_u16() {
        400 | 405 | 411 | 413 | 415 | 422 => "INVALID_INPUT",
        404 => "NOT_FOUND",
        408 => "SERVICE_UNAVAILABLE",
        _ => "INTERNAL_SERVER_ERROR",
    };
    Err((status, code, text))
}

/// A route under `/api/` that does not exist: 404, made an envelope by its dialect's error layer.
pub async fn unknown_api_route(uri: axum::http::Uri) -> (StatusCode, String) {
    (StatusCode::NOT_FOUND, format!("no such route: {}", uri.path()))
}

/// authing-node-sdk (axios) throws a bare "Request failed with status code 404" on any non-2xx
/// answer and its callers read `statusCode` from the body: GenAuth answers its v3 errors with HTTP
/// 200 (the SDK's own test suite expects `{statusCode: 404}` from failed calls). So v3 answers to
/// that SDK (its `x-authing-sdk-version` header) carry HTTP 200; the envelope keeps the status.
/// A layer of the v3 router, outside its error layer.
pub async fn v3_status_for_node_sdk(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let node_sdk = req
        .headers()
        .get("x-authing-sdk-version")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("authing-node-sdk"));
    let mut response = next.run(req).await;
    let is_json = is_json(&response);
    if node_sdk && is_json && (response.status().is_client_error() || response.status().is_server_error()) {
        *response.status_mut() = StatusCode::OK;
    }
    response
}
