//! `subtree_member` is derived data kept by the domain's own statements, so it needs neither
//! foreign keys (their triggers cost PostgreSQL 40–50 ms per 1% subtree move) nor an index by
//! user (a user's rows are found through their memberships and the closure, by primary key).
//! On SQLite the table becomes WITHOUT ROWID: the primary key is the table, one B-tree fewer
//! to write on every change.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE TABLE subtree_member_lean (
        ancestor_id varchar NOT NULL,
        user_id varchar NOT NULL,
        refs integer NOT NULL,
        joined_at timestamp_with_timezone_text NOT NULL,
        user_created_at timestamp_with_timezone_text NOT NULL,
        user_updated_at timestamp_with_timezone_text NOT NULL,
        PRIMARY KEY (ancestor_id, user_id)
    ) WITHOUT ROWID",
    "INSERT INTO subtree_member_lean (ancestor_id, user_id, refs, joined_at, user_created_at, user_updated_at)
     SELECT ancestor_id, user_id, refs, joined_at, user_created_at, user_updated_at FROM subtree_member",
    "DROP TABLE subtree_member",
    "ALTER TABLE subtree_member_lean RENAME TO subtree_member",
    "CREATE INDEX ix_subtree_created ON subtree_member (ancestor_id, user_created_at, user_id)",
    "CREATE INDEX ix_subtree_updated ON subtree_member (ancestor_id, user_updated_at, user_id)",
    "CREATE INDEX ix_subtree_joined ON subtree_member (ancestor_id, joined_at, user_id)",
];

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE subtree_member DROP CONSTRAINT IF EXISTS fk_subtree_ancestor",
    "ALTER TABLE subtree_member DROP CONSTRAINT IF EXISTS fk_subtree_user",
    "DROP INDEX IF EXISTS ix_subtree_user",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Sqlite => SQLITE_UP,
            _ => POSTGRES_UP,
        };
        crate::run_batch(manager.get_connection(), "lean_fanout", &statements.join(";\n")).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Only the index comes back: the domain deletes the rows the foreign keys cascaded, and
        // SQLite would need the table rebuilt again for constraints that change nothing.
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX IF NOT EXISTS ix_subtree_user ON subtree_member (user_id)")
            .await?;
        Ok(())
    }
}
