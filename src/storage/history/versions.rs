//! Reading versions: the instants at which a department or a user's memberships changed (a
//! keyset page, newest first), and the versions opened or closed at those instants.

use chrono::{DateTime, Utc};
use entity::{membership, node, node_leader};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, QueryResult, Value};

use super::triggers::versioned;
use crate::{
    error::AppResult,
    storage::{keyset::Position, sql::{all, placeholders}},
};

/// A row as it was from `valid_from` until `valid_to` (null: still), made and ended by whom.
#[derive(Debug, Clone)]
pub struct Version<M> {
    pub row: M,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
    pub opened_by: Option<String>,
    pub closed_by: Option<String>,
}

impl<M: FromQueryResult> FromQueryResult for Version<M> {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Version {
            row: M::from_query_result(res, pre)?,
            valid_from: res.try_get(pre, "valid_from")?,
            valid_to: res.try_get(pre, "valid_to")?,
            opened_by: res.try_get(pre, "opened_by")?,
            closed_by: res.try_get(pre, "closed_by")?,
        })
    }
}

/// The columns of `table`'s versions read as rows of the table: the kept ones, and a stand-in
/// for each other one (a node's depth and counts as zeros, a user's password hash as null).
pub(super) fn columns(table: &str) -> String {
    let Some(v) = versioned().into_iter().find(|v| v.table == table) else { return String::new() };
    let mut list: Vec<String> = v.columns.iter().map(|c| format!("\"{c}\"")).collect();
    list.extend(v.unkept.iter().map(|(column, stand_in)| format!("{stand_in} AS {column}")));
    list.push("valid_from, valid_to, opened_by, closed_by".into());
    list.join(", ")
}

/// A change instant: when, and what changed then (`node`, or `member:<user id>` for a
/// department; the department's id for a user).
#[derive(Debug, Clone, FromQueryResult)]
pub struct Instant {
    pub at: DateTime<Utc>,
    pub key: String,
}

impl From<&Instant> for Position {
    fn from(i: &Instant) -> Self {
        Position { at: i.at, id: i.key.clone() }
    }
}

/// The instants of `sources` (a union of `at, key` selects over `$1`), newest first, after
/// `after`, at most `limit`.
async fn instants(db: &impl ConnectionTrait, sources: &str, subject: &str, after: Option<&Position>, limit: u64) -> AppResult<Vec<Instant>> {
    let mut values: Vec<Value> = vec![subject.into()];
    let beyond = match after {
        Some(p) => {
            values.extend([p.at.into(), p.at.into(), p.id.clone().into()]);
            "WHERE at <= $2 AND (at < $3 OR key < $4)"
        }
        None => "",
    };
    let sql = format!("SELECT at, key FROM ({sources}) changes {beyond} ORDER BY at DESC, key DESC LIMIT {limit}");
    all(db, &sql, values).await
}

/// The instants a department changed at: its fields or place, its leaders, its memberships.
pub async fn node_instants(db: &impl ConnectionTrait, node_id: &str, after: Option<&Position>, limit: u64) -> AppResult<Vec<Instant>> {
    let sources = "SELECT valid_from AS at, 'node' AS key FROM node_version WHERE id = $1
        UNION SELECT valid_to, 'node' FROM node_version WHERE id = $1 AND valid_to IS NOT NULL
        UNION SELECT valid_from, 'node' FROM node_leader_version WHERE node_id = $1
        UNION SELECT valid_to, 'node' FROM node_leader_version WHERE node_id = $1 AND valid_to IS NOT NULL
        UNION SELECT valid_from, 'member:' || user_id FROM membership_version WHERE node_id = $1
        UNION SELECT valid_to, 'member:' || user_id FROM membership_version WHERE node_id = $1 AND valid_to IS NOT NULL";
    instants(db, sources, node_id, after, limit).await
}

/// The instants a user's memberships changed at (the key: the department).
pub async fn user_instants(db: &impl ConnectionTrait, user_id: &str, after: Option<&Position>, limit: u64) -> AppResult<Vec<Instant>> {
    let sources = "SELECT valid_from AS at, node_id AS key FROM membership_version WHERE user_id = $1
        UNION SELECT valid_to, node_id FROM membership_version WHERE user_id = $1 AND valid_to IS NOT NULL";
    instants(db, sources, user_id, after, limit).await
}

/// `column IN (...)` over `times`, its placeholders from `$first`.
fn at_any(column: &str, first: usize, n: usize) -> String {
    format!("{column} IN ({})", placeholders(first, n))
}

/// The versions of department `node_id` opened or closed at one of `times`.
pub async fn node_versions_at(db: &impl ConnectionTrait, node_id: &str, times: &[DateTime<Utc>]) -> AppResult<Vec<Version<node::Model>>> {
    if times.is_empty() {
        return Ok(Vec::new());
    }
    let n = times.len();
    let sql = format!(
        "SELECT {} FROM node_version WHERE id = $1 AND ({} OR {})",
        columns("node"),
        at_any("valid_from", 2, n),
        at_any("valid_to", 2 + n, n)
    );
    let mut values: Vec<Value> = vec![node_id.into()];
    values.extend(times.iter().chain(times).map(|t| Value::from(*t)));
    all(db, &sql, values).await
}

/// The leader versions of department `node_id` in effect at some time within [`from`, `to`].
pub async fn leader_versions_between(db: &impl ConnectionTrait, node_id: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<Vec<Version<node_leader::Model>>> {
    let sql = format!(
        "SELECT {} FROM node_leader_version WHERE node_id = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to >= $3)",
        columns("node_leader")
    );
    all(db, &sql, vec![node_id.into(), to.into(), from.into()]).await
}

/// The membership versions opened or closed at one of `times`, of department `node_id` (all
/// its members) or of user `user_id` (all their departments).
pub async fn membership_versions_at(db: &impl ConnectionTrait, of: MembershipsOf<'_>, times: &[DateTime<Utc>]) -> AppResult<Vec<Version<membership::Model>>> {
    if times.is_empty() {
        return Ok(Vec::new());
    }
    let n = times.len();
    let (column, id) = match of {
        MembershipsOf::Node(id) => ("node_id", id),
        MembershipsOf::User(id) => ("user_id", id),
    };
    let sql = format!(
        "SELECT {} FROM membership_version WHERE {column} = $1 AND ({} OR {})",
        columns("membership"),
        at_any("valid_from", 2, n),
        at_any("valid_to", 2 + n, n)
    );
    let mut values: Vec<Value> = vec![id.into()];
    values.extend(times.iter().chain(times).map(|t| Value::from(*t)));
    all(db, &sql, values).await
}

#[derive(Debug, Clone, Copy)]
pub enum MembershipsOf<'a> {
    Node(&'a str),
    User(&'a str),
}

/// Delete the versions that ended before `horizon` (history older than the retention), at most
/// `batch` per table; how many went.
pub async fn prune(db: &impl ConnectionTrait, horizon: DateTime<Utc>, batch: u64) -> AppResult<u64> {
    let mut gone = 0;
    for v in versioned() {
        let t = v.table;
        let sql = format!(
            "DELETE FROM {t}_version WHERE version_id IN (SELECT version_id FROM {t}_version WHERE valid_to < $1 ORDER BY valid_to LIMIT {batch})"
        );
        gone += crate::storage::sql::exec(db, &sql, vec![horizon.into()]).await?;
    }
    Ok(gone)
}
