//! Upkeep of `subtree_member` (for each node, the distinct users of its subtree with a count of
//! their memberships there) and of the per-node counts. Every function runs inside the caller's
//! transaction and touches only the rows of the users and ancestors concerned.

use sea_orm::{ConnectionTrait, Value};

use crate::{
    error::AppResult,
    storage::sql::{exec, placeholders, strings},
};

const ANCESTORS_OF_1: &str = "SELECT ancestor_id FROM node_closure WHERE descendant_id = $1";

/// `$1` = `first`, `$2...` = `rest`: the values and the `IN (...)` placeholders of `rest`.
fn one_then_list(first: &str, rest: &[String]) -> (Vec<Value>, String) {
    let mut values = vec![Value::from(first.to_string())];
    values.extend(strings(rest));
    (values, placeholders(2, rest.len()))
}

/// Each of `users` gained one membership in `node_id` (not had it before; its row is written,
/// with its `joined_at`). An ancestor keeps the earliest time a user joined below it.
pub async fn add_refs(db: &impl ConnectionTrait, node_id: &str, users: &[String]) -> AppResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    let (values, list) = one_then_list(node_id, users);
    exec(db, &format!(
        "UPDATE node SET member_count = member_count + {n} WHERE id = $1", n = users.len()), vec![Value::from(node_id.to_string())]).await?;
    exec(db, &format!(
        "UPDATE node SET subtree_member_count = subtree_member_count + (
            SELECT COUNT(*) FROM users u WHERE u.id IN ({list}) AND NOT EXISTS (
                SELECT 1 FROM subtree_member s WHERE s.ancestor_id = node.id AND s.user_id = u.id))
         WHERE id IN ({ANCESTORS_OF_1})"), values.clone()).await?;
    exec(db, &format!(
        "INSERT INTO subtree_member (ancestor_id, user_id, refs, joined_at, user_created_at, user_updated_at)
         SELECT c.ancestor_id, u.id, 1, m.joined_at, u.created_at, u.updated_at
         FROM membership m JOIN users u ON u.id = m.user_id JOIN node_closure c ON c.descendant_id = m.node_id
         WHERE m.node_id = $1 AND m.user_id IN ({list})
         ON CONFLICT (ancestor_id, user_id) DO UPDATE SET refs = subtree_member.refs + 1,
             joined_at = CASE WHEN excluded.joined_at < subtree_member.joined_at THEN excluded.joined_at ELSE subtree_member.joined_at END"), values).await?;
    Ok(())
}

/// Each of `users` lost their membership in `node_id`.
pub async fn remove_refs(db: &impl ConnectionTrait, node_id: &str, users: &[String]) -> AppResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    let (values, list) = one_then_list(node_id, users);
    exec(db, &format!(
        "UPDATE node SET member_count = member_count - {n} WHERE id = $1", n = users.len()), vec![Value::from(node_id.to_string())]).await?;
    exec(db, &format!(
        "UPDATE subtree_member SET refs = refs - 1
         WHERE user_id IN ({list}) AND ancestor_id IN ({ANCESTORS_OF_1})"), values.clone()).await?;
    drop_zero_refs(db, &format!("IN ({ANCESTORS_OF_1})"), &format!("IN ({list})"), values).await
}

/// Delete the rows whose refs fell to zero, counting them off their nodes. `ancestors` and
/// `users` are SQL conditions (`IN (...)`) over the same `values`.
async fn drop_zero_refs(db: &impl ConnectionTrait, ancestors: &str, users: &str, values: Vec<Value>) -> AppResult<()> {
    exec(db, &format!(
        "UPDATE node SET subtree_member_count = subtree_member_count - (
            SELECT COUNT(*) FROM subtree_member z
            WHERE z.ancestor_id = node.id AND z.refs <= 0 AND z.user_id {users})
         WHERE id {ancestors}"), values.clone()).await?;
    exec(db, &format!(
        "DELETE FROM subtree_member WHERE ancestor_id {ancestors} AND user_id {users} AND refs <= 0"), values).await?;
    Ok(())
}

/// The subtree rooted at `root` stops being below `leave` and starts being below `join` (node
/// ids; a move passes the ancestors it loses and gains, a deletion only `leave`).
///
/// Every statement is driven by the moved users (the fan-out rows of `root`, one index range)
/// times the changed ancestors, each pair found by a primary-key probe `(ancestor_id, user_id)`:
/// never by scanning an ancestor's whole fan-out, which grows with the org. The probes are
/// scalar subqueries so that neither planner can turn them into a scan and hash join.
pub async fn shift_subtree(db: &impl ConnectionTrait, root: &str, leave: &[String], join: &[String]) -> AppResult<()> {
    if leave.is_empty() && join.is_empty() {
        return Ok(());
    }
    let mut changed = leave.to_vec();
    changed.extend_from_slice(join);
    let (mut values, all) = one_then_list(root, &changed);
    // Counts first, while the rows still say who was there: a joined ancestor gains the moved
    // users it had no row for, a left one loses those whose every membership below it moves.
    let existing = "(SELECT z.refs FROM subtree_member z WHERE z.ancestor_id = node.id AND z.user_id = m.user_id)";
    let gained = format!("(SELECT COUNT(*) FROM subtree_member m WHERE m.ancestor_id = $1 AND {existing} IS NULL)");
    let lost = format!("(SELECT COUNT(*) FROM subtree_member m WHERE m.ancestor_id = $1 AND m.refs = {existing})");
    let update_counts = if join.is_empty() {
        format!("UPDATE node SET subtree_member_count = subtree_member_count - {lost} WHERE id IN ({all})")
    } else if leave.is_empty() {
        format!("UPDATE node SET subtree_member_count = subtree_member_count + {gained} WHERE id IN ({all})")
    } else {
        let joining = placeholders(2 + changed.len(), join.len());
        values.extend(strings(join));
        format!("UPDATE node SET subtree_member_count = subtree_member_count
                    + CASE WHEN id IN ({joining}) THEN {gained} ELSE -{lost} END
                 WHERE id IN ({all})")
    };
    exec(db, &update_counts, values).await?;
    if !leave.is_empty() {
        let (values, list) = one_then_list(root, leave);
        // Rows whose refs all come from the subtree disappear, then the rest lose the moved
        // refs (so no row is updated only to be deleted).
        let subtree_users = "IN (SELECT user_id FROM subtree_member WHERE ancestor_id = $1)";
        let moved_refs = "(SELECT m.refs FROM subtree_member m WHERE m.ancestor_id = $1 AND m.user_id = subtree_member.user_id)";
        exec(db, &format!(
            "DELETE FROM subtree_member WHERE ancestor_id IN ({list}) AND user_id {subtree_users} AND refs = {moved_refs}"), values.clone()).await?;
        exec(db, &format!(
            "UPDATE subtree_member SET refs = refs - {moved_refs}
             WHERE ancestor_id IN ({list}) AND user_id {subtree_users}"), values).await?;
    }
    if !join.is_empty() {
        let (values, list) = one_then_list(root, join);
        exec(db, &format!(
            "INSERT INTO subtree_member (ancestor_id, user_id, refs, joined_at, user_created_at, user_updated_at)
             SELECT n.id, m.user_id, m.refs, m.joined_at, m.user_created_at, m.user_updated_at
             FROM node n JOIN subtree_member m ON m.ancestor_id = $1
             WHERE n.id IN ({list})
             ON CONFLICT (ancestor_id, user_id) DO UPDATE SET refs = subtree_member.refs + excluded.refs,
                joined_at = CASE WHEN excluded.joined_at < subtree_member.joined_at
                                 THEN excluded.joined_at ELSE subtree_member.joined_at END"), values).await?;
    }
    Ok(())
}

/// The ancestors of every membership of the users `$1...`: where their fan-out rows are, each
/// then found by primary key (the derived table has no index by user).
fn ancestors_of_users(list: &str) -> String {
    format!("SELECT c.ancestor_id FROM membership m JOIN node_closure c ON c.descendant_id = m.node_id WHERE m.user_id IN ({list})")
}

/// `users` are about to be deleted: take them off every count and delete their fan-out rows
/// (their memberships go by cascade with the users).
pub async fn forget_users(db: &impl ConnectionTrait, users: &[String]) -> AppResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    let list = placeholders(1, users.len());
    let ancestors = ancestors_of_users(&list);
    exec(db, &format!(
        "UPDATE node SET member_count = member_count - (
            SELECT COUNT(*) FROM membership m WHERE m.node_id = node.id AND m.user_id IN ({list}))
         WHERE id IN (SELECT node_id FROM membership WHERE user_id IN ({list}))"), strings(users)).await?;
    exec(db, &format!(
        "UPDATE node SET subtree_member_count = subtree_member_count - (
            SELECT COUNT(*) FROM subtree_member s WHERE s.ancestor_id = node.id AND s.user_id IN ({list}))
         WHERE id IN ({ancestors})"), strings(users)).await?;
    exec(db, &format!("DELETE FROM subtree_member WHERE ancestor_id IN ({ancestors}) AND user_id IN ({list})"), strings(users)).await?;
    Ok(())
}

/// A user's `updated_at` changed: keep the copied sort key in step.
pub async fn touch_user(db: &impl ConnectionTrait, user_id: &str, updated_at: chrono::DateTime<chrono::Utc>) -> AppResult<()> {
    exec(db, &format!("UPDATE subtree_member SET user_updated_at = $1 WHERE ancestor_id IN ({}) AND user_id = $2", ancestors_of_users("$2")),
        vec![Value::from(updated_at), Value::from(user_id.to_string())]).await?;
    Ok(())
}

/// Fan-out rows whose node or user no longer exists (the table has no foreign keys: the
/// domain deletes them with their node or user), and with `delete`, remove them.
/// One anti-join scan of the table: for `orgraph doctor`, not for requests.
pub async fn orphans(db: &impl ConnectionTrait, delete: bool) -> AppResult<u64> {
    let orphan = "NOT EXISTS (SELECT 1 FROM node n WHERE n.id = subtree_member.ancestor_id)
                  OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = subtree_member.user_id)";
    if delete {
        return exec(db, &format!("DELETE FROM subtree_member WHERE {orphan}"), vec![]).await;
    }
    crate::storage::sql::count(db, &format!("SELECT COUNT(*) AS n FROM subtree_member WHERE {orphan}"), vec![]).await
}

/// Recompute the fan-out and both counts of every node of `org_id` from the memberships and the
/// closure: for bulk loads (which insert memberships directly) and as a repair.
pub async fn rebuild(db: &impl ConnectionTrait, org_id: &str) -> AppResult<()> {
    let org = vec![Value::from(org_id.to_string())];
    exec(db, "DELETE FROM subtree_member WHERE ancestor_id IN (SELECT id FROM node WHERE org_id = $1)", org.clone()).await?;
    exec(db,
        "INSERT INTO subtree_member (ancestor_id, user_id, refs, joined_at, user_created_at, user_updated_at)
         SELECT c.ancestor_id, m.user_id, COUNT(*), MIN(m.joined_at), MIN(u.created_at), MIN(u.updated_at)
         FROM membership m
         JOIN node_closure c ON c.descendant_id = m.node_id
         JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1
         GROUP BY c.ancestor_id, m.user_id", org.clone()).await?;
    exec(db,
        "UPDATE node SET
            member_count = (SELECT COUNT(*) FROM membership m WHERE m.node_id = node.id),
            subtree_member_count = (SELECT COUNT(*) FROM subtree_member s WHERE s.ancestor_id = node.id)
         WHERE org_id = $1", org).await?;
    Ok(())
}
