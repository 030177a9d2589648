//! v3 organizations: an organization is its root department, named by its code.

use axum::{Router, extract::State, response::Response, routing::{get, post}};
use serde_json::json;

use super::{V3Call, params::Params, success};
use crate::{
    domain::{
        org_tree::{DepartmentPatch, Names, NodePatch},
        pagination::Page,
    },
    error::AppError,
    http::{
        HttpState,
        envelope::{V3Error, v3_ok},
    },
    views::v3::{OrganizationDto, organization_i18n_input, organizations},
};

/// Largest page of organization lists ("at most 50").
const MAX_LIMIT: u64 = 50;
/// What `fetchAll` returns at most.
const MAX_FETCH_ALL: i64 = 1_000;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/api/v3/create-organization", post(create))
        .route("/api/v3/get-organization", get(one))
        .route("/api/v3/get-organization-batch", get(batch))
        .route("/api/v3/list-organizations", get(list))
        .route("/api/v3/update-organization", post(update))
        .route("/api/v3/delete-organization", post(delete))
        .route("/api/v3/search-organizations", get(search))
        .route("/api/v3/update-organization-status", post(set_status))
}

async fn answer_one(http: &HttpState, root: entity::node::Model, with_custom_data: bool) -> Result<Response, V3Error> {
    let facts = http.app.orgs.department_facts(std::slice::from_ref(&root)).await?;
    Ok(v3_ok(OrganizationDto::new(&root, facts.get(&root.id), with_custom_data)))
}

async fn answer_page(http: &HttpState, page: crate::domain::pagination::Paginated<entity::node::Model>, with_custom_data: bool) -> Result<Response, V3Error> {
    let facts = http.app.orgs.department_facts(&page.list).await?;
    Ok(v3_ok(json!({ "totalCount": page.total_count, "list": organizations(&page.list, &facts, with_custom_data) })))
}

/// `POST /api/v3/create-organization`: an empty `organizationCode` gets a generated code.
async fn create(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    p.required("organizationName")?;
    let root = root_fields(p, "organizationCode")?;
    let (_, root) = http.app.orgs.create_organization(&call.pool, root, p.optional("tenantId")?).await?;
    answer_one(&http, root, false).await
}

async fn one(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let (_, root) = http.app.orgs.organization(&call.pool, &p.required("organizationCode")?).await?;
    answer_one(&http, root, p.flag("withCustomData")?).await
}

async fn batch(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let codes = p.required_list("organizationCodeList")?;
    if codes.len() > MAX_FETCH_ALL as usize {
        return Err(AppError::invalid("organizationCodeList", format!("at most {MAX_FETCH_ALL} codes per call")).into());
    }
    let roots = http.app.orgs.organizations_by_codes(&call.pool, &codes).await?;
    let facts = http.app.orgs.department_facts(&roots).await?;
    Ok(v3_ok(organizations(&roots, &facts, p.flag("withCustomData")?)))
}

/// `GET /api/v3/list-organizations`: oldest first; `fetchAll` returns up to 1000 in one page.
async fn list(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let page = if p.flag("fetchAll")? {
        Page::new(Some(1), Some(MAX_FETCH_ALL), MAX_FETCH_ALL as u64)?
    } else {
        Page::new(p.int("page")?, p.int("limit")?, MAX_LIMIT)?
    };
    let found = http.app.orgs.organizations(&call.pool, page, p.bool("status")?, None).await?;
    answer_page(&http, found, p.flag("withCustomData")?).await
}

async fn search(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let keywords = p.required("keywords")?;
    let page = Page::new(p.int("page")?, p.int("limit")?, MAX_LIMIT)?;
    let found = http.app.orgs.organizations(&call.pool, page, None, Some(&keywords)).await?;
    answer_page(&http, found, p.flag("withCustomData")?).await
}

/// `POST /api/v3/update-organization`: name, new code, leaders, and any other field of its root.
async fn update(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let code = p.required("organizationCode")?;
    let patch = NodePatch { fields: root_fields(p, "organizationNewCode")?, leader_user_ids: p.list("leaderUserIds")?, ..Default::default() };
    let root = http.app.orgs.update_organization(&call.pool, &code, patch).await?;
    answer_one(&http, root, false).await
}

/// The fields of an organization's root as the organization calls name them: its name is
/// `organizationName`, its code `code_param`, its texts per language are under
/// `organizationName`, its `status` is Active or Inactive; the other fields have their v3 names.
fn root_fields(p: &Params, code_param: &str) -> Result<DepartmentPatch, AppError> {
    let mut fields = DepartmentPatch::read(Names::V3, |name| match name {
        "name" | "code" | "i18n" | "status" => None,
        other => p.value(other),
    })?;
    fields.name = p.optional("organizationName")?;
    fields.code = p.optional(code_param)?.map(Some);
    fields.i18n = p.value("i18n").filter(|v| !v.is_null()).cloned().map(|v| Some(organization_i18n_input(v)));
    fields.enabled = p.optional("status")?.map(|s| organization_status(&s)).transpose()?;
    Ok(fields)
}

/// `Active`/`Inactive` (also `true`/`false`, `enabled`/`disabled`, any case).
fn organization_status(status: &str) -> Result<bool, AppError> {
    match status.trim().to_ascii_lowercase().as_str() {
        "active" | "true" | "enabled" | "1" => Ok(true),
        "inactive" | "false" | "disabled" | "0" => Ok(false),
        other => Err(AppError::invalid("status", format!("status must be Active or Inactive, got {other:?}"))),
    }
}

async fn delete(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    http.app.orgs.delete_organization(&call.pool, &call.params.required("organizationCode")?).await?;
    Ok(v3_ok(success()))
}

/// `POST /api/v3/update-organization-status {rootNodeId, status}`: `Active`/`Inactive` (also
/// `true`/`false`, `enabled`/`disabled`, any case).
async fn set_status(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let root = p.required("rootNodeId")?;
    let enabled = organization_status(&p.required("status")?)?;
    http.app.orgs.set_organization_status(&call.pool, &root, enabled).await?;
    Ok(v3_ok(success()))
}
