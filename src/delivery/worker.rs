//! The delivery worker: claims due deliveries (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
//! several instances share the work and none sends a delivery another holds), sends them, logs
//! each attempt, and schedules the next one with exponential backoff and jitter. A claim is a
//! lease: deliveries of a worker killed mid-send are taken again when it runs out.

use std::{sync::Arc, time::Duration};

use entity::{delivery::{self, DeliveryStatus}, delivery_attempt, event, webhook};
use rand::Rng;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, Value,
};
use tokio_util::sync::CancellationToken;

use super::sender::{Attempt, Sender};
use crate::{
    config::WebhookConfig,
    domain::{PoolId, events::{DomainEvent, WebhookRef}, write::Writer},
    error::AppResult,
    ids,
    metrics::{Metrics, OutcomeLabels},
    storage::{self, sql},
};

/// How long a claim holds a delivery: past the request timeout, so a live worker never loses
/// it, yet short, so a killed worker's deliveries are taken again soon.
fn lease_secs(cfg: &WebhookConfig) -> i64 {
    cfg.timeout_secs as i64 * 2 + 5
}

/// Deliver until `stop` is cancelled; a round in progress finishes first.
pub async fn run(writer: Writer, sender: Sender, cfg: WebhookConfig, metrics: Arc<Metrics>, stop: CancellationToken) {
    let mut events = writer.bus().subscribe();
    loop {
        match run_once(&writer, &sender, &cfg, &metrics).await {
            Ok(n) if n > 0 && !stop.is_cancelled() => continue, // more may be due
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook delivery round failed"),
        }
        // Sleep until the next poll, or until this instance commits an event.
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(cfg.poll_ms.max(10))) => {}
            _ = events.recv() => {}
            () = stop.cancelled() => return,
        }
    }
}

/// Claim and send one batch; returns how many were claimed.
pub async fn run_once(writer: &Writer, sender: &Sender, cfg: &WebhookConfig, metrics: &Metrics) -> AppResult<usize> {
    let claimed = claim(writer, cfg.concurrency.max(1), lease_secs(cfg)).await?;
    let n = claimed.len();
    let sends = claimed.into_iter().map(|d| deliver(writer, sender, cfg, metrics, d));
    for result in futures_util::future::join_all(sends).await {
        if let Err(e) = result {
            tracing::warn!(error = %e, "recording a webhook delivery failed");
        }
    }
    Ok(n)
}

/// Deliveries a worker may take at `now`: pending and due, or delivering under an ended lease
/// (its instance died).
pub fn due_condition(now: chrono::DateTime<chrono::Utc>) -> Condition {
    Condition::any()
        .add(Condition::all().add(delivery::Column::Status.eq(DeliveryStatus::Pending)).add(delivery::Column::NextAttemptAt.lte(now)))
        .add(Condition::all().add(delivery::Column::Status.eq(DeliveryStatus::Delivering)).add(delivery::Column::LeaseUntil.lt(now)))
}

async fn claim(writer: &Writer, limit: u64, lease_secs: i64) -> AppResult<Vec<delivery::Model>> {
    let db = writer.db();
    let now = chrono::Utc::now();
    // A cheap read first: an idle worker takes no write lock.
    let due: Option<String> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(due_condition(now))
        .into_tuple()
        .one(db)
        .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let lease = now + chrono::Duration::seconds(lease_secs);
    let skip_locked = if db.get_database_backend() == DatabaseBackend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE delivery SET status = $4, lease_until = $1, updated_at = $2
         WHERE id IN (SELECT id FROM delivery
                      WHERE (status = $5 AND next_attempt_at <= $2) OR (status = $4 AND lease_until < $2)
                      ORDER BY next_attempt_at LIMIT $3 {skip_locked})
         RETURNING *");
    writer
        .write_plain(async |txn| {
            let stmt = storage::sql::statement(txn, &sql, vec![
                Value::from(lease),
                Value::from(now),
                Value::from(limit as i64),
                DeliveryStatus::Delivering.to_value().into(),
                DeliveryStatus::Pending.to_value().into(),
            ]);
            Ok(delivery::Model::find_by_statement(stmt).all(txn).await?)
        })
        .await
}

async fn deliver(writer: &Writer, sender: &Sender, cfg: &WebhookConfig, metrics: &Metrics, d: delivery::Model) -> AppResult<()> {
    let db = writer.db();
    let pool = PoolId::trusted(d.user_pool_id.clone());
    let hook = webhook::Entity::find_by_id(d.webhook_id.clone()).one(db).await?;
    let event = event::Entity::find_by_id(d.event_id.clone()).one(db).await?;
    let (Some(hook), Some(event)) = (hook, event) else {
        return writer.write(&pool, async |txn, _| finish(txn, d, None, DeliveryStatus::Failed, Some("the webhook or the event no longer exists".into()), None).await).await;
    };
    if !hook.enabled {
        return writer.write(&pool, async |txn, _| finish(txn, d, None, DeliveryStatus::Failed, Some("the webhook is disabled".into()), None).await).await;
    }
    let attempt = sender.send(&hook, &d.id, &event.event_name, &event.data).await;
    let outcome = if attempt.succeeded() { "succeeded" } else { "failed" };
    metrics.webhook_attempts.get_or_create(&OutcomeLabels { outcome }).inc();
    let attempts = d.attempts + 1;
    let status = attempt.response_status.map(i32::from);
    writer
        .write(&pool, async |txn, outbox| {
            log_attempt(txn, &d.id, &attempt).await?;
            if attempt.succeeded() {
                sql::exec(txn, "UPDATE webhook SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures <> 0", vec![hook.id.clone().into()]).await?;
                return finish(txn, d, status, DeliveryStatus::Succeeded, None, Some(attempts)).await;
            }
            let error = attempt.error.clone().or_else(|| attempt.response_status.map(|s| format!("answered HTTP {s}")));
            if let Some(wait) = cfg.retry_schedule_secs.get(d.attempts as usize) {
                let jitter = rand::thread_rng().gen_range(0.8..1.2);
                let next = chrono::Utc::now() + chrono::Duration::milliseconds((wait * jitter * 1000.0) as i64);
                let mut row: delivery::ActiveModel = d.into();
                row.status = Set(DeliveryStatus::Pending);
                row.attempts = Set(attempts);
                row.next_attempt_at = Set(next);
                row.lease_until = Set(None);
                row.last_status_code = Set(status);
                row.last_error = Set(error);
                row.updated_at = Set(chrono::Utc::now());
                row.update(txn).await?;
                return Ok(());
            }
            // The delivery failed for good: count it in SQL (several deliveries of one webhook
            // finish at once), and let exactly one of them disable the webhook.
            let failures: Vec<FailureCount> = sql::all(txn,
                "UPDATE webhook SET consecutive_failures = consecutive_failures + 1 WHERE id = $1 RETURNING consecutive_failures",
                vec![hook.id.clone().into()]).await?;
            let failures = failures.first().map_or(0, |f| f.consecutive_failures);
            if failures >= cfg.max_consecutive_failures {
                let disabled = sql::exec(txn,
                    "UPDATE webhook SET enabled = $1, updated_at = $2 WHERE id = $3 AND enabled = $4",
                    vec![false.into(), chrono::Utc::now().into(), hook.id.clone().into(), true.into()]).await?;
                if disabled > 0 {
                    tracing::warn!(webhook = %hook.id, failures, "webhook disabled after consecutive failed deliveries");
                    outbox.record(DomainEvent::WebhookDisabled {
                        webhook: WebhookRef { id: hook.id.clone(), name: hook.name.clone(), url: hook.url.clone() },
                        consecutive_failures: failures,
                    });
                }
            }
            finish(txn, d, status, DeliveryStatus::Failed, error, Some(attempts)).await
        })
        .await
}

#[derive(FromQueryResult)]
struct FailureCount {
    consecutive_failures: i32,
}

async fn finish(db: &impl ConnectionTrait, d: delivery::Model, status: Option<i32>, state: DeliveryStatus, error: Option<String>, attempts: Option<i32>) -> AppResult<()> {
    let mut row: delivery::ActiveModel = d.into();
    row.status = Set(state);
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

async fn log_attempt(db: &impl ConnectionTrait, delivery_id: &str, a: &Attempt) -> AppResult<()> {
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
