//! Organizations as trees with their members, for Authing's v2 export format (seed 001): each
//! node with its leaders (in order), its children and its direct members, each member with its
//! membership and main department. (Imports of whole companies, v2 trees included, are
//! `domain::company`'s.)

use std::collections::{HashMap, HashSet};

use entity::{membership, node, org, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{OrgService, find_org, org_nodes};

use crate::{
    domain::PoolId,
    error::{AppError, AppResult},
};

/// A node with its children and direct members, for export.
#[derive(Debug, Clone)]
pub struct ExportNode {
    pub node: node::Model,
    /// Only on the root: the organization.
    pub org: Option<org::Model>,
    pub leader_user_ids: Vec<String>,
    pub children: Vec<ExportNode>,
    pub members: Vec<ExportMember>,
}

/// A member in an export: the user, the membership, and the user's main department (of any org
/// of the pool).
#[derive(Debug, Clone)]
pub struct ExportMember {
    pub user: user::Model,
    pub membership: membership::Model,
    pub main_department: Option<node::Model>,
}

impl OrgService {
    /// One organization as a tree with the members of each node.
    pub async fn export_org(&self, pool: &PoolId, org_id: &str) -> AppResult<ExportNode> {
        let org = find_org(&self.db, pool, org_id).await?;
        let nodes = org_nodes(&self.db, org_id).await?;
        let members = membership::Entity::find()
            .filter(membership::Column::OrgId.eq(org_id))
            .order_by_asc(membership::Column::JoinedAt)
            .order_by_asc(membership::Column::UserId)
            .all(&self.db)
            .await?;
        let user_ids: Vec<String> = members.iter().map(|m| m.user_id.clone()).collect::<HashSet<_>>().into_iter().collect();
        let mut users: HashMap<String, user::Model> = HashMap::new();
        for chunk in user_ids.chunks(1000) {
            for u in user::Entity::find().filter(user::Column::Id.is_in(chunk.to_vec())).all(&self.db).await? {
                users.insert(u.id.clone(), u);
            }
        }
        let mut main_of: HashMap<String, node::Model> = HashMap::new();
        for chunk in user_ids.chunks(1000) {
            for (user, deps) in self.departments_of(pool, chunk, None).await? {
                if let Some(main) = deps.into_iter().find(|d| d.is_main) {
                    main_of.insert(user, main.node);
                }
            }
        }
        let node_ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
        let mut leaders: HashMap<String, Vec<String>> = HashMap::new();
        for chunk in node_ids.chunks(1000) {
            leaders.extend(super::nodes::leaders_of(&self.db, chunk).await?);
        }
        let mut members_of: HashMap<String, Vec<ExportMember>> = HashMap::new();
        for m in members {
            if let Some(u) = users.get(&m.user_id) {
                let member = ExportMember { user: u.clone(), main_department: main_of.get(&u.id).cloned(), membership: m.clone() };
                members_of.entry(m.node_id).or_default().push(member);
            }
        }
        // Build bottom-up (nodes come by depth), so no recursion however deep the tree.
        let mut built: HashMap<String, Vec<ExportNode>> = HashMap::new();
        for node in nodes.into_iter().rev() {
            let mut children = built.remove(&node.id).unwrap_or_default();
            children.reverse();
            let members = members_of.remove(&node.id).unwrap_or_default();
            let leader_user_ids = leaders.remove(&node.id).unwrap_or_default();
            let org = node.parent_id.is_none().then(|| org.clone());
            built.entry(node.parent_id.clone().unwrap_or_default()).or_default().push(ExportNode { node, org, leader_user_ids, children, members });
        }
        built
            .remove("")
            .and_then(|mut roots| roots.pop())
            .filter(|root| root.node.id == org.root_node_id)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("organization {org_id} has no root node")))
    }

    /// Every organization of the pool, as trees.
    pub async fn export_all(&self, pool: &PoolId) -> AppResult<Vec<ExportNode>> {
        let mut out = Vec::new();
        for id in self.org_ids(pool).await? {
            out.push(self.export_org(pool, &id).await?);
        }
        Ok(out)
    }
}
