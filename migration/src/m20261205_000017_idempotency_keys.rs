//! Idempotency keys: per pool, the request a key was first used with (its hash), whether the
//! request is still running (and in which server process), whether it applied a change, and
//! the answer to replay. Kept 24 hours.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn up_sql(postgres: bool) -> String {
    let flag_false = if postgres { "false" } else { "0" };
    format!(
        "CREATE TABLE idempotency_key (
            user_pool_id varchar NOT NULL REFERENCES user_pool (id) ON DELETE CASCADE,
            idem_key varchar NOT NULL,
            request_hash varchar NOT NULL,
            state varchar NOT NULL,
            applied boolean NOT NULL DEFAULT {flag_false},
            owner varchar NOT NULL,
            claimed_at bigint NOT NULL,
            created_at bigint NOT NULL,
            status integer NULL,
            content_type varchar NULL,
            body text NULL,
            PRIMARY KEY (user_pool_id, idem_key)
        );
        CREATE INDEX ix_idempotency_key_created ON idempotency_key (created_at)"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres;
        crate::run_batch(manager.get_connection(), "idempotency_keys", &up_sql(postgres)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_batch(manager.get_connection(), "idempotency_keys_back", "DROP TABLE idempotency_key").await
    }
}
