//! Scheduled reorganizations in GraphQL: `OrgChangeInput` (one change: exactly one of its
//! fields) translated to the domain's `OrgChange`, and `ScheduledChanges`.

use async_graphql::{Enum, InputObject, SimpleObject};
use entity::scheduled_change;
use serde_json::{Map, Value};

use crate::{
    domain::{
        docs::iso,
        schedule::{self, NodeName, OrgChange, Status},
    },
    error::{AppError, AppResult},
};

/// Where a batch stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ScheduledChangesStatus {
    /// Waiting for its time; it can still be cancelled.
    Pending,
    /// Applied at its time, with the usual events.
    Applied,
    /// Did not apply at its time (see `error`); nothing of it was applied.
    Failed,
    /// Cancelled before its time.
    Cancelled,
}

impl From<ScheduledChangesStatus> for Status {
    fn from(s: ScheduledChangesStatus) -> Self {
        match s {
            ScheduledChangesStatus::Pending => Status::Pending,
            ScheduledChangesStatus::Applied => Status::Applied,
            ScheduledChangesStatus::Failed => Status::Failed,
            ScheduledChangesStatus::Cancelled => Status::Cancelled,
        }
    }
}

impl From<Status> for ScheduledChangesStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Pending => ScheduledChangesStatus::Pending,
            Status::Applied => ScheduledChangesStatus::Applied,
            Status::Failed => ScheduledChangesStatus::Failed,
            Status::Cancelled => ScheduledChangesStatus::Cancelled,
        }
    }
}

/// A department a batch adds, with the id it has (or will have) already.
#[derive(SimpleObject, Debug, Clone)]
pub struct CreatedNode {
    /// Its code, if the change gave one.
    pub code: Option<String>,
    /// Its id: later batches and clients may name it by this id before it exists.
    pub id: String,
}

/// An ordered batch of changes to the org chart, applied at `at` as one transaction.
#[derive(SimpleObject, Debug, Clone)]
pub struct ScheduledChanges {
    /// The batch's id (to cancel it).
    pub id: String,
    /// When it is (or was) applied (RFC 3339, UTC, milliseconds).
    pub at: String,
    /// Where it stands.
    pub status: ScheduledChangesStatus,
    /// Why it failed (FAILED only).
    pub error: Option<String>,
    /// The departments it adds, in order.
    pub created_nodes: Vec<CreatedNode>,
    /// Who scheduled it: its changes are made in that actor's name.
    pub created_by: String,
    /// When it was scheduled.
    pub created_at: String,
}

impl From<scheduled_change::Model> for ScheduledChanges {
    fn from(m: scheduled_change::Model) -> Self {
        ScheduledChanges {
            created_nodes: schedule::created_nodes(&m).into_iter().map(|(code, id)| CreatedNode { code, id }).collect(),
            status: Status::of(&m).into(),
            at: iso(m.at),
            created_at: iso(m.created_at),
            id: m.id,
            error: m.error,
            created_by: m.created_by,
        }
    }
}

/// Add a department.
#[derive(InputObject, Debug)]
pub struct AddNodeChange {
    /// The organization.
    pub org_id: String,
    /// The parent's id (or give `parentCode`; the root when neither is given).
    pub parent_node_id: Option<String>,
    /// The parent's code in the organization, e.g. a department an earlier change of the batch adds.
    pub parent_code: Option<String>,
    /// Its name.
    pub name: String,
    /// Its code, unique in the organization.
    pub code: Option<String>,
}

/// Change a department's fields; those left out keep their values.
#[derive(InputObject, Debug)]
pub struct UpdateNodeChange {
    /// The department's id (or give `nodeCode`).
    pub id: Option<String>,
    /// The department's code.
    pub node_code: Option<String>,
    /// A new name.
    pub name: Option<String>,
    /// A new code.
    pub code: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new position among siblings (larger first).
    pub order: Option<i64>,
    /// Enable or disable it.
    pub enabled: Option<bool>,
}

/// Move a department with its subtree.
#[derive(InputObject, Debug)]
pub struct MoveNodeChange {
    /// The department's id (or give `nodeCode`).
    pub node_id: Option<String>,
    /// The department's code.
    pub node_code: Option<String>,
    /// The new parent's id (or give `parentCode`), in the same organization.
    pub parent_node_id: Option<String>,
    /// The new parent's code.
    pub parent_code: Option<String>,
}

/// Delete a department with its subtree and their memberships.
#[derive(InputObject, Debug)]
pub struct DeleteNodeChange {
    /// The department's id (or give `nodeCode`).
    pub node_id: Option<String>,
    /// The department's code.
    pub node_code: Option<String>,
}

/// Move users from one department to another.
#[derive(InputObject, Debug)]
pub struct MoveMembersChange {
    /// The users, each a member of the source.
    pub user_ids: Vec<String>,
    /// The source's id (or give `sourceCode`).
    pub source_node_id: Option<String>,
    /// The source's code.
    pub source_code: Option<String>,
    /// The target's id (or give `targetCode`).
    pub target_node_id: Option<String>,
    /// The target's code.
    pub target_code: Option<String>,
}

/// One change of a batch: set exactly one field.
#[derive(InputObject, Debug)]
pub struct OrgChangeInput {
    /// Add a department.
    pub add_node: Option<AddNodeChange>,
    /// Change a department's fields.
    pub update_node: Option<UpdateNodeChange>,
    /// Move a department.
    pub move_node: Option<MoveNodeChange>,
    /// Delete a department.
    pub delete_node: Option<DeleteNodeChange>,
    /// Move members between departments.
    pub move_members: Option<MoveMembersChange>,
}

/// A department named by id or by code (exactly one).
fn named(field: &str, id: Option<String>, code: Option<String>) -> AppResult<NodeName> {
    match (id, code) {
        (Some(id), None) => Ok(NodeName::Id(id)),
        (None, Some(code)) => Ok(NodeName::Code(code)),
        _ => Err(AppError::invalid(field, format!("{field}: give the department's id or its code, one of them"))),
    }
}

fn set(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        map.insert(key.into(), v.into());
    }
}

impl OrgChangeInput {
    /// The change, named `changes[i]` in errors.
    pub fn into_change(self, i: usize) -> AppResult<OrgChange> {
        let at = format!("changes[{i}]");
        let given = [self.add_node.is_some(), self.update_node.is_some(), self.move_node.is_some(), self.delete_node.is_some(), self.move_members.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(AppError::invalid(&at, format!("{at}: set exactly one of addNode, updateNode, moveNode, deleteNode, moveMembers")));
        }
        if let Some(c) = self.add_node {
            let parent = match (c.parent_node_id, c.parent_code) {
                (None, None) => None,
                (id, code) => Some(named(&format!("{at}.addNode"), id, code)?),
            };
            let mut fields = Map::new();
            set(&mut fields, "name", Some(c.name));
            set(&mut fields, "code", c.code);
            return Ok(OrgChange::add_node(c.org_id, parent, fields));
        }
        if let Some(c) = self.update_node {
            let mut fields = Map::new();
            set(&mut fields, "name", c.name);
            set(&mut fields, "code", c.code);
            set(&mut fields, "description", c.description);
            set(&mut fields, "order", c.order);
            set(&mut fields, "enabled", c.enabled);
            return Ok(OrgChange::UpdateNode { node: named(&format!("{at}.updateNode"), c.id, c.node_code)?, fields });
        }
        if let Some(c) = self.move_node {
            let node = named(&format!("{at}.moveNode"), c.node_id, c.node_code)?;
            return Ok(OrgChange::MoveNode { node, parent: named(&format!("{at}.moveNode parent"), c.parent_node_id, c.parent_code)? });
        }
        if let Some(c) = self.delete_node {
            return Ok(OrgChange::DeleteNode { node: named(&format!("{at}.deleteNode"), c.node_id, c.node_code)? });
        }
        let c = self.move_members.ok_or_else(|| AppError::invalid(&at, "a change is required"))?;
        let source = named(&format!("{at}.moveMembers source"), c.source_node_id, c.source_code)?;
        let target = named(&format!("{at}.moveMembers target"), c.target_node_id, c.target_code)?;
        Ok(OrgChange::MoveMembers { user_ids: c.user_ids, source, target })
    }
}
