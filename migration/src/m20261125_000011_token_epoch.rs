//! `user_pool.token_epoch`: the generation of a pool's access tokens. Every change of the pool's
//! secret adds one; a token carries the epoch it was issued at, and one from an older epoch is
//! refused (`security::tokens`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserPool {
    Table,
    TokenEpoch,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(UserPool::Table)
                    .add_column(ColumnDef::new(UserPool::TokenEpoch).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(UserPool::Table).drop_column(UserPool::TokenEpoch).to_owned())
            .await
    }
}
