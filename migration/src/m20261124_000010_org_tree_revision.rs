//! `org.tree_revision` changes whenever any node of the org is created, deleted or changed in a
//! field a listing shows (everything but the two member counts), whoever writes it: the API,
//! an import, a repair. Readers key cached listings on it (`graphql::listing_cache`).
//!
//! On PostgreSQL the bump is a deferred constraint trigger: it runs at commit, after the
//! transaction's other work, so the org row is locked only for the commit itself and never
//! before a node row (no new lock-order deadlocks between writers of one org). SQLite has one
//! writer at a time and plain triggers.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The node columns a listing shows: every column but `member_count` and `subtree_member_count`,
/// as they were then. Since, the server makes the update trigger again at start-up from the
/// entity's columns (`storage::tree::revision_trigger`): a column added later needs nothing here.
const LISTED: &str = "id, user_pool_id, org_id, parent_id, name, name_i18n, description, description_i18n, \"order\", code, \
                      leader_user_id, depth, open_department_id, i18n, custom_data, enabled, is_virtual, created_at, updated_at";

fn sqlite_up() -> Vec<String> {
    let bump = |row: &str| format!("UPDATE org SET tree_revision = tree_revision + 1 WHERE id = {row}.org_id;");
    vec![
        format!("CREATE TRIGGER node_tree_revision_insert AFTER INSERT ON node BEGIN {} END", bump("NEW")),
        format!("CREATE TRIGGER node_tree_revision_delete AFTER DELETE ON node BEGIN {} END", bump("OLD")),
        format!("CREATE TRIGGER node_tree_revision_update AFTER UPDATE OF {LISTED} ON node BEGIN {} {} END", bump("OLD"), bump("NEW")),
    ]
}

fn postgres_up() -> Vec<String> {
    vec![
        "CREATE OR REPLACE FUNCTION orgraph_node_tree_revision() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF TG_OP <> 'INSERT' THEN
                 UPDATE org SET tree_revision = tree_revision + 1 WHERE id = OLD.org_id;
             END IF;
             IF TG_OP <> 'DELETE' THEN
                 UPDATE org SET tree_revision = tree_revision + 1 WHERE id = NEW.org_id;
             END IF;
             RETURN NULL;
         END $$"
            .to_string(),
        "CREATE CONSTRAINT TRIGGER node_tree_revision_write AFTER INSERT OR DELETE ON node
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION orgraph_node_tree_revision()"
            .to_string(),
        format!(
            "CREATE CONSTRAINT TRIGGER node_tree_revision_update AFTER UPDATE OF {LISTED} ON node
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION orgraph_node_tree_revision()"
        ),
    ]
}

#[derive(DeriveIden)]
enum Org {
    Table,
    TreeRevision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Org::Table)
                    .add_column(ColumnDef::new(Org::TreeRevision).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        let statements = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Sqlite => sqlite_up(),
            _ => postgres_up(),
        };
        crate::run_batch(manager.get_connection(), "org_tree_revision", &statements.join(";\n")).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drops: &[&str] = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Sqlite => &[
                "DROP TRIGGER IF EXISTS node_tree_revision_insert",
                "DROP TRIGGER IF EXISTS node_tree_revision_delete",
                "DROP TRIGGER IF EXISTS node_tree_revision_update",
            ],
            _ => &[
                "DROP TRIGGER IF EXISTS node_tree_revision_write ON node",
                "DROP TRIGGER IF EXISTS node_tree_revision_update ON node",
                "DROP FUNCTION IF EXISTS orgraph_node_tree_revision()",
            ],
        };
        crate::run_batch(manager.get_connection(), "org_tree_revision_down", &drops.join(";\n")).await?;
        manager.alter_table(Table::alter().table(Org::Table).drop_column(Org::TreeRevision).to_owned()).await
    }
}
