//! Webhooks and their deliveries: one delivery per (event, webhook), written with the event,
//! and a log of every attempt.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Webhook {
    Table,
    Id,
    UserPoolId,
    Name,
    Url,
    Secret,
    ContentType,
    Events,
    Enabled,
    ConsecutiveFailures,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Delivery {
    Table,
    Id,
    UserPoolId,
    WebhookId,
    EventId,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastStatusCode,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DeliveryAttempt {
    Table,
    Id,
    DeliveryId,
    AttemptedAt,
    RequestHeaders,
    RequestBody,
    ResponseStatus,
    ResponseHeaders,
    ResponseBody,
    DurationMs,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Webhook::Table)
                    .if_not_exists()
                    .col(string(Webhook::Id).primary_key())
                    .col(string(Webhook::UserPoolId))
                    .col(string(Webhook::Name))
                    .col(text(Webhook::Url))
                    .col(text(Webhook::Secret))
                    .col(string(Webhook::ContentType))
                    .col(json_binary(Webhook::Events))
                    .col(boolean(Webhook::Enabled))
                    .col(integer(Webhook::ConsecutiveFailures).default(0))
                    .col(timestamp_with_time_zone(Webhook::CreatedAt))
                    .col(timestamp_with_time_zone(Webhook::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_webhook_pool").table(Webhook::Table).col(Webhook::UserPoolId).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Delivery::Table)
                    .if_not_exists()
                    .col(string(Delivery::Id).primary_key())
                    .col(string(Delivery::UserPoolId))
                    .col(string(Delivery::WebhookId))
                    .col(string(Delivery::EventId))
                    .col(string(Delivery::Status))
                    .col(integer(Delivery::Attempts).default(0))
                    .col(timestamp_with_time_zone(Delivery::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Delivery::LeaseUntil))
                    .col(integer_null(Delivery::LastStatusCode))
                    .col(text_null(Delivery::LastError))
                    .col(timestamp_with_time_zone(Delivery::CreatedAt))
                    .col(timestamp_with_time_zone(Delivery::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_delivery_webhook")
                            .from(Delivery::Table, Delivery::WebhookId)
                            .to(Webhook::Table, Webhook::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_delivery_due").table(Delivery::Table).col(Delivery::Status).col(Delivery::NextAttemptAt).to_owned())
            .await?;
        manager
            .create_index(Index::create().name("ix_delivery_webhook").table(Delivery::Table).col(Delivery::WebhookId).col(Delivery::CreatedAt).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DeliveryAttempt::Table)
                    .if_not_exists()
                    .col(string(DeliveryAttempt::Id).primary_key())
                    .col(string(DeliveryAttempt::DeliveryId))
                    .col(timestamp_with_time_zone(DeliveryAttempt::AttemptedAt))
                    .col(json_binary(DeliveryAttempt::RequestHeaders))
                    .col(text(DeliveryAttempt::RequestBody))
                    .col(integer_null(DeliveryAttempt::ResponseStatus))
                    .col(json_binary(DeliveryAttempt::ResponseHeaders))
                    .col(text_null(DeliveryAttempt::ResponseBody))
                    .col(big_integer(DeliveryAttempt::DurationMs))
                    .col(text_null(DeliveryAttempt::Error))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attempt_delivery")
                            .from(DeliveryAttempt::Table, DeliveryAttempt::DeliveryId)
                            .to(Delivery::Table, Delivery::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_attempt_delivery").table(DeliveryAttempt::Table).col(DeliveryAttempt::DeliveryId).col(DeliveryAttempt::AttemptedAt).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(DeliveryAttempt::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Delivery::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Webhook::Table).to_owned()).await
    }
}
