//! Members of nodes: adding, removing, moving, the main department, and member pages (direct,
//! or distinct users of the whole subtree).

use std::collections::HashMap;

pub use crate::storage::{
    keyset::Position,
    tree::members::{Member, PageNode, Plan as PagePlan},
};

use entity::{membership, node, user};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};

use super::{OrgService, find_node};
use serde_json::json;

use crate::{
    domain::{
        PoolId,
        docs::{NodeDoc, UserDoc},
        events::{DomainEvent, Outbox},
        pagination::{Page, Paginated, Slice, TimestampOrder, Window},
        users::{UserColumns, batch_ids, existing},
    },
    error::{AppError, AppResult},
    storage::tree::{
        self,
        members::{MemberPage, PageKey},
    },
};

/// A node named by id, or by org and code.
#[derive(Debug, Clone)]
pub enum NodeRef {
    Id(String),
    Code { org_id: String, code: String },
}

impl NodeRef {
    /// From the `nodeId` / `orgId` + `nodeCode` argument pair of the v2 API.
    pub fn from_args(node_id: Option<String>, org_id: Option<String>, node_code: Option<String>) -> AppResult<Self> {
        match (node_id.filter(|s| !s.is_empty()), org_id, node_code) {
            (Some(id), _, _) => Ok(NodeRef::Id(id)),
            (None, Some(org_id), Some(code)) => Ok(NodeRef::Code { org_id, code }),
            _ => Err(AppError::invalid("nodeId", "give nodeId, or orgId and nodeCode")),
        }
    }
}

/// Sort keys of member lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberSort {
    User(TimestampOrder),
    /// When the user joined the node (direct members only; for a subtree, the earliest join).
    JoinedAsc,
    JoinedDesc,
}

/// Which page of which members of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MembersQuery {
    pub page: Page,
    pub sort: MemberSort,
    pub include_children: bool,
    /// The user columns to read (`UserColumns::ALL` unless the caller shows only some fields).
    pub columns: UserColumns,
}

/// The v3 `listDepartmentMembers` query.
#[derive(Debug, Clone)]
pub struct DepartmentMembersQuery {
    pub department: super::DepartmentRef,
    pub members: MembersQuery,
    /// Also read each user's department ids.
    pub with_department_ids: bool,
}

/// Largest `limit` of the v3 member list (seed 002: "maximum cannot exceed 50").
pub const MAX_V3_LIMIT: u64 = 50;

/// v3 sort keys of a member list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DepartmentMemberSort {
    /// When the user joined the department (on a subtree: entered it).
    #[default]
    JoinDepartmentAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

impl DepartmentMemberSort {
    /// Any case; the Node SDK's `Default`, `createAt` and `userId` are accepted too (`userId`
    /// sorts like `CreatedAt`: ids are time-ordered).
    pub fn parse(s: &str) -> AppResult<Self> {
        match s.to_ascii_lowercase().as_str() {
            "joindepartmentat" | "default" => Ok(Self::JoinDepartmentAt),
            "createdat" | "createat" | "userid" => Ok(Self::CreatedAt),
            "updatedat" => Ok(Self::UpdatedAt),
            _ => Err(AppError::invalid("sortBy", "sortBy must be JoinDepartmentAt, CreatedAt or UpdatedAt")),
        }
    }
}

impl SortOrder {
    pub fn parse(s: &str) -> AppResult<Self> {
        match s {
            "Asc" | "asc" | "ASC" => Ok(Self::Asc),
            "Desc" | "desc" | "DESC" => Ok(Self::Desc),
            _ => Err(AppError::invalid("orderBy", "orderBy must be Asc or Desc")),
        }
    }
}

/// The arguments of v3 `listDepartmentMembers`, as both APIs take them.
#[derive(Debug, Clone, Default)]
pub struct DepartmentMembersArgs {
    pub organization_code: String,
    pub department_id: String,
    pub department_id_type: super::DepartmentIdType,
    pub sort_by: DepartmentMemberSort,
    pub order_by: SortOrder,
    pub include_children_departments: bool,
    pub page: Option<i64>,
    pub limit: Option<i64>,
    pub with_department_ids: bool,
}

impl DepartmentMembersQuery {
    /// Check the arguments: the page (`limit` at most 50).
    pub fn new(args: DepartmentMembersArgs) -> AppResult<Self> {
        let asc = args.order_by == SortOrder::Asc;
        let sort = match args.sort_by {
            DepartmentMemberSort::JoinDepartmentAt => if asc { MemberSort::JoinedAsc } else { MemberSort::JoinedDesc },
            DepartmentMemberSort::CreatedAt => MemberSort::User(if asc { TimestampOrder::CreatedAtAsc } else { TimestampOrder::CreatedAtDesc }),
            DepartmentMemberSort::UpdatedAt => MemberSort::User(if asc { TimestampOrder::UpdatedAtAsc } else { TimestampOrder::UpdatedAtDesc }),
        };
        Ok(DepartmentMembersQuery {
            department: super::DepartmentRef {
                organization_code: args.organization_code,
                department_id: args.department_id,
                id_type: args.department_id_type,
            },
            members: MembersQuery {
                page: Page::new(args.page, args.limit, MAX_V3_LIMIT)?,
                sort,
                include_children: args.include_children_departments,
                columns: UserColumns::ALL,
            },
            with_department_ids: args.with_department_ids,
        })
    }
}

/// A page of a department's members, with each one's department ids when asked.
pub struct DepartmentMembersPage {
    pub page: Paginated<user::Model>,
    pub department_ids: Option<HashMap<String, Vec<String>>>,
}

/// A department of a user.
#[derive(Debug, Clone)]
pub struct UserDepartment {
    pub node: node::Model,
    pub is_main: bool,
    pub is_leader: bool,
    pub joined_at: chrono::DateTime<chrono::Utc>,
}

impl OrgService {
    pub async fn resolve_node(&self, pool: &PoolId, node: &NodeRef) -> AppResult<node::Model> {
        match node {
            NodeRef::Id(id) => find_node(&self.db, pool, id).await,
            NodeRef::Code { org_id, code } => self.node_by_code(pool, org_id, code).await,
        }
    }

    /// Add users to a node. Users already there keep their membership (with `is_leader`
    /// updated when given). Every user must exist in the pool, or nothing is added.
    pub async fn add_members(&self, pool: &PoolId, node: &NodeRef, user_ids: &[String], is_leader: Option<bool>) -> AppResult<node::Model> {
        let user_ids = batch_ids("userIds", user_ids)?;
        let node = self.resolve_node(pool, node).await?;
        self.writer.write(pool, async |txn, outbox| add_members_in(txn, outbox, pool, &node.id, &user_ids, is_leader).await).await
    }

    /// Remove users from a node. Each must be a member, or nothing is removed.
    pub async fn remove_members(&self, pool: &PoolId, node: &NodeRef, user_ids: &[String]) -> AppResult<node::Model> {
        let user_ids = batch_ids("userIds", user_ids)?;
        let node = self.resolve_node(pool, node).await?;
        self.writer.write(pool, async |txn, outbox| remove_members_in(txn, outbox, pool, &node.id, &user_ids).await).await
    }

    /// Move users from one node to another (any org of the pool). Each must be a member of the
    /// source; those already in the target just leave the source.
    pub async fn move_members(&self, pool: &PoolId, user_ids: &[String], source_id: &str, target_id: &str) -> AppResult<()> {
        let user_ids = batch_ids("userIds", user_ids)?;
        self.writer.write(pool, async |txn, outbox| move_members_in(txn, outbox, pool, &user_ids, source_id, target_id).await).await
    }

    /// Make `department_id` the user's main department (the user must be a member of it), or
    /// clear it when `None`.
    pub async fn set_main_department(&self, pool: &PoolId, user_id: &str, department_id: Option<&str>) -> AppResult<()> {
        self.writer.write(pool, async |txn, outbox| {
        let user = crate::domain::users::find_in_pool(txn, pool, user_id).await?.ok_or_else(|| AppError::not_found("user", user_id))?;
        if let Some(dep) = department_id {
            find_node(txn, pool, dep).await?;
            if member_ids(txn, dep, &[user_id.to_string()]).await?.is_empty() {
                return Err(AppError::invalid("departmentId", format!("user {user_id} is not a member of node {dep}")));
            }
        }
        membership::Entity::update_many()
            .col_expr(membership::Column::IsMainDepartment, false.into())
            .filter(membership::Column::UserId.eq(user_id))
            .exec(txn)
            .await?;
        if let Some(dep) = department_id {
            membership::Entity::update_many()
                .col_expr(membership::Column::IsMainDepartment, true.into())
                .filter(membership::Column::UserId.eq(user_id))
                .filter(membership::Column::NodeId.eq(dep))
                .exec(txn)
                .await?;
        }
        outbox.record(DomainEvent::UserUpdated { user: UserDoc::from(user), updates: json!({ "mainDepartmentId": department_id }) });
        Ok(())
        }).await
    }

    /// The departments of a user (of one org when given), main department first.
    pub async fn user_departments(&self, pool: &PoolId, user_id: &str, org_id: Option<&str>) -> AppResult<Vec<UserDepartment>> {
        Ok(self.departments_of(pool, &[user_id.to_string()], org_id).await?.remove(user_id).unwrap_or_default())
    }

    /// The departments of each of `users` (of one org when given), main department first, then by
    /// joining time. Two statements however many users.
    pub async fn departments_of(&self, pool: &PoolId, users: &[String], org_id: Option<&str>) -> AppResult<HashMap<String, Vec<UserDepartment>>> {
        let mut out: HashMap<String, Vec<UserDepartment>> = HashMap::new();
        if users.is_empty() {
            return Ok(out);
        }
        let mut q = membership::Entity::find()
            .filter(membership::Column::UserPoolId.eq(pool.as_str()))
            .filter(membership::Column::UserId.is_in(users.to_vec()));
        if let Some(org) = org_id {
            q = q.filter(membership::Column::OrgId.eq(org));
        }
        let rows = q
            .order_by_desc(membership::Column::IsMainDepartment)
            .order_by_asc(membership::Column::JoinedAt)
            .order_by_asc(membership::Column::NodeId)
            .all(&self.db)
            .await?;
        let mut ids: Vec<String> = rows.iter().map(|m| m.node_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let nodes: HashMap<String, node::Model> =
            self.nodes_by_ids(&ids).await?.into_iter().map(|n| (n.id.clone(), n)).collect();
        for m in rows {
            if let Some(n) = nodes.get(&m.node_id) {
                out.entry(m.user_id).or_default().push(UserDepartment {
                    node: n.clone(),
                    is_main: m.is_main_department,
                    is_leader: m.is_leader,
                    joined_at: m.joined_at,
                });
            }
        }
        Ok(out)
    }

    /// Ids of the nodes each of `users` is a member of (for v3 `departmentIds`).
    pub async fn department_ids_of(&self, users: &[String]) -> AppResult<HashMap<String, Vec<String>>> {
        let rows = membership::Entity::find()
            .filter(membership::Column::UserId.is_in(users.to_vec()))
            .order_by_asc(membership::Column::JoinedAt)
            .all(&self.db)
            .await?;
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for m in rows {
            map.entry(m.user_id).or_default().push(m.node_id);
        }
        Ok(map)
    }

    /// One page of members of `node` with the total, which comes from the node's counts.
    pub async fn members_page(&self, node: &node::Model, q: MembersQuery) -> AppResult<Paginated<user::Model>> {
        let mut pages = self.members_pages(&[PageNode::from(node)], q).await?;
        Ok(Paginated { total_count: total(node, q), list: pages.remove(&node.id).unwrap_or_default() })
    }

    /// The same page for many nodes, in one statement per plan (see `storage::tree::members`).
    pub async fn members_pages(&self, nodes: &[PageNode], q: MembersQuery) -> AppResult<HashMap<String, Vec<user::Model>>> {
        let pages = tree::members::pages(&self.db, nodes, &q.page_spec()).await?;
        Ok(pages.into_iter().map(|(node, members)| (node, members.into_iter().map(|m| m.user).collect())).collect())
    }

    /// A page of `node`'s members by keyset: those after `after` in `q`'s order (from the first
    /// when `None`), `q.page` giving the limit (and an offset from there), each member with its
    /// position. Costs the same however deep `after` is.
    pub async fn members_after(&self, node: &node::Model, q: MembersQuery, after: Option<Position>) -> AppResult<Vec<Member>> {
        let p = MemberPage { after, ..q.page_spec() };
        let mut pages = tree::members::pages(&self.db, &[PageNode::from(node)], &p).await?;
        Ok(pages.remove(&node.id).unwrap_or_default())
    }

    /// A window of `node`'s members in `q`'s order (`q.page` is not used): the first `n` after
    /// a position or the last `n` before one, each with its position.
    pub async fn members_window(&self, node: &node::Model, q: MembersQuery, window: Window<Position>) -> AppResult<Slice<Member>> {
        let spec = q.page_spec();
        window
            .read(spec.ascending, async |after, ascending, limit| {
                let p = MemberPage { limit, offset: 0, after, ascending, ..spec.clone() };
                Ok(tree::members::pages(&self.db, &[PageNode::from(node)], &p).await?.remove(&node.id).unwrap_or_default())
            })
            .await
    }

    /// v3 `listDepartmentMembers`: the org by code, the department as `q.department` names it.
    pub async fn department_members(&self, pool: &PoolId, q: &DepartmentMembersQuery) -> AppResult<DepartmentMembersPage> {
        let node = self.department(pool, &q.department).await?;
        let page = self.members_page(&node, q.members).await?;
        let department_ids = if q.with_department_ids {
            let ids: Vec<String> = page.list.iter().map(|u| u.id.clone()).collect();
            Some(self.department_ids_of(&ids).await?)
        } else {
            None
        };
        Ok(DepartmentMembersPage { page, department_ids })
    }
}

/// Add `user_ids` (distinct, see `batch_ids`) to a node, inside the caller's transaction (see
/// `OrgService::add_members`).
pub(crate) async fn add_members_in(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, node_id: &str, user_ids: &[String], is_leader: Option<bool>) -> AppResult<node::Model> {
    add_members_joined_in(txn, outbox, pool, node_id, user_ids, is_leader, &HashMap::new()).await
}

/// [`add_members_in`], with the time each new membership began when an import keeps it
/// (`joined_at`; the others begin now).
pub(crate) async fn add_members_joined_in(
    txn: &DatabaseTransaction,
    outbox: &mut Outbox,
    pool: &PoolId,
    node_id: &str,
    user_ids: &[String],
    is_leader: Option<bool>,
    joined_at: &HashMap<String, chrono::DateTime<chrono::Utc>>,
) -> AppResult<node::Model> {
    // Read again under the write lock: the node may have gone meanwhile.
    let node = find_node(txn, pool, node_id).await?;
    let users = existing(txn, pool, user_ids).await?;
    let existing = member_ids(txn, &node.id, user_ids).await?;
    let new: Vec<String> = user_ids.iter().filter(|u| !existing.contains(u)).cloned().collect();
    let now = chrono::Utc::now();
    if !new.is_empty() {
        let rows = new.iter().map(|u| membership::ActiveModel {
            node_id: Set(node.id.clone()),
            user_id: Set(u.clone()),
            user_pool_id: Set(pool.as_str().to_string()),
            org_id: Set(node.org_id.clone()),
            is_leader: Set(is_leader.unwrap_or(false)),
            is_main_department: Set(false),
            joined_at: Set(joined_at.get(u).copied().unwrap_or(now)),
        });
        membership::Entity::insert_many(rows).exec(txn).await?;
        tree::counts::members_added(txn, &node.id, &new).await?;
    }
    if let (Some(leader), false) = (is_leader, existing.is_empty()) {
        membership::Entity::update_many()
            .col_expr(membership::Column::IsLeader, leader.into())
            .filter(membership::Column::NodeId.eq(node.id.as_str()))
            .filter(membership::Column::UserId.is_in(existing))
            .exec(txn)
            .await?;
    }
    let node = find_node(txn, pool, &node.id).await?;
    for u in users.iter().filter(|u| new.contains(&u.id)) {
        outbox.record(DomainEvent::MemberAdded { node: NodeDoc::from(&node), user: UserDoc::from(u) });
    }
    Ok(node)
}

/// Remove `user_ids` (distinct, each a member) from a node, inside the caller's transaction.
pub(crate) async fn remove_members_in(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, node_id: &str, user_ids: &[String]) -> AppResult<node::Model> {
    let node = find_node(txn, pool, node_id).await?;
    ensure_members(txn, &node.id, user_ids).await?;
    tree::members::remove(txn, &node.id, user_ids).await?;
    let node = find_node(txn, pool, &node.id).await?;
    for u in existing(txn, pool, user_ids).await? {
        outbox.record(DomainEvent::MemberRemoved { node: NodeDoc::from(&node), user: UserDoc::from(u) });
    }
    Ok(node)
}

fn total(node: &node::Model, q: MembersQuery) -> u64 {
    let n = if q.include_children { node.subtree_member_count } else { node.member_count };
    n.max(0) as u64
}

impl MembersQuery {
    /// The storage's description of this page.
    fn page_spec(self) -> MemberPage {
        let (key, ascending) = match self.sort {
            MemberSort::User(TimestampOrder::CreatedAtDesc) => (PageKey::UserCreated, false),
            MemberSort::User(TimestampOrder::CreatedAtAsc) => (PageKey::UserCreated, true),
            MemberSort::User(TimestampOrder::UpdatedAtDesc) => (PageKey::UserUpdated, false),
            MemberSort::User(TimestampOrder::UpdatedAtAsc) => (PageKey::UserUpdated, true),
            MemberSort::JoinedAsc => (PageKey::Joined, true),
            MemberSort::JoinedDesc => (PageKey::Joined, false),
        };
        MemberPage { limit: self.page.limit, offset: self.page.offset(), after: None, key, ascending, subtree: self.include_children, columns: self.columns }
    }
}

/// The statement behind one member page of `node` by `plan` and its values, for benchmarks
/// that time the database alone.
pub fn member_page_statement(q: MembersQuery, plan: PagePlan, node: &node::Model) -> (String, Vec<sea_orm::Value>) {
    tree::members::page_statement(&q.page_spec(), plan, &PageNode::from(node))
}

/// The plan the page of `node` follows first (`None`: the page is empty).
pub fn member_page_plan(q: MembersQuery, node: &node::Model) -> Option<PagePlan> {
    q.page_spec().plan(&PageNode::from(node))
}

/// Which of `users` are direct members of `node_id`.
async fn member_ids(db: &impl ConnectionTrait, node_id: &str, users: &[String]) -> AppResult<Vec<String>> {
    Ok(memberships(db, node_id, users).await?.into_iter().map(|m| m.user_id).collect())
}

async fn memberships(db: &impl ConnectionTrait, node_id: &str, users: &[String]) -> AppResult<Vec<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::NodeId.eq(node_id))
        .filter(membership::Column::UserId.is_in(users.to_vec()))
        .all(db)
        .await?)
}

/// The memberships of `users` in `node_id`; an error naming those who are not members.
async fn ensure_members(db: &impl ConnectionTrait, node_id: &str, users: &[String]) -> AppResult<Vec<membership::Model>> {
    let found = memberships(db, node_id, users).await?;
    let missing: Vec<&str> = users.iter().filter(|u| !found.iter().any(|m| &m.user_id == *u)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(AppError::NotFound { entity: "member of this node", id: missing.join(", ") });
    }
    Ok(found)
}

/// [`OrgService::move_members`] inside a transaction (`user_ids` checked as a batch).
pub(crate) async fn move_members_in(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, user_ids: &[String], source_id: &str, target_id: &str) -> AppResult<()> {
    if source_id == target_id {
        return Err(AppError::invalid("targetNodeId", "source and target are the same node"));
    }
    let source = find_node(txn, pool, source_id).await?;
    let target = find_node(txn, pool, target_id).await?;
    let moving = ensure_members(txn, &source.id, user_ids).await?;
    let already = member_ids(txn, &target.id, user_ids).await?;
    tree::members::remove(txn, &source.id, user_ids).await?;
    let now = chrono::Utc::now();
    let new: Vec<&membership::Model> = moving.iter().filter(|m| !already.contains(&m.user_id)).collect();
    if !new.is_empty() {
        let rows = new.iter().map(|m| membership::ActiveModel {
            node_id: Set(target.id.clone()),
            user_id: Set(m.user_id.clone()),
            user_pool_id: Set(pool.as_str().to_string()),
            org_id: Set(target.org_id.clone()),
            is_leader: Set(false),
            is_main_department: Set(m.is_main_department),
            joined_at: Set(now),
        });
        membership::Entity::insert_many(rows).exec(txn).await?;
        let ids: Vec<String> = new.iter().map(|m| m.user_id.clone()).collect();
        tree::counts::members_added(txn, &target.id, &ids).await?;
    }
    for u in existing(txn, pool, user_ids).await? {
        outbox.record(DomainEvent::MemberRemoved { node: NodeDoc::from(&source), user: UserDoc::from(&u) });
        if new.iter().any(|m| m.user_id == u.id) {
            outbox.record(DomainEvent::MemberAdded { node: NodeDoc::from(&target), user: UserDoc::from(&u) });
        }
    }
    Ok(())
}
