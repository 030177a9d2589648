//! Per-entity delivery order: each event, and each of its deliveries, carries the entity it is
//! about (`user:<id>`, `node:<id>`, `org:<id>`; null for events about none or several), and a
//! delivery its event's `seq`, so a worker sends a webhook's deliveries about one entity in
//! commit order. Existing events and deliveries get no entity (they are sent as before).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = "ALTER TABLE event ADD COLUMN entity varchar NULL;
    ALTER TABLE delivery ADD COLUMN entity varchar NULL;
    ALTER TABLE delivery ADD COLUMN seq bigint NOT NULL DEFAULT 0;
    UPDATE delivery SET seq = (SELECT e.seq FROM event e WHERE e.id = delivery.event_id)
        WHERE EXISTS (SELECT 1 FROM event e WHERE e.id = delivery.event_id);
    CREATE INDEX ix_delivery_entity_order ON delivery (webhook_id, entity, seq)
        WHERE entity IS NOT NULL AND status IN ('pending', 'delivering')";

const DOWN: &str = "DROP INDEX ix_delivery_entity_order;
    ALTER TABLE delivery DROP COLUMN seq;
    ALTER TABLE delivery DROP COLUMN entity;
    ALTER TABLE event DROP COLUMN entity";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_batch(manager.get_connection(), "delivery_order", UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_batch(manager.get_connection(), "delivery_order_back", DOWN).await
    }
}
