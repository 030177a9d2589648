//! `/Groups`: the departments of the pool's SCIM organization.

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::{
    Caller, ListParams, answer, check_if_match, error::ScimError, etag_listed, filter, json_object, list_answer,
    mapping::{self, check_schemas, group_json, parse_group, project, selection},
    patch, projection_params,
    schema::{GROUP, GROUP_RESOURCE},
};
use crate::{
    domain::{
        scim::{Group, GroupChange},
        write::ChangeError,
    },
    http::HttpState,
};

fn not_found(id: &str) -> ScimError {
    ScimError::not_found(format!("no group {id:?} in this user pool"))
}

fn found<T>(r: Result<T, ScimError>, id: &str) -> Result<T, ScimError> {
    r.map_err(|e| if e.status == StatusCode::NOT_FOUND && e.detail.starts_with("group") { not_found(id) } else { e })
}

/// Whether the answer shows members: reading them is the costly part of a large group, and Entra
/// ID asks for groups with `excludedAttributes=members`.
fn wants_members(attributes: Option<&[String]>, excluded: Option<&[String]>) -> bool {
    let names = |l: &[String]| l.iter().any(|a| a.to_ascii_lowercase().trim_start_matches("urn:ietf:params:scim:schemas:core:2.0:group:").starts_with("members"));
    match (attributes, excluded) {
        (Some(a), _) => names(a),
        (None, Some(e)) => !names(e),
        (None, None) => true,
    }
}

fn one(c: &Caller, g: &Group, status: StatusCode, query: Option<&str>, location: bool) -> Result<Response, ScimError> {
    let (attributes, excluded) = projection_params(query);
    let attributes = selection(&GROUP_RESOURCE, attributes.as_deref())?;
    let excluded = selection(&GROUP_RESOURCE, excluded.as_deref())?;
    let json = group_json(g, &c.base);
    let loc = json["meta"]["location"].as_str().map(str::to_string);
    let body = Value::Object(project(&GROUP_RESOURCE, json, attributes.as_deref(), excluded.as_deref()));
    Ok(answer(status, &body, Some(&g.version), if location { loc.as_deref() } else { None }))
}

async fn run_list(http: &HttpState, c: &Caller, p: ListParams) -> Result<Response, ScimError> {
    let attributes = selection(&GROUP_RESOURCE, p.attributes.as_deref())?;
    let excluded = selection(&GROUP_RESOURCE, p.excluded.as_deref())?;
    let parsed = match p.filter.as_deref() {
        Some(f) => Some(mapping::group_filter(&filter::parse(f).map_err(|e| ScimError::bad("invalidFilter", e))?)?),
        None => None,
    };
    let with_members = wants_members(attributes.as_deref(), excluded.as_deref());
    let listed = http.app.scim.find_groups(&c.pool, parsed.as_ref(), p.window, with_members).await?;
    let resources = listed
        .items
        .iter()
        .map(|g| Value::Object(project(&GROUP_RESOURCE, group_json(g, &c.base), attributes.as_deref(), excluded.as_deref())))
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

/// A group's full description from a POST or PUT body, or from a PATCH's result.
fn change_of(body: &serde_json::Map<String, Value>) -> Result<GroupChange, ScimError> {
    let (name, mut change) = parse_group(&GROUP_RESOURCE, body)?;
    change.fields.name = Some(name.ok_or_else(|| ScimError::bad("invalidValue", "displayName is required"))?);
    Ok(change)
}

fn described(body: &Bytes) -> Result<GroupChange, ScimError> {
    let body = json_object(body)?;
    check_schemas(&body, GROUP)?;
    change_of(&body)
}

pub async fn create(State(http): State<HttpState>, c: Caller, RawQuery(q): RawQuery, body: Bytes) -> Result<Response, ScimError> {
    let change = described(&body)?;
    let g = http.app.scim.create_group(&c.pool, change).await?;
    one(&c, &g, StatusCode::CREATED, q.as_deref(), true)
}

pub async fn get(State(http): State<HttpState>, c: Caller, headers: HeaderMap, Path(id): Path<String>, RawQuery(q): RawQuery) -> Result<Response, ScimError> {
    let (attributes, excluded) = projection_params(q.as_deref());
    let with_members = wants_members(
        selection(&GROUP_RESOURCE, attributes.as_deref())?.as_deref(),
        selection(&GROUP_RESOURCE, excluded.as_deref())?.as_deref(),
    );
    let g = found(http.app.scim.group(&c.pool, &id, with_members).await.map_err(ScimError::from), &id)?;
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|l| etag_listed(l, &g.version)) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, g.version)]).into_response());
    }
    one(&c, &g, StatusCode::OK, q.as_deref(), false)
}

pub async fn replace(State(http): State<HttpState>, c: Caller, headers: HeaderMap, Path(id): Path<String>, RawQuery(q): RawQuery, body: Bytes) -> Result<Response, ScimError> {
    let wanted = described(&body)?;
    let g = http
        .app
        .scim
        .modify_group(&c.pool, &id, |current| {
            check_if_match(&headers, &current.version)?;
            Ok::<_, ScimError>(wanted)
        })
        .await
        .map_err(ChangeError::into_reason);
    one(&c, &found(g, &id)?, StatusCode::OK, q.as_deref(), false)
}

pub async fn modify(State(http): State<HttpState>, c: Caller, headers: HeaderMap, Path(id): Path<String>, RawQuery(q): RawQuery, body: Bytes) -> Result<Response, ScimError> {
    let ops = patch::operations(&json_object(&body)?)?;
    let base = c.base.clone();
    let g = http
        .app
        .scim
        .modify_group(&c.pool, &id, |current| {
            check_if_match(&headers, &current.version)?;
            let mut json = group_json(current, &base);
            patch::apply(&GROUP_RESOURCE, &mut json, &ops)?;
            change_of(&json)
        })
        .await
        .map_err(ChangeError::into_reason);
    one(&c, &found(g, &id)?, StatusCode::OK, q.as_deref(), false)
}

pub async fn delete(State(http): State<HttpState>, c: Caller, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, ScimError> {
    if headers.contains_key(header::IF_MATCH) {
        let g = found(http.app.scim.group(&c.pool, &id, false).await.map_err(ScimError::from), &id)?;
        check_if_match(&headers, &g.version)?;
    }
    found(http.app.scim.delete_group(&c.pool, &id).await.map_err(ScimError::from), &id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
