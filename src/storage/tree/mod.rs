//! The org tree's derived indexes, kept by SQL: the closure table (each node with each of its
//! ancestors, itself included at depth 0), the per-node member counts (`counts`), and the
//! member pages read through them (`members`). The domain names what happens to the tree; the
//! statements that make it so are here, the longer ones in `sql/`.

pub mod counts;
pub mod members;
pub mod revision_trigger;
pub mod subtree;

use entity::{node, node_closure};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Value};

use crate::{
    error::AppResult,
    storage::sql::{all, count, exec, placeholders, strings},
};

/// Closure rows of a new leaf `id` under `parent` (none for a root).
pub async fn link_new_node(db: &impl ConnectionTrait, id: &str, parent: Option<&str>) -> AppResult<()> {
    exec(db, "INSERT INTO node_closure (ancestor_id, descendant_id, depth) VALUES ($1, $1, 0)", vec![id.into()]).await?;
    if let Some(parent) = parent {
        exec(db,
            "INSERT INTO node_closure (ancestor_id, descendant_id, depth)
             SELECT ancestor_id, $1, depth + 1 FROM node_closure WHERE descendant_id = $2",
            vec![id.into(), parent.into()]).await?;
    }
    Ok(())
}

/// Closure rows of nodes inserted by a bulk load, `ids` all at one depth (their parents linked
/// before): one set-based statement per thousand nodes instead of two per node.
pub async fn link_imported(db: &impl ConnectionTrait, ids: &[String]) -> AppResult<()> {
    for chunk in ids.chunks(1_000) {
        let sql = include_str!("sql/link_import_level.sql").replace("{list}", &placeholders(1, chunk.len()));
        exec(db, &sql, strings(chunk)).await?;
    }
    Ok(())
}

/// Ids of the ancestors of `node_id`, root first, the node itself last.
pub async fn ancestors(db: &impl ConnectionTrait, node_id: &str) -> AppResult<Vec<String>> {
    Ok(node_closure::Entity::find()
        .select_only()
        .column(node_closure::Column::AncestorId)
        .filter(node_closure::Column::DescendantId.eq(node_id))
        .order_by_desc(node_closure::Column::Depth)
        .into_tuple()
        .all(db)
        .await?)
}

/// The nodes of the subtree rooted at `node_id`, top first.
pub async fn subtree(db: &impl ConnectionTrait, node_id: &str) -> AppResult<Vec<node::Model>> {
    all(db, "SELECT n.* FROM node n JOIN node_closure c ON c.descendant_id = n.id WHERE c.ancestor_id = $1 ORDER BY n.depth, n.id",
        vec![node_id.into()]).await
}

/// The depth of the deepest node of the subtree rooted at `node_id`.
pub async fn deepest_below(db: &impl ConnectionTrait, node_id: &str) -> AppResult<Option<i32>> {
    #[derive(FromQueryResult)]
    struct Deepest {
        depth: Option<i32>,
    }
    let row: Vec<Deepest> = all(db,
        "SELECT MAX(n.depth) AS depth FROM node n JOIN node_closure c ON c.descendant_id = n.id WHERE c.ancestor_id = $1",
        vec![node_id.into()]).await?;
    Ok(row.into_iter().next().and_then(|r| r.depth))
}

/// The org's tree revision: it changes (by trigger, see `revision_trigger`) whenever a node of the org
/// is created, deleted or changed in a listed field. `None` when the org is gone.
pub async fn revision(db: &impl ConnectionTrait, org_id: &str) -> AppResult<Option<i64>> {
    #[derive(FromQueryResult)]
    struct Revision {
        tree_revision: i64,
    }
    let rows: Vec<Revision> = all(db, "SELECT tree_revision FROM org WHERE id = $1", vec![org_id.into()]).await?;
    Ok(rows.into_iter().next().map(|r| r.tree_revision))
}

/// How many nodes the orgs `org_ids` have in all (one index range per org).
pub async fn node_total(db: &impl ConnectionTrait, org_ids: &[String]) -> AppResult<u64> {
    if org_ids.is_empty() {
        return Ok(0);
    }
    count(db, &format!("SELECT COUNT(*) AS n FROM node WHERE org_id IN ({})", placeholders(1, org_ids.len())), strings(org_ids)).await
}

/// Delete the subtree rooted at `node_id`, its closure rows and memberships by cascade.
pub async fn delete_subtree(db: &impl ConnectionTrait, node_id: &str) -> AppResult<()> {
    let subtree = "SELECT descendant_id FROM node_closure WHERE ancestor_id = $1";
    exec(db, &format!("DELETE FROM node WHERE id IN ({subtree})"), vec![node_id.into()]).await?;
    Ok(())
}

/// Delete every node of an org, closure rows and memberships by cascade (no ancestor outside
/// the org needs its counts changed).
pub async fn delete_org_nodes(db: &impl ConnectionTrait, org_id: &str) -> AppResult<()> {
    exec(db, "DELETE FROM node WHERE org_id = $1", vec![org_id.into()]).await?;
    Ok(())
}

/// Re-link the subtree rooted at `node_id` from its `old_ancestors` (root first, its parent
/// last) to below `new_parent`, and shift every depth in it by `depth_shift`.
pub async fn relink_subtree(db: &impl ConnectionTrait, node_id: &str, old_ancestors: &[String], new_parent: &str, depth_shift: i32) -> AppResult<()> {
    let mut values: Vec<Value> = vec![node_id.into()];
    values.extend(strings(old_ancestors));
    exec(db, &format!(
        "DELETE FROM node_closure WHERE ancestor_id IN ({list})
         AND descendant_id IN (SELECT descendant_id FROM node_closure WHERE ancestor_id = $1)",
        list = placeholders(2, old_ancestors.len())), values).await?;
    exec(db, include_str!("sql/relink_subtree.sql"), vec![node_id.into(), new_parent.into()]).await?;
    if depth_shift != 0 {
        // The subtree's ids drive the update through the primary key: given `IN (subquery)`,
        // PostgreSQL hash-joins a scan of every node instead.
        let subtree = "SELECT descendant_id FROM node_closure WHERE ancestor_id = $2";
        let sql = match db.get_database_backend() {
            DatabaseBackend::Postgres => format!("UPDATE node SET depth = depth + $1 WHERE id = ANY(ARRAY({subtree}))"),
            _ => format!("UPDATE node SET depth = depth + $1 WHERE id IN ({subtree})"),
        };
        exec(db, &sql, vec![depth_shift.into(), node_id.into()]).await?;
    }
    Ok(())
}

/// One ancestor on a node's path, as [`paths`] reads it.
#[derive(Debug, FromQueryResult)]
pub struct PathRow {
    pub node_id: String,
    pub id: String,
    pub code: Option<String>,
    pub name: String,
}

/// The ancestors of each of `nodes`, root first, grouped by node in one statement.
pub async fn paths(db: &impl ConnectionTrait, nodes: &[String]) -> AppResult<Vec<PathRow>> {
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = include_str!("sql/paths.sql").replace("{list}", &placeholders(1, nodes.len()));
    all(db, &sql, strings(nodes)).await
}
