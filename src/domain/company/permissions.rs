//! The pool's permissions in a company file: ACL namespaces, resources (with their actions) and
//! grants, checked and written by `acl`'s rules, so that the imported pool answers every
//! permission check as the exported one did.
//!
//! Rows name their namespace by its code (empty: the default one). A namespace's numeric id is
//! given by the server that imports it (each server counts them for all its pools); resources
//! and grants keep their ids. A grant's target is a user or department of the file (its id
//! follows the user's or department's with `--new-ids`) or, when not in the file, of the pool.
//!
//! The same row as the pool's: a namespace of the same code, a resource of the same namespace
//! and code, a grant of the same namespace, resource and target. Same with other fields (or,
//! ids kept, another id) is a conflict, refused before anything is written.

use std::collections::{HashMap, HashSet};

use entity::{
    acl_grant::{self, TargetType},
    acl_resource, resource_namespace,
};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, Iterable, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};

use super::{Row, import::at_row, kept, plan::{Plan, Refusal, Refusals, object}};
use crate::{
    domain::{
        Kept, PoolId,
        acl::{
            self, ActionDef, DEFAULT_NAMESPACE, GrantTarget, NamespaceInput, NewGrant, NewNamespace, NewResource, ResourceInput,
            authorize_in, create_namespace_in, create_resource_in, grant_actions, grant_of, namespace_of_code, resource_of_code,
        },
        docs::iso,
        events::Outbox,
    },
    error::AppResult,
};

pub const NAMESPACE_COLUMNS: &[&str] = &["code", "name", "description", "createdAt", "updatedAt"];
pub const RESOURCE_COLUMNS: &[&str] = &["id", "namespace", "code", "type", "description", "actions", "apiIdentifier", "createdAt", "updatedAt"];
pub const GRANT_COLUMNS: &[&str] = &["id", "namespace", "resource", "targetType", "targetId", "actions", "createdAt", "updatedAt"];

#[derive(Debug, Clone)]
pub struct NamespacePlan {
    pub at: String,
    pub ns: NewNamespace,
    pub kept: Kept,
}

#[derive(Debug, Clone)]
pub struct ResourcePlan {
    pub at: String,
    pub key: String,
    pub namespace: String,
    pub resource: NewResource,
    pub kept: Kept,
}

/// Whom a grant is for: a user or department of the file (an index of the plan's), or of the pool.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    User(usize),
    Node(usize),
    Pool(String),
}

#[derive(Debug, Clone)]
pub struct GrantPlan {
    pub at: String,
    pub key: String,
    pub namespace: String,
    /// One target, whose id is the file's (replaced by the one the import gave it when written).
    pub grant: NewGrant,
    pub target: Target,
    pub kept: Kept,
}

impl GrantPlan {
    fn target_type(&self) -> TargetType {
        self.grant.targets.first().map_or(TargetType::User, |t| t.target_type)
    }

    fn actions(&self) -> &[String] {
        self.grant.targets.first().map_or(&[], |t| t.actions.as_slice())
    }
}

/// The namespace a row names: its code, or the default one.
fn namespace(row: &Row) -> String {
    acl::namespace_code(row.text("namespace").as_deref()).to_string()
}

fn times(row: &Row) -> Result<Kept, String> {
    let created_at = row.time("createdAt")?;
    Ok(Kept { id: None, created_at, updated_at: row.time("updatedAt")?.or(created_at) })
}

/// A list of strings: a JSON array, or (CSV) its JSON text.
fn strings(row: &Row, name: &str) -> Result<Vec<String>, String> {
    match row.json(name)? {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(|| format!("{name} must be a JSON array of strings"))).collect(),
        Some(_) => Err(format!("{name} must be a JSON array of strings")),
    }
}

pub(super) fn plan_namespaces(rows: Vec<Row>, bad: &mut Refusals) -> Vec<NamespacePlan> {
    let mut out: Vec<NamespacePlan> = Vec::with_capacity(rows.len());
    let mut codes = HashMap::new();
    for row in rows {
        let parsed = (|| -> Result<NamespacePlan, String> {
            if let Some(why) = row.unknown(NAMESPACE_COLUMNS) {
                return Err(why);
            }
            let input = NamespaceInput { code: row.text("code"), name: row.text("name"), description: row.text("description") };
            Ok(NamespacePlan { at: row.at.clone(), ns: NewNamespace::check(input).map_err(|e| e.to_string())?, kept: times(&row)? })
        })();
        match parsed {
            Err(why) => bad.add(&row.at, why),
            Ok(p) => match codes.insert(p.ns.code.clone(), p.at.clone()) {
                Some(first) => bad.add(&p.at, format!("code {:?} is also the code of the namespace at {first}", p.ns.code)),
                None => out.push(p),
            },
        }
    }
    out
}

pub(super) fn plan_resources(rows: Vec<Row>, bad: &mut Refusals) -> Vec<ResourcePlan> {
    let mut out: Vec<ResourcePlan> = Vec::with_capacity(rows.len());
    let (mut keys, mut codes) = (HashMap::new(), HashMap::new());
    for row in rows {
        let parsed = (|| -> Result<ResourcePlan, String> {
            if let Some(why) = row.unknown(RESOURCE_COLUMNS) {
                return Err(why);
            }
            let key = row.key("id")?;
            let actions = match row.json("actions")? {
                None => None,
                Some(v) => Some(serde_json::from_value::<Vec<ActionDef>>(v).map_err(|e| format!("actions must be a JSON array of {{\"name\", \"description\"}}: {e}"))?),
            };
            let input = ResourceInput {
                code: row.text("code"),
                resource_type: acl::parse_resource_type("type", row.text("type").as_deref()).map_err(|e| e.to_string())?,
                description: row.text("description"),
                actions,
                api_identifier: row.text("apiIdentifier"),
            };
            let resource = NewResource::check(input).map_err(|e| e.to_string())?;
            Ok(ResourcePlan { at: row.at.clone(), key, namespace: namespace(&row), resource, kept: times(&row)? })
        })();
        match parsed {
            Err(why) => bad.add(&row.at, why),
            Ok(p) => {
                if let Some(first) = keys.insert(p.key.clone(), p.at.clone()) {
                    bad.add(&p.at, format!("id {:?} is also the id of the resource at {first}", p.key));
                } else if let Some(first) = codes.insert((p.namespace.clone(), p.resource.code.clone()), p.at.clone()) {
                    bad.add(&p.at, format!("resource {:?} of namespace {:?} is also at {first}", p.resource.code, p.namespace));
                } else {
                    out.push(p);
                }
            }
        }
    }
    out
}

pub(super) fn plan_grants(rows: Vec<Row>, users: &indexmap::IndexSet<Box<str>>, nodes: &HashMap<&str, usize>, bad: &mut Refusals) -> Vec<GrantPlan> {
    let mut out: Vec<GrantPlan> = Vec::with_capacity(rows.len());
    let (mut keys, mut grants) = (HashMap::new(), HashMap::new());
    for row in rows {
        let parsed = (|| -> Result<GrantPlan, String> {
            if let Some(why) = row.unknown(GRANT_COLUMNS) {
                return Err(why);
            }
            let key = row.key("id")?;
            let type_name = row.text("targetType").unwrap_or_default();
            let target_type = TargetType::iter()
                .find(|t| t.to_value() == type_name.trim())
                .ok_or_else(|| format!("targetType must be USER or ORG, got {type_name:?}"))?;
            let target_id = row.key("targetId")?;
            let target = match (target_type, users.get_index_of(target_id.as_str()), nodes.get(target_id.as_str())) {
                (TargetType::User, Some(u), _) => Target::User(u),
                (TargetType::Org, _, Some(&n)) => Target::Node(n),
                _ => Target::Pool(target_id.clone()),
            };
            let actions = strings(&row, "actions")?;
            let resource = row.text("resource").unwrap_or_default();
            let grant = NewGrant::check(&resource, vec![GrantTarget { target_type, target_id, actions }]).map_err(|e| e.to_string())?;
            Ok(GrantPlan { at: row.at.clone(), key, namespace: namespace(&row), grant, target, kept: times(&row)? })
        })();
        match parsed {
            Err(why) => bad.add(&row.at, why),
            Ok(p) => {
                let same = (p.namespace.clone(), p.grant.resource.clone(), p.target_type(), p.target.clone());
                if let Some(first) = keys.insert(p.key.clone(), p.at.clone()) {
                    bad.add(&p.at, format!("id {:?} is also the id of the grant at {first}", p.key));
                } else if let Some(first) = grants.insert(same, p.at.clone()) {
                    bad.add(&p.at, format!("the same grant (namespace, resource and target) as at {first}"));
                } else {
                    out.push(p);
                }
            }
        }
    }
    out
}

fn refusal(at: &str, message: String) -> Refusal {
    Refusal { at: at.to_string(), message }
}

/// Whether `code` names a namespace the import will find: the file's, the pool's, or the
/// default one (made on first use).
async fn namespace_known(db: &impl ConnectionTrait, pool: &PoolId, file: &HashSet<&str>, code: &str) -> AppResult<bool> {
    Ok(code == DEFAULT_NAMESPACE || file.contains(code) || namespace_of_code(db, pool, code).await?.is_some())
}

/// The rows that conflict with the pool (see the module comment), name a namespace or a target
/// the import would not find, or keep an id another row holds.
pub(super) async fn refused(db: &impl ConnectionTrait, pool: &PoolId, plan: &Plan, new_ids: bool) -> AppResult<Vec<Refusal>> {
    let (namespaces, resources, grants) = (&plan.namespaces, &plan.resources, &plan.grants);
    let mut out = Vec::new();
    for n in namespaces {
        if let Some(e) = namespace_of_code(db, pool, &n.ns.code).await?
            && (e.name != n.ns.name || e.description != n.ns.description)
        {
            out.push(refusal(&n.at, format!(
                "the pool already has a namespace of code {:?} (id {}) with another name or description; nothing was imported over it",
                e.code, e.id)));
        }
    }
    let file_namespaces: HashSet<&str> = namespaces.iter().map(|n| n.ns.code.as_str()).collect();
    let owners = if new_ids { HashMap::new() } else { kept::owners(db, "acl_resource", &resources.iter().map(|r| r.key.as_str()).collect::<Vec<_>>()).await? };
    for r in resources {
        if !namespace_known(db, pool, &file_namespaces, &r.namespace).await? {
            out.push(refusal(&r.at, format!("namespace {:?} is neither in the file nor in the pool", r.namespace)));
            continue;
        }
        let existing = resource_of_code(db, pool, &r.namespace, &r.resource.code).await?;
        if let Some(e) = &existing
            && (!r.resource.is(e) || (!new_ids && e.id != r.key))
        {
            out.push(refusal(&r.at, format!(
                "the pool already has a resource {:?} in namespace {:?} (id {}) with other fields or another id; nothing was imported over it",
                e.code, r.namespace, e.id)));
            continue;
        }
        if new_ids {
            continue;
        }
        if let Some(why) = kept::not_an_id(&r.key) {
            out.push(refusal(&r.at, why));
        } else if let Some(whose) = kept::taken(&owners, &r.key, pool.as_str(), existing.as_ref().map(|e| e.id.as_str())) {
            out.push(refusal(&r.at, format!("id {:?} is already the id of another resource of {whose}", r.key)));
        }
    }
    let owners = if new_ids { HashMap::new() } else { kept::owners(db, "acl_grant", &grants.iter().map(|g| g.key.as_str()).collect::<Vec<_>>()).await? };
    let pool_targets = pool_targets(db, pool, grants).await?;
    for g in grants {
        if !namespace_known(db, pool, &file_namespaces, &g.namespace).await? {
            out.push(refusal(&g.at, format!("namespace {:?} is neither in the file nor in the pool", g.namespace)));
            continue;
        }
        // The target's id in the pool: known before writing for a target of the pool, and for
        // one of the file when ids are kept.
        let target_id = match &g.target {
            Target::Pool(id) if !pool_targets.contains(&(g.target_type(), id.clone())) => {
                let what = if g.target_type() == TargetType::User { "user" } else { "department" };
                out.push(refusal(&g.at, format!("targetId {id:?} is neither a {what} of the file nor of the pool")));
                continue;
            }
            Target::Pool(id) => Some(id.as_str()),
            Target::User(u) if !new_ids => plan.users.get_index(*u).map(|k| &**k),
            Target::Node(n) if !new_ids => plan.nodes.get(*n).map(|n| n.key.as_str()),
            _ => None,
        };
        let existing = match target_id {
            Some(id) => grant_of(db, pool, &g.namespace, &g.grant.resource, g.target_type(), id).await?,
            None => None,
        };
        if let Some(e) = &existing
            && (grant_actions(e) != g.actions() || (!new_ids && e.id != g.key))
        {
            out.push(refusal(&g.at, format!(
                "the pool already grants {:?} of namespace {:?} to this target (grant {}) with other actions or another id; nothing was imported over it",
                g.grant.resource, g.namespace, e.id)));
            continue;
        }
        if new_ids {
            continue;
        }
        if let Some(why) = kept::not_an_id(&g.key) {
            out.push(refusal(&g.at, why));
        } else if let Some(whose) = kept::taken(&owners, &g.key, pool.as_str(), existing.as_ref().map(|e| e.id.as_str())) {
            out.push(refusal(&g.at, format!("id {:?} is already the id of another grant of {whose}", g.key)));
        }
    }
    Ok(out)
}

/// The grants' targets that are not in the file and are users or departments of the pool.
async fn pool_targets(db: &impl ConnectionTrait, pool: &PoolId, grants: &[GrantPlan]) -> AppResult<HashSet<(TargetType, String)>> {
    let mut found = HashSet::new();
    for target_type in [TargetType::User, TargetType::Org] {
        let ids: Vec<String> = grants
            .iter()
            .filter(|g| g.target_type() == target_type)
            .filter_map(|g| match &g.target { Target::Pool(id) => Some(id.clone()), _ => None })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for chunk in ids.chunks(500) {
            let rows: Vec<String> = match target_type {
                TargetType::User => entity::user::Entity::find()
                    .select_only()
                    .column(entity::user::Column::Id)
                    .filter(entity::user::Column::UserPoolId.eq(pool.as_str()))
                    .filter(entity::user::Column::Id.is_in(chunk.to_vec()))
                    .into_tuple()
                    .all(db)
                    .await?,
                TargetType::Org => entity::node::Entity::find()
                    .select_only()
                    .column(entity::node::Column::Id)
                    .filter(entity::node::Column::UserPoolId.eq(pool.as_str()))
                    .filter(entity::node::Column::Id.is_in(chunk.to_vec()))
                    .into_tuple()
                    .all(db)
                    .await?,
            };
            found.extend(rows.into_iter().map(|id| (target_type, id)));
        }
    }
    Ok(found)
}

/// Create the namespaces of `chunk` the pool does not have; whether each was created.
pub(super) async fn write_namespaces(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, chunk: &[NamespacePlan]) -> AppResult<Vec<bool>> {
    let mut out = Vec::with_capacity(chunk.len());
    for n in chunk {
        let absent = namespace_of_code(txn, pool, &n.ns.code).await?.is_none();
        if absent {
            create_namespace_in(txn, outbox, pool, &n.ns, &n.kept).await.map_err(|e| at_row(&n.at, e))?;
        }
        out.push(absent);
    }
    Ok(out)
}

/// Create the resources of `chunk` the pool does not have; whether each was created.
pub(super) async fn write_resources(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, chunk: &[ResourcePlan], new_ids: bool) -> AppResult<Vec<bool>> {
    let mut out = Vec::with_capacity(chunk.len());
    for r in chunk {
        let absent = resource_of_code(txn, pool, &r.namespace, &r.resource.code).await?.is_none();
        if absent {
            let kept = Kept { id: (!new_ids).then(|| r.key.clone()), ..r.kept.clone() };
            create_resource_in(txn, outbox, pool, &r.namespace, &r.resource, &kept).await.map_err(|e| at_row(&r.at, e))?;
        }
        out.push(absent);
    }
    Ok(out)
}

/// Make the grants of `chunk` whose target holds none on their resource; whether each was
/// created. `user_ids` and `node_ids` are the ids the import gave the plan's users and nodes.
pub(super) async fn write_grants(
    txn: &DatabaseTransaction,
    outbox: &mut Outbox,
    pool: &PoolId,
    chunk: &[GrantPlan],
    user_ids: &[String],
    node_ids: &[String],
    new_ids: bool,
) -> AppResult<Vec<bool>> {
    let mut out = Vec::with_capacity(chunk.len());
    for g in chunk {
        let target_id = match &g.target {
            Target::User(u) => user_ids[*u].clone(),
            Target::Node(n) => node_ids[*n].clone(),
            Target::Pool(id) => id.clone(),
        };
        let absent = grant_of(txn, pool, &g.namespace, &g.grant.resource, g.target_type(), &target_id).await?.is_none();
        if absent {
            let targets = vec![GrantTarget { target_type: g.target_type(), target_id, actions: g.actions().to_vec() }];
            let grant = NewGrant { resource: g.grant.resource.clone(), targets };
            let kept = Kept { id: (!new_ids).then(|| g.key.clone()), ..g.kept.clone() };
            authorize_in(txn, outbox, pool, &g.namespace, &grant, &kept).await.map_err(|e| at_row(&g.at, e))?;
        }
        out.push(absent);
    }
    Ok(out)
}

/// The pool's namespaces (in the order they were made), resources and grants (oldest first).
pub(super) async fn export(db: &impl ConnectionTrait, pool: &PoolId) -> AppResult<(Vec<Row>, Vec<Row>, Vec<Row>)> {
    let namespaces = resource_namespace::Entity::find()
        .filter(resource_namespace::Column::UserPoolId.eq(pool.as_str()))
        .order_by_asc(resource_namespace::Column::Id)
        .all(db)
        .await?;
    let codes: HashMap<i64, String> = namespaces.iter().map(|n| (n.id, n.code.clone())).collect();
    let code = |id: i64| Value::from(codes.get(&id).cloned().unwrap_or_default());
    let namespace_rows = namespaces
        .iter()
        .map(|n| Row {
            at: String::new(),
            fields: object([
                ("code", Value::from(n.code.as_str())),
                ("name", Value::from(n.name.as_str())),
                ("description", n.description.clone().map(Value::from).unwrap_or(Value::Null)),
                ("createdAt", Value::from(iso(n.created_at))),
                ("updatedAt", Value::from(iso(n.updated_at))),
            ]),
        })
        .collect();
    let resources = acl_resource::Entity::find()
        .filter(acl_resource::Column::UserPoolId.eq(pool.as_str()))
        .order_by_asc(acl_resource::Column::CreatedAt)
        .order_by_asc(acl_resource::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|r| Row {
            at: String::new(),
            fields: object([
                ("id", Value::from(r.id)),
                ("namespace", code(r.namespace_id)),
                ("code", Value::from(r.code)),
                ("type", Value::from(r.resource_type.to_value())),
                ("description", r.description.map(Value::from).unwrap_or(Value::Null)),
                ("actions", r.actions),
                ("apiIdentifier", r.api_identifier.map(Value::from).unwrap_or(Value::Null)),
                ("createdAt", Value::from(iso(r.created_at))),
                ("updatedAt", Value::from(iso(r.updated_at))),
            ]),
        })
        .collect();
    let grants = acl_grant::Entity::find()
        .filter(acl_grant::Column::UserPoolId.eq(pool.as_str()))
        .order_by_asc(acl_grant::Column::CreatedAt)
        .order_by_asc(acl_grant::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|g| Row {
            at: String::new(),
            fields: object([
                ("id", Value::from(g.id.as_str())),
                ("namespace", code(g.namespace_id)),
                ("resource", Value::from(g.resource.as_str())),
                ("targetType", Value::from(g.target_type.to_value())),
                ("targetId", Value::from(g.target_id.as_str())),
                ("actions", json!(grant_actions(&g))),
                ("createdAt", Value::from(iso(g.created_at))),
                ("updatedAt", Value::from(iso(g.updated_at))),
            ]),
        })
        .collect();
    Ok((namespace_rows, resources, grants))
}
