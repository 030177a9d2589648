//! v3 department members, and a user's departments.

use axum::{Router, extract::State, response::Response, routing::{get, post}};
use serde::Deserialize;
use serde_json::json;

use super::{V3Call, department_ref, params::Params, success};
use crate::{
    domain::{
        org_tree::{
            DepartmentAssignment, DepartmentMemberSort, DepartmentMembersArgs, DepartmentMembersQuery, MAX_V3_LIMIT, SortOrder,
            UserDepartmentSort,
        },
        pagination::Page,
    },
    error::AppError,
    http::{
        HttpState,
        envelope::{V3Error, v3_ok},
    },
    views::{
        v3::{UserDepartmentDto, UserDto, UserDtoOptions, UserPagingDto},
        v3_names::{department_id_type, user_id_type},
    },
};

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/api/v3/add-department-members", post(add))
        .route("/api/v3/remove-department-members", post(remove))
        .route("/api/v3/list-department-members", get(list))
        .route("/api/v3/list-department-member-ids", get(ids))
        .route("/api/v3/search-department-members", get(search))
        .route("/api/v3/is-user-in-department", get(is_member))
        .route("/api/v3/get-user-departments", get(user_departments))
        .route("/api/v3/set-user-departments", post(set_user_departments))
}

fn user_options(p: &Params) -> Result<UserDtoOptions, AppError> {
    Ok(UserDtoOptions { with_custom_data: p.flag("withCustomData")?, with_identities: p.flag("withIdentities")? })
}

async fn add(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    http.app.orgs.add_department_members(&call.pool, &department_ref(p, "departmentId")?, &p.required_list("userIds")?).await?;
    Ok(v3_ok(success()))
}

async fn remove(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    http.app.orgs.remove_department_members(&call.pool, &department_ref(p, "departmentId")?, &p.required_list("userIds")?).await?;
    Ok(v3_ok(success()))
}

/// `GET /api/v3/list-department-members` (seed 002).
async fn list(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let query = DepartmentMembersQuery::new(DepartmentMembersArgs {
        organization_code: p.required("organizationCode")?,
        department_id: p.required("departmentId")?,
        department_id_type: department_id_type(p.optional("departmentIdType")?.as_deref())?,
        sort_by: p.optional("sortBy")?.as_deref().map(DepartmentMemberSort::parse).transpose()?.unwrap_or_default(),
        order_by: p.optional("orderBy")?.as_deref().map(SortOrder::parse).transpose()?.unwrap_or_default(),
        include_children_departments: p.flag("includeChildrenDepartments")?,
        page: p.int("page")?,
        limit: p.int("limit")?,
        with_department_ids: p.flag("withDepartmentIds")?,
    })?;
    let found = http.app.orgs.department_members(&call.pool, &query).await?;
    Ok(v3_ok(UserPagingDto::new(found, user_options(p)?)))
}

async fn ids(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    Ok(v3_ok(http.app.orgs.department_member_ids(&call.pool, &department_ref(&call.params, "departmentId")?).await?))
}

/// `GET /api/v3/search-department-members`: members whose username, name, nickname, e-mail or
/// phone contains `keywords`.
async fn search(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let page = Page::new(p.int("page")?, p.int("limit")?, MAX_V3_LIMIT)?;
    let found = http
        .app
        .orgs
        .search_department_members(&call.pool, &department_ref(p, "departmentId")?, &p.required("keywords")?, page, p.flag("includeChildrenDepartments")?)
        .await?;
    let mut department_ids = if p.flag("withDepartmentIds")? {
        let ids: Vec<String> = found.list.iter().map(|u| u.id.clone()).collect();
        Some(http.app.orgs.department_ids_of(&ids).await?)
    } else {
        None
    };
    let options = user_options(p)?;
    let list: Vec<UserDto> = found
        .list
        .into_iter()
        .map(|u| {
            let deps = department_ids.as_mut().map(|d| d.remove(&u.id).unwrap_or_default());
            UserDto::new(u, deps, options)
        })
        .collect();
    Ok(v3_ok(json!({ "totalCount": found.total_count, "list": list })))
}

async fn is_member(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let inside = http
        .app
        .orgs
        .is_user_in_department(&call.pool, &p.required("userId")?, &department_ref(p, "departmentId")?, p.flag("includeChildrenDepartments")?)
        .await?;
    Ok(v3_ok(json!({ "inDepartment": inside })))
}

/// `GET /api/v3/get-user-departments`: a page of the user's departments, with their paths from
/// the root when `withDepartmentPaths`.
async fn user_departments(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let id_type = user_id_type(p.optional("userIdType")?.as_deref())?;
    let page = Page::new(p.int("page")?, p.int("limit")?, MAX_V3_LIMIT)?;
    let sort = p.optional("sortBy")?.as_deref().map(UserDepartmentSort::parse).transpose()?.unwrap_or_default();
    let ascending = p.optional("orderBy")?.as_deref().map(SortOrder::parse).transpose()?.unwrap_or_default() == SortOrder::Asc;
    let found = http.app.orgs.user_departments_page(&call.pool, id_type, &p.required("userId")?, page, sort, ascending).await?;
    let nodes: Vec<entity::node::Model> = found.list.iter().map(|d| d.node.clone()).collect();
    let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
    let facts = http.app.orgs.department_facts(&nodes).await?;
    let paths = if p.flag("withDepartmentPaths")? { Some(http.app.orgs.paths_of(&ids).await?) } else { None };
    let with_custom_data = p.flag("withCustomData")?;
    let list: Vec<UserDepartmentDto> = found
        .list
        .iter()
        .map(|d| {
            let path = paths.as_ref().map(|m| m.get(&d.node.id).map(Vec::as_slice).unwrap_or_default());
            UserDepartmentDto::new(d, facts.get(&d.node.id), path, with_custom_data)
        })
        .collect();
    Ok(v3_ok(json!({ "totalCount": found.total_count, "list": list })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Assignment {
    department_id: String,
    is_leader: Option<bool>,
    is_main_department: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SetOptions {
    user_id_type: Option<String>,
}

/// `POST /api/v3/set-user-departments {userId, departments: [{departmentId, isLeader,
/// isMainDepartment}], options: {userIdType}}`: these become the user's departments.
async fn set_user_departments(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let user = p.required("userId")?;
    let departments = p
        .parse::<Vec<Assignment>>("departments")?
        .ok_or_else(|| AppError::invalid("departments", "departments is required (a list, possibly empty)"))?;
    let options = p.parse::<SetOptions>("options")?.unwrap_or_default();
    let id_type = user_id_type(options.user_id_type.as_deref())?;
    let departments = departments
        .into_iter()
        .map(|d| DepartmentAssignment {
            department_id: d.department_id,
            is_leader: d.is_leader.unwrap_or(false),
            is_main: d.is_main_department.unwrap_or(false),
        })
        .collect();
    http.app.orgs.set_user_departments(&call.pool, id_type, &user, departments).await?;
    Ok(v3_ok(success()))
}
