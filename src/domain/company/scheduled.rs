//! The pool's pending scheduled reorganizations in a company file: each batch with its time,
//! its changes (as stored: departments by id or code, the ids of those it adds), its author and
//! when it was scheduled. Applied, failed and cancelled batches are history and stay behind.
//!
//! An imported batch is pending again; it is applied at its time (at once when that has passed)
//! or fails then with its reason and event, as any batch. Ids kept, a batch the pool already has
//! is skipped, and an id of another pool's batch is refused. With `--new-ids`, the batch gets a
//! new id, the departments it adds new ids, and the departments and users it names by id are
//! named by the ids the import gave them.

use std::collections::HashMap;

use chrono::Utc;
use entity::scheduled_change;
use indexmap::IndexSet;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::{
    Row, kept,
    plan::{NodePlan, Refusal, Refusals, object},
};
use crate::{
    domain::{
        PoolId,
        docs::iso,
        schedule::{self, MAX_CHANGES, MAX_PENDING, MAX_PLANNED_CHANGES, NodeName, OrgChange},
    },
    error::AppResult,
    ids,
};

pub const SCHEDULED_COLUMNS: &[&str] = &["id", "at", "changes", "createdBy", "createdAt"];

#[derive(Debug, Clone)]
pub struct ScheduledPlan {
    pub at: String,
    pub key: String,
    pub due: chrono::DateTime<Utc>,
    pub changes: Vec<OrgChange>,
    pub created_by: String,
    pub created_at: chrono::DateTime<Utc>,
}

pub(super) fn plan(rows: Vec<Row>, bad: &mut Refusals) -> Vec<ScheduledPlan> {
    if rows.len() as u64 > MAX_PENDING {
        bad.add(&rows[MAX_PENDING as usize].at, format!("a pool may have at most {MAX_PENDING} pending scheduled batches"));
    }
    let mut out: Vec<ScheduledPlan> = Vec::with_capacity(rows.len());
    let mut changes_in_all = 0;
    let mut keys: HashMap<String, String> = HashMap::new();
    for row in rows {
        let parsed = (|| -> Result<ScheduledPlan, String> {
            if let Some(why) = row.unknown(SCHEDULED_COLUMNS) {
                return Err(why);
            }
            let key = row.key("id")?;
            let due = row.time("at")?.ok_or("at is required")?;
            let changes: Vec<OrgChange> = match row.json("changes")? {
                Some(v) => serde_json::from_value(v).map_err(|e| format!("changes are not scheduled changes as orgraph exports them: {e}"))?,
                None => Vec::new(),
            };
            if changes.is_empty() || changes.len() > MAX_CHANGES {
                return Err(format!("a batch has 1 to {MAX_CHANGES} changes, got {}", changes.len()));
            }
            let created_by = row.text("createdBy").unwrap_or_else(|| crate::domain::Actor::IMPORT.to_string());
            // (Without createdAt, its time: the same on every run of the import, which finds it there.)
            Ok(ScheduledPlan { at: row.at.clone(), key, due, changes, created_by, created_at: row.time("createdAt")?.unwrap_or(due) })
        })();
        match parsed {
            Err(why) => bad.add(&row.at, why),
            Ok(p) => match keys.insert(p.key.clone(), p.at.clone()) {
                Some(first) => bad.add(&p.at, format!("id {:?} is also the id of the scheduled batch at {first}", p.key)),
                None => {
                    changes_in_all += p.changes.len();
                    if changes_in_all > MAX_PLANNED_CHANGES {
                        bad.add(&p.at, format!("a pool may have at most {MAX_PLANNED_CHANGES} pending changes in all"));
                    }
                    out.push(p)
                }
            },
        }
    }
    out
}

/// The rows that keep an id that is not an id, or another pool's batch's (ids kept only).
pub(super) async fn refused(db: &impl ConnectionTrait, pool: &PoolId, batches: &[ScheduledPlan], new_ids: bool) -> AppResult<Vec<Refusal>> {
    if new_ids || batches.is_empty() {
        return Ok(Vec::new());
    }
    let owners = kept::owners(db, "scheduled_change", &batches.iter().map(|b| b.key.as_str()).collect::<Vec<_>>()).await?;
    let mut out = Vec::new();
    for b in batches {
        let why = kept::not_an_id(&b.key).or_else(|| match owners.get(&b.key) {
            Some(owner) if owner != pool.as_str() => Some(format!("id {:?} is already the id of a scheduled batch of another pool", b.key)),
            _ => None,
        });
        out.extend(why.map(|message| Refusal { at: b.at.clone(), message }));
    }
    Ok(out)
}

/// The ids the import gave the file's organizations, departments and users (`--new-ids`), and
/// new ids for the departments the file's batches add: what a batch's ids are translated by.
pub(super) struct NewIds {
    orgs: HashMap<String, String>,
    nodes: HashMap<String, String>,
    users: HashMap<String, String>,
}

impl NewIds {
    /// `placed`: each plan node's (id, organization id) in the pool, in plan order.
    pub(super) fn new(nodes: &[NodePlan], placed: &[(&str, &str)], users: &IndexSet<Box<str>>, user_ids: &[String], batches: &[ScheduledPlan]) -> Self {
        let mut map = NewIds { orgs: HashMap::new(), nodes: HashMap::new(), users: HashMap::new() };
        for (n, (id, org)) in nodes.iter().zip(placed) {
            map.nodes.insert(n.key.clone(), id.to_string());
            if let Some(key) = n.org.as_ref().and_then(|o| o.key.clone()) {
                map.orgs.insert(key, org.to_string());
            }
        }
        map.users.extend(users.iter().zip(user_ids).map(|(u, id)| (u.to_string(), id.clone())));
        for change in batches.iter().flat_map(|b| &b.changes) {
            if let OrgChange::AddNode { id, .. } = change {
                map.nodes.insert(id.clone(), ids::new_id());
            }
        }
        map
    }

    /// The id the import gave the file's department `id` (itself when the file has none).
    pub(super) fn node(&self, id: &str) -> String {
        Self::of(&self.nodes, id)
    }

    fn of(map: &HashMap<String, String>, id: &str) -> String {
        map.get(id).cloned().unwrap_or_else(|| id.to_string())
    }

    fn name(&self, name: &NodeName) -> NodeName {
        match name {
            NodeName::Id(id) => NodeName::Id(Self::of(&self.nodes, id)),
            code => code.clone(),
        }
    }

    fn change(&self, change: &OrgChange) -> OrgChange {
        match change {
            OrgChange::AddNode { id, org_id, parent, fields } => OrgChange::AddNode {
                id: Self::of(&self.nodes, id),
                org_id: Self::of(&self.orgs, org_id),
                parent: parent.as_ref().map(|p| self.name(p)),
                fields: fields.clone(),
            },
            OrgChange::UpdateNode { node, fields } => OrgChange::UpdateNode { node: self.name(node), fields: fields.clone() },
            OrgChange::MoveNode { node, parent } => OrgChange::MoveNode { node: self.name(node), parent: self.name(parent) },
            OrgChange::DeleteNode { node } => OrgChange::DeleteNode { node: self.name(node) },
            OrgChange::MoveMembers { user_ids, source, target } => OrgChange::MoveMembers {
                user_ids: user_ids.iter().map(|u| Self::of(&self.users, u)).collect(),
                source: self.name(source),
                target: self.name(target),
            },
        }
    }
}

/// Store the batches of `chunk` the pool does not have, pending: whether each was created.
/// `new_ids` translates them (`--new-ids`).
pub(super) async fn write(txn: &DatabaseTransaction, pool: &PoolId, chunk: &[ScheduledPlan], new_ids: Option<&NewIds>) -> AppResult<Vec<bool>> {
    // The batches already there (a run going on after `--limit`): by id, or with new ids by
    // their time and when they were scheduled.
    let mut fresh = Vec::with_capacity(chunk.len());
    for b in chunk {
        let same = scheduled_change::Entity::find().filter(scheduled_change::Column::UserPoolId.eq(pool.as_str()));
        let same = match new_ids {
            Some(_) => same.filter(scheduled_change::Column::At.eq(b.due)).filter(scheduled_change::Column::CreatedAt.eq(b.created_at)),
            None => same.filter(scheduled_change::Column::Id.eq(b.key.as_str())),
        };
        fresh.push(same.one(txn).await?.is_none());
    }
    // With the pool's own pending batches, within the limits that a check and a future `asOf`
    // rely on.
    let new: Vec<&ScheduledPlan> = chunk.iter().zip(&fresh).filter(|(_, f)| **f).map(|(b, _)| b).collect();
    schedule::within_limits(txn, pool, new.len(), new.iter().map(|b| b.changes.len()).sum()).await?;
    for b in new {
        let (id, changes) = match new_ids {
            Some(map) => (ids::new_id(), b.changes.iter().map(|c| map.change(c)).collect()),
            None => (b.key.clone(), b.changes.clone()),
        };
        schedule::store_in(txn, pool, id, b.due, changes, &b.created_by, b.created_at).await?;
    }
    Ok(fresh)
}

/// The pool's pending batches, in the order they apply.
pub(super) async fn export(db: &impl ConnectionTrait, pool: &PoolId) -> AppResult<Vec<Row>> {
    Ok(schedule::pending(db, pool)
        .await?
        .into_iter()
        .map(|b| Row {
            at: String::new(),
            fields: object([
                ("id", Value::from(b.id)),
                ("at", Value::from(iso(b.at))),
                ("changes", b.changes),
                ("createdBy", Value::from(b.created_by)),
                ("createdAt", json!(iso(b.created_at))),
            ]),
        })
        .collect())
}
