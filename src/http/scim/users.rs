//! `/Users`: the pool's users.

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use entity::user::{self, UserStatus};
use serde_json::Value;

use super::{
    Caller, ListParams, answer, check_if_match, error::ScimError, etag_listed, filter, json_object, list_answer,
    mapping::{self, check_schemas, parse_user, project, selection, user_json, user_version},
    patch, projection_params,
    schema::{USER, USER_RESOURCE},
};
use crate::{domain::write::ChangeError, http::HttpState};

fn not_found(id: &str) -> ScimError {
    ScimError::not_found(format!("no user {id:?} in this user pool"))
}

/// Domain "not found" of a user named in the URL, with SCIM's wording.
fn found<T>(r: Result<T, ScimError>, id: &str) -> Result<T, ScimError> {
    r.map_err(|e| if e.status == StatusCode::NOT_FOUND { not_found(id) } else { e })
}

/// A user's answer: trimmed to the requested attributes, with its version as `ETag`.
fn one(c: &Caller, u: &user::Model, status: StatusCode, query: Option<&str>, location: bool) -> Result<Response, ScimError> {
    let (attributes, excluded) = projection_params(query);
    let attributes = selection(&USER_RESOURCE, attributes.as_deref())?;
    let excluded = selection(&USER_RESOURCE, excluded.as_deref())?;
    let json = user_json(u, &c.base);
    let loc = json["meta"]["location"].as_str().map(str::to_string);
    let body = Value::Object(project(&USER_RESOURCE, json, attributes.as_deref(), excluded.as_deref()));
    let version = user_version(u);
    Ok(answer(status, &body, Some(&version), if location { loc.as_deref() } else { None }))
}

async fn run_list(http: &HttpState, c: &Caller, p: ListParams) -> Result<Response, ScimError> {
    let attributes = selection(&USER_RESOURCE, p.attributes.as_deref())?;
    let excluded = selection(&USER_RESOURCE, p.excluded.as_deref())?;
    let parsed = match p.filter.as_deref() {
        Some(f) => Some(mapping::user_filter(&filter::parse(f).map_err(|e| ScimError::bad("invalidFilter", e))?)?),
        None => None,
    };
    let listed = http.app.scim.find_users(&c.pool, parsed.as_ref(), p.window).await?;
    let resources = listed
        .items
        .iter()
        .map(|u| Value::Object(project(&USER_RESOURCE, user_json(u, &c.base), attributes.as_deref(), excluded.as_deref())))
        .collect();
    Ok(list_answer(listed.total, p.start_index, resources))
}

pub async fn list(State(http): State<HttpState>, c: Caller, RawQuery(q): RawQuery) -> Result<Response, ScimError> {
    let p = ListParams::from_query(q.as_deref(), http.app.config.limits.max_page_size)?;
    run_list(&http, &c, p).await
}

pub async fn search(State(http): State<HttpState>, c: Caller, body: Bytes) -> Result<Response, ScimError> {
    let p = ListParams::from_search(&body, http.app.config.limits.max_page_size)?;
    run_list(&http, &c, p).await
}

/// A user's full description from a POST or PUT body.
fn described(body: &Bytes) -> Result<mapping::ScimUser, ScimError> {
    let body = json_object(body)?;
    check_schemas(&body, USER)?;
    let u = parse_user(&USER_RESOURCE, &body)?;
    if u.user_name.is_none() {
        return Err(ScimError::bad("invalidValue", "userName is required"));
    }
    Ok(u)
}

pub async fn create(State(http): State<HttpState>, c: Caller, RawQuery(q): RawQuery, body: Bytes) -> Result<Response, ScimError> {
    let patch = described(&body)?.into_patch(UserStatus::Activated);
    let u = http.app.scim.create_user(&c.pool, patch).await?;
    one(&c, &u, StatusCode::CREATED, q.as_deref(), true)
}

pub async fn get(State(http): State<HttpState>, c: Caller, headers: HeaderMap, Path(id): Path<String>, RawQuery(q): RawQuery) -> Result<Response, ScimError> {
    let u = found(http.app.scim.user(&c.pool, &id).await.map_err(ScimError::from), &id)?;
    let version = user_version(&u);
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|l| etag_listed(l, &version)) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, version)]).into_response());
    }
    one(&c, &u, StatusCode::OK, q.as_deref(), false)
}

pub async fn replace(State(http): State<HttpState>, c: Caller, headers: HeaderMap, Path(id): Path<String>, RawQuery(q): RawQuery, body: Bytes) -> Result<Response, ScimError> {
    let wanted = described(&body)?;
    let u = http
        .app
        .scim
        .modify_user(&c.pool, &id, |current| {
            check_if_match(&headers, &user_version(current))?;
            Ok::<_, ScimError>(wanted.into_patch(current.status))
        })
        .await
        .map_err(ChangeError::into_reason);
    one(&c, &found(u, &id)?, StatusCode::OK, q.as_deref(), false)
}

pub async fn modify(State(http): State<HttpState>, c: Caller, headers: HeaderMap, Path(id): Path<String>, RawQuery(q): RawQuery, body: Bytes) -> Result<Response, ScimError> {
    let ops = patch::operations(&json_object(&body)?)?;
    let base = c.base.clone();
    let u = http
        .app
        .scim
        .modify_user(&c.pool, &id, |current| {
            check_if_match(&headers, &user_version(current))?;
            let mut json = user_json(current, &base);
            patch::apply(&USER_RESOURCE, &mut json, &ops)?;
            Ok::<_, ScimError>(parse_user(&USER_RESOURCE, &json)?.into_patch(current.status))
        })
        .await
        .map_err(ChangeError::into_reason);
    one(&c, &found(u, &id)?, StatusCode::OK, q.as_deref(), false)
}

pub async fn delete(State(http): State<HttpState>, c: Caller, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, ScimError> {
    if headers.contains_key(header::IF_MATCH) {
        let u = found(http.app.scim.user(&c.pool, &id).await.map_err(ScimError::from), &id)?;
        check_if_match(&headers, &user_version(&u))?;
    }
    found(http.app.scim.delete_user(&c.pool, &id).await.map_err(ScimError::from), &id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
