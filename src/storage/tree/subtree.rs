//! Subtrees as event scopes: which subtrees are watched, who a transaction moved into or out of
//! them, and the ancestors that put an event inside a subtree.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use crate::{
    error::AppResult,
    storage::sql::{all, exec, placeholders, strings},
};

/// Ids per `IN (...)` list.
const CHUNK: usize = 500;

/// The subtrees of `pool` someone watches at `now` (unix seconds): an enabled webhook's
/// `subtree_of`, or a live subscriber's (`watch`).
pub async fn watched(db: &impl ConnectionTrait, pool: &str, now: i64) -> AppResult<Vec<String>> {
    #[derive(FromQueryResult)]
    struct Id {
        id: String,
    }
    let rows: Vec<Id> = all(
        db,
        "SELECT subtree_of AS id FROM webhook WHERE user_pool_id = $1 AND enabled = $3 AND subtree_of IS NOT NULL
         UNION SELECT node_id AS id FROM subtree_watch WHERE user_pool_id = $1 AND watched_until > $2",
        vec![pool.into(), now.into(), true.into()],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Whether the open transaction changed a membership or a department (its unstamped versions).
pub async fn moved_anyone(db: &impl ConnectionTrait) -> AppResult<bool> {
    let n = crate::storage::sql::count(
        db,
        "SELECT COUNT(*) AS n FROM (
            SELECT 1 AS x FROM (SELECT 1 AS x FROM membership_version WHERE valid_from IS NULL LIMIT 1) a
            UNION ALL SELECT 1 FROM (SELECT 1 AS x FROM membership_version WHERE closing LIMIT 1) b
            UNION ALL SELECT 1 FROM (SELECT 1 AS x FROM node_version WHERE valid_from IS NULL LIMIT 1) c
            UNION ALL SELECT 1 FROM (SELECT 1 AS x FROM node_version WHERE closing LIMIT 1) d
         ) t",
        Vec::new(),
    )
    .await?;
    Ok(n > 0)
}

/// On PostgreSQL, order the pool's writers that read crossings and the watches that start:
/// held to the commit.
pub async fn lock_pool(db: &impl ConnectionTrait, pool: &str) -> AppResult<()> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        exec(db, "SELECT pg_advisory_xact_lock(hashtext($1))", vec![format!("orgraph-subtree:{pool}").into()]).await?;
    }
    Ok(())
}

/// Until when a subscriber watches `node` of `pool`, if one does.
pub async fn watched_until(db: &impl ConnectionTrait, pool: &str, node: &str) -> AppResult<Option<i64>> {
    #[derive(FromQueryResult)]
    struct Until {
        watched_until: i64,
    }
    let rows: Vec<Until> =
        all(db, "SELECT watched_until FROM subtree_watch WHERE user_pool_id = $1 AND node_id = $2", vec![pool.into(), node.into()]).await?;
    Ok(rows.first().map(|r| r.watched_until))
}

/// Keep `node` of `pool` watched until `until` (unix seconds; a later time already set stays),
/// and forget the pool's watches that ended before `now`.
pub async fn watch(db: &impl ConnectionTrait, pool: &str, node: &str, until: i64, now: i64) -> AppResult<()> {
    exec(db, "DELETE FROM subtree_watch WHERE user_pool_id = $1 AND watched_until <= $2", vec![pool.into(), now.into()]).await?;
    exec(
        db,
        "INSERT INTO subtree_watch (user_pool_id, node_id, watched_until) VALUES ($1, $2, $3)
         ON CONFLICT (user_pool_id, node_id) DO UPDATE SET watched_until = excluded.watched_until
         WHERE subtree_watch.watched_until < excluded.watched_until",
        vec![pool.into(), node.into(), until.into()],
    )
    .await?;
    Ok(())
}

/// A user who came into (`entered`) or left the subtree of `root` in the open transaction, with
/// one department of theirs inside it (now, or before for one who left).
#[derive(Debug, Clone, FromQueryResult)]
pub struct Crossing {
    pub root: String,
    pub user_id: String,
    pub entered: i32,
    pub department_id: String,
    pub org_id: String,
}

/// Who the open transaction of `pool` moved into or out of the `watched` subtrees, by subtree,
/// those who left first, then by department.
pub async fn crossings(db: &impl ConnectionTrait, pool: &str, watched: &[String]) -> AppResult<Vec<Crossing>> {
    if watched.is_empty() {
        return Ok(Vec::new());
    }
    let values = (2..2 + watched.len()).map(|i| format!("(${i})")).collect::<Vec<_>>().join(", ");
    let sqlite = db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite;
    let indexed = |index: &str| if sqlite { format!(" INDEXED BY {index}") } else { String::new() };
    let sql = include_str!("sql/subtree_crossings.sql")
        .replace("{watched}", &values)
        .replace("{by_user}", &indexed("ix_membership_version_1"))
        .replace("{m_by_user}", &indexed("ix_membership_user"))
        .replace("{node_by_id}", &indexed("ix_node_version_0"));
    let mut args: Vec<Value> = vec![pool.into()];
    args.extend(strings(watched));
    all(db, &sql, args).await
}

#[derive(FromQueryResult)]
struct Ancestor {
    id: String,
    ancestor: String,
}

/// Each department of `ids` still in the tree with its ancestors (itself included).
pub async fn ancestors_of_departments(db: &impl ConnectionTrait, ids: &[String]) -> AppResult<HashMap<String, Vec<String>>> {
    grouped(db, ids, |list| format!("SELECT descendant_id AS id, ancestor_id AS ancestor FROM node_closure WHERE descendant_id IN ({list})")).await
}

/// Each user of `ids` with the departments they belong to and those departments' ancestors.
pub async fn ancestors_of_users(db: &impl ConnectionTrait, ids: &[String]) -> AppResult<HashMap<String, Vec<String>>> {
    grouped(db, ids, |list| {
        format!(
            "SELECT m.user_id AS id, c.ancestor_id AS ancestor FROM membership m
             JOIN node_closure c ON c.descendant_id = m.node_id WHERE m.user_id IN ({list})"
        )
    })
    .await
}

async fn grouped(db: &impl ConnectionTrait, ids: &[String], sql: impl Fn(&str) -> String) -> AppResult<HashMap<String, Vec<String>>> {
    let mut by_id: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<Ancestor> = all(db, &sql(&placeholders(1, chunk.len())), strings(chunk)).await?;
        for r in rows {
            by_id.entry(r.id).or_default().push(r.ancestor);
        }
    }
    Ok(by_id)
}
