//! GraphQL over HTTP: `POST /graphql/v2` and `POST /graphql` (the playground on `GET /graphql` is
//! playground.rs).

use async_graphql_axum::GraphQLRequest;
use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::HttpState;
use crate::{
    auth::Auth,
    error::{authing_code_of, code, http_status_of},
    graphql::{context::ClientAddress, errors::ensure_codes, raw_json::RawJson},
};

/// `POST /graphql`: spec-compliant answers (`message` a string, the code in `extensions.code`),
/// for graphql-js clients and the playground.
pub async fn execute(
    State(http): State<HttpState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    req: GraphQLRequest,
) -> Response {
    let (mut response, raw) = run(&http, &headers, &extensions, req.into_inner()).await;
    let retry = retry_after(&response);
    // The headers async-graphql-axum's `GraphQLResponse` sets, with the placed JSON written in.
    let mut headers = std::mem::take(&mut response.http_headers);
    if response.is_ok()
        && let Some(cache_control) = response.cache_control.value()
        && let Ok(value) = HeaderValue::from_str(&cache_control)
    {
        headers.insert(header::CACHE_CONTROL, value);
    }
    let mut answer = json_answer(&response, &raw, "application/graphql-response+json");
    answer.headers_mut().extend(headers);
    with_retry_after(answer, retry)
}

/// `POST /graphql/v2`, Authing's endpoint: each error's `message` is the object its SDKs read,
/// `{code, message, statusCode, data}` with Authing's numeric code; `extensions.code` stays.
pub async fn execute_v2(
    State(http): State<HttpState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    req: GraphQLRequest,
) -> Response {
    let mut request = req.into_inner();
    super::php_variables::empty_arrays_as_null(&mut request);
    let (response, raw) = run(&http, &headers, &extensions, request).await;
    let retry = retry_after(&response);
    if response.errors.is_empty() {
        // Nothing to rewrite: serialized once, straight from the response (a whole org's listing
        // is megabytes; going through `serde_json::Value` doubled its cost).
        return with_retry_after(json_answer(&response, &raw, "application/json"), retry);
    }
    let mut body = serde_json::to_value(&response).unwrap_or(Value::Null);
    if let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) {
        for error in errors {
            let code = error.pointer("/extensions/code").and_then(Value::as_str).unwrap_or(code::INTERNAL_SERVER_ERROR).to_string();
            let numeric = error.pointer("/extensions/authingCode").and_then(Value::as_i64).unwrap_or_else(|| authing_code_of(&code));
            let text = error.get("message").and_then(Value::as_str).unwrap_or("").to_string();
            error["message"] = authing_message(numeric, &text, http_status_of(&code));
        }
    }
    with_retry_after(json_answer(&body, &raw, "application/json"), retry)
}

/// An error's `message` on `/graphql/v2`: the object Authing's SDKs read.
pub(super) fn authing_message(code: i64, text: &str, status: u16) -> Value {
    json!({ "code": code, "message": text, "statusCode": status, "data": null })
}

/// `answer` as a JSON body of `content_type`, with the JSON its resolvers placed (see
/// `graphql::raw_json`) written in; like axum's `Json`, 500 if it cannot be serialized.
fn json_answer(answer: &impl serde::Serialize, raw: &RawJson, content_type: &'static str) -> Response {
    match serde_json::to_vec(answer) {
        Ok(bytes) => ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], raw.splice(bytes)).into_response(),
        Err(err) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
    }
}

/// Execute `request`; resolvers may place serialized JSON in the returned `RawJson`.
async fn run(http: &HttpState, headers: &HeaderMap, extensions: &axum::http::Extensions, request: async_graphql::Request) -> (async_graphql::Response, Arc<RawJson>) {
    let auth = Auth::from_headers(&http.app.tokens, headers).await;
    let raw = Arc::new(RawJson::default());
    let mut request = request.data(auth).data(raw.clone());
    if let Some(address) = super::client_address::client_address(extensions) {
        request = request.data(ClientAddress(address));
    }
    let mut response = http.schema.execute(request).await;
    ensure_codes(&mut response);
    for error in &response.errors {
        let code = error.extensions.as_ref().and_then(|e| e.get("code")).map(|c| c.to_string());
        tracing::debug!(code = code.as_deref().unwrap_or(""), message = %error.message, "graphql error");
    }
    (response, raw)
}

/// The longest `retryAfter` of the errors, if any is worth retrying.
fn retry_after(response: &async_graphql::Response) -> Option<u64> {
    response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref().and_then(|x| x.get("retryAfter")))
        .filter_map(|v| match v {
            async_graphql::Value::Number(n) => n.as_u64(),
            _ => None,
        })
        .max()
}

fn with_retry_after(mut response: Response, secs: Option<u64>) -> Response {
    if let Some(secs) = secs
        && let Ok(v) = secs.to_string().parse()
    {
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    response
}
