//! The write path every change takes: wait for the writer's turn, open the transaction, let the
//! change do its work and record its events in an [`Outbox`], write those events (numbered in
//! commit order, with their webhook deliveries) in the same transaction, commit, and only then
//! publish them to live subscribers. A change that fails writes nothing and publishes nothing;
//! a change cannot forget to publish.

use entity::event;
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use super::{PoolId, events::{EventBus, Outbox}};
use crate::{error::AppResult, storage::WriteGate};

#[derive(Clone)]
pub struct Writer {
    gate: WriteGate,
    bus: EventBus,
}

impl Writer {
    pub fn new(gate: WriteGate, bus: EventBus) -> Self {
        Writer { gate, bus }
    }

    /// The connection, for reads.
    pub fn db(&self) -> &DatabaseConnection {
        self.gate.db()
    }

    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// Run `work` as one transaction of `pool`, with the events it records.
    pub async fn write<T>(
        &self,
        pool: &PoolId,
        work: impl AsyncFnOnce(&DatabaseTransaction, &mut Outbox) -> AppResult<T>,
    ) -> AppResult<T> {
        Ok(self.run(pool, work).await?.0)
    }

    /// The same, answering with the events it wrote.
    pub async fn write_events(
        &self,
        pool: &PoolId,
        work: impl AsyncFnOnce(&DatabaseTransaction, &mut Outbox) -> AppResult<()>,
    ) -> AppResult<Vec<event::Model>> {
        Ok(self.run(pool, work).await?.1)
    }

    async fn run<T>(
        &self,
        pool: &PoolId,
        work: impl AsyncFnOnce(&DatabaseTransaction, &mut Outbox) -> AppResult<T>,
    ) -> AppResult<(T, Vec<event::Model>)> {
        let txn = self.gate.begin().await?;
        let mut outbox = Outbox::new(pool);
        let value = work(&txn, &mut outbox).await?;
        let events = outbox.flush(&*txn).await?;
        txn.commit().await?;
        self.bus.publish(events.clone());
        Ok((value, events))
    }

    /// A transaction that records no events (the delivery worker's bookkeeping).
    pub async fn write_plain<T>(&self, work: impl AsyncFnOnce(&DatabaseTransaction) -> AppResult<T>) -> AppResult<T> {
        let txn = self.gate.begin().await?;
        let value = work(&txn).await?;
        txn.commit().await?;
        Ok(value)
    }
}
