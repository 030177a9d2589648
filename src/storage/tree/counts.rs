//! Upkeep of the per-node counts: `member_count` (direct members) and `subtree_member_count`
//! (distinct users of the subtree). Nothing is stored per (ancestor, user): a change is counted
//! by probing the memberships of the users it touches, so its cost grows with those users and
//! the ancestors that change, never with the size of the subtrees above. Every function runs
//! inside the caller's transaction.

use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use crate::{
    error::AppResult,
    storage::sql::{all, exec, placeholders, strings},
};

/// Whether the user of `user` (a column) has a membership under the node `ancestor` (a column
/// or parameter) other than in `except` (SQL, or `''`). Driven by the user's memberships
/// (few), each tested by a closure primary-key probe: never by an ancestor's whole subtree.
/// A scalar subquery with `LIMIT 1`, not `EXISTS`: PostgreSQL flattens an `EXISTS` into a semi
/// join, and its generic plan for a prepared statement (used after five runs) then hashed the
/// ancestor's whole subtree of memberships on every run (2.9 s for a root at 1,000,000 users);
/// a subquery with a `LIMIT` stays a probe per row. (`CROSS JOIN` fixes that order on SQLite,
/// which would otherwise start from the ancestor's closure range; a nested EXISTS would too, but
/// SQLite 3.51 miscounts OFFSET over one.)
pub(super) fn member_under(user: &str, ancestor: &str, except: &str) -> String {
    format!(
        "((SELECT 1 FROM membership o CROSS JOIN node_closure c
            WHERE o.user_id = {user} AND o.node_id <> {except} AND c.ancestor_id = {ancestor} AND c.descendant_id = o.node_id LIMIT 1) IS NOT NULL)")
}

const ANCESTORS_OF_1: &str = "SELECT ancestor_id FROM node_closure WHERE descendant_id = $1";

/// `users` (distinct) have just become members of `node_id` (`delta` 1) or stopped being
/// members (`delta` -1): the node's direct count, and each ancestor's distinct count by the
/// users with no other membership under it.
async fn members_changed(db: &impl ConnectionTrait, node_id: &str, users: &[String], delta: i64) -> AppResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    let mut values = vec![Value::from(node_id.to_string())];
    values.extend(strings(users));
    let list = placeholders(2, users.len());
    let n = users.len() as i64 * delta;
    exec(db, &format!("UPDATE node SET member_count = member_count + ({n}) WHERE id = $1"), vec![Value::from(node_id.to_string())]).await?;
    let others = member_under("u.id", "node.id", "$1");
    exec(db, &format!(
        "UPDATE node SET subtree_member_count = subtree_member_count + ({delta}) * (
            SELECT COUNT(*) FROM users u WHERE u.id IN ({list}) AND NOT {others})
         WHERE id IN ({ANCESTORS_OF_1})"), values).await?;
    Ok(())
}

/// Each of `users` gained one membership in `node_id` (inserted just before).
pub async fn members_added(db: &impl ConnectionTrait, node_id: &str, users: &[String]) -> AppResult<()> {
    members_changed(db, node_id, users, 1).await
}

/// Each of `users` lost their membership in `node_id` (deleted just before).
pub async fn members_removed(db: &impl ConnectionTrait, node_id: &str, users: &[String]) -> AppResult<()> {
    members_changed(db, node_id, users, -1).await
}

/// The subtree rooted at `root` is about to stop being below the nodes `leave` and to start
/// being below `join` (a move passes the ancestors it loses and gains, a deletion only `leave`).
/// Each changed ancestor gains or loses the subtree's users who have no membership under it
/// outside the subtree. Two statements: one set-based count over the subtree's memberships and
/// the other memberships of their users (few), then one update of the changed ancestors.
pub async fn shift_subtree(db: &impl ConnectionTrait, root: &str, leave: &[String], join: &[String]) -> AppResult<()> {
    if leave.is_empty() && join.is_empty() {
        return Ok(());
    }
    let mut changed = leave.to_vec();
    changed.extend_from_slice(join);
    let mut values = vec![Value::from(root.to_string())];
    values.extend(strings(&changed));
    let list = placeholders(2, changed.len());
    #[derive(FromQueryResult)]
    struct Kept {
        ancestor_id: Option<String>,
        users: i64,
    }
    // The row with no ancestor is the number of users in the subtree; the others, per changed
    // ancestor, how many of them are also members under it outside the subtree.
    let moved = "SELECT DISTINCT m.user_id FROM node_closure s JOIN membership m ON m.node_id = s.descendant_id WHERE s.ancestor_id = $1";
    let rows: Vec<Kept> = all(db, &format!(
        "SELECT NULL AS ancestor_id, COUNT(*) AS users FROM ({moved}) t
         UNION ALL
         SELECT c.ancestor_id, COUNT(DISTINCT o.user_id) AS users
         FROM ({moved}) mu CROSS JOIN membership o CROSS JOIN node_closure c
         WHERE o.user_id = mu.user_id AND c.descendant_id = o.node_id AND c.ancestor_id IN ({list})
           AND NOT EXISTS (SELECT 1 FROM node_closure r WHERE r.ancestor_id = $1 AND r.descendant_id = o.node_id)
         GROUP BY c.ancestor_id"), values).await?;
    let users = rows.iter().find(|r| r.ancestor_id.is_none()).map_or(0, |r| r.users);
    if users == 0 {
        return Ok(());
    }
    let kept = |a: &str| rows.iter().find(|r| r.ancestor_id.as_deref() == Some(a)).map_or(0, |r| r.users);
    let mut cases = String::new();
    let mut values: Vec<Value> = Vec::new();
    for (a, sign) in leave.iter().map(|a| (a, -1)).chain(join.iter().map(|a| (a, 1))) {
        values.push(Value::from(a.clone()));
        values.push(Value::from(sign * (users - kept(a))));
        cases.push_str(&format!(" WHEN ${} THEN ${}", values.len() - 1, values.len()));
    }
    let ids = placeholders(values.len() + 1, changed.len());
    values.extend(strings(&changed));
    exec(db, &format!(
        "UPDATE node SET subtree_member_count = subtree_member_count + CASE id{cases} ELSE 0 END WHERE id IN ({ids})"), values).await?;
    Ok(())
}

/// `users` are about to be deleted (their memberships go by cascade): take them off the counts
/// of their nodes and of every ancestor of those.
pub async fn forget_users(db: &impl ConnectionTrait, users: &[String]) -> AppResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    let list = placeholders(1, users.len());
    exec(db, &format!(
        "UPDATE node SET member_count = member_count - (
            SELECT COUNT(*) FROM membership m WHERE m.node_id = node.id AND m.user_id IN ({list}))
         WHERE id IN (SELECT node_id FROM membership WHERE user_id IN ({list}))"), strings(users)).await?;
    let under = member_under("u.id", "node.id", "''");
    exec(db, &format!(
        "UPDATE node SET subtree_member_count = subtree_member_count - (
            SELECT COUNT(*) FROM users u WHERE u.id IN ({list}) AND {under})
         WHERE id IN (SELECT c.ancestor_id FROM membership m JOIN node_closure c ON c.descendant_id = m.node_id WHERE m.user_id IN ({list}))"),
        strings(users)).await?;
    Ok(())
}

/// Recompute both counts of every node of `org_id` from the memberships and the closure: after
/// bulk loads (which insert memberships directly) and as a repair. Only the nodes whose counts
/// differ are written. On PostgreSQL set-based (each count aggregated once for the whole
/// organization, then joined): a count per node let it, without statistics right after a bulk
/// load, scan every membership for each node (hours at 100,000 departments). On SQLite a count
/// per node, by index: the set-based form sorted every (ancestor, user) pair in a temporary
/// B-tree, in memory (`temp_store`), 700 MB at 1,300,000 memberships.
pub async fn rebuild(db: &impl ConnectionTrait, org_id: &str) -> AppResult<()> {
    let counted = if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        "SELECT n.id, COALESCE(d.n, 0) AS direct, COALESCE(s.n, 0) AS subtree FROM node n
         LEFT JOIN (SELECT node_id, COUNT(*) AS n FROM membership WHERE org_id = $1 GROUP BY node_id) d ON d.node_id = n.id
         LEFT JOIN (SELECT c.ancestor_id, COUNT(DISTINCT m.user_id) AS n
                    FROM membership m JOIN node_closure c ON c.descendant_id = m.node_id
                    WHERE m.org_id = $1 GROUP BY c.ancestor_id) s ON s.ancestor_id = n.id
         WHERE n.org_id = $1"
    } else {
        "SELECT n.id,
            (SELECT COUNT(*) FROM membership m WHERE m.node_id = n.id) AS direct,
            (SELECT COUNT(DISTINCT m.user_id) FROM node_closure c JOIN membership m ON m.node_id = c.descendant_id
             WHERE c.ancestor_id = n.id) AS subtree
         FROM node n WHERE n.org_id = $1"
    };
    exec(db, &format!(
        "UPDATE node SET member_count = t.direct, subtree_member_count = t.subtree
         FROM ({counted}) t
         WHERE node.id = t.id AND (node.member_count <> t.direct OR node.subtree_member_count <> t.subtree)"),
        vec![Value::from(org_id.to_string())]).await?;
    Ok(())
}
