//! Permissions: Authing's ACL, the part that grants resources to users and org nodes.
//!
//! - A namespace (Authing's "permission group") holds resources; the namespace `default` (or none
//!   named) exists in every pool, made on first use.
//! - A resource has a code, a type (DATA, API, MENU, UI, BUTTON) and named actions.
//! - A grant gives actions of a resource (a code, `code:instance`, `code:*` or `*`; see `rules`)
//!   to a user or to a node. A grant to a node applies to the members of that node and of every
//!   node below it, through the closure table: moves, membership changes and deletions change the
//!   answers at once, and a user's effective grants are one statement whatever the tree's size.
//! - Deleting a resource or a namespace deletes its grants; deleting a user or a node deletes
//!   the grants made to it.

pub mod docs;
pub mod rules;

use std::collections::BTreeMap;

use entity::{
    acl_grant::{self, TargetType},
    acl_resource::{self, ResourceType},
    resource_namespace,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult,
    Iterable, ActiveEnum, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use self::docs::{NamespaceDoc, ResourceDoc};
use super::{
    Kept, PoolId,
    docs::{changed_fields, to_json},
    events::{DomainEvent, Outbox},
    pagination::{Page, Paginated},
    validate,
    write::Writer,
};
use crate::{
    error::{AppError, AppResult},
    storage::sql,
};

/// The namespace every pool has.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Most targets one call grants to or revokes from (all its resources together), and most
/// actions one grant holds.
pub const MAX_TARGETS: usize = 1_000;
pub const MAX_ACTIONS: usize = 100;
/// Resource codes Authing reserves.
const RESERVED_CODES: &[&str] = &["userpool", "user", "application", "role", "group", "org", "*", "api", "resource-namespace", "custom-resource"];

/// The namespace code as sent: absent or empty means the default one.
pub fn namespace_code(sent: Option<&str>) -> &str {
    sent.map(str::trim).filter(|s| !s.is_empty()).unwrap_or(DEFAULT_NAMESPACE)
}

/// A resource type named as the APIs name it; empty means none.
pub fn parse_resource_type(field: &str, value: Option<&str>) -> AppResult<Option<ResourceType>> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => ResourceType::iter()
            .find(|t| t.to_value() == v)
            .map(Some)
            .ok_or_else(|| AppError::invalid(field, format!("{field} must be one of DATA, API, MENU, UI, BUTTON"))),
    }
}

/// An action of a resource, as defined on it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActionDef {
    pub name: String,
    pub description: Option<String>,
}

/// What a create or update of a resource sets; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct ResourceInput {
    pub code: Option<String>,
    pub resource_type: Option<ResourceType>,
    pub description: Option<String>,
    pub actions: Option<Vec<ActionDef>>,
    pub api_identifier: Option<String>,
}

/// What a create or update of a namespace sets; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct NamespaceInput {
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
}

/// A namespace checked for a create: the one way its fields are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNamespace {
    pub code: String,
    pub name: String,
    pub description: Option<String>,
}

impl NewNamespace {
    pub fn check(input: NamespaceInput) -> AppResult<NewNamespace> {
        let code = check_code("code", input.code.as_deref().unwrap_or(""))?;
        let name = validate::required_text("name", input.name.as_deref().unwrap_or(&code), validate::MAX_TEXT)?;
        let description = validate::optional_text("description", input.description.as_deref().unwrap_or(""), validate::MAX_LONG_TEXT)?;
        Ok(NewNamespace { code, name, description })
    }
}

/// A resource checked for a create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResource {
    pub code: String,
    pub resource_type: ResourceType,
    pub description: Option<String>,
    pub actions: Vec<ActionDef>,
    pub api_identifier: Option<String>,
}

impl NewResource {
    pub fn check(input: ResourceInput) -> AppResult<NewResource> {
        let code = check_code("code", input.code.as_deref().unwrap_or(""))?;
        if RESERVED_CODES.contains(&code.as_str()) {
            return Err(AppError::invalid("code", format!("{code:?} is a reserved resource code")));
        }
        // Checked in this order, as the APIs always have: the first bad field is the one named.
        let actions = check_action_defs(input.actions.unwrap_or_default())?;
        let description = validate::optional_text("description", input.description.as_deref().unwrap_or(""), validate::MAX_LONG_TEXT)?;
        let api_identifier = validate::optional_text("apiIdentifier", input.api_identifier.as_deref().unwrap_or(""), validate::MAX_LONG_TEXT)?;
        Ok(NewResource { code, resource_type: input.resource_type.unwrap_or(ResourceType::Data), description, actions, api_identifier })
    }

    /// Whether `r` is this resource (its fields, not its id or times).
    pub fn is(&self, r: &acl_resource::Model) -> bool {
        r.code == self.code && r.resource_type == self.resource_type && r.description == self.description
            && r.api_identifier == self.api_identifier && r.actions == json!(self.actions)
    }
}

/// Actions of a granted resource to targets, checked for `authorize`.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub resource: String,
    pub targets: Vec<GrantTarget>,
}

impl NewGrant {
    pub fn check(resource: &str, targets: Vec<GrantTarget>) -> AppResult<NewGrant> {
        Ok(NewGrant { resource: check_resource_string(resource)?, targets: check_targets(targets)? })
    }
}

/// The actions a stored grant holds.
pub fn grant_actions(g: &acl_grant::Model) -> Vec<String> {
    strings(&g.actions)
}

/// A namespace named by code or by id.
#[derive(Debug, Clone)]
pub enum NamespaceRef {
    Code(String),
    Id(i64),
}

/// Actions of a resource granted to a target.
#[derive(Debug, Clone)]
pub struct GrantTarget {
    pub target_type: TargetType,
    pub target_id: String,
    pub actions: Vec<String>,
}

/// A resource as `authorizedResources` lists it: the granted resource string, its definition's
/// type and API identifier when the code is defined, and every action granted on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedResource {
    pub code: String,
    pub resource_type: Option<ResourceType>,
    pub actions: Vec<String>,
    pub api_identifier: Option<String>,
}

/// A target and the actions it holds on a resource.
#[derive(Debug, Clone)]
pub struct AuthorizedTarget {
    pub target_type: TargetType,
    pub target_id: String,
    pub actions: Vec<String>,
}

/// How `authorizedTargets` filters by actions.
#[derive(Debug, Clone)]
pub struct ActionFilter {
    /// Every action listed (AND) or any of them (OR).
    pub all: bool,
    pub actions: Vec<String>,
}

#[derive(Clone)]
pub struct AclService {
    db: DatabaseConnection,
    writer: Writer,
}

impl AclService {
    pub fn new(writer: Writer) -> Self {
        Self { db: writer.db().clone(), writer }
    }

    // --- namespaces -------------------------------------------------------------------------

    pub async fn create_namespace(&self, pool: &PoolId, input: NamespaceInput) -> AppResult<resource_namespace::Model> {
        let ns = NewNamespace::check(input)?;
        self.writer.write(pool, async |txn, outbox| create_namespace_in(txn, outbox, pool, &ns, &Kept::default()).await).await
    }

    pub async fn namespaces(&self, pool: &PoolId, page: Page) -> AppResult<Paginated<resource_namespace::Model>> {
        let base = resource_namespace::Entity::find().filter(resource_namespace::Column::UserPoolId.eq(pool.as_str()));
        let total_count = base.clone().count(&self.db).await?;
        let list = base.order_by_asc(resource_namespace::Column::Id).offset(page.offset()).limit(page.limit).all(&self.db).await?;
        Ok(Paginated { total_count, list })
    }

    pub async fn update_namespace(&self, pool: &PoolId, which: NamespaceRef, input: NamespaceInput) -> AppResult<resource_namespace::Model> {
        self.writer
            .write(pool, async |txn, outbox| {
                let current = find_namespace(txn, pool, &which).await?.ok_or_else(|| not_found_namespace(&which))?;
                let mut row: resource_namespace::ActiveModel = current.clone().into();
                if let Some(code) = input.code.as_deref().filter(|c| *c != current.code) {
                    let code = check_code("code", code)?;
                    if find_namespace(txn, pool, &NamespaceRef::Code(code.clone())).await?.is_some() {
                        return Err(AppError::Conflict { field: Some("code"), message: format!("a namespace with code {code:?} already exists") });
                    }
                    row.code = Set(code);
                }
                if let Some(name) = &input.name {
                    row.name = Set(validate::required_text("name", name, validate::MAX_TEXT)?);
                }
                if let Some(d) = &input.description {
                    row.description = Set(validate::optional_text("description", d, validate::MAX_LONG_TEXT)?);
                }
                row.updated_at = Set(chrono::Utc::now());
                let ns = row.update(txn).await?;
                let updates = changed_fields(&to_json(&NamespaceDoc::from(&current)), &to_json(&NamespaceDoc::from(&ns)));
                outbox.record(DomainEvent::NamespaceUpdated { namespace: NamespaceDoc::from(&ns), updates });
                Ok(ns)
            })
            .await
    }

    /// Delete a namespace with its resources and grants.
    pub async fn delete_namespace(&self, pool: &PoolId, which: NamespaceRef) -> AppResult<()> {
        self.writer
            .write(pool, async |txn, outbox| {
                let ns = find_namespace(txn, pool, &which).await?.ok_or_else(|| not_found_namespace(&which))?;
                resource_namespace::Entity::delete_by_id(ns.id).exec(txn).await?;
                outbox.record(DomainEvent::NamespaceDeleted { namespaces: vec![NamespaceDoc::from(&ns)] });
                Ok(())
            })
            .await
    }

    // --- resources --------------------------------------------------------------------------

    pub async fn create_resource(&self, pool: &PoolId, namespace: Option<&str>, input: ResourceInput) -> AppResult<(acl_resource::Model, String)> {
        let resource = NewResource::check(input)?;
        let ns_code = namespace_code(namespace).to_string();
        self.writer.write(pool, async |txn, outbox| create_resource_in(txn, outbox, pool, &ns_code, &resource, &Kept::default()).await).await
    }

    /// Resources of a namespace (every namespace when absent), of one type when given.
    pub async fn resources(&self, pool: &PoolId, namespace: Option<&str>, resource_type: Option<ResourceType>, page: Page) -> AppResult<Paginated<(acl_resource::Model, String)>> {
        let mut base = acl_resource::Entity::find().filter(acl_resource::Column::UserPoolId.eq(pool.as_str()));
        if let Some(code) = namespace.map(str::trim).filter(|s| !s.is_empty()) {
            match find_namespace(&self.db, pool, &NamespaceRef::Code(code.to_string())).await? {
                Some(ns) => base = base.filter(acl_resource::Column::NamespaceId.eq(ns.id)),
                None if code == DEFAULT_NAMESPACE => return Ok(Paginated { total_count: 0, list: Vec::new() }),
                None => return Err(not_found_namespace(&NamespaceRef::Code(code.to_string()))),
            }
        }
        if let Some(t) = resource_type {
            base = base.filter(acl_resource::Column::ResourceType.eq(t));
        }
        let total_count = base.clone().count(&self.db).await?;
        let rows = base
            .order_by_asc(acl_resource::Column::CreatedAt)
            .order_by_asc(acl_resource::Column::Id)
            .offset(page.offset())
            .limit(page.limit)
            .all(&self.db)
            .await?;
        let codes = self.namespace_codes(pool).await?;
        let list = rows.into_iter().map(|r| { let ns = codes.get(&r.namespace_id).cloned().unwrap_or_default(); (r, ns) }).collect();
        Ok(Paginated { total_count, list })
    }

    /// A resource by id; none when there is no such resource in the pool.
    pub async fn resource_by_id(&self, pool: &PoolId, id: &str) -> AppResult<Option<(acl_resource::Model, String)>> {
        let found = acl_resource::Entity::find_by_id(id.to_string())
            .filter(acl_resource::Column::UserPoolId.eq(pool.as_str()))
            .one(&self.db)
            .await?;
        self.with_namespace_code(pool, found).await
    }

    /// A resource by namespace and code; none when there is no such resource.
    pub async fn resource_by_code(&self, pool: &PoolId, namespace: Option<&str>, code: &str) -> AppResult<Option<(acl_resource::Model, String)>> {
        let Some(ns) = find_namespace(&self.db, pool, &NamespaceRef::Code(namespace_code(namespace).to_string())).await? else { return Ok(None) };
        Ok(find_resource(&self.db, ns.id, code).await?.map(|r| (r, ns.code)))
    }

    pub async fn update_resource(&self, pool: &PoolId, namespace: Option<&str>, code: &str, input: ResourceInput) -> AppResult<(acl_resource::Model, String)> {
        let ns_code = namespace_code(namespace).to_string();
        self.writer
            .write(pool, async |txn, outbox| {
                let ns = find_namespace(txn, pool, &NamespaceRef::Code(ns_code.clone())).await?
                    .ok_or_else(|| not_found_namespace(&NamespaceRef::Code(ns_code.clone())))?;
                let current = find_resource(txn, ns.id, code).await?.ok_or_else(|| AppError::not_found("resource", code))?;
                let mut row: acl_resource::ActiveModel = current.clone().into();
                if let Some(t) = input.resource_type {
                    row.resource_type = Set(t);
                }
                if let Some(d) = &input.description {
                    row.description = Set(validate::optional_text("description", d, validate::MAX_LONG_TEXT)?);
                }
                if let Some(a) = input.actions {
                    row.actions = Set(json!(check_action_defs(a)?));
                }
                if let Some(a) = &input.api_identifier {
                    row.api_identifier = Set(validate::optional_text("apiIdentifier", a, validate::MAX_LONG_TEXT)?);
                }
                row.updated_at = Set(chrono::Utc::now());
                let resource = row.update(txn).await?;
                let updates = changed_fields(&to_json(&ResourceDoc::new(&current, &ns.code)), &to_json(&ResourceDoc::new(&resource, &ns.code)));
                outbox.record(DomainEvent::ResourceUpdated { resource: ResourceDoc::new(&resource, &ns.code), updates });
                Ok((resource, ns.code))
            })
            .await
    }

    /// Delete a resource and every grant on it (and on its instances).
    pub async fn delete_resource(&self, pool: &PoolId, namespace: Option<&str>, code: &str) -> AppResult<()> {
        let ns_code = namespace_code(namespace).to_string();
        self.writer
            .write(pool, async |txn, outbox| {
                let ns = find_namespace(txn, pool, &NamespaceRef::Code(ns_code.clone())).await?
                    .ok_or_else(|| not_found_namespace(&NamespaceRef::Code(ns_code.clone())))?;
                let resource = find_resource(txn, ns.id, code).await?.ok_or_else(|| AppError::not_found("resource", code))?;
                acl_grant::Entity::delete_many()
                    .filter(acl_grant::Column::NamespaceId.eq(ns.id))
                    .filter(acl_grant::Column::ResourceCode.eq(code))
                    .exec(txn)
                    .await?;
                acl_resource::Entity::delete_by_id(resource.id).exec(txn).await?;
                outbox.record(DomainEvent::ResourceDelete { codes: vec![code.to_string()], namespace: ns.code });
                Ok(())
            })
            .await
    }

    // --- grants -----------------------------------------------------------------------------

    /// Grant actions of `resource` to each target (adding to what it already holds). Every user
    /// and node must exist in the pool, or nothing is granted.
    pub async fn authorize(&self, pool: &PoolId, namespace: Option<&str>, resource: &str, targets: Vec<GrantTarget>) -> AppResult<()> {
        self.authorize_all(pool, namespace, vec![(resource.to_string(), targets)]).await
    }

    /// Grant several resources at once, each to its targets, in one transaction: all or nothing.
    /// At most [`MAX_TARGETS`] grants in all.
    pub async fn authorize_all(&self, pool: &PoolId, namespace: Option<&str>, grants: Vec<(String, Vec<GrantTarget>)>) -> AppResult<()> {
        check_batch_size(grants.iter().map(|(_, t)| t.len()))?;
        let grants = grants
            .into_iter()
            .map(|(resource, targets)| NewGrant::check(&resource, targets))
            .collect::<AppResult<Vec<_>>>()?;
        let ns_code = namespace_code(namespace).to_string();
        self.writer
            .write(pool, async |txn, outbox| {
                for grant in &grants {
                    authorize_in(txn, outbox, pool, &ns_code, grant, &Kept::default()).await?;
                }
                Ok(())
            })
            .await
    }

    /// Take back every action of `resource` from each target. Targets that hold nothing are
    /// skipped.
    pub async fn revoke(&self, pool: &PoolId, namespace: Option<&str>, resource: &str, targets: Vec<(TargetType, String)>) -> AppResult<()> {
        self.revoke_all(pool, namespace, vec![(resource.to_string(), targets)]).await
    }

    /// Take back several resources at once, each from its targets, in one transaction. At most
    /// [`MAX_TARGETS`] in all.
    pub async fn revoke_all(&self, pool: &PoolId, namespace: Option<&str>, revokes: Vec<(String, Vec<(TargetType, String)>)>) -> AppResult<()> {
        check_batch_size(revokes.iter().map(|(_, t)| t.len()))?;
        let revokes = revokes
            .into_iter()
            .map(|(resource, targets)| match targets.is_empty() {
                true => Err(AppError::invalid("opts", format!("give 1 to {MAX_TARGETS} targets"))),
                false => Ok((check_resource_string(&resource)?, targets)),
            })
            .collect::<AppResult<Vec<_>>>()?;
        let ns_code = namespace_code(namespace).to_string();
        self.writer
            .write(pool, async |txn, outbox| {
                let Some(ns) = find_namespace(txn, pool, &NamespaceRef::Code(ns_code.clone())).await? else {
                    return if ns_code == DEFAULT_NAMESPACE { Ok(()) } else { Err(not_found_namespace(&NamespaceRef::Code(ns_code.clone()))) };
                };
                for (resource, targets) in &revokes {
                    let mut revoked: BTreeMap<TargetType, (Vec<String>, Vec<String>)> = BTreeMap::new();
                    for (target_type, target_id) in targets {
                        let existing = acl_grant::Entity::find()
                            .filter(acl_grant::Column::NamespaceId.eq(ns.id))
                            .filter(acl_grant::Column::Resource.eq(resource.as_str()))
                            .filter(acl_grant::Column::TargetType.eq(*target_type))
                            .filter(acl_grant::Column::TargetId.eq(target_id.as_str()))
                            .one(txn)
                            .await?;
                        if let Some(g) = existing {
                            acl_grant::Entity::delete_by_id(g.id.clone()).exec(txn).await?;
                            let entry = revoked.entry(*target_type).or_default();
                            entry.0.push(g.id);
                            entry.1.push(target_id.clone());
                        }
                    }
                    for (target_type, (grant_ids, target_ids)) in revoked {
                        outbox.record(DomainEvent::PermissionRevoke(permission(pool, &ns.code, target_type, grant_ids, target_ids)));
                    }
                }
                Ok(())
            })
            .await
    }

    /// Whether `user_id` may do `action` on `resource`: through a grant to the user, or to a node
    /// the user is a member of, or to an ancestor of one.
    pub async fn is_allowed(&self, pool: &PoolId, namespace: Option<&str>, user_id: &str, resource: &str, action: &str) -> AppResult<bool> {
        crate::domain::users::existing(&self.db, pool, &[user_id.to_string()]).await?;
        let grants = effective_grants(&self.db, pool, namespace_code(namespace), TargetType::User, user_id).await?;
        Ok(grants.iter().any(|g| rules::resource_covers(&g.resource, resource) && g.actions().iter().any(|a| rules::action_covers(a, action))))
    }

    /// What a user (directly and through its departments) or a node (itself and its ancestors)
    /// may do, one entry per granted resource, of one type when given.
    pub async fn authorized_resources(
        &self,
        pool: &PoolId,
        target_type: TargetType,
        target_id: &str,
        namespace: Option<&str>,
        resource_type: Option<ResourceType>,
    ) -> AppResult<Vec<AuthorizedResource>> {
        let grants = effective_grants(&self.db, pool, namespace_code(namespace), target_type, target_id).await?;
        let mut merged: BTreeMap<String, AuthorizedResource> = BTreeMap::new();
        for g in grants {
            if resource_type.is_some() && g.resource_type != resource_type {
                continue;
            }
            let actions = g.actions();
            let entry = merged.entry(g.resource.clone()).or_insert_with(|| AuthorizedResource {
                code: g.resource.clone(),
                resource_type: g.resource_type,
                actions: Vec::new(),
                api_identifier: g.api_identifier.clone(),
            });
            for a in actions {
                if !entry.actions.contains(&a) {
                    entry.actions.push(a);
                }
            }
        }
        Ok(merged.into_values().collect())
    }

    /// The targets granted actions on exactly `resource`, filtered by type and actions.
    pub async fn authorized_targets(
        &self,
        pool: &PoolId,
        namespace: Option<&str>,
        resource: &str,
        target_type: Option<TargetType>,
        filter: Option<ActionFilter>,
    ) -> AppResult<Vec<AuthorizedTarget>> {
        let Some(ns) = find_namespace(&self.db, pool, &NamespaceRef::Code(namespace_code(namespace).to_string())).await? else {
            return Ok(Vec::new());
        };
        let mut q = acl_grant::Entity::find()
            .filter(acl_grant::Column::NamespaceId.eq(ns.id))
            .filter(acl_grant::Column::Resource.eq(resource));
        if let Some(t) = target_type {
            q = q.filter(acl_grant::Column::TargetType.eq(t));
        }
        let grants = q.order_by_asc(acl_grant::Column::CreatedAt).all(&self.db).await?;
        Ok(grants
            .into_iter()
            .map(|g| AuthorizedTarget { target_type: g.target_type, actions: strings(&g.actions), target_id: g.target_id })
            .filter(|t| match &filter {
                None => true,
                Some(f) if f.all => f.actions.iter().all(|a| t.actions.contains(a)),
                Some(f) => f.actions.iter().any(|a| t.actions.contains(a)),
            })
            .collect())
    }

    async fn namespace_codes(&self, pool: &PoolId) -> AppResult<std::collections::HashMap<i64, String>> {
        let rows: Vec<(i64, String)> = resource_namespace::Entity::find()
            .select_only()
            .column(resource_namespace::Column::Id)
            .column(resource_namespace::Column::Code)
            .filter(resource_namespace::Column::UserPoolId.eq(pool.as_str()))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }

    async fn with_namespace_code(&self, pool: &PoolId, found: Option<acl_resource::Model>) -> AppResult<Option<(acl_resource::Model, String)>> {
        let Some(r) = found else { return Ok(None) };
        let code = resource_namespace::Entity::find_by_id(r.namespace_id)
            .filter(resource_namespace::Column::UserPoolId.eq(pool.as_str()))
            .one(&self.db)
            .await?
            .map(|n| n.code)
            .unwrap_or_default();
        Ok(Some((r, code)))
    }
}

/// Create a checked namespace in the caller's transaction (`namespace:created`); its code must
/// be free in the pool.
pub async fn create_namespace_in(db: &impl ConnectionTrait, outbox: &mut Outbox, pool: &PoolId, ns: &NewNamespace, kept: &Kept) -> AppResult<resource_namespace::Model> {
    if find_namespace(db, pool, &NamespaceRef::Code(ns.code.clone())).await?.is_some() {
        return Err(AppError::Conflict { field: Some("code"), message: format!("a namespace with code {:?} already exists", ns.code) });
    }
    let (created_at, updated_at) = kept.times();
    let ns = resource_namespace::ActiveModel {
        user_pool_id: Set(pool.as_str().to_string()),
        code: Set(ns.code.clone()),
        name: Set(ns.name.clone()),
        description: Set(ns.description.clone()),
        created_at: Set(created_at),
        updated_at: Set(updated_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    outbox.record(DomainEvent::NamespaceCreated { namespace: NamespaceDoc::from(&ns) });
    Ok(ns)
}

/// Create a checked resource in namespace `ns_code` (the default one is made on first use) in
/// the caller's transaction (`resource:created`); with its namespace's code.
pub async fn create_resource_in(
    db: &impl ConnectionTrait,
    outbox: &mut Outbox,
    pool: &PoolId,
    ns_code: &str,
    resource: &NewResource,
    kept: &Kept,
) -> AppResult<(acl_resource::Model, String)> {
    let ns = namespace_for_write(db, pool, ns_code).await?;
    let code = &resource.code;
    if find_resource(db, ns.id, code).await?.is_some() {
        return Err(AppError::Conflict { field: Some("code"), message: format!("resource {code:?} already exists in namespace {ns_code:?}") });
    }
    let (created_at, updated_at) = kept.times();
    let row = acl_resource::ActiveModel {
        id: Set(kept.id()),
        user_pool_id: Set(pool.as_str().to_string()),
        namespace_id: Set(ns.id),
        code: Set(code.clone()),
        resource_type: Set(resource.resource_type),
        description: Set(resource.description.clone()),
        actions: Set(json!(resource.actions)),
        api_identifier: Set(resource.api_identifier.clone()),
        created_at: Set(created_at),
        updated_at: Set(updated_at),
    }
    .insert(db)
    .await?;
    outbox.record(DomainEvent::ResourceCreated { resource: ResourceDoc::new(&row, &ns.code), namespace: ns.code.clone() });
    Ok((row, ns.code))
}

/// Grant actions of a resource to each target of `grant` (adding to what it already holds) in
/// the caller's transaction (`permission:add`). Every user and node must exist in the pool. A
/// grant made for a target that held none gets `kept`'s id and times (an import grants one
/// target at a time).
pub async fn authorize_in(db: &impl ConnectionTrait, outbox: &mut Outbox, pool: &PoolId, ns_code: &str, grant: &NewGrant, kept: &Kept) -> AppResult<()> {
    let ns = namespace_for_write(db, pool, ns_code).await?;
    ensure_targets_exist(db, pool, &grant.targets).await?;
    let mut granted: BTreeMap<TargetType, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for t in &grant.targets {
        let id = upsert_grant(db, pool, ns.id, &grant.resource, t, kept).await?;
        let entry = granted.entry(t.target_type).or_default();
        entry.0.push(id);
        entry.1.push(t.target_id.clone());
    }
    for (target_type, (grant_ids, target_ids)) in granted {
        outbox.record(DomainEvent::PermissionAdd(permission(pool, &ns.code, target_type, grant_ids, target_ids)));
    }
    Ok(())
}

/// The pool's namespace of `code`, if any.
pub async fn namespace_of_code(db: &impl ConnectionTrait, pool: &PoolId, code: &str) -> AppResult<Option<resource_namespace::Model>> {
    find_namespace(db, pool, &NamespaceRef::Code(code.to_string())).await
}

/// The pool's resource `code` of namespace `ns_code`, if any.
pub async fn resource_of_code(db: &impl ConnectionTrait, pool: &PoolId, ns_code: &str, code: &str) -> AppResult<Option<acl_resource::Model>> {
    match namespace_of_code(db, pool, ns_code).await? {
        Some(ns) => find_resource(db, ns.id, code).await,
        None => Ok(None),
    }
}

/// The grant of `resource` (as granted) to one target in namespace `ns_code`, if any.
pub async fn grant_of(db: &impl ConnectionTrait, pool: &PoolId, ns_code: &str, resource: &str, target_type: TargetType, target_id: &str) -> AppResult<Option<acl_grant::Model>> {
    let Some(ns) = namespace_of_code(db, pool, ns_code).await? else { return Ok(None) };
    Ok(acl_grant::Entity::find()
        .filter(acl_grant::Column::NamespaceId.eq(ns.id))
        .filter(acl_grant::Column::Resource.eq(resource))
        .filter(acl_grant::Column::TargetType.eq(target_type))
        .filter(acl_grant::Column::TargetId.eq(target_id))
        .one(db)
        .await?)
}

/// Delete the grants made to these users or nodes (they are being deleted), in the caller's
/// transaction.
pub async fn forget_targets(db: &impl ConnectionTrait, target_type: TargetType, ids: &[String]) -> AppResult<()> {
    for chunk in ids.chunks(500) {
        acl_grant::Entity::delete_many()
            .filter(acl_grant::Column::TargetType.eq(target_type))
            .filter(acl_grant::Column::TargetId.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
    }
    Ok(())
}

fn not_found_namespace(which: &NamespaceRef) -> AppError {
    match which {
        NamespaceRef::Code(c) => AppError::not_found("namespace", c.clone()),
        NamespaceRef::Id(id) => AppError::not_found("namespace", id.to_string()),
    }
}

async fn find_namespace(db: &impl ConnectionTrait, pool: &PoolId, which: &NamespaceRef) -> AppResult<Option<resource_namespace::Model>> {
    let q = resource_namespace::Entity::find().filter(resource_namespace::Column::UserPoolId.eq(pool.as_str()));
    let q = match which {
        NamespaceRef::Code(c) => q.filter(resource_namespace::Column::Code.eq(c.as_str())),
        NamespaceRef::Id(id) => q.filter(resource_namespace::Column::Id.eq(*id)),
    };
    Ok(q.one(db).await?)
}

/// The namespace a write goes to; the default one is made on first use.
async fn namespace_for_write(db: &impl ConnectionTrait, pool: &PoolId, code: &str) -> AppResult<resource_namespace::Model> {
    if let Some(ns) = find_namespace(db, pool, &NamespaceRef::Code(code.to_string())).await? {
        return Ok(ns);
    }
    if code != DEFAULT_NAMESPACE {
        return Err(not_found_namespace(&NamespaceRef::Code(code.to_string())));
    }
    let now = chrono::Utc::now();
    Ok(resource_namespace::ActiveModel {
        user_pool_id: Set(pool.as_str().to_string()),
        code: Set(DEFAULT_NAMESPACE.into()),
        name: Set("Default".into()),
        description: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

async fn find_resource(db: &impl ConnectionTrait, namespace_id: i64, code: &str) -> AppResult<Option<acl_resource::Model>> {
    Ok(acl_resource::Entity::find()
        .filter(acl_resource::Column::NamespaceId.eq(namespace_id))
        .filter(acl_resource::Column::Code.eq(code))
        .one(db)
        .await?)
}

/// A namespace or resource code: 1 to 64 of letters, digits, `_ - . :`.
fn check_code(field: &str, code: &str) -> AppResult<String> {
    let code = code.trim();
    if code.is_empty() || code.len() > 64 || !code.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c)) {
        return Err(AppError::invalid(field, format!("{field} must be 1 to 64 ASCII letters, digits, '_', '-', '.' or ':'")));
    }
    Ok(code.to_string())
}

/// A granted resource: `*`, a code, `code:instance` or `code:*`.
fn check_resource_string(resource: &str) -> AppResult<String> {
    let r = validate::required_text("resource", resource, validate::MAX_TEXT)?;
    if r.chars().any(char::is_whitespace) {
        return Err(AppError::invalid("resource", "resource must not contain spaces"));
    }
    Ok(r)
}

fn check_action_defs(actions: Vec<ActionDef>) -> AppResult<Vec<ActionDef>> {
    if actions.len() > MAX_ACTIONS {
        return Err(AppError::invalid("actions", format!("at most {MAX_ACTIONS} actions")));
    }
    let mut out: Vec<ActionDef> = Vec::new();
    for a in actions {
        let name = validate::required_text("actions.name", &a.name, validate::MAX_TEXT)?;
        let description = validate::optional_text("actions.description", a.description.as_deref().unwrap_or(""), validate::MAX_TEXT)?;
        if out.iter().any(|o| o.name == name) {
            return Err(AppError::invalid("actions", format!("action {name:?} appears twice")));
        }
        out.push(ActionDef { name, description });
    }
    Ok(out)
}

/// A batch holds at most [`MAX_TARGETS`] targets in all.
fn check_batch_size(sizes: impl Iterator<Item = usize>) -> AppResult<()> {
    if sizes.sum::<usize>() > MAX_TARGETS {
        return Err(AppError::invalid("opts", format!("at most {MAX_TARGETS} targets in all per call")));
    }
    Ok(())
}

fn check_targets(targets: Vec<GrantTarget>) -> AppResult<Vec<GrantTarget>> {
    if targets.is_empty() || targets.len() > MAX_TARGETS {
        return Err(AppError::invalid("opts", format!("give 1 to {MAX_TARGETS} targets")));
    }
    targets
        .into_iter()
        .map(|t| {
            if t.actions.is_empty() || t.actions.len() > MAX_ACTIONS {
                return Err(AppError::invalid("actions", format!("grant 1 to {MAX_ACTIONS} actions")));
            }
            let actions = t.actions.iter().map(|a| validate::required_text("actions", a, validate::MAX_TEXT)).collect::<AppResult<Vec<_>>>()?;
            Ok(GrantTarget { actions, ..t })
        })
        .collect()
}

/// Every user and node named must be in the pool.
async fn ensure_targets_exist(db: &impl ConnectionTrait, pool: &PoolId, targets: &[GrantTarget]) -> AppResult<()> {
    let ids = |ty| {
        let mut v: Vec<String> = targets.iter().filter(|t| t.target_type == ty).map(|t| t.target_id.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    let users = ids(TargetType::User);
    if !users.is_empty() {
        crate::domain::users::existing(db, pool, &users).await?;
    }
    let nodes = ids(TargetType::Org);
    if !nodes.is_empty() {
        let found: Vec<String> = entity::node::Entity::find()
            .select_only()
            .column(entity::node::Column::Id)
            .filter(entity::node::Column::UserPoolId.eq(pool.as_str()))
            .filter(entity::node::Column::Id.is_in(nodes.clone()))
            .into_tuple()
            .all(db)
            .await?;
        let missing: Vec<&str> = nodes.iter().filter(|n| !found.contains(n)).map(String::as_str).collect();
        if !missing.is_empty() {
            return Err(AppError::not_found("node", missing.join(", ")));
        }
    }
    Ok(())
}

/// Add the target's actions to its grant on `resource` (made when absent); its id.
async fn upsert_grant(db: &impl ConnectionTrait, pool: &PoolId, namespace_id: i64, resource: &str, t: &GrantTarget, kept: &Kept) -> AppResult<String> {
    let existing = acl_grant::Entity::find()
        .filter(acl_grant::Column::NamespaceId.eq(namespace_id))
        .filter(acl_grant::Column::Resource.eq(resource))
        .filter(acl_grant::Column::TargetType.eq(t.target_type))
        .filter(acl_grant::Column::TargetId.eq(t.target_id.as_str()))
        .one(db)
        .await?;
    let now = chrono::Utc::now();
    match existing {
        Some(g) => {
            let mut actions = strings(&g.actions);
            for a in &t.actions {
                if !actions.contains(a) {
                    actions.push(a.clone());
                }
            }
            if actions.len() > MAX_ACTIONS {
                return Err(AppError::invalid("actions", format!("a grant holds at most {MAX_ACTIONS} actions")));
            }
            let id = g.id.clone();
            let mut row: acl_grant::ActiveModel = g.into();
            row.actions = Set(json!(actions));
            row.updated_at = Set(now);
            row.update(db).await?;
            Ok(id)
        }
        None => {
            let id = kept.id();
            let (created_at, updated_at) = kept.times();
            acl_grant::ActiveModel {
                id: Set(id.clone()),
                user_pool_id: Set(pool.as_str().to_string()),
                namespace_id: Set(namespace_id),
                resource: Set(resource.to_string()),
                resource_code: Set(rules::resource_code(resource).to_string()),
                target_type: Set(t.target_type),
                target_id: Set(t.target_id.clone()),
                actions: Set(json!(t.actions)),
                created_at: Set(created_at),
                updated_at: Set(updated_at),
            }
            .insert(db)
            .await?;
            Ok(id)
        }
    }
}

fn permission(pool: &PoolId, namespace: &str, target_type: TargetType, grant_ids: Vec<String>, target_ids: Vec<String>) -> docs::PermissionDoc {
    docs::PermissionDoc {
        user_pool_id: pool.as_str().to_string(),
        policy_codes: grant_ids.clone(),
        policies: grant_ids,
        target_type,
        target_identifiers: target_ids,
        namespace: namespace.to_string(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// A grant that applies to a target, with its resource's definition when the code is defined.
#[derive(Debug, FromQueryResult)]
struct EffectiveGrant {
    resource: String,
    actions: Value,
    resource_type: Option<ResourceType>,
    api_identifier: Option<String>,
}

impl EffectiveGrant {
    fn actions(&self) -> Vec<String> {
        strings(&self.actions)
    }
}

/// The grants that apply to a user (its own, and those of every node it is a member of and of
/// their ancestors) or to a node (its own and its ancestors'). One statement, through the closure
/// table, whatever the size of the tree.
async fn effective_grants(db: &impl ConnectionTrait, pool: &PoolId, namespace: &str, target_type: TargetType, target_id: &str) -> AppResult<Vec<EffectiveGrant>> {
    let nodes = match target_type {
        TargetType::User => "SELECT c.ancestor_id FROM membership m JOIN node_closure c ON c.descendant_id = m.node_id WHERE m.user_id = $3",
        TargetType::Org => "SELECT c.ancestor_id FROM node_closure c WHERE c.descendant_id = $3",
    };
    let direct = match target_type {
        TargetType::User => "g.target_type = $4 AND g.target_id = $3",
        // ($4 is bound either way; PostgreSQL wants every parameter used.)
        TargetType::Org => "g.target_type = $4 AND 1 = 0",
    };
    let sql = format!(
        "SELECT g.resource AS resource, g.actions AS actions, r.resource_type AS resource_type, r.api_identifier AS api_identifier
         FROM acl_grant g
         JOIN resource_namespace ns ON ns.id = g.namespace_id
         LEFT JOIN acl_resource r ON r.namespace_id = g.namespace_id AND r.code = g.resource_code
         WHERE g.user_pool_id = $1 AND ns.code = $2
           AND ({direct} OR (g.target_type = $5 AND g.target_id IN ({nodes})))
         ORDER BY g.resource, g.created_at");
    sql::all(db, &sql, vec![
        pool.as_str().into(),
        namespace.into(),
        target_id.into(),
        TargetType::User.to_value().into(),
        TargetType::Org.to_value().into(),
    ])
    .await
}
