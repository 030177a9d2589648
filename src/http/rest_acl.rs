//! The permission REST routes of Authing's v2 API, as authing-js-sdk v4's `managementClient.acl`
//! (and the PHP SDK) call them: namespaces, resources, `is-allowed`, revoking and the batch routes.

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
    v2_messages,
    rest_orgs::int,
    v2_caller::V2Caller,
};
use crate::{
    domain::{
        PoolId,
        acl::{
            ActionDef, GrantTarget, NamespaceInput, NamespaceRef, ResourceInput,
            docs::{NamespaceDoc, ResourceDoc},
            parse_resource_type,
        },
        pagination::Page,
    },
    error::AppError,
};
use entity::acl_grant::TargetType;

/// The pool a namespace route names must be the caller's.
fn own_pool(pool: &PoolId, named: &str) -> Result<(), AppError> {
    if named == pool.as_str() {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("the token is for user pool {pool}, the route names {named}")))
    }
}

fn target_type(field: &str, v: &str) -> Result<TargetType, AppError> {
    match v {
        "USER" => Ok(TargetType::User),
        "ORG" => Ok(TargetType::Org),
        other => Err(AppError::invalid(field, format!("targetType {other:?} is not supported: orgraph grants to USER and ORG (a node id) only"))),
    }
}

#[derive(Deserialize, Default)]
pub struct NamespaceBody {
    code: Option<String>,
    name: Option<String>,
    description: Option<String>,
}

impl From<NamespaceBody> for NamespaceInput {
    fn from(b: NamespaceBody) -> Self {
        NamespaceInput { code: b.code, name: b.name, description: b.description }
    }
}

/// `POST /api/v2/resource-namespace/{userPoolId}` `{code, name, description}`.
pub async fn create_namespace(State(http): State<HttpState>, V2Caller(pool): V2Caller, Path(pool_id): Path<String>, body: Option<Json<NamespaceBody>>) -> Result<Response, V2Error> {
    own_pool(&pool, &pool_id)?;
    let body = body.map(|b| b.0).unwrap_or_default();
    let ns = http.app.acl.create_namespace(&pool, body.into()).await?;
    Ok(v2_ok(NamespaceDoc::from(&ns)))
}

#[derive(Deserialize)]
pub struct PageParams {
    page: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v2/resource-namespace/{userPoolId}?page&limit` → `{list, total, totalCount}` (the
/// SDK's type says `total`, Authing's docs `totalCount`).
pub async fn list_namespaces(State(http): State<HttpState>, V2Caller(pool): V2Caller, Path(pool_id): Path<String>, Query(q): Query<PageParams>) -> Result<Response, V2Error> {
    own_pool(&pool, &pool_id)?;
    let page = Page::new(int("page", q.page.as_deref())?, int("limit", q.limit.as_deref())?, http.app.config.limits.max_page_size)?;
    let found = http.app.acl.namespaces(&pool, page).await?;
    let list: Vec<NamespaceDoc> = found.list.iter().map(NamespaceDoc::from).collect();
    Ok(v2_ok_saying(v2_messages::NAMESPACES, json!({ "list": list, "total": found.total_count, "totalCount": found.total_count })))
}

fn namespace_ref(which: &str, by_code: bool) -> Result<NamespaceRef, AppError> {
    if by_code {
        Ok(NamespaceRef::Code(which.to_string()))
    } else {
        which.parse().map(NamespaceRef::Id).map_err(|_| AppError::invalid("id", "a namespace id is a number"))
    }
}

/// `PUT /api/v2/resource-namespace/{userPoolId}/code/{code}` (the JS SDK) and `…/{id}` (the Go SDK).
pub async fn update_namespace_by_code(State(http): State<HttpState>, V2Caller(pool): V2Caller, Path((pool_id, code)): Path<(String, String)>, body: Option<Json<NamespaceBody>>) -> Result<Response, V2Error> {
    update_namespace(http, pool, pool_id, namespace_ref(&code, true)?, body).await
}

pub async fn update_namespace_by_id(State(http): State<HttpState>, V2Caller(pool): V2Caller, Path((pool_id, id)): Path<(String, String)>, body: Option<Json<NamespaceBody>>) -> Result<Response, V2Error> {
    update_namespace(http, pool, pool_id, namespace_ref(&id, false)?, body).await
}

async fn update_namespace(http: HttpState, pool: PoolId, pool_id: String, which: NamespaceRef, body: Option<Json<NamespaceBody>>) -> Result<Response, V2Error> {
    own_pool(&pool, &pool_id)?;
    let body = body.map(|b| b.0).unwrap_or_default();
    let ns = http.app.acl.update_namespace(&pool, which, body.into()).await?;
    Ok(v2_ok_saying(v2_messages::NAMESPACES, NamespaceDoc::from(&ns)))
}

/// `DELETE /api/v2/resource-namespace/{userPoolId}/code/{code}` and `…/{id}`: the namespace, its
/// resources and their grants.
pub async fn delete_namespace_by_code(State(http): State<HttpState>, V2Caller(pool): V2Caller, Path((pool_id, code)): Path<(String, String)>) -> Result<Response, V2Error> {
    delete_namespace(http, pool, pool_id, namespace_ref(&code, true)?).await
}

pub async fn delete_namespace_by_id(State(http): State<HttpState>, V2Caller(pool): V2Caller, Path((pool_id, id)): Path<(String, String)>) -> Result<Response, V2Error> {
    delete_namespace(http, pool, pool_id, namespace_ref(&id, false)?).await
}

async fn delete_namespace(http: HttpState, pool: PoolId, pool_id: String, which: NamespaceRef) -> Result<Response, V2Error> {
    own_pool(&pool, &pool_id)?;
    http.app.acl.delete_namespace(&pool, which).await?;
    Ok(v2_ok(Value::Null))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceListParams {
    namespace: Option<String>,
    /// The PHP SDK's name for `namespace`.
    namespace_code: Option<String>,
    #[serde(rename = "type")]
    resource_type: Option<String>,
    page: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v2/resources?namespace|namespaceCode&type&page&limit` → `{list, totalCount}`.
pub async fn list_resources(State(http): State<HttpState>, V2Caller(pool): V2Caller, Query(q): Query<ResourceListParams>) -> Result<Response, V2Error> {
    let page = Page::new(int("page", q.page.as_deref())?, int("limit", q.limit.as_deref())?, http.app.config.limits.max_page_size)?;
    let resource_type = parse_resource_type("type", q.resource_type.as_deref())?;
    let namespace = q.namespace.or(q.namespace_code);
    let found = http.app.acl.resources(&pool, namespace.as_deref(), resource_type, page).await?;
    let list: Vec<ResourceDoc> = found.list.iter().map(|(r, ns)| ResourceDoc::new(r, ns)).collect();
    Ok(v2_ok(json!({ "list": list, "totalCount": found.total_count })))
}

#[derive(Deserialize)]
pub struct DetailParams {
    id: Option<String>,
    namespace: Option<String>,
    code: Option<String>,
}

/// `GET /api/v2/resources/detail?id=` or `?namespace&code=`: the resource, or `data: null` when
/// there is none (the SDK answers null then).
pub async fn resource_detail(State(http): State<HttpState>, V2Caller(pool): V2Caller, Query(q): Query<DetailParams>) -> Result<Response, V2Error> {
    let found = match (q.id.filter(|s| !s.is_empty()), q.code.filter(|s| !s.is_empty())) {
        (Some(id), _) => http.app.acl.resource_by_id(&pool, &id).await?,
        (None, Some(code)) => http.app.acl.resource_by_code(&pool, q.namespace.as_deref(), &code).await?,
        (None, None) => return Err(AppError::invalid("id", "give id, or namespace and code").into()),
    };
    Ok(v2_ok(found.map(|(r, ns)| ResourceDoc::new(&r, &ns))))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResourceBody {
    code: Option<String>,
    #[serde(rename = "type")]
    resource_type: Option<String>,
    description: Option<String>,
    actions: Option<Vec<ActionBody>>,
    namespace: Option<String>,
    api_identifier: Option<String>,
}

#[derive(Deserialize)]
pub struct ActionBody {
    name: String,
    description: Option<String>,
}

impl ResourceBody {
    fn into_input(self) -> Result<(Option<String>, ResourceInput), AppError> {
        let input = ResourceInput {
            code: self.code,
            resource_type: parse_resource_type("type", self.resource_type.as_deref())?,
            description: self.description,
            actions: self.actions.map(|a| a.into_iter().map(|a| ActionDef { name: a.name, description: a.description }).collect()),
            api_identifier: self.api_identifier,
        };
        Ok((self.namespace, input))
    }
}

/// `POST /api/v2/resources` `{code, type, description, actions: [{name, description}], namespace, apiIdentifier}`.
pub async fn create_resource(State(http): State<HttpState>, V2Caller(pool): V2Caller, body: Option<Json<ResourceBody>>) -> Result<Response, V2Error> {
    let (namespace, input) = body.map(|b| b.0).unwrap_or_default().into_input()?;
    let (r, ns) = http.app.acl.create_resource(&pool, namespace.as_deref(), input).await?;
    Ok(v2_ok_saying(v2_messages::RESOURCE_CREATED, ResourceDoc::new(&r, &ns)))
}

/// `POST /api/v2/resources/{code}` `{namespace, type?, description?, actions?, apiIdentifier?}`.
pub async fn update_resource(State(http): State<HttpState>, V2Caller(pool): V2Caller, Path(code): Path<String>, body: Option<Json<ResourceBody>>) -> Result<Response, V2Error> {
    let (namespace, input) = body.map(|b| b.0).unwrap_or_default().into_input()?;
    let (r, ns) = http.app.acl.update_resource(&pool, namespace.as_deref(), &code, input).await?;
    Ok(v2_ok_saying(v2_messages::RESOURCE_UPDATED, ResourceDoc::new(&r, &ns)))
}

#[derive(Deserialize)]
pub struct NamespaceParam {
    namespace: Option<String>,
}

/// `DELETE /api/v2/resources/{code}?namespace=`: the resource and its grants. (The PHP SDK sends
/// a `[]` body, which is ignored.)
pub async fn delete_resource(State(http): State<HttpState>, V2Caller(pool): V2Caller, Path(code): Path<String>, Query(q): Query<NamespaceParam>) -> Result<Response, V2Error> {
    http.app.acl.delete_resource(&pool, q.namespace.as_deref(), &code).await?;
    Ok(v2_ok(Value::Null))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IsAllowedBody {
    namespace: Option<String>,
    user_id: Option<String>,
    resource: Option<String>,
    action: Option<String>,
}

/// `POST /api/v2/acl/is-allowed` `{namespace, userId, resource, action}` → `{allowed}`.
pub async fn is_allowed(State(http): State<HttpState>, V2Caller(pool): V2Caller, body: Option<Json<IsAllowedBody>>) -> Result<Response, V2Error> {
    let Some(Json(b)) = body else { return Err(AppError::invalid("userId", "send {userId, resource, action, namespace}").into()) };
    let required = |name: &str, v: Option<String>| v.filter(|s| !s.is_empty()).ok_or_else(|| AppError::invalid(name, format!("{name} is required")));
    let (user, resource, action) = (required("userId", b.user_id)?, required("resource", b.resource)?, required("action", b.action)?);
    let allowed = http.app.acl.is_allowed(&pool, b.namespace.as_deref(), &user, &resource, &action).await?;
    Ok(v2_ok(json!({ "allowed": allowed })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetBody {
    target_type: String,
    target_identifier: String,
}

#[derive(Deserialize)]
pub struct RevokeBody {
    namespace: Option<String>,
    resource: Option<String>,
    opts: Option<Vec<TargetBody>>,
}

/// `POST /api/v2/acl/revoke-resource` `{namespace, resource, opts: [{targetType, targetIdentifier}]}`.
pub async fn revoke_resource(State(http): State<HttpState>, V2Caller(pool): V2Caller, body: Option<Json<RevokeBody>>) -> Result<Response, V2Error> {
    let Some(Json(b)) = body else { return Err(AppError::invalid("resource", "send {namespace, resource, opts}").into()) };
    let resource = b.resource.ok_or_else(|| AppError::invalid("resource", "resource is required"))?;
    let targets = b
        .opts
        .unwrap_or_default()
        .into_iter()
        .map(|t| Ok((target_type("opts.targetType", &t.target_type)?, t.target_identifier)))
        .collect::<Result<Vec<_>, AppError>>()?;
    http.app.acl.revoke(&pool, b.namespace.as_deref(), &resource, targets).await?;
    Ok(v2_ok(Value::Null))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchOpt {
    target_type: String,
    target_identifiers: Vec<String>,
    resources: Vec<BatchResource>,
}

#[derive(Deserialize)]
pub struct BatchResource {
    code: String,
    actions: Option<Vec<String>>,
}

#[derive(Deserialize)]
pub struct BatchBody {
    namespace: Option<String>,
    opts: Option<Vec<BatchOpt>>,
}

/// `POST /api/v2/acl/authorize-resources` and `…/revoke-resources` `{namespace, opts:
/// [{targetType, targetIdentifiers, resources: [{code, actions, resourceType}]}]}` (authing-js-sdk's
/// `acl.authorizeResources` / `revokeResources`; `resourceType` is the resource's own, ignored):
/// one transaction, all or nothing.
pub async fn authorize_resources(State(http): State<HttpState>, V2Caller(pool): V2Caller, body: Option<Json<BatchBody>>) -> Result<Response, V2Error> {
    let Some(Json(b)) = body else { return Err(AppError::invalid("opts", "send {namespace, opts}").into()) };
    let mut grants = Vec::new();
    for opt in b.opts.unwrap_or_default() {
        let ty = target_type("opts.targetType", &opt.target_type)?;
        for r in opt.resources {
            let actions = r.actions.unwrap_or_default();
            let targets = opt
                .target_identifiers
                .iter()
                .map(|id| GrantTarget { target_type: ty, target_id: id.clone(), actions: actions.clone() })
                .collect();
            grants.push((r.code, targets));
        }
    }
    http.app.acl.authorize_all(&pool, b.namespace.as_deref(), grants).await?;
    Ok(v2_ok(Value::Null))
}

pub async fn revoke_resources(State(http): State<HttpState>, V2Caller(pool): V2Caller, body: Option<Json<BatchBody>>) -> Result<Response, V2Error> {
    let Some(Json(b)) = body else { return Err(AppError::invalid("opts", "send {namespace, opts}").into()) };
    let mut revokes = Vec::new();
    for opt in b.opts.unwrap_or_default() {
        let ty = target_type("opts.targetType", &opt.target_type)?;
        for r in opt.resources {
            revokes.push((r.code, opt.target_identifiers.iter().map(|id| (ty, id.clone())).collect()));
        }
    }
    http.app.acl.revoke_all(&pool, b.namespace.as_deref(), revokes).await?;
    Ok(v2_ok(Value::Null))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListBatchBody {
    namespace: Option<String>,
    resource_type: Option<String>,
    targets: Option<Vec<TargetBody>>,
}

/// `POST /api/v2/acl/list-authorized-resources-batch` `{namespace, resourceType, targets}` →
/// `{list: [{totalCount, list}]}`, in the order of `targets`.
pub async fn list_authorized_resources_batch(State(http): State<HttpState>, V2Caller(pool): V2Caller, body: Option<Json<ListBatchBody>>) -> Result<Response, V2Error> {
    let Some(Json(b)) = body else { return Err(AppError::invalid("targets", "send {namespace, targets}").into()) };
    let resource_type = parse_resource_type("resourceType", b.resource_type.as_deref())?;
    let targets = b.targets.unwrap_or_default();
    if targets.len() > crate::domain::acl::MAX_TARGETS {
        return Err(AppError::invalid("targets", "too many targets").into());
    }
    let mut list = Vec::new();
    for t in targets {
        let ty = target_type("targets.targetType", &t.target_type)?;
        let found = http.app.acl.authorized_resources(&pool, ty, &t.target_identifier, b.namespace.as_deref(), resource_type).await?;
        let items: Vec<Value> = found
            .into_iter()
            .map(|r| json!({ "code": r.code, "type": r.resource_type, "actions": r.actions, "apiIdentifier": r.api_identifier }))
            .collect();
        list.push(json!({ "totalCount": items.len(), "list": items }));
    }
    Ok(v2_ok(json!({ "list": list })))
}
