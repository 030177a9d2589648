//! Subtree scopes: each event records the departments it concerns together with their ancestors
//! at commit time (`scope`, `/id/id/.../`), so a reader can keep the events inside one
//! department's subtree; a webhook may watch one subtree (`subtree_of`); and `subtree_watch`
//! names the subtrees live subscribers watch, for which each commit records who entered or left.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = "ALTER TABLE event ADD COLUMN scope text NULL;
    ALTER TABLE webhook ADD COLUMN subtree_of varchar NULL;
    CREATE TABLE subtree_watch (
        user_pool_id varchar NOT NULL REFERENCES user_pool (id) ON DELETE CASCADE,
        node_id varchar NOT NULL,
        watched_until bigint NOT NULL,
        PRIMARY KEY (user_pool_id, node_id)
    )";

const DOWN: &str = "DROP TABLE subtree_watch;
    ALTER TABLE webhook DROP COLUMN subtree_of;
    ALTER TABLE event DROP COLUMN scope";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_batch(manager.get_connection(), "subtree_scope", UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_batch(manager.get_connection(), "subtree_scope_back", DOWN).await
    }
}
