//! The live stream of a pool's events, the one every surface translates (GraphQL subscriptions,
//! the Authing event socket): in commit order (`seq`), after a cursor, each event once.
//!
//! The in-process bus is the fast path: an event it brings is passed on when it is the next
//! number. Whatever the bus cannot vouch for is read from the outbox instead: the events before
//! one that came early (published out of order by concurrent writers, relayed late from another
//! instance, or never published), and everything a lagging reader missed. This relies on `seq`
//! being commit order ([`super::EVENT_ORDER_LOCK`]): once event `n` is committed, so is every
//! event before it, so reading the outbox up to `n` can never skip one that commits later.
//!
//! Memory per reader is bounded: the stream is pulled, so a slow reader stops taking from the bus
//! (which tells it it lagged rather than buffering) and then catches up page by page.

use std::sync::Arc;

use entity::event;
use futures_util::Stream;
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::broadcast::{self, error::RecvError};

use super::{EventBus, EventFilter, last_seq, position};
use crate::{domain::PoolId, error::AppResult};

/// Events read from the outbox per query while catching up (each at most `MAX_DATA_BYTES`).
const PAGE: u64 = 128;

/// A live stream, opened: its start is fixed and it already listens to the bus.
pub struct LiveEvents {
    db: DatabaseConnection,
    pool: PoolId,
    filter: EventFilter,
    bus: broadcast::Receiver<Arc<event::Model>>,
    /// Every event numbered up to here was passed on or is not for this reader.
    through: i64,
    /// The subtree it watches, renewed while it listens.
    watch: Option<super::subtree::Watch>,
}

impl LiveEvents {
    /// Listen to `pool`'s events that pass `filter`, after the event `after` (an id; `"0"` is
    /// before the first event), or from now. A bad `after` is refused here, before streaming.
    pub async fn open(
        db: &DatabaseConnection,
        bus: &EventBus,
        pool: &PoolId,
        filter: EventFilter,
        after: Option<&str>,
        watch: Option<super::subtree::Watch>,
    ) -> AppResult<Self> {
        // Listen before fixing the start: every event numbered after it then reaches the bus
        // receiver (published after its commit, so after this point).
        let bus = bus.subscribe();
        let through = match after {
            Some(id) => position(db, pool, "after", id).await?,
            None => last_seq(db).await?,
        };
        Ok(LiveEvents { db: db.clone(), pool: pool.clone(), filter, bus, through, watch })
    }

    /// The events, as the reader takes them. An error (the outbox could not be read) ends the
    /// stream; the reader resumes after the last event it got.
    pub fn into_stream(mut self) -> impl Stream<Item = AppResult<Arc<event::Model>>> + Send + 'static {
        async_stream::try_stream! {
            // First what committed after the cursor, up to now.
            let now = last_seq(&self.db).await?;
            for await e in self.outbox_through(now) {
                yield e?;
            }
            let mut renewal = tokio::time::interval_at(tokio::time::Instant::now() + super::subtree::WATCH_RENEW, super::subtree::WATCH_RENEW);
            loop {
                let received = tokio::select! {
                    received = self.bus.recv() => received,
                    _ = renewal.tick(), if self.watch.is_some() => {
                        if let Some(watch) = &self.watch
                            && let Err(e) = watch.renew().await
                        {
                            tracing::warn!(error = %e, "renewing a subscriber's subtree watch failed; retried in an hour");
                        }
                        continue;
                    }
                };
                let e = match received {
                    Ok(e) => e,
                    // The next receive brings the oldest event the bus still holds; the ones
                    // missed before it are read from the outbox like any gap.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return,
                };
                if e.seq <= self.through {
                    continue; // already passed on: read from the outbox, or relayed a second time
                }
                if e.seq > self.through.saturating_add(1) {
                    // `e` is committed, so every event before it is too.
                    for await missed in self.outbox_through(e.seq - 1) {
                        yield missed?;
                    }
                }
                self.through = e.seq;
                if self.filter.matches(&self.pool, &e) {
                    yield e;
                }
            }
        }
    }

    /// The reader's events numbered after `through` up to `upto` (all committed), from the
    /// outbox, a page at a time as they are taken; `through` follows.
    fn outbox_through(&mut self, upto: i64) -> impl Stream<Item = AppResult<Arc<event::Model>>> + Send + '_ {
        async_stream::try_stream! {
            while self.through < upto {
                let page = self.page(upto).await?;
                let full = page.len() as u64 == PAGE;
                for e in page {
                    self.through = e.seq;
                    yield Arc::new(e);
                }
                if !full {
                    self.through = upto;
                }
            }
        }
    }

    async fn page(&self, upto: i64) -> AppResult<Vec<event::Model>> {
        Ok(self
            .filter
            .select(&self.pool)
            .filter(event::Column::Seq.gt(self.through))
            .filter(event::Column::Seq.lte(upto))
            .order_by_asc(event::Column::Seq)
            .limit(PAGE)
            .all(&self.db)
            .await?)
    }
}
