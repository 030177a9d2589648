//! GraphQL over HTTP on `/graphql`, as its specification has it: the answer's media type chosen
//! by `Accept`, the request's parameters checked before anything runs (4xx when they are not a
//! GraphQL request), queries over GET while mutations and subscriptions there are refused with
//! 405, and request errors (the document does not parse or validate, a variable does not fit)
//! answered with 400 and no `data` to clients that take `application/graphql-response+json`.
//! `/graphql/v2` keeps Authing's own behaviour (graphql.rs).

use async_graphql::{
    Request, Variables,
    parser::types::{DocumentOperations, OperationType},
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Map, Value};

use crate::error::{code, http_status_of};

/// The media type of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `application/graphql-response+json`: the status code tells request errors apart.
    GraphqlResponse,
    /// `application/json`: 200 for every answer GraphQL produced.
    Json,
}

impl Answer {
    pub fn content_type(self) -> &'static str {
        match self {
            Answer::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Answer::Json => "application/json; charset=utf-8",
        }
    }

    /// The status of `response`: a request error is 4xx (400, or its code's status) for
    /// `application/graphql-response+json`; everything else 200.
    pub fn status(self, response: &async_graphql::Response) -> StatusCode {
        match (self, request_error_code(response)) {
            (Answer::GraphqlResponse, Some(code)) => StatusCode::from_u16(http_status_of(&code)).unwrap_or(StatusCode::BAD_REQUEST),
            _ => StatusCode::OK,
        }
    }
}

/// A media range of `Accept` and its quality.
fn media_ranges(headers: &HeaderMap) -> Vec<(String, f32)> {
    let mut ranges: Vec<(String, f32)> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .next()
                .unwrap_or(1.0);
            (!media.is_empty() && q > 0.0).then_some((media, q))
        })
        .collect();
    // Stable: equal qualities keep the client's order.
    ranges.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranges
}

/// The answer's media type `Accept` asks for; none given is `application/json`, and `None` when
/// it names only types the server does not answer with (406).
pub fn negotiate(headers: &HeaderMap) -> Option<Answer> {
    if headers.get(header::ACCEPT).is_none() {
        return Some(Answer::Json);
    }
    media_ranges(headers).iter().find_map(|(media, _)| match media.as_str() {
        "application/graphql-response+json" => Some(Answer::GraphqlResponse),
        "application/json" | "application/*" | "*/*" => Some(Answer::Json),
        _ => None,
    })
}

/// Whether `Accept` prefers an HTML page (a browser opening the URL) to a JSON answer.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    media_ranges(headers).first().is_some_and(|(media, _)| media == "text/html" || media == "application/xhtml+xml")
}

/// Whether `Accept` names a JSON answer first (not only `*/*`, which curl and browsers send).
pub fn names_json(headers: &HeaderMap) -> bool {
    media_ranges(headers).first().is_some_and(|(media, _)| media == "application/json" || media == "application/graphql-response+json")
}

/// A request refused before GraphQL saw it: its status (for `application/json` answers too,
/// `json_status`), stable code and message.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub json_status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    /// Not a GraphQL request: 400 whatever the answer's type.
    pub fn bad(message: impl Into<String>) -> Self {
        Refusal { status: StatusCode::BAD_REQUEST, json_status: StatusCode::BAD_REQUEST, code: code::INVALID_INPUT, message: message.into() }
    }

    /// A GraphQL request error: 400 for `application/graphql-response+json`, 200 for JSON.
    pub fn graphql(code: &'static str, message: impl Into<String>) -> Self {
        Refusal { status: StatusCode::BAD_REQUEST, json_status: StatusCode::OK, code, message: message.into() }
    }

    /// Not a GraphQL request, for a reason with its own status (405, 406, 415).
    pub fn with_status(status: StatusCode, message: impl Into<String>) -> Self {
        Refusal { status, json_status: status, code: code::INVALID_INPUT, message: message.into() }
    }

    /// The refusal as a GraphQL answer of `answer`'s type (no `data`: nothing ran).
    pub fn into_response(self, answer: Answer) -> axum::response::Response {
        use axum::response::IntoResponse;
        let body = serde_json::json!({ "errors": [{ "message": self.message, "extensions": { "code": self.code } }] });
        let status = if answer == Answer::Json { self.json_status } else { self.status };
        let mut res = (status, [(header::CONTENT_TYPE, HeaderValue::from_static(answer.content_type()))], body.to_string()).into_response();
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        }
        res
    }
}

/// A request's parameters, as the body's JSON or the query string carries them.
#[derive(Debug)]
pub struct Params {
    pub query: Option<String>,
    /// A persisted document's id (the GraphQL over HTTP persisted-documents parameter).
    pub document_id: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Option<Map<String, Value>>,
    pub extensions: Option<Map<String, Value>>,
}

impl Params {
    /// The request to execute; it must have a query by now (a persisted query's is in place).
    pub fn into_request(self) -> Result<Request, Refusal> {
        let Some(query) = self.query else { return Err(Refusal::bad("the request has no query: send it as `query`")) };
        let mut request = Request::new(query);
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        if let Some(variables) = self.variables {
            request = request.variables(Variables::from_json(Value::Object(variables)));
        }
        for (name, value) in self.extensions.unwrap_or_default() {
            // Resolved by the HTTP layer (persisted_queries.rs), not a concern of execution.
            if name == "persistedQuery" {
                continue;
            }
            if let Ok(value) = async_graphql::Value::from_json(value) {
                request.extensions.insert(name, value);
            }
        }
        Ok(request)
    }

    /// A GET runs queries only: a mutation or subscription is refused with 405 (a GET must
    /// change nothing, and links or prefetches must not trigger a write).
    pub fn refuse_unless_query(&self) -> Result<(), Refusal> {
        let Some(query) = &self.query else { return Ok(()) };
        match operation_type(query, self.operation_name.as_deref()) {
            Some(ty) if ty != OperationType::Query => Err(Refusal::with_status(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("a {} cannot be sent with GET: use POST", if ty == OperationType::Mutation { "mutation" } else { "subscription" }),
            )),
            _ => Ok(()),
        }
    }
}

/// A parameter that must be a string, or absent (`null` is absent).
fn string_param(name: &str, value: Option<Value>) -> Result<Option<String>, Refusal> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Refusal::bad(format!("`{name}` must be a string"))),
    }
}

/// A parameter that must be a map, or absent (`null` is absent).
fn map_param(name: &str, value: Option<Value>) -> Result<Option<Map<String, Value>>, Refusal> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(Refusal::bad(format!("`{name}` must be a map"))),
    }
}

/// A POST's request: a JSON body (`Content-Type: application/json`) holding a map of the
/// parameters.
pub fn from_post(headers: &HeaderMap, body: &[u8]) -> Result<Params, Refusal> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if media != "application/json" {
        let message = if media.is_empty() { "the request has no Content-Type: send application/json".to_string() } else { format!("{media} is not taken: send application/json") };
        return Err(Refusal::with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE, message));
    }
    if body.is_empty() {
        return Err(Refusal::bad("the request has no body"));
    }
    let Value::Object(mut map) = serde_json::from_slice::<Value>(body).map_err(|e| Refusal::bad(format!("the body is not JSON: {e}")))? else {
        return Err(Refusal::bad("the body must be a JSON map of query, operationName, variables and extensions"));
    };
    Ok(Params {
        query: string_param("query", map.remove("query"))?,
        document_id: string_param("documentId", map.remove("documentId"))?,
        operation_name: string_param("operationName", map.remove("operationName"))?,
        variables: map_param("variables", map.remove("variables"))?,
        extensions: map_param("extensions", map.remove("extensions"))?,
    })
}

/// Whether a GET's query string carries a GraphQL request (rather than opening the playground).
pub fn has_request(query_string: Option<&str>) -> bool {
    query_string.is_some_and(|q| url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "query" || k == "extensions" || k == "documentId"))
}

/// A GET's request: the parameters in the query string, `variables` and `extensions` as JSON.
/// (Only queries run: see [`Params::refuse_unless_query`], checked once a persisted query is
/// in place.)
pub fn from_get(query_string: Option<&str>) -> Result<Params, Refusal> {
    let mut params: Map<String, Value> = Map::new();
    for (k, v) in url::form_urlencoded::parse(query_string.unwrap_or("").as_bytes()) {
        params.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    let json = |name: &str, params: &mut Map<String, Value>| -> Result<Option<Value>, Refusal> {
        match params.remove(name) {
            Some(Value::String(s)) if !s.is_empty() => serde_json::from_str(&s).map(Some).map_err(|e| Refusal::bad(format!("`{name}` is not JSON: {e}"))),
            _ => Ok(None),
        }
    };
    let variables = json("variables", &mut params)?;
    let extensions = json("extensions", &mut params)?;
    Ok(Params {
        query: string_param("query", params.remove("query"))?,
        document_id: string_param("documentId", params.remove("documentId"))?,
        operation_name: string_param("operationName", params.remove("operationName"))?,
        variables: map_param("variables", variables)?,
        extensions: map_param("extensions", extensions)?,
    })
}

/// The type of the operation `operation_name` selects in `query`, when it parses and selects one
/// (otherwise execution reports why).
fn operation_type(query: &str, operation_name: Option<&str>) -> Option<OperationType> {
    let doc = async_graphql::parser::parse_query(query).ok()?;
    match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
        _ => None,
    }
}

/// The code of a request error (the operation did not run: nothing in `data`, and no error is
/// about a field), or `None`.
pub fn request_error_code(response: &async_graphql::Response) -> Option<String> {
    let not_run = response.data == async_graphql::Value::Null && !response.errors.is_empty() && response.errors.iter().all(|e| e.path.is_empty());
    not_run.then(|| {
        response.errors[0]
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(|c| match c {
                async_graphql::Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| code::GRAPHQL_VALIDATION_FAILED.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn accept_chooses_the_answer_type() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Answer::Json));
        assert_eq!(negotiate(&accept("application/graphql-response+json")), Some(Answer::GraphqlResponse));
        assert_eq!(negotiate(&accept("application/json")), Some(Answer::Json));
        assert_eq!(negotiate(&accept("*/*")), Some(Answer::Json));
        assert_eq!(negotiate(&accept("application/graphql-response+json, application/json;q=0.9")), Some(Answer::GraphqlResponse));
        assert_eq!(negotiate(&accept("application/json;q=0.5, application/graphql-response+json")), Some(Answer::GraphqlResponse));
        assert_eq!(negotiate(&accept("application/graphql-response+json;q=0, application/json")), Some(Answer::Json));
        assert_eq!(negotiate(&accept("text/html")), None);
        assert!(prefers_html(&accept("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")));
        assert!(!prefers_html(&accept("application/graphql-response+json, application/json;q=0.9")));
    }

    #[test]
    fn a_get_runs_queries_only() {
        let get = |q: &str| from_get(Some(q)).and_then(|p| p.refuse_unless_query().map(|_| p)).and_then(Params::into_request);
        assert!(get("query=%7B__typename%7D").is_ok());
        assert_eq!(get("query=mutation%7Ba%7D").unwrap_err().status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(get("query=query%20A%7B__typename%7D%20mutation%20B%7Ba%7D&operationName=B").unwrap_err().status, StatusCode::METHOD_NOT_ALLOWED);
        let request = get("query=query%20A%7B__typename%7D%20mutation%20B%7Ba%7D&operationName=A").unwrap();
        assert_eq!(request.operation_name.as_deref(), Some("A"));
        assert_eq!(get("variables=%7B%7D").unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(get("query=%7Ba%7D&variables=%5B%5D").unwrap_err().status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_post_must_be_a_json_map_with_a_query() {
        let mut h = HeaderMap::new();
        assert_eq!(from_post(&h, b"{}").unwrap_err().status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        assert!(from_post(&h, br#"{"query":"{__typename}"}"#).is_ok());
        for bad in [&b""[..], b"{", b"[]", br#"{"query":1}"#, br#"{"query":"{a}","variables":"x"}"#, br#"{"variables":{}}"#] {
            let refused = from_post(&h, bad).and_then(Params::into_request).unwrap_err();
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(bad));
        }
    }
}
