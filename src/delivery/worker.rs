//! The delivery worker: claims due deliveries (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
//! several instances share the work and none sends a delivery another holds), sends them, logs
//! each attempt, and schedules the next one with exponential backoff and jitter. A claim is a
//! lease: deliveries of a worker killed mid-send are taken again when it runs out.

use std::time::Duration;

use entity::{delivery, delivery_attempt, event, webhook};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseBackend, DatabaseConnection, EntityTrait,
    FromQueryResult, Value,
};

use super::sender::{Attempt, Sender};
use serde_json::json;

use crate::{
    config::WebhookConfig,
    domain::events::{EventBus, Outbox},
    error::AppResult,
    ids, storage,
};

/// How long a claim holds a delivery: past the request timeout, so a live worker never loses
/// it, yet short, so a killed worker's deliveries are taken again soon.
fn lease_secs(cfg: &WebhookConfig) -> i64 {
    cfg.timeout_secs as i64 * 2 + 5
}

pub fn spawn(db: DatabaseConnection, sender: Sender, cfg: WebhookConfig, wake: EventBus) {
    tokio::spawn(async move {
        let mut events = wake.subscribe();
        loop {
            match run_once(&db, &sender, &cfg, &wake).await {
                Ok(n) if n > 0 => continue, // more may be due
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook delivery round failed"),
            }
            // Sleep until the next poll, or until this instance commits an event.
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(cfg.poll_ms.max(10))) => {}
                _ = events.recv() => {}
            }
        }
    });
}

/// Claim and send one batch; returns how many were claimed.
pub async fn run_once(db: &DatabaseConnection, sender: &Sender, cfg: &WebhookConfig, bus: &EventBus) -> AppResult<usize> {
    let claimed = claim(db, cfg.concurrency.max(1), lease_secs(cfg)).await?;
    let n = claimed.len();
    let sends = claimed.into_iter().map(|d| deliver(db, sender, cfg, bus, d));
    for result in futures_util::future::join_all(sends).await {
        if let Err(e) = result {
            tracing::warn!(error = %e, "recording a webhook delivery failed");
        }
    }
    Ok(n)
}

async fn claim(db: &DatabaseConnection, limit: u64, lease_secs: i64) -> AppResult<Vec<delivery::Model>> {
    let now = chrono::Utc::now();
    // A cheap read first: an idle worker takes no write lock.
    let due = storage::sql::all::<DueProbe>(db,
        "SELECT id FROM delivery WHERE (status = 'pending' AND next_attempt_at <= $1) OR (status = 'delivering' AND lease_until < $1) LIMIT 1",
        vec![Value::from(now)]).await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let lease = now + chrono::Duration::seconds(lease_secs);
    let skip_locked = if db.get_database_backend() == DatabaseBackend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let txn = storage::begin_write(db).await?;
    let sql = format!(
        "UPDATE delivery SET status = 'delivering', lease_until = $1, updated_at = $2
         WHERE id IN (SELECT id FROM delivery
                      WHERE (status = 'pending' AND next_attempt_at <= $2) OR (status = 'delivering' AND lease_until < $2)
                      ORDER BY next_attempt_at LIMIT $3 {skip_locked})
         RETURNING *");
    let stmt = storage::sql::statement(&txn, &sql, vec![Value::from(lease), Value::from(now), Value::from(limit as i64)]);
    let rows = delivery::Model::find_by_statement(stmt).all(&txn).await?;
    txn.commit().await?;
    Ok(rows)
}

async fn deliver(db: &DatabaseConnection, sender: &Sender, cfg: &WebhookConfig, bus: &EventBus, d: delivery::Model) -> AppResult<()> {
    let hook = webhook::Entity::find_by_id(d.webhook_id.clone()).one(db).await?;
    let event = event::Entity::find_by_id(d.event_id.clone()).one(db).await?;
    let (Some(hook), Some(event)) = (hook, event) else {
        return finish(db, d, None, "failed", Some("the webhook or the event no longer exists".into()), None).await;
    };
    if !hook.enabled {
        return finish(db, d, None, "failed", Some("the webhook is disabled".into()), None).await;
    }
    let attempt = sender.send(&hook, &d.id, &event.event_name, &event.data).await;
    log_attempt(db, &d.id, &attempt).await?;
    let attempts = d.attempts + 1;
    if attempt.succeeded() {
        reset_failures(db, &hook, 0).await?;
        return finish(db, d, Some(attempt.response_status.unwrap_or(200) as i32), "succeeded", None, Some(attempts)).await;
    }
    let error = attempt.error.clone().or_else(|| attempt.response_status.map(|s| format!("answered HTTP {s}")));
    let status = attempt.response_status.map(i32::from);
    match cfg.retry_schedule_secs.get(d.attempts as usize) {
        Some(wait) => {
            let jitter = rand::thread_rng().gen_range(0.8..1.2);
            let next = chrono::Utc::now() + chrono::Duration::milliseconds((wait * jitter * 1000.0) as i64);
            let mut row: delivery::ActiveModel = d.into();
            row.status = Set("pending".into());
            row.attempts = Set(attempts);
            row.next_attempt_at = Set(next);
            row.lease_until = Set(None);
            row.last_status_code = Set(status);
            row.last_error = Set(error);
            row.updated_at = Set(chrono::Utc::now());
            row.update(db).await?;
            Ok(())
        }
        None => {
            let failures = hook.consecutive_failures + 1;
            reset_failures(db, &hook, failures).await?;
            if failures >= cfg.max_consecutive_failures && hook.enabled {
                tracing::warn!(webhook = %hook.id, failures, "webhook disabled after consecutive failed deliveries");
                let pool = crate::domain::PoolId::trusted(hook.user_pool_id.clone());
                let data = json!({
                    "webhook": { "id": hook.id, "name": hook.name, "url": hook.url },
                    "consecutiveFailures": failures,
                });
                let txn = storage::begin_write(db).await?;
                let mut row: webhook::ActiveModel = hook.into();
                row.enabled = Set(false);
                row.consecutive_failures = Set(failures);
                row.updated_at = Set(chrono::Utc::now());
                row.update(&txn).await?;
                let mut outbox = Outbox::new(&pool);
                outbox.record(&txn, "webhook:disabled", None, data).await?;
                txn.commit().await?;
                bus.publish(outbox);
            }
            finish(db, d, status, "failed", error, Some(attempts)).await
        }
    }
}

async fn reset_failures(db: &DatabaseConnection, hook: &webhook::Model, failures: i32) -> AppResult<()> {
    if hook.consecutive_failures != failures {
        let mut row: webhook::ActiveModel = hook.clone().into();
        row.consecutive_failures = Set(failures);
        row.update(db).await?;
    }
    Ok(())
}

async fn finish(db: &DatabaseConnection, d: delivery::Model, status: Option<i32>, state: &str, error: Option<String>, attempts: Option<i32>) -> AppResult<()> {
    let mut row: delivery::ActiveModel = d.into();
    row.status = Set(state.into());
    row.lease_until = Set(None);
    if let Some(a) = attempts {
        row.attempts = Set(a);
    }
    row.last_status_code = Set(status);
    row.last_error = Set(error);
    row.updated_at = Set(chrono::Utc::now());
    row.update(db).await?;
    Ok(())
}

async fn log_attempt(db: &DatabaseConnection, delivery_id: &str, a: &Attempt) -> AppResult<()> {
    delivery_attempt::ActiveModel {
        id: Set(ids::new_id()),
        delivery_id: Set(delivery_id.to_string()),
        attempted_at: Set(chrono::Utc::now()),
        request_headers: Set(a.request_headers.clone()),
        request_body: Set(a.request_body.clone()),
        response_status: Set(a.response_status.map(i32::from)),
        response_headers: Set(a.response_headers.clone()),
        response_body: Set(a.response_body.clone()),
        duration_ms: Set(a.duration_ms),
        error: Set(a.error.clone()),
    }
    .insert(db)
    .await?;
    Ok(())
}

#[derive(FromQueryResult)]
struct DueProbe {
    #[allow(dead_code)]
    id: String,
}
