//! The org REST routes of Authing's v2 API that the SDKs call, and the v3 member list.

use async_graphql::{Request, Variables};
use axum::{
    Json,
    extract::{Path, Query, State},
    http::HeaderMap,
    response::Response,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    HttpState,
    auth::Auth,
    envelope::{V2Error, V3Error, v2_ok, v3_ok},
};
use crate::{
    domain::{
        PoolId,
        org_tree::{ExportNode, ImportLimits, ImportNode},
        pagination::Page,
        users::UserSort,
    },
    error::{AppError, code},
    domain::docs::{node_doc, user_doc},
    graphql::types::{
        common::iso,
        v3::{DepartmentMemberSortBy, DepartmentMembersArgs, SortOrder, department_members},
    },
};

fn caller(http: &HttpState, headers: &HeaderMap) -> Result<PoolId, AppError> {
    Auth::from_headers(&http.app.tokens, headers).require()
}

#[derive(Deserialize)]
pub struct ImportBody {
    filetype: Option<String>,
    file: Option<Value>,
}

/// `POST /api/v2/orgs/import` `{filetype: "json", file: <tree>}`: one transaction; answers with
/// the new organization in the export format.
pub async fn import(State(http): State<HttpState>, headers: HeaderMap, body: Option<Json<ImportBody>>) -> Result<Response, V2Error> {
    let pool = caller(&http, &headers)?;
    let Some(Json(body)) = body else {
        return Err(AppError::invalid("file", "send a JSON body {filetype: \"json\", file: <tree>}").into());
    };
    if body.filetype.as_deref().is_some_and(|t| t != "json") {
        return Err(AppError::invalid("filetype", "only filetype \"json\" is supported").into());
    }
    let file = body.file.ok_or_else(|| AppError::invalid("file", "file (the tree) is missing"))?;
    // Some clients send the tree as a JSON string.
    let file = match file {
        Value::String(s) => serde_json::from_str(&s).map_err(|e| AppError::invalid("file", format!("file is not JSON: {e}")))?,
        other => other,
    };
    let tree = ImportNode::parse(&file, ImportLimits { max_closure_rows: http.app.config.limits.max_import_closure_rows })?;
    let org = http.app.orgs.import_tree(&pool, tree).await?;
    let exported = http.app.orgs.export_org(&pool, &org.id).await?;
    Ok(v2_ok(export_json(exported)))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    org_id: Option<String>,
}

/// `GET /api/v2/orgs/export` (every org, a list) and `?org_id=` (one org).
pub async fn export(State(http): State<HttpState>, headers: HeaderMap, Query(q): Query<ExportQuery>) -> Result<Response, V2Error> {
    let pool = caller(&http, &headers)?;
    match q.org_id.filter(|s| !s.is_empty()) {
        Some(id) => Ok(v2_ok(export_json(http.app.orgs.export_org(&pool, &id).await?))),
        None => {
            let all: Vec<Value> = http.app.orgs.export_all(&pool).await?.into_iter().map(export_json).collect();
            Ok(v2_ok(all))
        }
    }
}

/// `GET /api/v2/orgs/count` → `{count}`.
pub async fn count(State(http): State<HttpState>, headers: HeaderMap) -> Result<Response, V2Error> {
    let pool = caller(&http, &headers)?;
    Ok(v2_ok(json!({ "count": http.app.orgs.count_orgs(&pool).await? })))
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v2/orgs?page&limit`: the organizations with their root nodes, newest first.
pub async fn list(State(http): State<HttpState>, headers: HeaderMap, Query(q): Query<PageQuery>) -> Result<Response, V2Error> {
    let pool = caller(&http, &headers)?;
    let page = Page::new(int("page", q.page.as_deref())?, int("limit", q.limit.as_deref())?, http.app.config.limits.max_page_size)?;
    let orgs = http.app.orgs.orgs(&pool, page, UserSort::CreatedAtDesc).await?;
    let mut list = Vec::new();
    for org in orgs.list {
        let root = http.app.orgs.node(&pool, &org.root_node_id).await?;
        let mut root_json = node_doc(&root);
        root_json["children"] = json!(http.app.orgs.child_ids_of(std::slice::from_ref(&root.id)).await?.remove(&root.id).unwrap_or_default());
        list.push(json!({
            "id": org.id, "userPoolId": org.user_pool_id, "tenantId": org.tenant_id,
            "name": root.name, "code": root.code, "description": root.description,
            "createdAt": iso(org.created_at), "updatedAt": iso(org.updated_at),
            "rootNode": root_json,
        }));
    }
    Ok(v2_ok(list))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembersQueryParams {
    page: Option<String>,
    limit: Option<String>,
    include_children_nodes: Option<String>,
    sort_by: Option<String>,
}

const NODE_MEMBERS_DOCUMENT: &str = "query nodeByIdWithMembers($page: Int, $limit: Int, $sortBy: SortByEnum, $includeChildrenNodes: Boolean, $id: String!) {
  nodeById(id: $id) {
    id orgId name nameI18n description descriptionI18n order code root depth leaderUserId createdAt updatedAt children
    users(page: $page, limit: $limit, sortBy: $sortBy, includeChildrenNodes: $includeChildrenNodes) {
      totalCount
      list { id arn userPoolId status username email emailVerified phone phoneVerified unionid openid nickname
        registerSource photo password oauth token tokenExpiredAt loginsCount lastLogin lastIP signedUp blocked
        isDeleted device browser company name givenName familyName middleName profile preferredUsername website
        gender birthdate zoneinfo locale address formatted streetAddress locality region postalCode city province
        country createdAt updatedAt externalId phoneCountryCode }
    }
  }
}";

/// `GET /api/v2/orgs/nodes/{nodeId}/members`: seed 003's route, which answers with the
/// `nodeById` query's data; it runs that query on the schema.
pub async fn node_members(
    State(http): State<HttpState>,
    headers: HeaderMap,
    Path(node_id): Path<String>,
    Query(q): Query<MembersQueryParams>,
) -> Result<Response, V2Error> {
    let auth = Auth::from_headers(&http.app.tokens, &headers);
    auth.require()?;
    let mut vars = json!({ "id": node_id });
    if let Some(p) = int("page", q.page.as_deref())? {
        vars["page"] = json!(p);
    }
    if let Some(l) = int("limit", q.limit.as_deref())? {
        vars["limit"] = json!(l);
    }
    if let Some(b) = boolean("includeChildrenNodes", q.include_children_nodes.as_deref())? {
        vars["includeChildrenNodes"] = json!(b);
    }
    if let Some(s) = q.sort_by.filter(|s| !s.is_empty()) {
        vars["sortBy"] = json!(s);
    }
    let request = Request::new(NODE_MEMBERS_DOCUMENT).variables(Variables::from_json(vars)).data(auth);
    let mut response = http.schema.execute(request).await;
    crate::graphql::errors::ensure_codes(&mut response);
    if let Some(err) = response.errors.first() {
        let code = err.extensions.as_ref().and_then(|e| e.get("code")).map(|c| c.to_string().trim_matches('"').to_string());
        let code = code.as_deref().unwrap_or(code::INVALID_INPUT);
        if code == code::NOT_FOUND {
            return Err(AppError::not_found("node", node_id).into());
        }
        return Err(AppError::from_code(code, &err.message).into());
    }
    let data = response.data.into_json().map_err(AppError::internal)?;
    Ok(v2_ok(data))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentMembersParams {
    organization_code: Option<String>,
    department_id: Option<String>,
    sort_by: Option<String>,
    order_by: Option<String>,
    department_id_type: Option<String>,
    include_children_departments: Option<String>,
    page: Option<String>,
    limit: Option<String>,
    with_custom_data: Option<String>,
    with_identities: Option<String>,
    with_department_ids: Option<String>,
}

/// `GET /api/v3/list-department-members` (seed 002), answered in the v3 envelope.
pub async fn department_members_v3(
    State(http): State<HttpState>,
    headers: HeaderMap,
    Query(q): Query<DepartmentMembersParams>,
) -> Result<Response, V3Error> {
    let pool = caller(&http, &headers)?;
    let required = |name: &str, v: Option<String>| v.filter(|s| !s.is_empty()).ok_or_else(|| AppError::invalid(name, format!("{name} is required")));
    let args = DepartmentMembersArgs {
        organization_code: required("organizationCode", q.organization_code)?,
        department_id: required("departmentId", q.department_id)?,
        department_id_type: q.department_id_type,
        sort_by: q.sort_by.as_deref().filter(|s| !s.is_empty()).map(DepartmentMemberSortBy::parse).transpose()?.unwrap_or_default(),
        order_by: q.order_by.as_deref().filter(|s| !s.is_empty()).map(SortOrder::parse).transpose()?.unwrap_or_default(),
        include_children_departments: boolean("includeChildrenDepartments", q.include_children_departments.as_deref())?.unwrap_or(false),
        page: int("page", q.page.as_deref())?,
        limit: int("limit", q.limit.as_deref())?,
        with_custom_data: boolean("withCustomData", q.with_custom_data.as_deref())?.unwrap_or(false),
        with_identities: boolean("withIdentities", q.with_identities.as_deref())?.unwrap_or(false),
        with_department_ids: boolean("withDepartmentIds", q.with_department_ids.as_deref())?.unwrap_or(false),
    };
    Ok(v3_ok(department_members(&http.app, &pool, args).await?))
}

/// A query-string integer; absent or empty means "the default".
fn int(name: &str, v: Option<&str>) -> Result<Option<i64>, AppError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| AppError::invalid(name, format!("{name} must be an integer, got {s:?}"))),
    }
}

/// A query-string boolean: true/false in any case (Python's `requests` sends `True`), or 1/0.
fn boolean(name: &str, v: Option<&str>) -> Result<Option<bool>, AppError> {
    match v.map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(s) => Err(AppError::invalid(name, format!("{name} must be true or false, got {s:?}"))),
    }
}

/// Seed 001's export format: node fields, `children` as nested nodes, `members` as users.
fn export_json(tree: ExportNode) -> Value {
    let mut v = node_doc(&tree.node);
    v["members"] = json!(tree.members.iter().map(user_doc).collect::<Vec<_>>());
    v["children"] = Value::Array(tree.children.into_iter().map(export_json).collect());
    v
}
