//! Idempotent writes: a request sent with an `Idempotency-Key` is run once per pool and key
//! within [`KEEP_SECS`]. The same key with the same request answers what the first answered
//! (waiting for it while it runs), and applies nothing twice; with another request it is refused.
//!
//! The key is claimed before the request runs. Each change the request makes marks the key
//! applied in the change's own transaction ([`mark_applied_in`], called by the write path), so
//! that after a crash a retry knows whether the first applied: if it did not, the retry runs it;
//! if it did, the retry is told so (`IDEMPOTENCY_KEY_APPLIED`) rather than applying it again. A
//! key whose request ended without an answer worth keeping (a server-side failure that applied
//! nothing) is released, so a retry runs again.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use sea_orm::{ConnectionTrait, DatabaseBackend};

use super::{PoolId, write::Writer};
use crate::{
    error::{AppError, AppResult, code},
    security::secret_seal::SecretSeal,
    storage::idempotency::{self as rows, KeyRow},
};

/// How long a key is kept (seconds).
pub const KEEP_SECS: i64 = 24 * 3600;

/// The largest answer kept for a replay; a larger one is not kept.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// The longest key accepted.
pub const MAX_KEY_CHARS: usize = 255;

/// The first wait between looks at a key another request holds.
const POLL: Duration = Duration::from_millis(25);

/// Who the keys' own bookkeeping is by (it changes no versioned row).
const ACTOR: &str = "idempotency";

/// Keys forgotten per transaction.
const PRUNE_BATCH: u64 = 1000;

tokio::task_local! {
    static KEYED: Keyed;
}

/// The key of the request this task serves, and the server process that holds it.
#[derive(Debug, Clone)]
struct Keyed {
    pool: String,
    key: String,
    owner: String,
}

/// Called by the write path in each change's transaction: mark the key of the request being
/// served, if it has one, applied. The key must still be this request's: a request whose key
/// another took over (it ran past the time a request may run) fails instead of applying twice.
pub async fn mark_applied_in(db: &impl ConnectionTrait) -> AppResult<()> {
    let Ok(keyed) = KEYED.try_with(Clone::clone) else { return Ok(()) };
    if rows::mark_applied(db, &keyed.pool, &keyed.key, &keyed.owner).await? {
        Ok(())
    } else {
        Err(refusal(code::IDEMPOTENCY_KEY_IN_USE, "another request with this Idempotency-Key took over; nothing was changed"))
    }
}

/// An answer as kept: status, content type and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// What to do with a keyed request.
#[derive(Debug)]
pub enum Claim {
    /// Run it (the key is this request's now).
    Run(Claimed),
    /// Answer what the first answered.
    Replay(Answer),
}

/// A key this request holds while it runs.
#[derive(Debug, Clone)]
pub struct Claimed(Keyed);

impl Claimed {
    /// Run `request` with changes marking the key applied.
    pub async fn scope<F: Future>(&self, request: F) -> F::Output {
        KEYED.scope(self.0.clone(), request).await
    }
}

/// The keys, as this server process handles them.
#[derive(Clone)]
pub struct IdempotencyKeys {
    writer: Writer,
    /// This process: a running key of another process is that process's.
    instance: String,
    /// After this long (milliseconds), a running key of another server process is that
    /// process's no longer: every request ends by then (the request timeout, and the waits for
    /// the writer's turn before and after it).
    stale_after_ms: i64,
    /// The keys this process's requests hold now (or are claiming), with how many of them.
    running: Arc<Mutex<HashMap<(String, String), usize>>>,
    sqlite: bool,
    /// Kept answers may hold secrets (a generated webhook secret, a token): sealed at rest.
    seal: SecretSeal,
}

/// How long a request waits between looks at a key another request holds: from [`POLL`],
/// doubling to this.
const MAX_POLL: Duration = Duration::from_millis(400);

/// A key as a client may send it: 1 to 255 visible ASCII characters.
pub fn check_key(key: &str) -> AppResult<()> {
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid("Idempotency-Key", format!("Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters")));
    }
    Ok(())
}

impl IdempotencyKeys {
    pub fn new(writer: Writer, request_timeout: Duration, write_wait: Duration, seal: SecretSeal) -> Self {
        let sqlite = writer.db().get_database_backend() == DatabaseBackend::Sqlite;
        let longest = request_timeout + write_wait * 2 + Duration::from_secs(2);
        let stale_after_ms = i64::try_from(longest.as_millis()).unwrap_or(i64::MAX / 2);
        IdempotencyKeys { writer, instance: crate::ids::new_id(), stale_after_ms, running: Arc::default(), sqlite, seal }
    }

    /// Now by the clock every instance shares (PostgreSQL's), in milliseconds.
    async fn now_ms(&self) -> AppResult<i64> {
        Ok(crate::storage::history::stamp::clock(self.writer.db()).await?.timestamp_millis())
    }

    fn claimed(&self, pool: &str, key: &str) -> Claim {
        Claim::Run(Claimed(Keyed { pool: pool.to_string(), key: key.to_string(), owner: self.instance.clone() }))
    }

    /// Count the key as running here (before its row says so: a waiter that reads the row
    /// must find it here) or no longer (after its row says so).
    fn set_running(&self, pool: &str, key: &str, running: bool) {
        if let Ok(mut counts) = self.running.lock() {
            let entry = (pool.to_string(), key.to_string());
            let count = counts.entry(entry.clone()).or_insert(0);
            if running {
                *count += 1;
            } else {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    counts.remove(&entry);
                }
            }
        }
    }

    /// Claim or take over the key through `write`; counted as running here if it succeeds.
    async fn hold(&self, pool: &str, key: &str, write: impl AsyncFnOnce(&sea_orm::DatabaseTransaction) -> AppResult<bool>) -> AppResult<bool> {
        self.set_running(pool, key, true);
        let held = self.writer.write_plain(ACTOR, write).await;
        if !matches!(held, Ok(true)) {
            self.set_running(pool, key, false);
        }
        held
    }

    fn runs_here(&self, pool: &str, key: &str) -> bool {
        self.running.lock().is_ok_and(|running| running.contains_key(&(pool.to_string(), key.to_string())))
    }

    /// Whether `row`'s request is no longer running anywhere: this process's when it does not
    /// run it; another process's when that process stopped (on SQLite, one process serves a
    /// database) or the request outlived every request.
    fn stale(&self, row: &KeyRow, pool: &str, key: &str, now: i64) -> bool {
        if row.owner == self.instance {
            !self.runs_here(pool, key)
        } else {
            self.sqlite || now - row.claimed_at > self.stale_after_ms
        }
    }

    /// Claim `key` of `pool` for a request of `hash`, or learn what to answer instead. Waits
    /// while the first request with the key runs (at most until it could no longer be running).
    pub async fn claim(&self, pool: &PoolId, key: &str, hash: &str) -> AppResult<Claim> {
        check_key(key)?;
        let (pool, key) = (pool.as_str(), key);
        let deadline = tokio::time::Instant::now() + Duration::from_millis(u64::try_from(self.stale_after_ms).unwrap_or(0) + 1000);
        let mut poll = POLL;
        loop {
            // Read first: a waiting retry writes nothing until the key is free or stale.
            let Some(row) = rows::get(self.writer.db(), pool, key).await? else {
                // The time of the claim is read once the writer's turn came.
                let claimed = self.hold(pool, key, async |txn| rows::claim(txn, pool, key, hash, &self.instance, self.now_ms().await?).await).await?;
                if claimed {
                    return Ok(self.claimed(pool, key));
                }
                continue;
            };
            if row.request_hash != hash {
                return Err(refusal(code::IDEMPOTENCY_KEY_REUSED, "this Idempotency-Key was used with another request in the last 24 hours; use a new key"));
            }
            match row.state.as_str() {
                rows::DONE => {
                    return Ok(Claim::Replay(Answer {
                        status: row.status.and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
                        content_type: row.content_type,
                        body: self.seal.open(row.body.as_deref().unwrap_or_default())?,
                    }));
                }
                rows::LOST => return Err(applied()),
                _ => {}
            }
            if self.stale(&row, pool, key, self.now_ms().await?) {
                if row.applied {
                    // Only if the row is still as read: the first may have just kept its answer.
                    if self.writer.write_plain(ACTOR, async |txn| rows::lose(txn, pool, key, &row.owner).await).await? {
                        return Err(applied());
                    }
                    continue;
                }
                let mine = self.hold(pool, key, async |txn| rows::take_over(txn, pool, key, &row.owner, &self.instance, self.now_ms().await?).await).await?;
                if mine {
                    return Ok(self.claimed(pool, key));
                }
            } else if tokio::time::Instant::now() > deadline {
                return Err(refusal(code::IDEMPOTENCY_KEY_IN_USE, "a request with this Idempotency-Key is still running; retry later"));
            } else {
                tokio::time::sleep(poll).await;
                poll = (poll * 2).min(MAX_POLL);
            }
        }
    }

    /// The request of `claimed` ended: keep `answer` for replays, or, for none (an answer too
    /// large, a stream, a failure worth retrying), release the key.
    pub async fn finish(&self, claimed: &Claimed, answer: Option<Answer>) -> AppResult<()> {
        let Keyed { pool, key, owner } = &claimed.0;
        let done = async {
            let sealed = answer.as_ref().map(|a| self.seal.seal(&a.body)).transpose()?;
            self.writer
                .write_plain(ACTOR, async |txn| match (&answer, &sealed) {
                    (Some(a), Some(body)) => rows::finish(txn, pool, key, owner, a.status, a.content_type.as_deref(), body).await,
                    _ => rows::release(txn, pool, key, owner).await,
                })
                .await
        }
        .await;
        self.set_running(pool, key, false);
        done
    }

    /// Forget the keys older than [`KEEP_SECS`], a batch per transaction.
    pub async fn prune(&self) -> AppResult<u64> {
        let before = chrono::Utc::now().timestamp() - KEEP_SECS;
        let mut gone = 0;
        loop {
            let n = self.writer.write_plain(ACTOR, async |txn| rows::prune(txn, before, PRUNE_BATCH).await).await?;
            gone += n;
            if n < PRUNE_BATCH {
                return Ok(gone);
            }
        }
    }
}

fn refusal(code: &'static str, message: &str) -> AppError {
    AppError::Idempotency { code, message: message.to_string() }
}

fn applied() -> AppError {
    refusal(
        code::IDEMPOTENCY_KEY_APPLIED,
        "the first request with this Idempotency-Key was applied, but the server stopped before answering it; read the current state instead of retrying",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(super::check_key("2f1c-retry_01").is_ok());
        assert!(super::check_key("").is_err());
        assert!(super::check_key("has space").is_err());
        assert!(super::check_key(&"k".repeat(256)).is_err());
    }
}
