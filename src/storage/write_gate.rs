//! The one way into a write transaction. SQLite has one writer at a time: rather than let
//! writers spin on `busy_timeout` (and fail with "database is locked" after it), they queue in the
//! process in arrival order and take the database lock one after another. A write that waits
//! longer than the configured time is refused as busy (SERVICE_UNAVAILABLE, retry), having
//! changed nothing. On PostgreSQL writers run concurrently; `lock_timeout` (set per connection)
//! bounds their waits the same way.

use std::{ops::Deref, sync::Arc, time::Duration};

use sea_orm::{
    DatabaseBackend, DatabaseConnection, DatabaseTransaction, IsolationLevel, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct WriteGate {
    db: DatabaseConnection,
    /// SQLite only: the queue of writers (tokio's mutex is fair: first come, first served).
    queue: Option<Arc<Mutex<()>>>,
    wait: Duration,
}

/// An open write transaction, holding this process's writer turn on SQLite until it ends.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteGate {
    pub fn new(db: DatabaseConnection, wait: Duration) -> Self {
        let queue = (db.get_database_backend() == DatabaseBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        WriteGate { db, queue, wait }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Wait for this writer's turn and begin (`BEGIN IMMEDIATE` on SQLite: the database lock is
    /// taken at once, so the transaction never fails later for want of it).
    pub async fn begin(&self) -> AppResult<WriteTxn> {
        self.begin_with(None).await
    }

    /// The same for a transaction that is only ever rolled back (a preview of planned changes):
    /// on PostgreSQL it reads one snapshot throughout, as a committed write would have.
    pub async fn begin_preview(&self) -> AppResult<WriteTxn> {
        self.begin_with(Some(IsolationLevel::RepeatableRead)).await
    }

    async fn begin_with(&self, isolation_level: Option<IsolationLevel>) -> AppResult<WriteTxn> {
        let turn = match &self.queue {
            Some(queue) => Some(
                tokio::time::timeout(self.wait, queue.clone().lock_owned())
                    .await
                    .map_err(|_| AppError::busy("the database is busy with other writes"))?,
            ),
            None => None,
        };
        let isolation_level = isolation_level.filter(|_| self.queue.is_none());
        let options = TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), isolation_level, ..Default::default() };
        let txn = self.db.begin_with_options(options).await?;
        Ok(WriteTxn { txn, _turn: turn })
    }
}

impl WriteTxn {
    pub async fn commit(self) -> AppResult<()> {
        self.txn.commit().await?;
        Ok(())
    }

    pub async fn rollback(self) -> AppResult<()> {
        self.txn.rollback().await?;
        Ok(())
    }
}

impl Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}
