//! The org chart's history: what changed in a department (its fields, its place, its leaders,
//! its memberships) or in a user's memberships, when, by whom, newest first. Read from the
//! versions the database keeps of every row (`storage::history`), so no change is missed
//! whichever surface or import made it.

mod as_of;

pub use as_of::{AsOf, MemberCounts, SETTLED_AFTER, TreeAt, settled};

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use entity::{membership, node, node_leader};
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value};

use super::{
    PoolId,
    events::catalog::EventName,
    org_tree::fields::{self, Names},
    pagination::{Slice, Window},
    write::Writer,
};
use crate::{
    error::{AppError, AppResult},
    storage::{
        history::versions::{self, Instant, MembershipsOf, Version},
        keyset::Position,
        sql,
    },
};

/// A change in a department's memberships that no event names (a leader flag, the main
/// department), and the first version of a row that existed before history was kept.
pub const MEMBER_UPDATED: &str = "organization:member-updated";
pub const HISTORY_STARTED: &str = "history:started";

/// One change: when it committed, who made it, what it was, and each field's value before and
/// after (JSON; null when absent).
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
    pub event_name: String,
    pub changes: Vec<FieldChange>,
    /// Where the entry stands in its list (its cursor).
    pub position: Position,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

#[derive(Clone)]
pub struct HistoryService {
    db: DatabaseConnection,
    writer: Writer,
    previews: crate::domain::schedule::Previews,
    /// `--history-retention-days`: how far back history is kept (None: forever).
    retention_days: Option<u32>,
}

impl HistoryService {
    pub fn new(writer: Writer, previews: crate::domain::schedule::Previews, retention_days: Option<u32>) -> Self {
        HistoryService { db: writer.db().clone(), writer, previews, retention_days }
    }

    /// The changes of department `node_id` of `pool` (deleted or not), newest first.
    pub async fn of_node(&self, pool: &PoolId, node_id: &str, window: Window<Position>) -> AppResult<Slice<Entry>> {
        self.require("node_version", "id", pool, node_id, "node").await?;
        let db = &self.db;
        let instants = window.read(false, async |after, _, limit| versions::node_instants(db, node_id, after.as_ref(), limit).await).await?;
        let times = distinct_times(&instants.items);
        let nodes = versions::node_versions_at(db, node_id, &times).await?;
        let members = versions::membership_versions_at(db, MembershipsOf::Node(node_id), &times).await?;
        let leaders = match (times.iter().min(), times.iter().max()) {
            (Some(&from), Some(&to)) => versions::leader_versions_between(db, node_id, from, to).await?,
            _ => Vec::new(),
        };
        Ok(map_slice(instants, |i| match i.key.strip_prefix("member:") {
            Some(user) => membership_entry(i, members.iter().filter(|m| m.row.user_id == user), MembershipSide::Node),
            None => node_entry(i, &nodes, &leaders),
        }))
    }

    /// The changes of user `user_id`'s memberships in `pool`, newest first: each joining,
    /// leaving, leader flag and main department.
    pub async fn of_user(&self, pool: &PoolId, user_id: &str, window: Window<Position>) -> AppResult<Slice<Entry>> {
        self.require("users", "id", pool, user_id, "user").await?;
        let db = &self.db;
        let instants = window.read(false, async |after, _, limit| versions::user_instants(db, user_id, after.as_ref(), limit).await).await?;
        let times = distinct_times(&instants.items);
        let members = versions::membership_versions_at(db, MembershipsOf::User(user_id), &times).await?;
        Ok(map_slice(instants, |i| membership_entry(i, members.iter().filter(|m| m.row.node_id == i.key), MembershipSide::User)))
    }

    /// Refuse a subject of another pool (or one that `table` has no row of).
    async fn require(&self, table: &str, column: &str, pool: &PoolId, id: &str, what: &'static str) -> AppResult<()> {
        let found = sql::count(
            &self.db,
            &format!("SELECT COUNT(*) AS n FROM (SELECT 1 FROM {table} WHERE {column} = $1 AND user_pool_id = $2 LIMIT 1) one"),
            vec![id.into(), pool.as_str().into()],
        )
        .await?;
        if found == 0 {
            return Err(AppError::not_found(what, id));
        }
        Ok(())
    }

    /// Delete the history that ended more than `days` ago; how many versions went.
    pub async fn prune(&self, days: u32) -> AppResult<u64> {
        let horizon = Utc::now() - Duration::days(i64::from(days));
        let mut gone = 0;
        loop {
            // In batches, each its own write: the writer's turn is held briefly.
            let batch = self.writer.write_plain(super::Actor::SYSTEM, async |txn| versions::prune(txn, horizon, 10_000).await).await?;
            gone += batch;
            if batch == 0 {
                return Ok(gone);
            }
        }
    }
}

fn distinct_times(instants: &[Instant]) -> Vec<DateTime<Utc>> {
    let mut times: Vec<DateTime<Utc>> = instants.iter().map(|i| i.at).collect();
    times.sort();
    times.dedup();
    times
}

fn map_slice(slice: Slice<Instant>, mut entry: impl FnMut(&Instant) -> Entry) -> Slice<Entry> {
    Slice { items: slice.items.iter().map(&mut entry).collect(), has_next: slice.has_next, has_previous: slice.has_previous }
}

/// A department version as history compares it: its parent and its listed fields.
fn node_document(n: &node::Model) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("parentId".into(), n.parent_id.clone().into());
    doc.extend(fields::to_json(n, Names::Standard));
    doc
}

/// The fields whose values differ between `before` and `after` (absent: null), in a stable order.
fn differences(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<FieldChange> {
    let keys: BTreeMap<&String, ()> = before.keys().chain(after.keys()).map(|k| (k, ())).collect();
    keys.into_keys()
        .filter_map(|k| {
            let (b, a) = (before.get(k).cloned().unwrap_or(Value::Null), after.get(k).cloned().unwrap_or(Value::Null));
            (b != a).then(|| FieldChange { field: k.clone(), before: b, after: a })
        })
        .collect()
}

/// The leaders in effect just before `at` (`before`) or from `at` on, in order.
fn leaders_at(leaders: &[Version<node_leader::Model>], at: DateTime<Utc>, before: bool) -> Vec<String> {
    let mut current: Vec<&node_leader::Model> = leaders
        .iter()
        .filter(|v| if before { v.valid_from < at && v.valid_to.is_none_or(|end| end >= at) } else { v.valid_from <= at && v.valid_to.is_none_or(|end| end > at) })
        .map(|v| &v.row)
        .collect();
    current.sort_by_key(|l| l.position);
    current.into_iter().map(|l| l.user_id.clone()).collect()
}

fn node_entry(i: &Instant, nodes: &[Version<node::Model>], leaders: &[Version<node_leader::Model>]) -> Entry {
    let opened = nodes.iter().find(|v| v.valid_from == i.at);
    let closed = nodes.iter().find(|v| v.valid_to == Some(i.at));
    let before = closed.map(|v| node_document(&v.row)).unwrap_or_default();
    let after = opened.map(|v| node_document(&v.row)).unwrap_or_default();
    let mut changes = if opened.is_some() { differences(&before, &after) } else { Vec::new() };
    let (leaders_before, leaders_after) = (leaders_at(leaders, i.at, true), leaders_at(leaders, i.at, false));
    if leaders_before != leaders_after && opened.is_some() {
        changes.push(FieldChange { field: "leaderUserIds".into(), before: leaders_before.into(), after: leaders_after.into() });
    }
    let leader_actor = || {
        leaders.iter().find_map(|v| if v.valid_from == i.at { v.opened_by.clone() } else if v.valid_to == Some(i.at) { v.closed_by.clone() } else { None })
    };
    let actor = opened.and_then(|v| v.opened_by.clone()).or_else(|| closed.and_then(|v| v.closed_by.clone())).or_else(leader_actor);
    let event_name = match (closed, opened) {
        (_, Some(v)) if v.opened_by.as_deref() == Some("migration") => HISTORY_STARTED,
        (None, Some(v)) if v.row.parent_id.is_none() => EventName::OrganizationCreated.as_str(),
        (None, Some(_)) => EventName::OrganizationNodeAdded.as_str(),
        (Some(_), None) => EventName::OrganizationNodeDeleted.as_str(),
        (Some(b), Some(a)) if b.row.parent_id != a.row.parent_id => EventName::OrganizationNodeMoved.as_str(),
        _ => EventName::OrganizationNodeUpdated.as_str(),
    };
    Entry { at: i.at, actor, event_name: event_name.to_string(), changes, position: i.into() }
}

/// Whose history a membership entry is in: the department's (it names the user) or the user's
/// (it names the department).
#[derive(Clone, Copy)]
enum MembershipSide {
    Node,
    User,
}

fn membership_document(m: &membership::Model, side: MembershipSide) -> Map<String, Value> {
    let mut doc = Map::new();
    match side {
        MembershipSide::Node => doc.insert("userId".into(), m.user_id.clone().into()),
        MembershipSide::User => doc.insert("departmentId".into(), m.node_id.clone().into()),
    };
    doc.insert("isLeader".into(), m.is_leader.into());
    doc.insert("isMainDepartment".into(), m.is_main_department.into());
    doc
}

fn membership_entry<'a>(i: &Instant, versions: impl Iterator<Item = &'a Version<membership::Model>> + Clone, side: MembershipSide) -> Entry {
    let opened = versions.clone().find(|v| v.valid_from == i.at);
    let closed = versions.clone().find(|v| v.valid_to == Some(i.at));
    let before = closed.map(|v| membership_document(&v.row, side)).unwrap_or_default();
    let after = opened.map(|v| membership_document(&v.row, side)).unwrap_or_default();
    let event_name = match (closed, opened) {
        (_, Some(v)) if v.opened_by.as_deref() == Some("migration") => HISTORY_STARTED,
        (None, Some(_)) => EventName::OrganizationMemberAdded.as_str(),
        (Some(_), None) => EventName::OrganizationMemberRemoved.as_str(),
        _ => MEMBER_UPDATED,
    };
    let actor = opened.and_then(|v| v.opened_by.clone()).or_else(|| closed.and_then(|v| v.closed_by.clone()));
    Entry { at: i.at, actor, event_name: event_name.to_string(), changes: differences(&before, &after), position: i.into() }
}
