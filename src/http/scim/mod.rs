//! SCIM 2.0 (RFC 7643/7644) at `/scim/v2`, for identity providers and HR systems that provision
//! users and departments: Okta, Microsoft Entra ID, and any SCIM client. This surface only
//! translates: it authenticates the pool's SCIM token, parses SCIM JSON, filters and PATCH
//! operations, and calls `domain::scim`, which makes every change through orgraph's own rules, in
//! one transaction per request, with the usual events.

mod discovery;
pub mod error;
pub mod filter;
mod groups;
pub mod mapping;
pub mod patch;
pub mod schema;
mod users;

use axum::{
    Router,
    body::Bytes,
    extract::{FromRequestParts, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Map, Value, json};

use self::error::{SCIM_JSON, ScimError};
use super::HttpState;
use crate::domain::{PoolId, scim::Window};

/// Results a list answers when the client names no `count`.
pub const DEFAULT_COUNT: u64 = 100;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{id}", get(resource_type))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema_by_id))
        .route("/Users", get(users::list).post(users::create))
        .route("/Users/.search", post(users::search))
        .route("/Users/{id}", get(users::get).put(users::replace).patch(users::modify).delete(users::delete))
        .route("/Groups", get(groups::list).post(groups::create))
        .route("/Groups/.search", post(groups::search))
        .route("/Groups/{id}", get(groups::get).put(groups::replace).patch(groups::modify).delete(groups::delete))
        .route("/.search", post(not_implemented))
        .route("/Bulk", post(not_implemented))
        .route("/Me", axum::routing::any(not_implemented))
}

/// Who calls (the pool of the request's SCIM token), and the base URL of this SCIM service as the
/// caller reaches it. The one way SCIM handlers find their caller. Management JWTs are not SCIM
/// tokens and are refused.
pub(crate) struct Caller {
    pub pool: PoolId,
    pub base: String,
}

impl FromRequestParts<HttpState> for Caller {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, http: &HttpState) -> Result<Self, ScimError> {
        let unauthorized = |detail: &str| ScimError::new(StatusCode::UNAUTHORIZED, None, detail);
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(unauthorized("send the pool's SCIM token as Authorization: Bearer <token>"));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .ok_or_else(|| unauthorized("Authorization must be `Bearer <SCIM token>`"))?;
        let pool = http.app.scim_tokens.authenticate(token).await?;
        Ok(Caller { pool, base: base_url(&parts.headers) })
    }
}

/// `scheme://host/scim/v2` as the client sees it (behind a proxy: `X-Forwarded-Proto` and
/// `-Host`); `meta.location` and every `$ref` are built on it.
fn base_url(headers: &HeaderMap) -> String {
    let header_text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next()).map(str::trim);
    let scheme = match header_text("x-forwarded-proto") {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    let host = header_text("x-forwarded-host")
        .or_else(|| header_text(header::HOST.as_str()))
        .filter(|h| !h.is_empty() && h.len() <= 255 && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c)))
        .unwrap_or("localhost");
    format!("{scheme}://{host}/scim/v2")
}

/// A JSON answer with SCIM's content type, and its `ETag` and `Location` when given.
pub(crate) fn answer(status: StatusCode, body: &Value, etag: Option<&str>, location: Option<&str>) -> Response {
    let mut res = (status, body.to_string()).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    if let Some(v) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
        h.insert(header::ETAG, v);
    }
    if let Some(v) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        h.insert(header::LOCATION, v);
    }
    res
}

pub(crate) fn list_answer(total: u64, start_index: u64, resources: Vec<Value>) -> Response {
    let body = json!({
        "schemas": [schema::LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    answer(StatusCode::OK, &body, None, None)
}

/// The request body as a JSON object.
pub(crate) fn json_object(body: &Bytes) -> Result<Map<String, Value>, ScimError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ScimError::bad("invalidSyntax", "the body must be a JSON object")),
        Err(e) => Err(ScimError::bad("invalidSyntax", format!("the body is not JSON: {e}"))),
    }
}

/// `If-Match`: the write goes ahead only when the resource still has a version the client names
/// (or `*`).
pub(crate) fn check_if_match(headers: &HeaderMap, version: &str) -> Result<(), ScimError> {
    let Some(wanted) = headers.get(header::IF_MATCH) else { return Ok(()) };
    let wanted = wanted.to_str().unwrap_or("");
    if etag_listed(wanted, version) {
        Ok(())
    } else {
        Err(ScimError::new(StatusCode::PRECONDITION_FAILED, None, "the resource has changed since that version (If-Match)"))
    }
}

/// Whether an `If-Match`/`If-None-Match` list names `version` (weakly: `W/` is ignored).
pub(crate) fn etag_listed(list: &str, version: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    list.split(',').any(|t| t.trim() == "*" || bare(t) == bare(version))
}

/// The page parameters of a list, by query string or SearchRequest.
pub(crate) struct ListParams {
    pub filter: Option<String>,
    pub start_index: u64,
    pub window: Window,
    pub attributes: Option<String>,
    pub excluded: Option<String>,
}

/// An integer parameter; SCIM takes values below the range as its floor.
fn integer(name: &str, v: Option<&Value>) -> Result<Option<i64>, ScimError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| ScimError::bad("invalidValue", format!("{name} must be an integer"))),
        Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| ScimError::bad("invalidValue", format!("{name} must be an integer"))),
        Some(_) => Err(ScimError::bad("invalidValue", format!("{name} must be an integer"))),
    }
}

impl ListParams {
    fn from_map(m: &Map<String, Value>, max_count: u64) -> Result<Self, ScimError> {
        let text = |k: &str| -> Result<Option<String>, ScimError> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                // SearchRequest lists attributes as an array.
                Some(Value::Array(a)) => Ok(Some(a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))),
                Some(_) => Err(ScimError::bad("invalidValue", format!("{k} must be a string"))),
            }
        };
        // RFC 7644, 3.4.2.4: a startIndex below 1 is 1, a negative count is 0; more than the
        // server's maximum gives the maximum.
        let start_index = integer("startIndex", m.get("startIndex"))?.unwrap_or(1).max(1) as u64;
        let count = integer("count", m.get("count"))?.map_or(DEFAULT_COUNT.min(max_count), |c| (c.max(0) as u64).min(max_count));
        Ok(ListParams {
            filter: text("filter")?,
            start_index,
            window: Window { offset: start_index - 1, limit: count },
            attributes: text("attributes")?,
            excluded: text("excludedAttributes")?,
        })
    }

    pub fn from_query(query: Option<&str>, max_count: u64) -> Result<Self, ScimError> {
        let mut m = Map::new();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            m.insert(k.into_owned(), Value::String(v.into_owned()));
        }
        Self::from_map(&m, max_count)
    }

    pub fn from_search(body: &Bytes, max_count: u64) -> Result<Self, ScimError> {
        let m = json_object(body)?;
        mapping::check_schemas(&m, schema::SEARCH_REQUEST)?;
        Self::from_map(&m, max_count)
    }
}

/// `attributes` and `excludedAttributes` of a single-resource request.
pub(crate) fn projection_params(query: Option<&str>) -> (Option<String>, Option<String>) {
    let mut attributes = None;
    let mut excluded = None;
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "attributes" => attributes = Some(v.into_owned()),
            "excludedAttributes" => excluded = Some(v.into_owned()),
            _ => {}
        }
    }
    (attributes, excluded)
}

async fn service_provider_config(State(http): State<HttpState>, c: Caller) -> Result<Response, ScimError> {
    Ok(answer(StatusCode::OK, &discovery::service_provider_config(&c.base, http.app.config.limits.max_page_size), None, None))
}

async fn resource_types(c: Caller) -> Result<Response, ScimError> {
    let all = discovery::resource_types(&c.base);
    Ok(list_answer(all.len() as u64, 1, all))
}

async fn resource_type(c: Caller, Path(id): Path<String>) -> Result<Response, ScimError> {
    let def = discovery::find_resource_type(&id).ok_or_else(|| ScimError::not_found(format!("no resource type {id:?}")))?;
    Ok(answer(StatusCode::OK, &discovery::resource_type(def, &c.base), None, None))
}

async fn schemas(c: Caller) -> Result<Response, ScimError> {
    let all = discovery::schemas(&c.base);
    Ok(list_answer(all.len() as u64, 1, all))
}

async fn schema_by_id(c: Caller, Path(id): Path<String>) -> Result<Response, ScimError> {
    let s = discovery::find_schema(&id).ok_or_else(|| ScimError::not_found(format!("no schema {id:?}")))?;
    Ok(answer(StatusCode::OK, &discovery::schema(s, &c.base), None, None))
}

/// A path under `/scim/` that is no SCIM endpoint: 404, made a SCIM error by the error layer.
pub(crate) async fn unknown_endpoint() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// Endpoints of RFC 7644 orgraph does not offer (bulk, `/Me`, server-root search).
async fn not_implemented() -> ScimError {
    ScimError::new(StatusCode::NOT_IMPLEMENTED, None, "not implemented by orgraph")
}
