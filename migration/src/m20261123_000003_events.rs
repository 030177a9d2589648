//! The event outbox: every change writes its events here in its own transaction.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

// The column is `event_name`, as in Authing's payloads.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Event {
    Table,
    Id,
    UserPoolId,
    EventName,
    OrgId,
    Data,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Event::Table)
                    .if_not_exists()
                    // UUIDv7 in hex: ordered by time, so it is also the cursor.
                    .col(string(Event::Id).primary_key())
                    .col(string(Event::UserPoolId))
                    .col(string(Event::EventName))
                    .col(string_null(Event::OrgId))
                    .col(json_binary(Event::Data))
                    .col(timestamp_with_time_zone(Event::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_event_pool_id").table(Event::Table).col(Event::UserPoolId).col(Event::Id).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Event::Table).to_owned()).await
    }
}
