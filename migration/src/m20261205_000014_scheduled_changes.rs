//! Scheduled reorganizations: an ordered batch of tree changes applied at an instant, by exactly
//! one instance (the applier claims due batches with SKIP LOCKED on PostgreSQL).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn up_sql(postgres: bool) -> String {
    let (time, json) = if postgres { ("timestamptz", "jsonb") } else { ("timestamp_with_timezone_text", "jsonb_text") };
    format!(
        "CREATE TABLE scheduled_change (
            id varchar NOT NULL PRIMARY KEY,
            user_pool_id varchar NOT NULL REFERENCES user_pool (id) ON DELETE CASCADE,
            at {time} NOT NULL,
            status varchar NOT NULL,
            changes {json} NOT NULL,
            created_nodes {json} NOT NULL,
            error text NULL,
            created_by varchar NOT NULL,
            created_at {time} NOT NULL,
            finished_at {time} NULL
        );
        CREATE INDEX ix_scheduled_change_due ON scheduled_change (status, at);
        CREATE INDEX ix_scheduled_change_pool ON scheduled_change (user_pool_id, at)"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres;
        crate::run_batch(manager.get_connection(), "scheduled_changes", &up_sql(postgres)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_batch(manager.get_connection(), "scheduled_changes_back", "DROP TABLE scheduled_change").await
    }
}
