//! v3 departments, named by id, `openDepartmentId` or code within an organization (`root` is the
//! organization's root).

use axum::{Router, extract::State, response::Response, routing::{get, post}};
use serde_json::{Value, json};

use super::{FilterItem, SortItem, V3Call, ascending, department_ref, params::Params, success};
use crate::{
    domain::{
        company::{Company, Row},
        org_tree::{
            ChildFilter, DepartmentField, DepartmentFilter, DepartmentIdType, DepartmentPatch, DepartmentRef, DepartmentSearch,
            Names, NodePatch,
        },
        pagination::Page,
        validate,
    },
    error::AppError,
    http::{
        HttpState,
        envelope::{V3Error, v3_ok},
        tree_import::import_tree,
    },
    views::{
        v3::{DepartmentDto, DepartmentOptions, departments},
        v3_names::department_id_type,
    },
};

/// Largest page of department lists ("at most 50").
const MAX_LIMIT: u64 = 50;
/// Most departments `search-departments` answers.
const MAX_SEARCH: u64 = 200;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/api/v3/create-department", post(create))
        .route("/api/v3/get-department", get(one))
        .route("/api/v3/get-department-by-id", get(by_id))
        .route("/api/v3/update-department", post(update))
        .route("/api/v3/delete-department", post(delete))
        .route("/api/v3/search-departments", post(search))
        .route("/api/v3/search-departments-list", post(search_list))
        .route("/api/v3/list-children-departments", get(children))
        .route("/api/v3/get-all-departments", get(all))
        .route("/api/v3/get-parent-department", get(parent))
        .route("/api/v3/create-department-tree", post(create_tree))
        .route("/api/v3/update-department-status", post(set_status))
}

fn options(p: &Params) -> Result<DepartmentOptions, AppError> {
    Ok(DepartmentOptions { with_custom_data: p.flag("withCustomData")?, flat_custom_data: p.flag("flatCustomData")? })
}

async fn answer_one(http: &HttpState, node: entity::node::Model, options: DepartmentOptions) -> Result<Response, V3Error> {
    let facts = http.app.orgs.department_facts(std::slice::from_ref(&node)).await?;
    Ok(v3_ok(DepartmentDto::new(&node, facts.get(&node.id), options)))
}

async fn answer_list(http: &HttpState, nodes: &[entity::node::Model], options: DepartmentOptions) -> Result<Vec<DepartmentDto>, V3Error> {
    let facts = http.app.orgs.department_facts(nodes).await?;
    Ok(departments(nodes, &facts, options))
}

/// `POST /api/v3/create-department`: under `parentDepartmentId` (`root` for the top level),
/// named as `departmentIdType` says.
async fn create(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let parent = department_ref(p, "parentDepartmentId")?;
    let fields = DepartmentPatch::read(Names::V3, |name| p.value(name))?;
    let node = http.app.orgs.create_department(&call.pool, &parent, fields.into()).await?;
    answer_one(&http, node, DepartmentOptions { with_custom_data: true, ..Default::default() }).await
}

/// `GET /api/v3/get-department`: by `departmentId` (+ `departmentIdType`) or `departmentCode`;
/// `organizationCode` may be left out when the department is named by its id.
async fn one(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let (id, id_type) = match (p.optional("departmentId")?, p.optional("departmentCode")?) {
        (Some(id), _) => (id, department_id_type(p.optional("departmentIdType")?.as_deref())?),
        (None, Some(code)) => (code, DepartmentIdType::Code),
        (None, None) => return Err(AppError::invalid("departmentId", "departmentId or departmentCode is required").into()),
    };
    let node = match p.optional("organizationCode")? {
        Some(organization_code) => {
            http.app.orgs.department(&call.pool, &DepartmentRef { organization_code, department_id: id, id_type }).await?
        }
        None if id_type == DepartmentIdType::Id && id != "root" => http.app.orgs.node(&call.pool, &id).await?,
        None => return Err(AppError::invalid("organizationCode", "organizationCode is required unless the department is named by its id").into()),
    };
    answer_one(&http, node, options(p)?).await
}

async fn by_id(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let node = http.app.orgs.node(&call.pool, &p.required("departmentId")?).await?;
    answer_one(&http, node, options(p)?).await
}

/// `POST /api/v3/update-department`: any listed field (by its v3 name), the leaders, and a
/// move under `parentDepartmentId`, in one transaction.
async fn update(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let r = department_ref(p, "departmentId")?;
    let patch = NodePatch {
        fields: DepartmentPatch::read(Names::V3, |name| p.value(name))?,
        leader_user_ids: p.list("leaderUserIds")?,
        ..Default::default()
    };
    let parent = p.optional("parentDepartmentId")?;
    let node = http.app.orgs.update_department(&call.pool, &r, patch, parent.as_deref()).await?;
    answer_one(&http, node, DepartmentOptions { with_custom_data: true, ..Default::default() }).await
}

async fn delete(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    http.app.orgs.delete_department(&call.pool, &department_ref(&call.params, "departmentId")?).await?;
    Ok(v3_ok(success()))
}

/// `POST /api/v3/search-departments`: name or code contains `keywords` (at most 200).
async fn search(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let found = http.app.orgs.search_departments(&call.pool, &p.required("organizationCode")?, &p.required("keywords")?, MAX_SEARCH).await?;
    Ok(v3_ok(answer_list(&http, &found, options(p)?).await?))
}

/// `POST /api/v3/search-departments-list`: a page of an organization's departments with
/// `advancedFilter` (name EQUAL/IN/CONTAINS; createdAt/updatedAt GREATER/LESSER/BETWEEN with
/// millisecond timestamps or ISO times) and sorting. Answers the list, as the SDK declares.
async fn search_list(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let page = Page::new(p.int("page")?, p.int("limit")?, MAX_LIMIT)?;
    let mut filters = Vec::new();
    for f in p.parse::<Vec<FilterItem>>("advancedFilter")?.unwrap_or_default() {
        filters.push(filter(f)?);
    }
    let mut sort = Vec::new();
    for s in p.parse::<Vec<SortItem>>("sort")?.unwrap_or_default() {
        sort.push((DepartmentField::parse("sort.field", &s.field)?, ascending("sort.order", &s.order)?));
    }
    if let Some(by) = p.optional("sortBy")? {
        let asc = p.optional("orderBy")?.map(|o| ascending("orderBy", &o)).transpose()?.unwrap_or(false);
        sort.push((DepartmentField::parse("sortBy", &by)?, asc));
    }
    let search = DepartmentSearch { page, filters, sort };
    let found = http.app.orgs.department_page(&call.pool, &p.required("organizationCode")?, &search).await?;
    Ok(v3_ok(answer_list(&http, &found.list, options(p)?).await?))
}


fn filter(f: FilterItem) -> Result<DepartmentFilter, AppError> {
    let field = DepartmentField::parse("advancedFilter.field", &f.field)?;
    let bad = |why: &str| AppError::invalid("advancedFilter", format!("{} {}: {why}", f.field, f.operator));
    let text = |v: &Value| v.as_str().map(str::to_string).ok_or_else(|| bad("the value must be a string"));
    let value = f.value.as_ref().ok_or_else(|| bad("a value is required"))?;
    match (field, f.operator.to_ascii_uppercase().as_str()) {
        (DepartmentField::Name, "EQUAL") => Ok(DepartmentFilter::NameEquals(text(value)?)),
        (DepartmentField::Name, "CONTAINS") => Ok(DepartmentFilter::NameContains(text(value)?)),
        (DepartmentField::Name, "IN") => {
            let items = value.as_array().ok_or_else(|| bad("the value must be a list"))?;
            if items.len() > 1_000 {
                return Err(bad("at most 1000 values"));
            }
            Ok(DepartmentFilter::NameIn(items.iter().map(text).collect::<Result<_, _>>()?))
        }
        (DepartmentField::Name, _) => Err(bad("name takes EQUAL, IN or CONTAINS")),
        (time, "GREATER") => Ok(DepartmentFilter::Between(time, Some(instant(value).ok_or_else(|| bad("not a time"))?), None)),
        (time, "LESSER") => Ok(DepartmentFilter::Between(time, None, Some(instant(value).ok_or_else(|| bad("not a time"))?))),
        (time, "BETWEEN") => match value.as_array().map(Vec::as_slice) {
            Some([a, b]) => Ok(DepartmentFilter::Between(time, instant(a), instant(b))),
            _ => Err(bad("BETWEEN takes a list of two times")),
        },
        (_, _) => Err(bad("times take GREATER, LESSER or BETWEEN")),
    }
}

/// A time as a millisecond timestamp (number or text) or an ISO 8601 text.
fn instant(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    match v {
        Value::Number(n) => chrono::DateTime::from_timestamp_millis(n.as_i64()?),
        Value::String(s) => match s.parse::<i64>() {
            Ok(ms) => chrono::DateTime::from_timestamp_millis(ms),
            Err(_) => validate::timestamp("advancedFilter", s).ok().flatten(),
        },
        _ => None,
    }
}

/// `GET /api/v3/list-children-departments`: `status`, `excludeVirtualNode`, `onlyVirtualNode`
/// filter.
async fn children(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let filter = ChildFilter { enabled: p.bool("status")?, exclude_virtual: p.flag("excludeVirtualNode")?, only_virtual: p.flag("onlyVirtualNode")? };
    let found = http.app.orgs.department_children(&call.pool, &department_ref(p, "departmentId")?, filter).await?;
    let list = answer_list(&http, &found, options(p)?).await?;
    Ok(v3_ok(json!({ "totalCount": list.len(), "list": list })))
}

/// `GET /api/v3/get-all-departments`: every department below `departmentId` (default `root`).
async fn all(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let r = DepartmentRef {
        organization_code: p.required("organizationCode")?,
        department_id: p.optional("departmentId")?.unwrap_or_else(|| "root".into()),
        id_type: department_id_type(p.optional("departmentIdType")?.as_deref())?,
    };
    let found = http.app.orgs.department_descendants(&call.pool, &r).await?;
    let list = answer_list(&http, &found, options(p)?).await?;
    Ok(v3_ok(json!({ "totalCount": list.len(), "list": list })))
}

/// `GET /api/v3/get-parent-department`: `data` is null for the root.
async fn parent(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    match http.app.orgs.parent_department(&call.pool, &department_ref(p, "departmentId")?).await? {
        Some(node) => answer_one(&http, node, options(p)?).await,
        None => Ok(v3_ok(Value::Null)),
    }
}

/// `POST /api/v3/create-department-tree {name, children}`: a new organization named `name` with
/// the departments of `children` (names, or `{name, code?, children?}` objects), in one
/// transaction; answers what it created.
async fn create_tree(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    if p.value("members").is_some_and(|m| m.as_object().is_some_and(|o| !o.is_empty()) || m.as_array().is_some_and(|a| !a.is_empty())) {
        return Err(AppError::invalid("members", "create-department-tree creates departments only: add members with add-department-members").into());
    }
    fn node(v: &Value, field: &str) -> Result<Value, AppError> {
        match v {
            Value::String(name) => Ok(json!({ "name": name })),
            Value::Object(o) => {
                let children = match o.get("children") {
                    Some(Value::Array(items)) => items.iter().map(|c| node(c, field)).collect::<Result<Vec<_>, _>>()?,
                    None | Some(Value::Null) => Vec::new(),
                    Some(_) => return Err(AppError::invalid(field, "children must be a list")),
                };
                Ok(json!({ "name": o.get("name").cloned().unwrap_or(Value::Null), "code": o.get("code").cloned().unwrap_or(Value::Null), "children": children }))
            }
            _ => Err(AppError::invalid(field, "each child is a name or an object {name, code, children}")),
        }
    }
    let children = match p.value("children") {
        Some(Value::Array(items)) => items.iter().map(|c| node(c, "children")).collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
        Some(_) => return Err(AppError::invalid("children", "children must be a list").into()),
    };
    let tree = json!({ "name": p.required("name")?, "code": format!("org-{}", &crate::ids::new_id().replace('-', "")[..16]), "children": children });
    let company = tree_rows(&tree);
    let count = company.nodes.len();
    import_tree(&http, &call.pool, company, "JSON").await?;
    Ok(v3_ok(json!({ "addUser": 0, "updateUser": 0, "addDepartment": count, "updateDepartment": 0 })))
}

/// The node rows of a tree of `{name, code, children}`, each with a new id.
fn tree_rows(tree: &Value) -> Company {
    let mut company = Company::default();
    let mut level: Vec<(&Value, Option<String>)> = vec![(tree, None)];
    while !level.is_empty() {
        let mut next = Vec::new();
        for (node, parent) in level {
            let id = crate::ids::new_id();
            let mut fields = serde_json::Map::new();
            fields.insert("id".into(), json!(id));
            fields.insert("parentId".into(), json!(parent));
            for key in ["name", "code"] {
                if let Some(v) = node.get(key).filter(|v| !v.is_null()) {
                    fields.insert(key.into(), v.clone());
                }
            }
            let at = format!("department {}", company.nodes.len());
            company.nodes.push(Row { at, fields });
            for child in node.get("children").and_then(Value::as_array).into_iter().flatten() {
                next.push((child, Some(id.clone())));
            }
        }
        level = next;
    }
    company
}

/// `POST /api/v3/update-department-status {departmentId, status}`: answers the department.
async fn set_status(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let enabled = p.bool("status")?.ok_or_else(|| AppError::invalid("status", "status (true or false) is required"))?;
    let node = http.app.orgs.set_department_status(&call.pool, &p.required("departmentId")?, enabled).await?;
    answer_one(&http, node, DepartmentOptions::default()).await
}
