//! Previews of the planned tree: an `asOf` in the future answers the tree with the pending
//! batches due by then applied. The batches are applied with the domain's rules (the same
//! `apply_in` as at their time), each stamped with its own time, in a transaction that is read
//! and then rolled back, so the as-of reads of `storage::history` answer any future instant from
//! it unchanged. A batch that no longer applies is left out of the preview (it will fail at its
//! time).
//!
//! A preview holds the writer's turn on SQLite (and the rows it changes on PostgreSQL), so it is
//! held at most [`HOLD`], and shared meanwhile by every reader of its pool.

use std::{
    collections::HashMap,
    sync::{Arc, Weak},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use entity::scheduled_change;
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};

use super::{Status, apply_in, pending, stored_changes};
use crate::{
    domain::{PoolId, events::Outbox, write::Writer},
    error::{AppError, AppResult},
    storage::{WriteTxn, history::stamp::stamp_at},
};

/// How long a preview holds its transaction once its batches are applied: reads after it are
/// refused (they retry with a new preview, or select less).
pub const HOLD: Duration = Duration::from_secs(2);

/// A preview this close to its end is not shared: a new reader gets a new one.
const JOIN_BEFORE_END: Duration = Duration::from_millis(500);

/// A pool's tree with its pending batches applied, readable until [`HOLD`] has passed.
pub struct Preview {
    txn: tokio::sync::Mutex<Option<WriteTxn>>,
    expires: Instant,
    /// When the preview began: the versions it planned begin after it.
    pub began: DateTime<Utc>,
    /// The batches applied, in the order they apply.
    pub batches: Vec<scheduled_change::Model>,
}

impl Preview {
    /// Run `read` in the preview's transaction.
    pub async fn read<T>(&self, read: impl AsyncFnOnce(&DatabaseTransaction) -> AppResult<T>) -> AppResult<T> {
        let txn = self.txn.lock().await;
        let txn = txn.as_ref().ok_or_else(|| {
            AppError::busy(format!("a preview of planned changes is held {} s at most: select less under a future asOf, or retry", HOLD.as_secs()))
        })?;
        read(txn).await
    }

    /// The batches applied at or before `at`.
    pub fn batches_by(&self, at: DateTime<Utc>) -> impl Iterator<Item = &scheduled_change::Model> {
        self.batches.iter().filter(move |b| b.at <= at)
    }

    /// Whether a reader joining now still has time to read.
    fn open(&self) -> bool {
        Instant::now() + JOIN_BEFORE_END < self.expires
    }

    /// Roll the preview back now (its readers are refused from now on).
    async fn end(&self) {
        if let Some(txn) = self.txn.lock().await.take()
            && let Err(e) = txn.rollback().await
        {
            tracing::warn!(error = %e, "rolling a preview back failed");
        }
    }

    /// Apply `pool`'s pending batches, in order, in a new preview transaction (read in it: a
    /// batch applied or cancelled meanwhile is not applied again).
    async fn apply(writer: &Writer, pool: &PoolId) -> AppResult<Preview> {
        let txn = writer.preview().await?;
        let began = crate::storage::history::stamp::clock(&*txn).await?;
        let pending = pending(&*txn, pool).await?;
        let mut batches = Vec::new();
        for batch in pending {
            let pool = PoolId::trusted(batch.user_pool_id.clone()).acting_as(&batch.created_by);
            let changes = stored_changes(&batch)?;
            // Each batch in a savepoint: one that no longer applies is undone alone.
            let step = txn.begin().await?;
            match apply_in(&step, &mut Outbox::new(&pool), &pool, &changes).await {
                Ok(()) => {
                    // An overdue batch (the applier has not reached it yet) is planned for now.
                    stamp_at(&step, &batch.created_by, Some(batch.at.max(began))).await?;
                    step.commit().await?;
                    batches.push(batch);
                }
                Err(e @ (AppError::Internal(_) | AppError::Unavailable { .. })) => return Err(e),
                Err(_) => step.rollback().await?,
            }
        }
        Ok(Preview { txn: tokio::sync::Mutex::new(Some(txn)), expires: Instant::now() + HOLD, began, batches })
    }
}

/// The live previews, one per pool at most: a slot per pool, so that a pool's readers share its
/// preview and other pools never wait for it.
#[derive(Clone)]
pub struct Previews {
    db: DatabaseConnection,
    writer: Writer,
    slots: Arc<std::sync::Mutex<HashMap<String, Slot>>>,
}

type Slot = Arc<tokio::sync::Mutex<Weak<Preview>>>;

impl Previews {
    pub fn new(writer: Writer) -> Self {
        Previews { db: writer.db().clone(), writer, slots: Arc::default() }
    }

    fn slot(&self, pool: &PoolId) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget the slots of previews that ended, unless someone is making one.
        slots.retain(|_, slot| slot.try_lock().map_or(true, |p| p.strong_count() > 0));
        slots.entry(pool.as_str().to_string()).or_default().clone()
    }

    /// The preview that instant `at` of `pool` is read from: none when `at` is not in the future
    /// or no pending batch is due by then (the current tree answers).
    pub async fn for_instant(&self, pool: &PoolId, at: DateTime<Utc>) -> AppResult<Option<Arc<Preview>>> {
        if at <= Utc::now() {
            return Ok(None);
        }
        let slot = self.slot(pool);
        let mut current = slot.lock().await;
        if let Some(preview) = current.upgrade().filter(|p| p.open()) {
            return Ok(Some(preview));
        }
        if !any_due_by(&self.db, pool, at).await? {
            return Ok(None);
        }
        let preview = Arc::new(Preview::apply(&self.writer, pool).await?);
        *current = Arc::downgrade(&preview);
        let (held, end) = (Arc::downgrade(&preview), preview.expires);
        tokio::spawn(async move {
            tokio::time::sleep_until(end.into()).await;
            if let Some(preview) = held.upgrade() {
                preview.end().await;
            }
        });
        Ok(Some(preview))
    }

    /// Stop sharing `pool`'s preview: its pending batches changed.
    pub async fn forget(&self, pool: &PoolId) {
        let slot = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(pool.as_str());
        if let Some(slot) = slot {
            *slot.lock().await = Weak::new();
        }
    }
}

/// Whether `pool` has a pending batch due by `at`.
async fn any_due_by(db: &DatabaseConnection, pool: &PoolId, at: DateTime<Utc>) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) AS n FROM (SELECT id FROM scheduled_change WHERE user_pool_id = $1 AND status = $2 AND at <= $3 LIMIT 1) due";
    Ok(crate::storage::sql::count(db, sql, vec![pool.as_str().into(), Status::Pending.as_str().into(), at.into()]).await? > 0)
}
