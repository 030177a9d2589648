//! Organizations as trees of department nodes, and their members. The rules live here: codes
//! unique within an org, no node under its own subtree, `depth`/closure/counts always in step,
//! one transaction per change. The service is split by concern over several files; they share
//! the [`OrgService`] struct and the lookups below.

pub mod fields;
pub mod invariants;
mod departments;
mod members;
mod nodes;
mod orgs;
mod transfer;
mod user_departments;

pub use departments::{ChildFilter, DepartmentFacts, DepartmentField, DepartmentFilter, DepartmentIdType, DepartmentRef, DepartmentSearch};
pub use user_departments::{DepartmentAssignment, MAX_USER_DEPARTMENTS, UserDepartmentSort};
pub use members::{
    DepartmentMemberSort, DepartmentMembersArgs, DepartmentMembersPage, DepartmentMembersQuery, MAX_V3_LIMIT, MemberSort,
    Member, MembersQuery, NodeRef, PageNode, PagePlan, Position, SortOrder, UserDepartment, member_page_plan, member_page_statement,
};
pub(crate) use nodes::forget_leaders;
pub use fields::{DepartmentPatch, Names};
pub use nodes::{MAX_LEADERS, NodeInput, NodePatch, PathStep};
// The changes inside a caller's transaction, for surfaces that make several at once (SCIM).
pub(crate) use members::{add_members_in, move_members_in, remove_members_in};
pub(crate) use nodes::{add_node_in, delete_node_in, first_taken_in_org, move_node_in, new_node_row, update_node_in};
pub use orgs::OrgInput;
pub(crate) use orgs::create_org_with_root_in;

/// Deepest level a node may sit at (the root is 0). Org charts are far shallower; the bound keeps
/// every tree walk and nested answer small.
pub const MAX_DEPTH: i32 = 100;
pub use transfer::{ExportMember, ExportNode};

use entity::{node, org};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder,
    sea_query::NullOrdering,
};

use super::{PoolId, write::Writer};
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct OrgService {
    db: DatabaseConnection,
    writer: Writer,
}

impl OrgService {
    pub fn new(writer: Writer) -> Self {
        Self { db: writer.db().clone(), writer }
    }
}

pub(crate) async fn find_node(db: &impl ConnectionTrait, pool: &PoolId, id: &str) -> AppResult<node::Model> {
    node::Entity::find_by_id(id.to_string())
        .filter(node::Column::UserPoolId.eq(pool.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("node", id))
}

pub(crate) async fn find_org(db: &impl ConnectionTrait, pool: &PoolId, id: &str) -> AppResult<org::Model> {
    org::Entity::find_by_id(id.to_string())
        .filter(org::Column::UserPoolId.eq(pool.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("organization", id))
}

/// A node that must belong to `org_id`.
async fn find_node_in_org(db: &impl ConnectionTrait, pool: &PoolId, org_id: &str, id: &str) -> AppResult<node::Model> {
    let node = find_node(db, pool, id).await?;
    if node.org_id != org_id {
        return Err(AppError::invalid("nodeId", format!("node {id} is not in organization {org_id}")));
    }
    Ok(node)
}

/// The nodes of an org in breadth-first order: by depth, then `order` (larger first), then age.
async fn org_nodes(db: &impl ConnectionTrait, org_id: &str) -> AppResult<Vec<node::Model>> {
    Ok(node::Entity::find()
        .filter(node::Column::OrgId.eq(org_id))
        .order_by_asc(node::Column::Depth)
        .order_by_with_nulls(node::Column::Order, Order::Desc, NullOrdering::Last)
        .order_by_asc(node::Column::CreatedAt)
        .order_by_asc(node::Column::Id)
        .all(db)
        .await?)
}

/// Refuse a code another node of the org has; `except` is the node being changed.
async fn ensure_code_free(db: &impl ConnectionTrait, org_id: &str, code: &str, except: Option<&str>) -> AppResult<()> {
    let mut q = node::Entity::find().filter(node::Column::OrgId.eq(org_id)).filter(node::Column::Code.eq(code));
    if let Some(id) = except {
        q = q.filter(node::Column::Id.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(AppError::Conflict { field: Some("code"), message: format!("code {code:?} is already used in this organization") });
    }
    Ok(())
}

/// Refuse an org code (the root node's code) that another org of the pool has: v3 clients find
/// organizations by it.
async fn ensure_org_code_free(db: &impl ConnectionTrait, pool: &PoolId, code: &str, except_org: Option<&str>) -> AppResult<()> {
    let mut q = node::Entity::find()
        .filter(node::Column::UserPoolId.eq(pool.as_str()))
        .filter(node::Column::ParentId.is_null())
        .filter(node::Column::Code.eq(code));
    if let Some(id) = except_org {
        q = q.filter(node::Column::OrgId.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(AppError::Conflict { field: Some("code"), message: format!("an organization with code {code:?} already exists") });
    }
    Ok(())
}
