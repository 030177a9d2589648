//! The subtree fan-out (`subtree_member`: one row per ancestor and user) is gone: it made a
//! move, an import and the storage grow with depth × members. Subtree pages now walk a sorted
//! index and probe the closure (`storage::tree::members`), and the counts are kept per node.
//! The index by (org, join time) lets a large department's page sorted by join time walk its
//! org's memberships; it replaces the one by (node, join time), which only spared small
//! departments a sort.
//! On SQLite, `membership` becomes WITHOUT ROWID: its primary key (node, user) is the table, so
//! the index by user holds the node too and a page's probe "is this user a member under that
//! node" never leaves the index (on PostgreSQL that index gets the node column for the same end).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP_SQLITE: &str = "DROP TABLE IF EXISTS subtree_member;
CREATE TABLE membership_lean (
    node_id varchar NOT NULL,
    user_id varchar NOT NULL,
    user_pool_id varchar NOT NULL,
    org_id varchar NOT NULL,
    is_leader boolean NOT NULL DEFAULT FALSE,
    is_main_department boolean NOT NULL DEFAULT FALSE,
    joined_at timestamp_with_timezone_text NOT NULL,
    PRIMARY KEY (node_id, user_id),
    FOREIGN KEY (node_id) REFERENCES node (id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO membership_lean (node_id, user_id, user_pool_id, org_id, is_leader, is_main_department, joined_at)
    SELECT node_id, user_id, user_pool_id, org_id, is_leader, is_main_department, joined_at FROM membership;
DROP TABLE membership;
ALTER TABLE membership_lean RENAME TO membership;
CREATE INDEX ix_membership_user ON membership (user_id);
CREATE INDEX ix_membership_org_joined ON membership (org_id, joined_at, user_id, node_id)";

const UP_POSTGRES: &str = "DROP TABLE IF EXISTS subtree_member;
DROP INDEX IF EXISTS ix_membership_user;
CREATE INDEX ix_membership_user ON membership (user_id, node_id);
DROP INDEX IF EXISTS ix_membership_node_joined;
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
    DROP INDEX IF EXISTS ix_membership_org_joined;
    CREATE INDEX ix_membership_node_joined ON membership (node_id, joined_at)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let up = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Sqlite => UP_SQLITE,
            _ => UP_POSTGRES,
        };
        crate::run_batch(manager.get_connection(), "no_fanout", up).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite's membership stays WITHOUT ROWID: the older code reads and writes it the same.
        let table = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Sqlite => DOWN_SQLITE.to_string(),
            _ => format!("{DOWN_POSTGRES};\nDROP INDEX ix_membership_user;\nCREATE INDEX ix_membership_user ON membership (user_id)"),
        };
        crate::run_batch(manager.get_connection(), "fanout_back", &format!("{table};\n{DOWN_REST}")).await
    }
}
