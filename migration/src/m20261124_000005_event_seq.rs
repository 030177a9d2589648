//! Events get `seq`, their number in commit order: UUIDv7 ids are taken before commit, so on
//! PostgreSQL a reader paging by id could pass an event that commits late. Existing events are
//! numbered in id order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Event {
    Table,
    Seq,
    UserPoolId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Event::Table)
                    .add_column(ColumnDef::new(Event::Seq).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE event SET seq = numbered.n
                 FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM event) AS numbered
                 WHERE event.id = numbered.id",
            )
            .await?;
        manager
            .create_index(Index::create().name("ux_event_seq").table(Event::Table).col(Event::Seq).unique().to_owned())
            .await?;
        manager
            .create_index(
                Index::create().name("ix_event_pool_seq").table(Event::Table).col(Event::UserPoolId).col(Event::Seq).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_event_pool_seq").table(Event::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("ux_event_seq").table(Event::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Event::Table).drop_column(Event::Seq).to_owned()).await
    }
}
