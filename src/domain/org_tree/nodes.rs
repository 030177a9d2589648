//! Nodes: add, update, move, delete, and the lookups (by id, by code, children, root, search,
//! ancestors) the API needs.

use std::collections::{HashMap, HashSet};

use entity::{acl_grant::TargetType, node, node_leader};
use serde_json::Value;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect, sea_query::NullOrdering,
};

use super::{
    MAX_DEPTH, OrgService, ensure_code_free, ensure_org_code_free, fields::DepartmentPatch, find_node,
    find_node_in_org, find_org,
};

use crate::{
    domain::{
        PoolId,
        docs::{NodeDoc, OrgDoc, changed_fields, to_json},
        events::{DomainEvent, Outbox},
        users::Change,
        validate,
    },
    error::{AppError, AppResult},
    ids,
    storage::tree,
};

/// A new department: its fields and, for an import that keeps them, its id and times.
#[derive(Debug, Clone, Default)]
pub struct NodeInput {
    pub fields: DepartmentPatch,
    pub id: Option<String>,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<DepartmentPatch> for NodeInput {
    fn from(fields: DepartmentPatch) -> Self {
        NodeInput { fields, ..Default::default() }
    }
}

/// Changes to a node: its fields, and its leaders (`None` keeps them).
#[derive(Debug, Clone, Default)]
pub struct NodePatch {
    pub fields: DepartmentPatch,
    /// The v2 single leader: the same as `leader_user_ids` with one id (or none).
    pub leader_user_id: Change<String>,
    /// The leaders, in order; the first is also the v2 `leaderUserId`.
    pub leader_user_ids: Option<Vec<String>>,
    /// When the change happened: now, unless an import keeps the file's time.
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<DepartmentPatch> for NodePatch {
    fn from(fields: DepartmentPatch) -> Self {
        NodePatch { fields, ..Default::default() }
    }
}

/// Insert a node and its closure rows (itself at depth 0 and every ancestor of `parent`).
pub(super) async fn insert_node(
    db: &impl ConnectionTrait,
    pool: &PoolId,
    org_id: &str,
    parent: Option<&node::Model>,
    id: &str,
    input: NodeInput,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<node::Model> {
    let row = new_node_row(pool, org_id, parent.map(|p| (p.id.as_str(), p.depth)), id, input, now)?;
    let node = row.insert(db).await?;
    tree::link_new_node(db, id, parent.map(|p| p.id.as_str())).await?;
    Ok(node)
}

/// The row of a new node below `parent` (its id and depth; none for a root): every field
/// checked, no leader, no member. `insert_node` writes one; a bulk load (`orgraph import`)
/// writes many at once and links them with `tree::link_imported`.
pub(crate) fn new_node_row(
    pool: &PoolId,
    org_id: &str,
    parent: Option<(&str, i32)>,
    id: &str,
    input: NodeInput,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<node::ActiveModel> {
    let created_at = input.created_at.unwrap_or(now);
    let mut row = node::ActiveModel {
        id: Set(id.to_string()),
        user_pool_id: Set(pool.as_str().to_string()),
        org_id: Set(org_id.to_string()),
        parent_id: Set(parent.map(|(p, _)| p.to_string())),
        leader_user_id: Set(None),
        depth: Set(parent.map_or(0, |(_, d)| d + 1)),
        member_count: Set(0),
        subtree_member_count: Set(0),
        created_at: Set(created_at),
        updated_at: Set(input.updated_at.unwrap_or(created_at)),
        ..Default::default()
    };
    input.fields.apply_new(&mut row)?;
    Ok(row)
}

impl OrgService {
    /// Add a node under `parent_id` (the root when absent).
    pub async fn add_node(&self, pool: &PoolId, org_id: &str, parent_id: Option<&str>, input: NodeInput) -> AppResult<node::Model> {
        self.writer.write(pool, async |txn, outbox| add_node_in(txn, outbox, pool, org_id, parent_id, input).await).await
    }

    pub async fn update_node(&self, pool: &PoolId, id: &str, patch: NodePatch) -> AppResult<node::Model> {
        self.writer.write(pool, async |txn, outbox| update_node_in(txn, outbox, pool, id, patch).await).await
    }

    /// Delete a node and its subtree, with their memberships; users are never deleted.
    pub async fn delete_node(&self, pool: &PoolId, org_id: &str, node_id: &str) -> AppResult<()> {
        self.writer.write(pool, async |txn, outbox| delete_node_in(txn, outbox, pool, org_id, node_id).await).await
    }

    /// Move `node_id` (and its subtree) under `target_parent_id`, in the same org.
    pub async fn move_node(&self, pool: &PoolId, org_id: &str, node_id: &str, target_parent_id: &str) -> AppResult<()> {
        self.writer.write(pool, async |txn, outbox| move_node_in(txn, outbox, pool, org_id, node_id, target_parent_id).await).await
    }

    pub async fn node(&self, pool: &PoolId, id: &str) -> AppResult<node::Model> {
        find_node(&self.db, pool, id).await
    }

    pub async fn node_by_code(&self, pool: &PoolId, org_id: &str, code: &str) -> AppResult<node::Model> {
        find_org(&self.db, pool, org_id).await?;
        node::Entity::find()
            .filter(node::Column::OrgId.eq(org_id))
            .filter(node::Column::Code.eq(code))
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("node with code", code))
    }

    pub async fn root_node(&self, pool: &PoolId, org_id: &str) -> AppResult<node::Model> {
        let org = find_org(&self.db, pool, org_id).await?;
        find_node(&self.db, pool, &org.root_node_id).await
    }

    pub async fn is_root_node(&self, pool: &PoolId, org_id: &str, node_id: &str) -> AppResult<bool> {
        find_org(&self.db, pool, org_id).await?;
        Ok(find_node_in_org(&self.db, pool, org_id, node_id).await?.parent_id.is_none())
    }

    pub async fn children(&self, pool: &PoolId, node_id: &str) -> AppResult<Vec<node::Model>> {
        find_node(&self.db, pool, node_id).await?;
        Ok(self.children_of(&[node_id.to_string()]).await?.remove(node_id).unwrap_or_default())
    }

    /// Nodes of the pool whose name or code contains `keyword` (case-insensitive), at most `limit`.
    pub async fn search_nodes(&self, pool: &PoolId, keyword: &str, limit: u64) -> AppResult<Vec<node::Model>> {
        let keyword = keyword.trim();
        if keyword.is_empty() || keyword.chars().count() > validate::MAX_TEXT {
            return Err(AppError::invalid("keyword", format!("keyword must have 1 to {} characters", validate::MAX_TEXT)));
        }
        let escaped = keyword.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        crate::storage::sql::all::<node::Model>(&self.db,
            "SELECT * FROM node WHERE user_pool_id = $1
             AND (LOWER(name) LIKE $2 ESCAPE '\\' OR LOWER(COALESCE(code, '')) LIKE $2 ESCAPE '\\')
             ORDER BY depth, name, id LIMIT $3",
            vec![pool.as_str().into(), pattern.into(), (limit as i64).into()]).await
    }

    /// Children of each of `parents`, in display order (larger `order` first, then oldest).
    /// One query for the batch.
    pub async fn children_of(&self, parents: &[String]) -> AppResult<HashMap<String, Vec<node::Model>>> {
        let rows = node::Entity::find()
            .filter(node::Column::ParentId.is_in(parents.to_vec()))
            .order_by_with_nulls(node::Column::Order, Order::Desc, NullOrdering::Last)
            .order_by_asc(node::Column::CreatedAt)
            .order_by_asc(node::Column::Id)
            .all(&self.db)
            .await?;
        let mut map: HashMap<String, Vec<node::Model>> = HashMap::new();
        for n in rows {
            map.entry(n.parent_id.clone().unwrap_or_default()).or_default().push(n);
        }
        Ok(map)
    }

    /// Ids of the children of each of `parents`, in display order. One query for the batch.
    pub async fn child_ids_of(&self, parents: &[String]) -> AppResult<HashMap<String, Vec<String>>> {
        let rows: Vec<(String, Option<String>)> = node::Entity::find()
            .select_only()
            .column(node::Column::Id)
            .column(node::Column::ParentId)
            .filter(node::Column::ParentId.is_in(parents.to_vec()))
            .order_by_with_nulls(node::Column::Order, Order::Desc, NullOrdering::Last)
            .order_by_asc(node::Column::CreatedAt)
            .order_by_asc(node::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (id, parent) in rows {
            map.entry(parent.unwrap_or_default()).or_default().push(id);
        }
        Ok(map)
    }

    /// The ancestors of each of `nodes` (root first, the node last), as (id, code, name).
    /// One query for the batch.
    pub async fn paths_of(&self, nodes: &[String]) -> AppResult<HashMap<String, Vec<PathStep>>> {
        let rows = tree::paths(&self.db, nodes).await?;
        let mut map: HashMap<String, Vec<PathStep>> = HashMap::new();
        for r in rows {
            map.entry(r.node_id).or_default().push(PathStep { id: r.id, code: r.code, name: r.name });
        }
        Ok(map)
    }

    /// The leaders of each of `nodes`, in order. One query for the batch.
    pub async fn leaders_of(&self, nodes: &[String]) -> AppResult<HashMap<String, Vec<String>>> {
        leaders_of(&self.db, nodes).await
    }

    /// Nodes by id (any pool: callers pass ids they read from rows of the caller's pool).
    pub async fn nodes_by_ids(&self, ids: &[String]) -> AppResult<Vec<node::Model>> {
        Ok(node::Entity::find().filter(node::Column::Id.is_in(ids.to_vec())).all(&self.db).await?)
    }

}


// The changes themselves, inside a transaction the caller opened with `Writer::write`: the
// service methods above run one each, and a surface that must make several changes at once (a
// SCIM request) runs them in one transaction, with the same rules and events.

/// Add a node under `parent_id` (the root when absent).
pub(crate) async fn add_node_in(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, org_id: &str, parent_id: Option<&str>, mut input: NodeInput) -> AppResult<node::Model> {
    let org = find_org(txn, pool, org_id).await?;
    let parent_id = parent_id.filter(|p| !p.is_empty()).unwrap_or(&org.root_node_id);
    let parent = find_node_in_org(txn, pool, org_id, parent_id).await?;
    if parent.depth + 1 > MAX_DEPTH {
        return Err(AppError::invalid("parentNodeId", format!("a tree may be at most {MAX_DEPTH} levels deep")));
    }
    input.fields = input.fields.check()?;
    ensure_unique_in_org(txn, org_id, &input.fields, None).await?;
    let id = input.id.take().unwrap_or_else(ids::new_id);
    let node = insert_node(txn, pool, org_id, Some(&parent), &id, input, chrono::Utc::now()).await?;
    outbox.record(DomainEvent::NodeAdded { organization: OrgDoc::from(&org), node: NodeDoc::from(&node), parent_node: NodeDoc::from(&parent) });
    Ok(node)
}

/// Refuse a code or `openDepartmentId` (of checked `fields`) another node of the org has;
/// `except` is the node being changed.
async fn ensure_unique_in_org(db: &impl ConnectionTrait, org_id: &str, fields: &DepartmentPatch, except: Option<&str>) -> AppResult<()> {
    if let Some(Some(code)) = &fields.code {
        ensure_code_free(db, org_id, code, except).await?;
    }
    if let Some(Some(open_id)) = &fields.open_department_id {
        ensure_open_id_free(db, org_id, open_id, except).await?;
    }
    Ok(())
}

/// [`ensure_unique_in_org`] for many new nodes of the org `org_id` at once (a bulk load): a
/// statement per field for them all. The position in `fields` of the first whose code or
/// `openDepartmentId` a node of the org already has, with the refusal.
pub(crate) async fn first_taken_in_org(db: &impl ConnectionTrait, org_id: &str, fields: &[&DepartmentPatch]) -> AppResult<Option<(usize, AppError)>> {
    let codes: Vec<(usize, &String)> = fields.iter().enumerate().filter_map(|(i, f)| Some((i, f.code.as_ref()?.as_ref()?))).collect();
    let open_ids: Vec<(usize, &String)> = fields.iter().enumerate().filter_map(|(i, f)| Some((i, f.open_department_id.as_ref()?.as_ref()?))).collect();
    for (column, field, wanted) in [(node::Column::Code, "code", codes), (node::Column::OpenDepartmentId, "openDepartmentId", open_ids)] {
        let mut taken: HashSet<String> = HashSet::new();
        for chunk in wanted.chunks(500) {
            let found: Vec<Option<String>> = node::Entity::find()
                .select_only()
                .column(column)
                .filter(node::Column::OrgId.eq(org_id))
                .filter(column.is_in(chunk.iter().map(|(_, v)| (*v).clone())))
                .into_tuple()
                .all(db)
                .await?;
            taken.extend(found.into_iter().flatten());
        }
        if let Some((i, value)) = wanted.into_iter().find(|(_, v)| taken.contains(*v)) {
            return Ok(Some((i, AppError::Conflict { field: Some(field), message: format!("{field} {value:?} is already used in this organization") })));
        }
    }
    Ok(None)
}

pub(crate) async fn update_node_in(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, id: &str, patch: NodePatch) -> AppResult<node::Model> {
    let current = find_node(txn, pool, id).await?;
    let fields = patch.fields.check()?;
    ensure_unique_in_org(txn, &current.org_id, &fields, Some(id)).await?;
    if let (Some(Some(code)), None) = (&fields.code, &current.parent_id) {
        ensure_org_code_free(txn, pool, code, Some(&current.org_id)).await?;
    }
    let mut row: node::ActiveModel = current.clone().into();
    fields.apply(&mut row)?;
    let leaders = match (patch.leader_user_ids, patch.leader_user_id) {
        (Some(ids), _) => Some(ids),
        (None, Some(one)) => Some(one.into_iter().collect()),
        (None, None) => None,
    };
    let mut leader_change = None;
    if let Some(ids) = leaders {
        let before = leaders_of(txn, std::slice::from_ref(&current.id)).await?.remove(&current.id).unwrap_or_default();
        let ids = set_leaders(txn, pool, &current.id, &ids).await?;
        row.leader_user_id = Set(ids.first().cloned());
        if ids != before {
            leader_change = Some(ids);
        }
    }
    row.updated_at = Set(patch.updated_at.unwrap_or_else(chrono::Utc::now));
    let node = row.update(txn).await?;
    let after = NodeDoc::from(&node);
    let mut updates = changed_fields(&to_json(&NodeDoc::from(&current)), &to_json(&after));
    if let (Some(ids), Some(map)) = (leader_change, updates.as_object_mut()) {
        map.insert("leaderUserIds".into(), Value::from(ids));
    }
    outbox.record(DomainEvent::NodeUpdated { node: after, updates });
    Ok(node)
}

/// Most leaders a node may have.
pub const MAX_LEADERS: usize = 50;

/// Make `user_ids` (each a user of the pool) the leaders of `node_id`, in that order; the
/// distinct ids, as stored.
async fn set_leaders(txn: &DatabaseTransaction, pool: &PoolId, node_id: &str, user_ids: &[String]) -> AppResult<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    for id in user_ids.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }
    if ids.len() > MAX_LEADERS {
        return Err(AppError::invalid("leaderUserIds", format!("a department has at most {MAX_LEADERS} leaders")));
    }
    let found = crate::domain::users::existing(txn, pool, &ids).await?;
    if let Some(missing) = ids.iter().find(|id| !found.iter().any(|u| &&u.id == id)) {
        return Err(AppError::not_found("user", missing.clone()));
    }
    node_leader::Entity::delete_many().filter(node_leader::Column::NodeId.eq(node_id)).exec(txn).await?;
    if !ids.is_empty() {
        let rows = ids.iter().enumerate().map(|(i, u)| node_leader::ActiveModel {
            node_id: Set(node_id.to_string()),
            user_id: Set(u.clone()),
            user_pool_id: Set(pool.as_str().to_string()),
            position: Set(i as i32),
        });
        node_leader::Entity::insert_many(rows).exec(txn).await?;
    }
    Ok(ids)
}

/// Users about to be deleted stop leading nodes; the next leader becomes each node's first.
pub(crate) async fn forget_leaders(txn: &DatabaseTransaction, user_ids: &[String]) -> AppResult<()> {
    if user_ids.is_empty() {
        return Ok(());
    }
    node_leader::Entity::delete_many().filter(node_leader::Column::UserId.is_in(user_ids.to_vec())).exec(txn).await?;
    let list = crate::storage::sql::placeholders(1, user_ids.len());
    crate::storage::sql::exec(
        txn,
        &format!(
            "UPDATE node SET leader_user_id = (SELECT l.user_id FROM node_leader l WHERE l.node_id = node.id ORDER BY l.position LIMIT 1)
             WHERE leader_user_id IN ({list})"
        ),
        crate::storage::sql::strings(user_ids),
    )
    .await?;
    Ok(())
}

/// The leaders of each of `nodes`, in order. One query for the batch.
pub(super) async fn leaders_of(db: &impl ConnectionTrait, nodes: &[String]) -> AppResult<HashMap<String, Vec<String>>> {
    let rows = node_leader::Entity::find()
        .filter(node_leader::Column::NodeId.is_in(nodes.to_vec()))
        .order_by_asc(node_leader::Column::NodeId)
        .order_by_asc(node_leader::Column::Position)
        .all(db)
        .await?;
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows {
        map.entry(r.node_id).or_default().push(r.user_id);
    }
    Ok(map)
}

/// Refuse an `open_department_id` another node of the org has; `except` is the node being changed.
async fn ensure_open_id_free(db: &impl ConnectionTrait, org_id: &str, open_id: &str, except: Option<&str>) -> AppResult<()> {
    let mut q = node::Entity::find().filter(node::Column::OrgId.eq(org_id)).filter(node::Column::OpenDepartmentId.eq(open_id));
    if let Some(id) = except {
        q = q.filter(node::Column::Id.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(AppError::Conflict {
            field: Some("openDepartmentId"),
            message: format!("openDepartmentId {open_id:?} is already used in this organization"),
        });
    }
    Ok(())
}

/// Delete a node and its subtree, with their memberships; users are never deleted.
pub(crate) async fn delete_node_in(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, org_id: &str, node_id: &str) -> AppResult<()> {
    find_org(txn, pool, org_id).await?;
    let node = find_node_in_org(txn, pool, org_id, node_id).await?;
    if node.parent_id.is_none() {
        return Err(AppError::invalid("nodeId", "the root node cannot be deleted; delete the organization instead"));
    }
    let mut above = tree::ancestors(txn, node_id).await?;
    above.pop();
    let subtree = tree::subtree(txn, node_id).await?;
    let ids: Vec<String> = subtree.iter().map(|n| n.id.clone()).collect();
    crate::domain::acl::forget_targets(txn, TargetType::Org, &ids).await?;
    tree::counts::shift_subtree(txn, node_id, &above, &[]).await?;
    tree::delete_subtree(txn, node_id).await?;
    outbox.record(DomainEvent::NodeDeleted { nodes: subtree.iter().map(NodeDoc::from).collect() });
    Ok(())
}

/// Move `node_id` (and its subtree) under `target_parent_id`, in the same org.
pub(crate) async fn move_node_in(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, org_id: &str, node_id: &str, target_parent_id: &str) -> AppResult<()> {
    let org = find_org(txn, pool, org_id).await?;
    let node = find_node_in_org(txn, pool, org_id, node_id).await?;
    let target = find_node(txn, pool, target_parent_id).await?;
    if target.org_id != org_id {
        return Err(AppError::invalid("targetParentId", "the target parent is in another organization"));
    }
    if node.parent_id.is_none() {
        return Err(AppError::invalid("nodeId", "the root node cannot be moved"));
    }
    let target_path = tree::ancestors(txn, target_parent_id).await?;
    if target_path.iter().any(|a| a == node_id) {
        return Err(AppError::invalid("targetParentId", "a node cannot be moved under itself or one of its descendants"));
    }
    if node.parent_id.as_deref() == Some(target_parent_id) {
        return Ok(()); // already there
    }
    let deepest = tree::deepest_below(txn, node_id).await?.unwrap_or(node.depth);
    if target.depth + 1 + (deepest - node.depth) > MAX_DEPTH {
        return Err(AppError::invalid("targetParentId", format!("a tree may be at most {MAX_DEPTH} levels deep")));
    }
    let mut old_path = tree::ancestors(txn, node_id).await?;
    old_path.pop();
    // Members move with the subtree: only the ancestors not shared by both paths change.
    let leave: Vec<String> = old_path.iter().filter(|a| !target_path.contains(a)).cloned().collect();
    let join: Vec<String> = target_path.iter().filter(|a| !old_path.contains(a)).cloned().collect();
    tree::counts::shift_subtree(txn, node_id, &leave, &join).await?;
    tree::relink_subtree(txn, node_id, &old_path, target_parent_id, target.depth + 1 - node.depth).await?;
    let old_parent = match &node.parent_id { Some(p) => Some(find_node(txn, pool, p).await?), None => None };
    let mut row: node::ActiveModel = node.into();
    row.parent_id = Set(Some(target_parent_id.to_string()));
    row.updated_at = Set(chrono::Utc::now());
    let moved = row.update(txn).await?;
    outbox.record(DomainEvent::NodeMoved {
        organization: OrgDoc::from(&org), node: NodeDoc::from(&moved), parent_node: NodeDoc::from(&target),
        old_parent: old_parent.as_ref().map(NodeDoc::from),
    });
    Ok(())
}

/// One ancestor on a node's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStep {
    pub id: String,
    pub code: Option<String>,
    pub name: String,
}
