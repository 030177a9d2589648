//! Reading the org chart as it was at an instant: the versions valid then (opened at or before
//! it, not closed by then). Departments come with depth 0 and no counts: the caller derives
//! them from the tree (`domain::history::as_of`).

use chrono::{DateTime, Utc};
use entity::{membership, node, org, user};
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, Value};

use super::versions::{Version, columns};
use crate::{
    domain::pagination::{Page, Paginated, TimestampOrder},
    error::AppResult,
    storage::sql::{all, count},
};

/// The condition "valid at `$n`" on a version table (alias `v`).
fn valid_at(alias: &str, n: usize) -> String {
    format!("{alias}.valid_from <= ${n} AND ({alias}.valid_to IS NULL OR {alias}.valid_to > ${n})")
}

async fn rows<M: FromQueryResult>(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> AppResult<Vec<M>> {
    Ok(all::<Version<M>>(db, sql, values).await?.into_iter().map(|v| v.row).collect())
}

/// Organization `org_id` of `pool` at `t`.
pub async fn org_at(db: &impl ConnectionTrait, pool: &str, org_id: &str, t: DateTime<Utc>) -> AppResult<Option<org::Model>> {
    let sql = format!("SELECT {} FROM org_version v WHERE v.id = $1 AND v.user_pool_id = $2 AND {}", columns("org"), valid_at("v", 3));
    Ok(rows(db, &sql, vec![org_id.into(), pool.into(), t.into()]).await?.into_iter().next())
}

/// Department `node_id` of `pool` at `t`.
pub async fn node_at(db: &impl ConnectionTrait, pool: &str, node_id: &str, t: DateTime<Utc>) -> AppResult<Option<node::Model>> {
    let sql = format!("SELECT {} FROM node_version v WHERE v.id = $1 AND v.user_pool_id = $2 AND {}", columns("node"), valid_at("v", 3));
    Ok(rows(db, &sql, vec![node_id.into(), pool.into(), t.into()]).await?.into_iter().next())
}

/// Every department of organization `org_id` at `t`, in no order, each with its version's span.
pub async fn org_nodes_at(db: &impl ConnectionTrait, org_id: &str, t: DateTime<Utc>) -> AppResult<Vec<Version<node::Model>>> {
    let sql = format!("SELECT {} FROM node_version v WHERE v.org_id = $1 AND {}", columns("node"), valid_at("v", 2));
    all::<Version<node::Model>>(db, &sql, vec![org_id.into(), t.into()]).await
}

/// Whether a department of organization `org_id`, or a membership in one, changed in `(from, to]`
/// (from included).
pub async fn org_changed_between(db: &impl ConnectionTrait, org_id: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<bool> {
    let within = |c: &str| format!("({c} >= $2 AND {c} <= $3)");
    let sql = format!(
        "SELECT COUNT(*) AS n FROM (SELECT 1 AS x FROM node_version WHERE org_id = $1 AND ({} OR {})
            UNION ALL SELECT 1 AS x FROM membership_version WHERE org_id = $1 AND ({} OR {}) LIMIT 1) changed",
        within("valid_from"), within("valid_to"), within("valid_from"), within("valid_to")
    );
    Ok(count(db, &sql, vec![org_id.into(), from.into(), to.into()]).await? > 0)
}

/// The leaders of department `node_id` at `t`, in order.
pub async fn leaders_at(db: &impl ConnectionTrait, node_id: &str, t: DateTime<Utc>) -> AppResult<Vec<String>> {
    #[derive(FromQueryResult)]
    struct Leader {
        user_id: String,
    }
    let sql = format!("SELECT v.user_id FROM node_leader_version v WHERE v.node_id = $1 AND {} ORDER BY v.position", valid_at("v", 2));
    Ok(all::<Leader>(db, &sql, vec![node_id.into(), t.into()]).await?.into_iter().map(|l| l.user_id).collect())
}

/// Who was a member of which department of organization `org_id` at `t`, as (user, department)
/// pairs ordered by user.
pub async fn org_memberships_at(db: &impl ConnectionTrait, org_id: &str, t: DateTime<Utc>) -> AppResult<Vec<(String, String)>> {
    #[derive(FromQueryResult)]
    struct Pair {
        user_id: String,
        node_id: String,
    }
    let sql = format!("SELECT m.user_id, m.node_id FROM membership_version m WHERE m.org_id = $1 AND {} ORDER BY m.user_id", valid_at("m", 2));
    Ok(all::<Pair>(db, &sql, vec![org_id.into(), t.into()]).await?.into_iter().map(|p| (p.user_id, p.node_id)).collect())
}

/// Above this many members, a page as of an instant walks the pool's users in the page's order
/// and keeps the members (the first ones come soon); below, it gathers the members and sorts
/// them.
const GATHER_AT_MOST: u64 = 1_000;

/// The members of department `node` at `t` (`subtree`: of the departments under it then too,
/// each user once), each as the user was then: one page in `order`, and how many there are
/// (counted unless `known`).
pub async fn members_at(
    db: &impl ConnectionTrait,
    node: &node::Model,
    t: DateTime<Utc>,
    subtree: bool,
    order: TimestampOrder,
    page: Page,
    known: Option<u64>,
) -> AppResult<Paginated<user::Model>> {
    // The departments the members are taken from: the node, or its subtree as it was.
    let departments = if subtree {
        format!(
            "WITH RECURSIVE sub(id) AS (SELECT CAST($1 AS VARCHAR) UNION SELECT v.id FROM node_version v JOIN sub ON v.parent_id = sub.id WHERE {})",
            valid_at("v", 2)
        )
    } else {
        "WITH sub(id) AS (SELECT CAST($1 AS VARCHAR))".to_string()
    };
    let values = |extra: Vec<Value>| [vec![Value::from(node.id.as_str()), Value::from(t)], extra].concat();
    // A root's subtree is its whole organization: counted without walking the tree.
    let total_count = if let Some(known) = known {
        known
    } else if subtree && node.parent_id.is_none() {
        let sql = format!("SELECT COUNT(DISTINCT m.user_id) AS n FROM membership_version m WHERE m.org_id = $3 AND {}", valid_at("m", 2));
        count(db, &sql, values(vec![node.org_id.as_str().into()])).await?
    } else {
        // Each member counted by id: a join of the memberships with the subtree let SQLite read
        // every membership of the pool.
        let members = format!("SELECT m.user_id FROM membership_version m JOIN sub ON m.node_id = sub.id WHERE {}", valid_at("m", 2));
        let sql = format!("{departments} SELECT COUNT(*) AS n FROM users_version u WHERE u.id IN ({members}) AND {}", valid_at("u", 2));
        count(db, &sql, values(Vec::new())).await?
    };
    let (column, direction) = match order {
        TimestampOrder::CreatedAtDesc => ("created_at", "DESC"),
        TimestampOrder::CreatedAtAsc => ("created_at", "ASC"),
        TimestampOrder::UpdatedAtDesc => ("updated_at", "DESC"),
        TimestampOrder::UpdatedAtAsc => ("updated_at", "ASC"),
    };
    let window = format!("ORDER BY u.{column} {direction}, u.id {direction} LIMIT {} OFFSET {}", page.limit, page.offset());
    let list = if total_count > GATHER_AT_MOST {
        // (`LIMIT 1`: SQLite otherwise turned the probe into a join, listing a user once per
        // membership.)
        // A root's subtree is its whole organization ($1): probed without walking the tree. (On
        // SQLite through the user's index, `ix_membership_version_1` of migration 13: it chose the
        // organization's, reading every membership of the org for each user walked.)
        let (departments, memberships, within, first) = if subtree && node.parent_id.is_none() {
            let by_user = if db.get_database_backend() == DatabaseBackend::Sqlite { " INDEXED BY ix_membership_version_1" } else { "" };
            ("", format!("membership_version m{by_user}"), "m.org_id = $1", node.org_id.as_str())
        } else {
            (departments.as_str(), "membership_version m".to_string(), "m.node_id IN (SELECT id FROM sub)", node.id.as_str())
        };
        let member = format!("SELECT 1 FROM {memberships} WHERE m.user_id = u.id AND {} AND {within} LIMIT 1", valid_at("m", 2));
        let sql = format!("{departments} SELECT {} FROM users_version u WHERE u.user_pool_id = $3 AND {} AND EXISTS ({member}) {window}", columns("users"), valid_at("u", 2));
        rows(db, &sql, vec![first.into(), t.into(), node.user_pool_id.as_str().into()]).await?
    } else {
        // Each member found by id (no pool filter: the walk's index would be chosen).
        let members = format!("SELECT m.user_id FROM membership_version m JOIN sub ON m.node_id = sub.id WHERE {}", valid_at("m", 2));
        let sql = format!("{departments} SELECT {} FROM users_version u WHERE u.id IN ({members}) AND {} {window}", columns("users"), valid_at("u", 2));
        rows(db, &sql, values(Vec::new())).await?
    };
    Ok(Paginated { total_count, list })
}

/// The memberships of user `user_id` of `pool` at `t` (of one organization when `org_id` is
/// given).
pub async fn user_memberships_at(db: &impl ConnectionTrait, pool: &str, user_id: &str, org_id: Option<&str>, t: DateTime<Utc>) -> AppResult<Vec<membership::Model>> {
    let mut values: Vec<Value> = vec![user_id.into(), pool.into(), t.into()];
    let in_org = match org_id {
        Some(org) => {
            values.push(org.into());
            " AND v.org_id = $4"
        }
        None => "",
    };
    let sql = format!(
        "SELECT {} FROM membership_version v WHERE v.user_id = $1 AND v.user_pool_id = $2 AND {}{in_org} ORDER BY v.is_main_department DESC, v.joined_at, v.node_id",
        columns("membership"),
        valid_at("v", 3)
    );
    rows(db, &sql, values).await
}

/// The users of `ids` the open transaction deleted, as their last version shows them.
pub async fn users_deleted_now(db: &impl ConnectionTrait, ids: &[String]) -> AppResult<Vec<user::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM users_version u WHERE u.id IN ({}) AND u.closing AND u.valid_from IS NOT NULL",
        columns("users"),
        crate::storage::sql::placeholders(1, ids.len())
    );
    all(db, &sql, crate::storage::sql::strings(ids)).await
}
