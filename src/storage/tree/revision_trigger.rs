//! The trigger that bumps `org.tree_revision` when a node changes in a column a listing shows
//! (every column but the counters; see migration 10, which made it, and `graphql::listing_cache`,
//! which keys cached listings on the revision). Its column list is derived from the entity, so a
//! column added to `node` later is covered without a migration naming it: at start-up, after the
//! migrations, the trigger is made again whenever its columns differ from the entity's.

use entity::node;
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, IdenStatic, Iterable, TransactionSession, TransactionTrait};

use crate::{
    error::AppResult,
    storage::sql::{all, exec},
};

const NAME: &str = "node_tree_revision_update";

/// The node columns whose change must bump the revision: all but the counters.
pub fn listed_columns() -> Vec<&'static str> {
    node::Column::iter().filter(|c| !node::COUNTERS.iter().any(|k| k.as_str() == c.as_str())).map(|c| c.as_str()).collect()
}

/// The columns the trigger in the database watches (as written in its definition), if it exists.
pub async fn trigger_columns(db: &impl ConnectionTrait) -> AppResult<Option<Vec<String>>> {
    #[derive(FromQueryResult)]
    struct Definition {
        definition: String,
    }
    let sql = match db.get_database_backend() {
        DatabaseBackend::Sqlite => "SELECT sql AS definition FROM sqlite_master WHERE type = 'trigger' AND name = $1",
        _ => "SELECT pg_get_triggerdef(t.oid) AS definition FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
              WHERE t.tgname = $1 AND c.relname = 'node' AND c.relnamespace = to_regnamespace(current_schema())",
    };
    let rows: Vec<Definition> = all(db, sql, vec![NAME.into()]).await?;
    Ok(rows.into_iter().next().map(|d| columns_of(&d.definition)))
}

/// The column list of `... UPDATE OF a, b, "order" ON ...`, unquoted.
fn columns_of(definition: &str) -> Vec<String> {
    let upper = definition.to_ascii_uppercase();
    let (Some(start), Some(end)) = (upper.find("UPDATE OF "), upper.find(" ON ")) else { return Vec::new() };
    if end <= start + 10 {
        return Vec::new();
    }
    definition[start + 10..end].split(',').map(|c| c.trim().trim_matches('"').to_string()).collect()
}

/// Make the trigger again when its columns are not the entity's.
pub async fn ensure(db: &(impl ConnectionTrait + TransactionTrait)) -> AppResult<()> {
    let mut wanted: Vec<String> = listed_columns().into_iter().map(str::to_string).collect();
    wanted.sort();
    if let Some(mut current) = trigger_columns(db).await? {
        current.sort();
        if current == wanted {
            return Ok(());
        }
    }
    let columns = listed_columns().iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
    let statements = match db.get_database_backend() {
        DatabaseBackend::Sqlite => vec![
            format!("DROP TRIGGER IF EXISTS {NAME}"),
            format!(
                "CREATE TRIGGER {NAME} AFTER UPDATE OF {columns} ON node BEGIN
                 UPDATE org SET tree_revision = tree_revision + 1 WHERE id = OLD.org_id;
                 UPDATE org SET tree_revision = tree_revision + 1 WHERE id = NEW.org_id; END"
            ),
        ],
        // The function is migration 10's; the trigger runs at commit (see there why).
        _ => vec![
            format!("DROP TRIGGER IF EXISTS {NAME} ON node"),
            format!(
                "CREATE CONSTRAINT TRIGGER {NAME} AFTER UPDATE OF {columns} ON node
                 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION orgraph_node_tree_revision()"
            ),
        ],
    };
    let txn = db.begin().await?;
    for s in statements {
        exec(&txn, &s, Vec::new()).await?;
    }
    txn.commit().await?;
    tracing::info!(columns = %columns, "made the tree revision trigger again for the node columns");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_columns_of_both_definitions() {
        let sqlite = "CREATE TRIGGER node_tree_revision_update AFTER UPDATE OF id, name, \"order\" ON node BEGIN END";
        assert_eq!(columns_of(sqlite), ["id", "name", "order"]);
        let pg = "CREATE CONSTRAINT TRIGGER node_tree_revision_update AFTER UPDATE OF id, name, \"order\" ON public.node DEFERRABLE";
        assert_eq!(columns_of(pg), ["id", "name", "order"]);
    }

    #[test]
    fn every_column_but_the_counters_is_listed() {
        let listed = listed_columns();
        assert!(!listed.contains(&"member_count") && !listed.contains(&"subtree_member_count"));
        assert_eq!(listed.len() + node::COUNTERS.len(), node::Column::iter().count());
    }
}
