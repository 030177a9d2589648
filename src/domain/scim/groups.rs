//! SCIM groups: the departments (non-root nodes) of the pool's SCIM org. A group's members are
//! the node's direct members; its parent is another group, or the org's root when it has none;
//! its `externalId` is kept in `scim_group`. Changes go through `org_tree`'s rules.

use std::collections::{HashMap, HashSet};

use entity::{membership, node, org, scim_group};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};

use super::{
    Listed, ScimService, Window, find_scim_org, lock_scim_org,
    query::{Field, Filter, Kind, compile},
};
use crate::{
    domain::{
        PoolId,
        events::Outbox,
        org_tree::{
            DepartmentPatch, NodeInput, OrgInput, add_members_in, add_node_in, create_org_with_root_in, delete_node_in,
            find_node, move_node_in, remove_members_in, update_node_in,
        },
        users::{MAX_BATCH, existing},
        write::ChangeError,
    },
    error::{AppError, AppResult},
    storage::sql,
};

/// A group as SCIM shows it.
#[derive(Debug, Clone)]
pub struct Group {
    pub node: node::Model,
    pub external_id: Option<String>,
    /// The parent group; `None` when the group sits right under the org's root.
    pub parent: Option<String>,
    /// The direct members' user ids, oldest membership first; `None` when not asked for.
    pub members: Option<Vec<String>>,
    /// A weak ETag that changes with the node and with its memberships (adding and removing
    /// members does not touch the node's `updated_at`).
    pub version: String,
}

/// What a group is to become (a create, or a PUT or PATCH applied to its current state).
#[derive(Debug, Clone, Default)]
pub struct GroupChange {
    /// The department's fields: `displayName` is its name, orgraph's extension carries the others.
    pub fields: DepartmentPatch,
    pub external_id: Option<String>,
    pub parent: Option<String>,
    /// Distinct user ids.
    pub members: Vec<String>,
}

/// The group fields a SCIM filter can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupField {
    Id,
    Name,
    ExternalId,
    CreatedAt,
    UpdatedAt,
    /// A member's user id (`members.value`).
    Member,
}

impl Field for GroupField {
    fn sql(self, _: DatabaseBackend) -> String {
        match self {
            GroupField::Id | GroupField::Member => "n.id",
            GroupField::Name => "n.name",
            GroupField::ExternalId => "(SELECT g.external_id FROM scim_group g WHERE g.node_id = n.id)",
            GroupField::CreatedAt => "n.created_at",
            GroupField::UpdatedAt => "n.updated_at",
        }
        .to_string()
    }

    fn kind(self) -> Kind {
        match self {
            GroupField::Id | GroupField::ExternalId => Kind::ExactText,
            GroupField::Name => Kind::Text,
            GroupField::CreatedAt | GroupField::UpdatedAt => Kind::Time,
            GroupField::Member => Kind::Member,
        }
    }
}

fn no_group(id: &str) -> AppError {
    AppError::not_found("group", id)
}

#[derive(FromQueryResult)]
struct MemberStats {
    node_id: String,
    n: i64,
    last: Option<String>,
}

impl ScimService {
    /// The groups of the pool matching `filter`, oldest first.
    pub async fn find_groups(&self, pool: &PoolId, filter: Option<&Filter<GroupField>>, window: Window, with_members: bool) -> AppResult<Listed<Group>> {
        let Some(org) = find_scim_org(&self.db, pool, &self.org_code).await? else {
            return Ok(Listed { total: 0, items: Vec::new() });
        };
        let backend = self.db.get_database_backend();
        let (cond, mut values) = match filter {
            Some(f) => {
                let c = compile(f, backend, 3)?;
                (c.sql, c.values)
            }
            None => ("(1 = 1)".to_string(), Vec::new()),
        };
        values.insert(0, org.id.clone().into());
        values.insert(0, pool.as_str().into());
        let where_ = format!("FROM node n WHERE n.user_pool_id = $1 AND n.org_id = $2 AND n.parent_id IS NOT NULL AND {cond}");
        let total = crate::storage::sql::count(&self.db, &format!("SELECT COUNT(*) AS n {where_}"), values.clone()).await?;
        if window.limit == 0 || window.offset >= total {
            return Ok(Listed { total, items: Vec::new() });
        }
        let n = values.len();
        values.push((window.limit as i64).into());
        values.push((window.offset as i64).into());
        let nodes = sql::all::<node::Model>(
            &self.db,
            &format!("SELECT n.* {where_} ORDER BY n.created_at, n.id LIMIT ${} OFFSET ${}", n + 1, n + 2),
            values,
        )
        .await?;
        let items = describe(&self.db, &org, nodes, with_members).await?;
        Ok(Listed { total, items })
    }

    pub async fn group(&self, pool: &PoolId, id: &str, with_members: bool) -> AppResult<Group> {
        let org = find_scim_org(&self.db, pool, &self.org_code).await?.ok_or_else(|| no_group(id))?;
        let node = find_group_node(&self.db, pool, &org, id).await?;
        one(describe(&self.db, &org, vec![node], with_members).await?, id)
    }

    /// A new group (and the SCIM org, on the pool's first group), with its members, in one
    /// transaction.
    pub async fn create_group(&self, pool: &PoolId, change: GroupChange) -> AppResult<Group> {
        let input = NodeInput::from(change.fields.check()?);
        self.writer
            .write(pool, async |txn, outbox| {
                let org = self.ensure_scim_org(txn, outbox, pool).await?;
                let parent = match &change.parent {
                    Some(p) => Some(find_group_node(txn, pool, &org, p).await.map_err(|_| bad_parent(p))?.id),
                    None => None,
                };
                let node = add_node_in(txn, outbox, pool, &org.id, parent.as_deref(), input).await?;
                set_external_id(txn, pool, &node.id, change.external_id.as_deref()).await?;
                change_members(txn, outbox, pool, &node.id, &[], &change.members).await?;
                let node = find_node(txn, pool, &node.id).await?;
                one(describe(txn, &org, vec![node], true).await?, "new group")
            })
            .await
    }

    /// Change a group into what `change` makes of its current state (read in the same
    /// transaction): name, externalId, parent and members, in one transaction.
    pub async fn modify_group<R>(
        &self,
        pool: &PoolId,
        id: &str,
        change: impl FnOnce(&Group) -> Result<GroupChange, R>,
    ) -> Result<Group, ChangeError<R>> {
        self.writer.write_declinable(pool, async |txn, outbox| {
            let org = find_scim_org(txn, pool, &self.org_code).await?.ok_or_else(|| no_group(id))?;
            let node = find_group_node(txn, pool, &org, id).await?;
            let current = one(describe(txn, &org, vec![node], true).await?, id)?;
            let wanted = change(&current).map_err(ChangeError::Declined)?;
            let fields = wanted.fields.check()?.differences(&current.node);
            if !fields.is_empty() {
                update_node_in(txn, outbox, pool, id, fields.into()).await?;
            }
            if wanted.external_id != current.external_id {
                set_external_id(txn, pool, id, wanted.external_id.as_deref()).await?;
            }
            if wanted.parent != current.parent {
                let target = match &wanted.parent {
                    Some(p) => find_group_node(txn, pool, &org, p).await.map_err(|_| bad_parent(p))?.id,
                    None => org.root_node_id.clone(),
                };
                move_node_in(txn, outbox, pool, &org.id, id, &target).await.map_err(|e| match e {
                    AppError::InvalidInput { message, .. } => AppError::invalid("parent", message),
                    other => other,
                })?;
            }
            let had = current.members.unwrap_or_default();
            change_members(txn, outbox, pool, id, &had, &wanted.members).await?;
            let node = find_node(txn, pool, id).await?;
            Ok(one(describe(txn, &org, vec![node], true).await?, id)?)
        })
        .await
    }

    /// Delete a group. Its child groups move up to its parent first: an identity provider deletes
    /// groups one by one and never means to take others with it. Users are never deleted.
    pub async fn delete_group(&self, pool: &PoolId, id: &str) -> AppResult<()> {
        self.writer
            .write(pool, async |txn, outbox| {
                let org = find_scim_org(txn, pool, &self.org_code).await?.ok_or_else(|| no_group(id))?;
                let node = find_group_node(txn, pool, &org, id).await?;
                let parent = node.parent_id.clone().unwrap_or_else(|| org.root_node_id.clone());
                let children: Vec<String> = node::Entity::find()
                    .select_only()
                    .column(node::Column::Id)
                    .filter(node::Column::ParentId.eq(id))
                    .order_by_asc(node::Column::CreatedAt)
                    .into_tuple()
                    .all(txn)
                    .await?;
                for child in children {
                    move_node_in(txn, outbox, pool, &org.id, &child, &parent).await?;
                }
                delete_node_in(txn, outbox, pool, &org.id, id).await
            })
            .await
    }

    /// The pool's SCIM org, created (with its `OrganizationCreated` event) when missing.
    async fn ensure_scim_org(&self, txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId) -> AppResult<org::Model> {
        if let Some(org) = find_scim_org(txn, pool, &self.org_code).await? {
            return Ok(org);
        }
        lock_scim_org(txn, pool).await?;
        if let Some(org) = find_scim_org(txn, pool, &self.org_code).await? {
            return Ok(org);
        }
        let root = DepartmentPatch {
            name: Some("SCIM".into()),
            code: Some(Some(self.org_code.clone())),
            description: Some(Some("Groups provisioned over SCIM".into())),
            ..Default::default()
        };
        Ok(create_org_with_root_in(txn, outbox, pool, OrgInput::default(), root.into()).await?.0)
    }
}

fn bad_parent(id: &str) -> AppError {
    AppError::invalid("parent", format!("the parent {id:?} is not a group"))
}

fn one(mut groups: Vec<Group>, id: &str) -> AppResult<Group> {
    groups.pop().ok_or_else(|| no_group(id))
}

/// The SCIM `externalId`s of the pool's groups: node id → externalId (for the company export).
pub(crate) async fn external_ids(db: &impl ConnectionTrait, pool: &PoolId) -> AppResult<HashMap<String, String>> {
    Ok(scim_group::Entity::find()
        .filter(scim_group::Column::UserPoolId.eq(pool.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.node_id, g.external_id))
        .collect())
}

/// A node of the SCIM org that is a group (not its root).
async fn find_group_node(db: &impl ConnectionTrait, pool: &PoolId, org: &org::Model, id: &str) -> AppResult<node::Model> {
    let node = find_node(db, pool, id).await.map_err(|_| no_group(id))?;
    if node.org_id != org.id || node.parent_id.is_none() {
        return Err(no_group(id));
    }
    Ok(node)
}

/// Set (or, with `None`, forget) a group's externalId.
pub(crate) async fn set_external_id(db: &impl ConnectionTrait, pool: &PoolId, node_id: &str, external_id: Option<&str>) -> AppResult<()> {
    scim_group::Entity::delete_by_id(node_id.to_string()).exec(db).await?;
    if let Some(ext) = external_id {
        scim_group::ActiveModel {
            node_id: Set(node_id.to_string()),
            user_pool_id: Set(pool.as_str().to_string()),
            external_id: Set(ext.to_string()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Make the node's direct members `wanted`, given they are `had`: the missing ones join, the
/// others leave (in batches of at most `MAX_BATCH`).
async fn change_members(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, node_id: &str, had: &[String], wanted: &[String]) -> AppResult<()> {
    let had_set: HashSet<&String> = had.iter().collect();
    let wanted_set: HashSet<&String> = wanted.iter().collect();
    let mut join: Vec<String> = wanted.iter().filter(|u| !had_set.contains(u)).cloned().collect();
    let mut leave: Vec<String> = had.iter().filter(|u| !wanted_set.contains(u)).cloned().collect();
    join.sort();
    join.dedup();
    leave.sort();
    for batch in leave.chunks(MAX_BATCH) {
        remove_members_in(txn, outbox, pool, node_id, batch).await?;
    }
    for batch in join.chunks(MAX_BATCH) {
        // A member must be a user of the pool: a bad value is the request's fault, not a missing page.
        existing(txn, pool, batch).await.map_err(|e| match e {
            AppError::NotFound { id, .. } => AppError::invalid("members", format!("no such users: {id}")),
            other => other,
        })?;
        add_members_in(txn, outbox, pool, node_id, batch, None).await?;
    }
    Ok(())
}

/// The SCIM view of `nodes` (all in `org`): externalIds, parents, versions and, when asked, the
/// members; four statements however many nodes.
async fn describe(db: &impl ConnectionTrait, org: &org::Model, nodes: Vec<node::Model>, with_members: bool) -> AppResult<Vec<Group>> {
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
    let externals: HashMap<String, String> = scim_group::Entity::find()
        .filter(scim_group::Column::NodeId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.node_id, g.external_id))
        .collect();
    let stats: HashMap<String, MemberStats> = sql::all::<MemberStats>(
        db,
        &format!(
            "SELECT node_id, COUNT(*) AS n, CAST(MAX(joined_at) AS TEXT) AS last FROM membership WHERE node_id IN ({}) GROUP BY node_id",
            sql::placeholders(1, ids.len())
        ),
        sql::strings(&ids),
    )
    .await?
    .into_iter()
    .map(|s| (s.node_id.clone(), s))
    .collect();
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    if with_members {
        let rows: Vec<(String, String)> = membership::Entity::find()
            .select_only()
            .column(membership::Column::NodeId)
            .column(membership::Column::UserId)
            .filter(membership::Column::NodeId.is_in(ids))
            .order_by_asc(membership::Column::JoinedAt)
            .order_by_asc(membership::Column::UserId)
            .into_tuple()
            .all(db)
            .await?;
        for (node_id, user_id) in rows {
            members.entry(node_id).or_default().push(user_id);
        }
    }
    Ok(nodes
        .into_iter()
        .map(|node| {
            let (n, last) = stats.get(&node.id).map_or((0, None), |s| (s.n, s.last.clone()));
            let version = version(&node, n, last.as_deref());
            Group {
                external_id: externals.get(&node.id).cloned(),
                parent: node.parent_id.clone().filter(|p| *p != org.root_node_id),
                members: with_members.then(|| members.remove(&node.id).unwrap_or_default()),
                version,
                node,
            }
        })
        .collect())
}

/// Changes whenever the node changes or a membership comes or goes: a membership that comes
/// raises the latest joining time, one that goes lowers the count.
fn version(node: &node::Model, members: i64, last_joined: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(node.updated_at.timestamp_micros().to_be_bytes());
    h.update(members.to_be_bytes());
    h.update(last_joined.unwrap_or("").as_bytes());
    format!("W/\"{}\"", &hex::encode(h.finalize())[..16])
}
