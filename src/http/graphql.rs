//! GraphQL over HTTP: `/graphql` (GET and POST, as graphql_over_http.rs negotiates them; the
//! playground's page is playground.rs) and Authing's `POST /graphql/v2`.

use async_graphql_axum::GraphQLRequest;
use axum::body::Bytes;
use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{HttpState, graphql_over_http as over_http};
use crate::{
    auth::Auth,
    error::{authing_code_of, code, http_status_of},
    graphql::{context::ClientAddress, errors::ensure_codes, raw_json::RawJson},
};

/// `POST /graphql`: GraphQL over HTTP as its specification has it (graphql_over_http.rs), with
/// `message` a string and the code in `extensions.code`, for graphql-js clients and the
/// playground.
pub async fn execute(State(http): State<HttpState>, headers: HeaderMap, extensions: axum::http::Extensions, body: Bytes) -> Response {
    let Some(answer) = answer_type(&headers) else { return not_acceptable() };
    match over_http::from_post(&headers, &body) {
        Ok(params) => answer_over_http(&http, &headers, &extensions, params, answer, false).await,
        Err(refusal) => refusal.into_response(answer),
    }
}

/// `GET /graphql`: a WebSocket upgrade is a subscription connection; a browser asking for a
/// page, or a GET without a GraphQL request, gets the playground; anything else is a query.
pub async fn get(state: State<HttpState>, req: axum::extract::Request) -> Response {
    let headers = req.headers();
    let wants_ws = headers.get(header::UPGRADE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if wants_ws {
        return super::subscriptions::upgrade(state, req).await;
    }
    let query_string = req.uri().query();
    if over_http::prefers_html(headers) || !(over_http::has_request(query_string) || over_http::names_json(headers)) {
        return super::playground::page(&state.0, &req);
    }
    let Some(answer) = answer_type(headers) else { return not_acceptable() };
    match over_http::from_get(query_string) {
        Ok(params) => answer_over_http(&state.0, headers, req.extensions(), params, answer, true).await,
        Err(refusal) => refusal.into_response(answer),
    }
}

/// The type of a JSON answer (a refusal's, for an event stream), or `None` for 406.
fn answer_type(headers: &HeaderMap) -> Option<over_http::Answer> {
    over_http::negotiate(headers).or_else(|| super::graphql_sse::asks_for_events(headers).then_some(over_http::Answer::Json))
}

fn not_acceptable() -> Response {
    let message = "Accept names no type this endpoint answers with: application/graphql-response+json or application/json";
    over_http::Refusal::with_status(StatusCode::NOT_ACCEPTABLE, message).into_response(over_http::Answer::Json)
}

/// The request `params` hold, once its persisted query or trusted document is in place (and,
/// over GET, once it is known to be a query).
fn prepare(http: &HttpState, headers: &HeaderMap, auth: &Auth, mut params: over_http::Params, get: bool) -> Result<async_graphql::Request, over_http::Refusal> {
    let scope = auth.require().map(|p| p.as_str().to_string()).unwrap_or_default();
    match &http.trusted {
        Some(trusted) => {
            let playground = headers.get(super::trusted_documents::PLAYGROUND_HEADER).is_some_and(|v| v == "playground") && !scope.is_empty();
            trusted.resolve(&mut params, playground)?
        }
        None => http.persisted.resolve(&scope, &mut params)?,
    }
    if get {
        params.refuse_unless_query()?;
    }
    params.into_request()
}

/// Execute the request `params` hold (its persisted query resolved first; over GET, a query
/// only) and answer as `answer` asks: a request error (the operation did not run) without
/// `data`, with 4xx for `application/graphql-response+json`.
async fn answer_over_http(
    http: &HttpState,
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
    params: over_http::Params,
    answer: over_http::Answer,
    get: bool,
) -> Response {
    let auth = Auth::from_headers(&http.app.tokens, headers).await;
    let request = match prepare(http, headers, &auth, params, get) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(answer),
    };
    if super::graphql_sse::asks_for_events(headers) {
        let request = match super::client_address::client_address(extensions) {
            Some(address) => request.data(ClientAddress(address)),
            None => request,
        };
        return super::graphql_sse::respond(http, headers, auth, request);
    }
    let (mut response, raw) = run(http, auth, extensions, request).await;
    let retry = retry_after(&response);
    let status = answer.status(&response);
    // The headers async-graphql-axum's `GraphQLResponse` sets, with the placed JSON written in.
    let mut headers = std::mem::take(&mut response.http_headers);
    if response.is_ok()
        && let Some(cache_control) = response.cache_control.value()
        && let Ok(value) = HeaderValue::from_str(&cache_control)
    {
        headers.insert(header::CACHE_CONTROL, value);
    }
    let mut res = if over_http::request_error_code(&response).is_some() {
        // Nothing ran: the spec leaves `data` out.
        let mut body = serde_json::to_value(&response).unwrap_or(Value::Null);
        if let Some(map) = body.as_object_mut() {
            map.remove("data");
        }
        json_answer(&body, &raw, answer.content_type())
    } else {
        json_answer(&response, &raw, answer.content_type())
    };
    *res.status_mut() = status;
    res.headers_mut().extend(headers);
    with_retry_after(res, retry)
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
    let auth = Auth::from_headers(&http.app.tokens, &headers).await;
    let (response, raw) = run(&http, auth, &extensions, request).await;
    let retry = retry_after(&response);
    if response.errors.is_empty() {
        // Nothing to rewrite: serialized once, straight from the response (a whole org's listing
        // is megabytes; going through `serde_json::Value` doubled its cost).
        return with_retry_after(json_answer(&response, &raw, "application/json"), retry);
    }
    // Only the errors are rewritten: `data` is written as it is, its fields in selection order
    // (a `serde_json::Value` would sort them).
    let errors: Vec<Value> = response
        .errors
        .iter()
        .map(|error| {
            let mut error = serde_json::to_value(error).unwrap_or(Value::Null);
            let code = error.pointer("/extensions/code").and_then(Value::as_str).unwrap_or(code::INTERNAL_SERVER_ERROR).to_string();
            let numeric = error.pointer("/extensions/authingCode").and_then(Value::as_i64).unwrap_or_else(|| authing_code_of(&code));
            let text = error.get("message").and_then(Value::as_str).unwrap_or("").to_string();
            error["message"] = authing_message(numeric, &text, http_status_of(&code));
            error
        })
        .collect();
    #[derive(serde::Serialize)]
    struct Answer<'a> {
        data: &'a async_graphql::Value,
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
        errors: Vec<Value>,
    }
    let body = Answer { data: &response.data, extensions: &response.extensions, errors };
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
async fn run(http: &HttpState, auth: Auth, extensions: &axum::http::Extensions, request: async_graphql::Request) -> (async_graphql::Response, Arc<RawJson>) {
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
