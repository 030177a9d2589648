//! The org REST routes of Authing's v2 API that the SDKs call.

use axum::{
    Json,
    extract::{Path, Query, State},
    response::Response,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    HttpState,
    envelope::{V2Error, v2_ok, v2_ok_saying},
    tree_import::{import_tree, v2_tree_rows},
    v2_caller::V2Caller,
    v2_messages,
};
use crate::{
    domain::{
        docs::{NodeDoc, UserDoc, iso, to_json},
        org_tree::{ExportNode, MemberSort, MembersQuery, UserDepartment},
        pagination::{Page, TimestampOrder},
        users::UserColumns,
    },
    error::AppError,
    views::user::{User, document_extras, merge},
};

#[derive(Deserialize)]
pub struct ImportBody {
    filetype: Option<String>,
    file: Option<Value>,
}

/// `POST /api/v2/orgs/import` `{filetype: "json", file: <tree or list of trees>}`: the
/// export format (`GET /api/v2/orgs/export`) with its ids, fields, leaders and members, or a
/// tree of names and codes; one transaction. Answers with what it created, in the export format.
pub async fn import(State(http): State<HttpState>, V2Caller(pool): V2Caller, body: Option<Json<ImportBody>>) -> Result<Response, V2Error> {
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
    let (trees, one) = match file {
        Value::Array(trees) => (trees, false),
        tree => (vec![tree], true),
    };
    let created = import_tree(&http, &pool, v2_tree_rows(&trees)?, "JSON").await?;
    if created.is_empty() {
        return Err(AppError::Conflict { field: Some("file"), message: "the file's organizations already exist in this pool: nothing was imported".into() }.into());
    }
    let mut exported = Vec::with_capacity(created.len());
    for (org, _) in &created {
        exported.push(export_json(http.app.orgs.export_org(&pool, &org.id).await?));
    }
    Ok(v2_ok(if one && exported.len() == 1 { exported.remove(0) } else { Value::Array(exported) }))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    org_id: Option<String>,
}

/// `GET /api/v2/orgs/export` (every org, a list) and `?org_id=` (one org).
pub async fn export(State(http): State<HttpState>, V2Caller(pool): V2Caller, Query(q): Query<ExportQuery>) -> Result<Response, V2Error> {
    match q.org_id.filter(|s| !s.is_empty()) {
        Some(id) => Ok(v2_ok_saying(v2_messages::EXPORTED, export_json(http.app.orgs.export_org(&pool, &id).await?))),
        None => {
            let all: Vec<Value> = http.app.orgs.export_all(&pool).await?.into_iter().map(export_json).collect();
            Ok(v2_ok_saying(v2_messages::EXPORTED, all))
        }
    }
}

/// `GET /api/v2/orgs/count` → `{count}`.
pub async fn count(State(http): State<HttpState>, V2Caller(pool): V2Caller) -> Result<Response, V2Error> {
    Ok(v2_ok(json!({ "count": http.app.orgs.count_orgs(&pool).await? })))
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v2/orgs?page&limit`: the organizations with their root nodes, newest first.
pub async fn list(State(http): State<HttpState>, V2Caller(pool): V2Caller, Query(q): Query<PageQuery>) -> Result<Response, V2Error> {
    let page = Page::new(int("page", q.page.as_deref())?, int("limit", q.limit.as_deref())?, http.app.config.limits.max_page_size)?;
    let orgs = http.app.orgs.orgs(&pool, page, TimestampOrder::CreatedAtDesc).await?;
    let mut list = Vec::new();
    for org in orgs.list {
        let root = http.app.orgs.node(&pool, &org.root_node_id).await?;
        let mut root_json = to_json(&NodeDoc::from(&root));
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

/// `GET /api/v2/orgs/nodes/{nodeId}/members`: seed 003's route, answered with the shape of the
/// `nodeById` query (the node, its child ids and a page of its members).
pub async fn node_members(
    State(http): State<HttpState>,
    V2Caller(pool): V2Caller,
    Path(node_id): Path<String>,
    Query(q): Query<MembersQueryParams>,
) -> Result<Response, V2Error> {
    let query = MembersQuery {
        page: Page::new(int("page", q.page.as_deref())?, int("limit", q.limit.as_deref())?, http.app.config.limits.max_page_size)?,
        sort: MemberSort::User(match q.sort_by.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => TimestampOrder::parse("sortBy", s)?,
            None => TimestampOrder::default(),
        }),
        include_children: boolean("includeChildrenNodes", q.include_children_nodes.as_deref())?.unwrap_or(false),
        columns: UserColumns::ALL,
    };
    let orgs = &http.app.orgs;
    let node = orgs.node(&pool, &node_id).await?;
    let children = orgs.child_ids_of(std::slice::from_ref(&node.id)).await?.remove(&node.id).unwrap_or_default();
    let page = orgs.members_page(&node, query).await?;
    let ids: Vec<String> = page.list.iter().map(|u| u.id.clone()).collect();
    let mut departments = orgs.departments_of(&pool, &ids, None).await?;
    let leader = match &node.leader_user_id {
        Some(id) => http.app.users.get(&pool, id).await.ok().map(User::from),
        None => None,
    };
    let list: Vec<Value> = page
        .list
        .into_iter()
        .map(|u| {
            let deps = departments.remove(&u.id).unwrap_or_default();
            seed_003_user(u, deps)
        })
        .collect();
    let mut json = seed_003_node(&node);
    json["children"] = json!(children);
    json["users"] = json!({ "totalCount": page.total_count, "list": list });
    json["leaderUser"] = leader.map_or_else(|| json!({}), |l| to_json(&l));
    Ok(v2_ok_saying(v2_messages::NODE_MEMBERS, json!({ "nodeById": json })))
}

/// A node as seed 003 shows it: its document plus Authing's internal `__id`, `__parentid` and
/// `__groupid` (the org).
fn seed_003_node(node: &entity::node::Model) -> Value {
    let mut json = to_json(&NodeDoc::from(node));
    merge(&mut json, json!({ "__id": node.id, "__parentid": node.parent_id, "__groupid": node.org_id }));
    json
}

/// A user as seed 003 shows it: the v2 user, the document fields orgraph has no value for, and
/// `departmentList`. Secrets are never sent: `password`, `salt`, `secretInfo` and
/// `encryptedPassword` are null.
fn seed_003_user(u: entity::user::Model, departments: Vec<UserDepartment>) -> Value {
    let main = departments.iter().find(|d| d.is_main).map(|d| d.node.clone());
    let mut json = to_json(&User::from(u));
    merge(&mut json, document_extras(main.as_ref()));
    let list: Vec<Value> = departments
        .iter()
        .map(|d| json!({ "department": seed_003_node(&d.node), "joinedAt": iso(d.joined_at), "isMainDepartment": d.is_main }))
        .collect();
    merge(&mut json, json!({
        "isRoot": false, "thirdPartyIdentity": null, "salt": null, "secretInfo": null, "encryptedPassword": null,
        "resetPasswordOnFirstLogin": false, "syncExtInfo": null, "positions": [],
        "departmentList": { "totalCount": list.len(), "list": list },
    }));
    json
}

/// A query-string integer; absent or empty means "the default".
pub(super) fn int(name: &str, v: Option<&str>) -> Result<Option<i64>, AppError> {
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

/// Seed 001's export format: node fields (with `leaderUserIds` in order, and the
/// organization's `tenantId` on the root), `children` as nested nodes, `members` as users with
/// their membership (`joinedAt`, `isLeader`) and main department. `POST /api/v2/orgs/import`
/// reads it back whole.
fn export_json(tree: ExportNode) -> Value {
    let mut v = to_json(&NodeDoc::from(&tree.node));
    v["leaderUserIds"] = json!(tree.leader_user_ids);
    if let Some(org) = &tree.org {
        v["tenantId"] = json!(org.tenant_id);
    }
    let members: Vec<Value> = tree
        .members
        .into_iter()
        .map(|m| {
            let mut doc = to_json(&UserDoc::from(m.user));
            merge(&mut doc, document_extras(m.main_department.as_ref()));
            merge(&mut doc, json!({ "joinedAt": iso(m.membership.joined_at), "isLeader": m.membership.is_leader }));
            doc
        })
        .collect();
    v["members"] = Value::Array(members);
    v["children"] = Value::Array(tree.children.into_iter().map(export_json).collect());
    v
}
