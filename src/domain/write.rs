//! The write path every change takes: wait for the writer's turn, open the transaction, let the
//! change do its work and record its events in an [`Outbox`], write those events (numbered in
//! commit order, with their webhook deliveries) in the same transaction, commit, and only then
//! publish them to live subscribers. A change that fails writes nothing and publishes nothing;
//! a change cannot forget to publish.

use entity::event;
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use super::{PoolId, events::{EventBus, Outbox}};
use crate::{
    error::{AppError, AppResult},
    storage::{WriteGate, history},
};

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

    /// The same, for a change its caller decides on the rows read in the transaction: `work`
    /// fails with [`ChangeError::Declined`] to roll back and answer with the caller's reason.
    pub async fn write_declinable<T, R>(
        &self,
        pool: &PoolId,
        work: impl AsyncFnOnce(&DatabaseTransaction, &mut Outbox) -> Result<T, ChangeError<R>>,
    ) -> Result<T, ChangeError<R>> {
        Ok(self.run(pool, work).await?.0)
    }

    async fn run<T, E: From<AppError>>(
        &self,
        pool: &PoolId,
        work: impl AsyncFnOnce(&DatabaseTransaction, &mut Outbox) -> Result<T, E>,
    ) -> Result<(T, Vec<event::Model>), E> {
        let txn = self.gate.begin().await?;
        let mut outbox = Outbox::new(pool);
        // An error drops the transaction: rolled back.
        let value = work(&txn, &mut outbox).await?;
        super::idempotency::mark_applied_in(&*txn).await?;
        let events = outbox.flush(&*txn).await?;
        history::stamp::stamp(&*txn, pool.actor()).await?;
        txn.commit().await?;
        self.bus.publish(events.clone());
        Ok((value, events))
    }

    /// A transaction that is never committed: a preview of planned changes, applied with the
    /// domain's rules and read before it is rolled back. It takes the writer's turn like a write.
    pub async fn preview(&self) -> AppResult<crate::storage::WriteTxn> {
        self.gate.begin_preview().await
    }

    /// A transaction that records no events (the delivery worker's bookkeeping, an import's
    /// batches), its changes made by `actor` (`domain::Actor`).
    pub async fn write_plain<T>(&self, actor: &str, work: impl AsyncFnOnce(&DatabaseTransaction) -> AppResult<T>) -> AppResult<T> {
        let txn = self.gate.begin().await?;
        let value = work(&txn).await?;
        super::idempotency::mark_applied_in(&*txn).await?;
        history::stamp::stamp(&*txn, actor).await?;
        txn.commit().await?;
        Ok(value)
    }
}

/// Why a change its caller could decline was not made: it failed, or the caller declined it with
/// its own reason `R` after seeing the rows read in the transaction (an `If-Match` that no longer
/// matches, a patch that does not apply). Either way nothing was written.
#[derive(Debug)]
pub enum ChangeError<R> {
    Failed(AppError),
    Declined(R),
}

impl<R> From<AppError> for ChangeError<R> {
    fn from(err: AppError) -> Self {
        ChangeError::Failed(err)
    }
}

impl<R: From<AppError>> ChangeError<R> {
    /// The caller's reason, or the failure as the caller's error type.
    pub fn into_reason(self) -> R {
        match self {
            ChangeError::Failed(err) => R::from(err),
            ChangeError::Declined(reason) => reason,
        }
    }
}
