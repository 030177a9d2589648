//! The subtree fan-out (`subtree_member`: one row per ancestor and user) is gone: it made a
//! move, an import and the storage grow with depth × members. Subtree pages now walk a sorted
//! index and probe the closure (`storage::tree::members`), and the counts are kept per node.
//! The one new index lets a dense subtree's page sorted by join time walk its org's memberships.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = "DROP TABLE IF EXISTS subtree_member;
CREATE INDEX IF NOT EXISTS ix_membership_org_joined ON membership (org_id, joined_at, user_id, node_id)";

/// The fan-out as migration 9 left it, rebuilt from the memberships and the closure.
const DOWN_SQLITE: &str = "CREATE TABLE subtree_member (
        ancestor_id varchar NOT NULL,
        user_id varchar NOT NULL,
        refs integer NOT NULL,
        joined_at timestamp_with_timezone_text NOT NULL,
        user_created_at timestamp_with_timezone_text NOT NULL,
        user_updated_at timestamp_with_timezone_text NOT NULL,
        PRIMARY KEY (ancestor_id, user_id)
    ) WITHOUT ROWID";

const DOWN_POSTGRES: &str = "CREATE TABLE subtree_member (
        ancestor_id varchar NOT NULL,
        user_id varchar NOT NULL,
        refs integer NOT NULL,
        joined_at timestamptz NOT NULL,
        user_created_at timestamptz NOT NULL,
        user_updated_at timestamptz NOT NULL,
        PRIMARY KEY (ancestor_id, user_id)
    )";

const DOWN_REST: &str = "INSERT INTO subtree_member (ancestor_id, user_id, refs, joined_at, user_created_at, user_updated_at)
        SELECT c.ancestor_id, m.user_id, COUNT(*), MIN(m.joined_at), MIN(u.created_at), MIN(u.updated_at)
        FROM membership m JOIN node_closure c ON c.descendant_id = m.node_id JOIN users u ON u.id = m.user_id
        GROUP BY c.ancestor_id, m.user_id;
    CREATE INDEX ix_subtree_created ON subtree_member (ancestor_id, user_created_at, user_id);
    CREATE INDEX ix_subtree_updated ON subtree_member (ancestor_id, user_updated_at, user_id);
    CREATE INDEX ix_subtree_joined ON subtree_member (ancestor_id, joined_at, user_id);
    DROP INDEX IF EXISTS ix_membership_org_joined";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_batch(manager.get_connection(), "no_fanout", UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Sqlite => DOWN_SQLITE,
            _ => DOWN_POSTGRES,
        };
        crate::run_batch(manager.get_connection(), "fanout_back", &format!("{table};\n{DOWN_REST}")).await
    }
}
