//! The idempotency keys' rows (`idempotency_key`): claimed, taken over, marked applied,
//! finished with an answer, released, pruned.

use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::{
    error::AppResult,
    storage::sql::{all, exec},
};

#[derive(Debug, Clone, FromQueryResult)]
pub struct KeyRow {
    pub request_hash: String,
    pub state: String,
    pub applied: bool,
    pub owner: String,
    pub claimed_at: i64,
    pub status: Option<i32>,
    pub content_type: Option<String>,
    pub body: Option<String>,
}

pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
/// Applied, and its answer lost (the server stopped before answering).
pub const LOST: &str = "lost";

/// Claim `key` of `pool` for a request of `hash`, owned by `owner`: false when the key is there.
pub async fn claim(db: &impl ConnectionTrait, pool: &str, key: &str, hash: &str, owner: &str, now_ms: i64) -> AppResult<bool> {
    let n = exec(
        db,
        "INSERT INTO idempotency_key (user_pool_id, idem_key, request_hash, state, applied, owner, claimed_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_pool_id, idem_key) DO NOTHING",
        vec![pool.into(), key.into(), hash.into(), RUNNING.into(), false.into(), owner.into(), now_ms.into(), (now_ms / 1000).into()],
    )
    .await?;
    Ok(n == 1)
}

pub async fn get(db: &impl ConnectionTrait, pool: &str, key: &str) -> AppResult<Option<KeyRow>> {
    let rows: Vec<KeyRow> = all(
        db,
        "SELECT request_hash, state, applied, owner, claimed_at, status, content_type, body FROM idempotency_key
         WHERE user_pool_id = $1 AND idem_key = $2",
        vec![pool.into(), key.into()],
    )
    .await?;
    Ok(rows.into_iter().next())
}

/// Take a running key over from `from` (a server that stopped): false when another did first.
pub async fn take_over(db: &impl ConnectionTrait, pool: &str, key: &str, from: &str, owner: &str, now_ms: i64) -> AppResult<bool> {
    let n = exec(
        db,
        "UPDATE idempotency_key SET owner = $4, claimed_at = $5
         WHERE user_pool_id = $1 AND idem_key = $2 AND owner = $3 AND state = $6 AND applied = $7",
        vec![pool.into(), key.into(), from.into(), owner.into(), now_ms.into(), RUNNING.into(), false.into()],
    )
    .await?;
    Ok(n == 1)
}

/// In the transaction of a change the keyed request makes: it applied. False when the key is
/// no longer `owner`'s running request (taken over).
pub async fn mark_applied(db: &impl ConnectionTrait, pool: &str, key: &str, owner: &str) -> AppResult<bool> {
    let n = exec(
        db,
        "UPDATE idempotency_key SET applied = $3 WHERE user_pool_id = $1 AND idem_key = $2 AND owner = $4 AND state = $5",
        vec![pool.into(), key.into(), true.into(), owner.into(), RUNNING.into()],
    )
    .await?;
    Ok(n == 1)
}

/// Keep the answer of `owner`'s request.
pub async fn finish(db: &impl ConnectionTrait, pool: &str, key: &str, owner: &str, status: u16, content_type: Option<&str>, body: &str) -> AppResult<()> {
    exec(
        db,
        "UPDATE idempotency_key SET state = $4, status = $5, content_type = $6, body = $7
         WHERE user_pool_id = $1 AND idem_key = $2 AND owner = $3 AND state = $8",
        vec![pool.into(), key.into(), owner.into(), DONE.into(), i32::from(status).into(), content_type.map(str::to_string).into(), body.into(), RUNNING.into()],
    )
    .await?;
    Ok(())
}

/// Free the key of `owner`'s request that kept no answer: deleted when it applied nothing (a
/// retry runs again), else marked [`LOST`].
pub async fn release(db: &impl ConnectionTrait, pool: &str, key: &str, owner: &str) -> AppResult<()> {
    let args = || vec![pool.into(), key.into(), owner.into(), RUNNING.into(), false.into()];
    exec(db, "DELETE FROM idempotency_key WHERE user_pool_id = $1 AND idem_key = $2 AND owner = $3 AND state = $4 AND applied = $5", args()).await?;
    lose(db, pool, key, owner).await.map(drop)
}

/// Mark `owner`'s running key [`LOST`]: false when it is not that any more (it finished, or
/// another took it over).
pub async fn lose(db: &impl ConnectionTrait, pool: &str, key: &str, owner: &str) -> AppResult<bool> {
    let n = exec(
        db,
        "UPDATE idempotency_key SET state = $3 WHERE user_pool_id = $1 AND idem_key = $2 AND state = $4 AND owner = $5",
        vec![pool.into(), key.into(), LOST.into(), RUNNING.into(), owner.into()],
    )
    .await?;
    Ok(n == 1)
}

/// Forget at most `batch` of the keys created before `before` (unix seconds).
pub async fn prune(db: &impl ConnectionTrait, before: i64, batch: u64) -> AppResult<u64> {
    exec(
        db,
        "DELETE FROM idempotency_key WHERE (user_pool_id, idem_key) IN
         (SELECT user_pool_id, idem_key FROM idempotency_key WHERE created_at < $1 LIMIT $2)",
        vec![before.into(), (batch as i64).into()],
    )
    .await
}
