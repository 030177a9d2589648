//! The delivery worker: claims due deliveries (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
//! several instances share the work and none sends a delivery another holds), sends them, logs
//! each attempt, and schedules the next one with exponential backoff and jitter. A claim is a
//! lease: deliveries of a worker killed mid-send are taken again when it runs out.
//!
//! It is a pipeline, so that the database costs a few statements per batch rather than per
//! delivery, and a slow receiver holds only its own send slot:
//! - the claimer takes as many due deliveries as there are free send slots (`--webhook-concurrency`),
//!   in one statement, and reads their webhooks and events in one query each; so nothing claimed
//!   waits for a slot, and a lease only ever covers a request in flight;
//! - each send runs in its own task holding a slot, and hands its outcome to the recorder;
//! - the recorder writes whatever outcomes have arrived in one transaction (attempt log rows in
//!   one INSERT, the succeeded deliveries in one UPDATE); the rare final failures, which may
//!   disable a webhook and record an event, each take the single-delivery path.

use std::{collections::HashMap, sync::Arc, time::Duration};

use entity::{delivery::{self, DeliveryStatus}, delivery_attempt, event, webhook};
use rand::Rng;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, Value,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast::error::TryRecvError, mpsc};
use tokio_util::sync::CancellationToken;

use super::sender::{Attempt, Sender};
use crate::{
    config::WebhookConfig,
    domain::{PoolId, events::{DomainEvent, WebhookRef}, webhooks::due::{IN_ENTITY_ORDER, due_condition, hold_behind, pending_and_due}, write::Writer},
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

/// Most outcomes the recorder writes in one transaction.
const RECORD_BATCH: usize = 512;

/// What became of one claimed delivery.
enum Outcome {
    /// A request was sent; `attempt` is what went and came back.
    Sent { d: delivery::Model, hook: Arc<webhook::Model>, attempt: Attempt },
    /// Nothing to send: the webhook or the event is gone, or the webhook is disabled.
    Dropped { d: delivery::Model, why: &'static str },
}

/// Deliver until `stop` is cancelled; the requests in flight finish and are recorded first.
pub async fn run(writer: Writer, sender: Sender, cfg: WebhookConfig, metrics: Arc<Metrics>, stop: CancellationToken) {
    let mut events = writer.bus().subscribe();
    let concurrency = cfg.concurrency.clamp(1, 100_000) as usize;
    let slots = Arc::new(Semaphore::new(concurrency));
    let (done, outcomes) = mpsc::channel::<Outcome>(concurrency.max(RECORD_BATCH));
    let recorder = tokio::spawn(record_outcomes(writer.clone(), cfg.clone(), outcomes));
    // After a claim that came back short the queue is empty: look with a cheap read before
    // claiming again, so an idle worker takes no write lock.
    let mut idle = true;
    let mut lease_checked: Option<tokio::time::Instant> = None;
    loop {
        // With a backlog, wait for half the slots: claims of one or two deliveries each would
        // cost a write transaction per delivery again. Otherwise one free slot will do.
        let batch = if idle { 1 } else { concurrency.div_ceil(2) as u32 };
        let first = tokio::select! {
            permits = slots.clone().acquire_many_owned(batch) => match permits { Ok(p) => p, Err(_) => break },
            () = stop.cancelled() => break,
        };
        let mut held = vec![first];
        while let Ok(p) = slots.clone().try_acquire_owned() {
            held.push(p);
        }
        let held = one_each(held);
        let wanted = held.len();
        let expired = lease_checked.is_none_or(|t| t.elapsed() >= LEASE_CHECK);
        if expired {
            lease_checked = Some(tokio::time::Instant::now());
        }
        match claim(&writer, wanted as u64, lease_secs(&cfg), idle, expired).await {
            Ok(claimed) => {
                let full = claimed.len() == wanted;
                dispatch(&writer, &sender, &metrics, &done, claimed, held).await;
                if full {
                    idle = false;
                    continue; // more may be due
                }
            }
            Err(e) => tracing::warn!(error = %e, "claiming webhook deliveries failed"),
        }
        idle = true;
        // Sleep until the next poll, or until an event commits (in this instance, or in
        // another one on PostgreSQL, relayed by NOTIFY).
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(cfg.poll_ms.max(10))) => {}
            _ = events.recv() => {}
            () = stop.cancelled() => break,
        }
        // One claim covers every event committed so far.
        while !matches!(events.try_recv(), Err(TryRecvError::Empty | TryRecvError::Closed)) {}
    }
    // Let the sends in flight finish (each holds a slot until its outcome is queued), then the
    // recorder write what is queued.
    let _all = slots.acquire_many(concurrency as u32).await;
    drop(done);
    if let Err(e) = recorder.await {
        tracing::warn!(error = %e, "the webhook delivery recorder stopped");
    }
}

/// On PostgreSQL, commit the worker's bookkeeping without waiting for the disk. Losing it in a
/// crash is what a lease is for: a lost claim leaves the delivery pending, a lost outcome leaves
/// it delivering until its lease ends; either way it is sent again (at least once, same
/// `webhook-id`). Events and their deliveries are never written this way.
async fn relaxed_commit(txn: &impl ConnectionTrait) -> AppResult<()> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        sql::exec(txn, "SET LOCAL synchronous_commit TO OFF", vec![]).await?;
    }
    Ok(())
}

/// Permits of one slot each, one per delivery sent.
fn one_each(held: Vec<OwnedSemaphorePermit>) -> Vec<OwnedSemaphorePermit> {
    let mut single = Vec::with_capacity(held.len());
    for mut permit in held {
        while permit.num_permits() > 1 {
            match permit.split(1) {
                Some(one) => single.push(one),
                None => break,
            }
        }
        single.push(permit);
    }
    single
}

/// How often the claims also look for deliveries whose lease ended (their worker died): rarely
/// enough to cost nothing, often enough next to a lease of 2 × timeout + 5 s.
const LEASE_CHECK: Duration = Duration::from_secs(1);

/// Take up to `limit` due deliveries under a lease, in one transaction: pending ones, oldest first
/// (an ordered index range, so a claim costs the same however long the queue is: a condition with
/// OR would make PostgreSQL scan and sort the whole queue), then, with `expired`, those whose
/// lease ended. With `probe`, a cheap read first: an idle worker takes no write lock.
async fn claim(writer: &Writer, limit: u64, lease_secs: i64, probe: bool, expired: bool) -> AppResult<Vec<delivery::Model>> {
    let db = writer.db();
    let now = chrono::Utc::now();
    if probe {
        let due: Option<String> = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .filter(if expired { due_condition(now) } else { pending_and_due(now) })
            .into_tuple()
            .one(db)
            .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
    }
    let lease = now + chrono::Duration::seconds(lease_secs);
    // On PostgreSQL the ids are taken into an array first: `id IN (SELECT …)` may be planned as
    // a hash semi-join over a sequential scan of the whole table, history included (seen with
    // tens of thousands of rows: most of a claim's time); `= ANY(ARRAY(…))` always reads the
    // chosen rows by primary key.
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    let take = |condition: &str, order: &str| {
        let due = format!("SELECT id FROM delivery WHERE {condition} ORDER BY {order} LIMIT $3");
        let chosen = if postgres { format!("= ANY(ARRAY({due} FOR UPDATE SKIP LOCKED))") } else { format!("IN ({due})") };
        format!("UPDATE delivery SET status = $4, lease_until = $1, updated_at = $2 WHERE id {chosen} RETURNING *")
    };
    let pending = take(&format!("status = $5 AND next_attempt_at <= $2 AND {IN_ENTITY_ORDER}"), "next_attempt_at");
    let ended = take("status = $4 AND lease_until < $2", "lease_until");
    writer
        .write_plain(crate::domain::Actor::SYSTEM, async |txn| {
            relaxed_commit(txn).await?;
            let values = |limit: u64| vec![
                Value::from(lease),
                Value::from(now),
                Value::from(limit as i64),
                DeliveryStatus::Delivering.to_value().into(),
                DeliveryStatus::Pending.to_value().into(),
            ];
            let mut claimed = delivery::Model::find_by_statement(storage::sql::statement(txn, &pending, values(limit))).all(txn).await?;
            let room = limit.saturating_sub(claimed.len() as u64);
            if expired && room > 0 {
                let stmt = storage::sql::statement(txn, &ended, values(room));
                claimed.extend(delivery::Model::find_by_statement(stmt).all(txn).await?);
            }
            Ok(claimed)
        })
        .await
}

/// Start a send for each claimed delivery, each holding one of `slots`. The webhooks and events
/// of the batch are read in one query each.
async fn dispatch(
    writer: &Writer,
    sender: &Sender,
    metrics: &Arc<Metrics>,
    done: &mpsc::Sender<Outcome>,
    claimed: Vec<delivery::Model>,
    slots: Vec<OwnedSemaphorePermit>,
) {
    if claimed.is_empty() {
        return;
    }
    let (hooks, events) = match load(writer, &claimed).await {
        Ok(found) => found,
        Err(e) => {
            // The leases run out and the deliveries are taken again.
            tracing::warn!(error = %e, "reading the webhooks and events of claimed deliveries failed");
            return;
        }
    };
    // `slots` beyond the claimed deliveries are released as the iterator drops.
    for (d, slot) in claimed.into_iter().zip(slots) {
        let hook = hooks.get(&d.webhook_id).cloned();
        let event = events.get(&d.event_id).cloned();
        let (hook, event) = match (hook, event) {
            (Some(hook), Some(event)) if hook.enabled => (hook, event),
            (Some(_), Some(_)) => {
                let _ = done.send(Outcome::Dropped { d, why: "the webhook is disabled" }).await;
                continue;
            }
            _ => {
                let _ = done.send(Outcome::Dropped { d, why: "the webhook or the event no longer exists" }).await;
                continue;
            }
        };
        let (sender, metrics, done) = (sender.clone(), metrics.clone(), done.clone());
        tokio::spawn(async move {
            // The event's id is the message's (`webhook-id`): the same for every webhook and
            // every retry, and the cursor every event stream resumes from.
            let attempt = sender.send(&hook, &d.event_id, &event.event_name, &event.data).await;
            let outcome = if attempt.succeeded() { "succeeded" } else { "failed" };
            metrics.webhook_attempts.get_or_create(&OutcomeLabels { outcome }).inc();
            // The slot is freed once the outcome is queued: a recorder that falls behind slows
            // the claims down.
            let _ = done.send(Outcome::Sent { d, hook, attempt }).await;
            drop(slot);
        });
    }
}

type ById<T> = HashMap<String, Arc<T>>;

async fn load(writer: &Writer, claimed: &[delivery::Model]) -> AppResult<(ById<webhook::Model>, ById<event::Model>)> {
    let mut hook_ids: Vec<&str> = claimed.iter().map(|d| d.webhook_id.as_str()).collect();
    hook_ids.sort_unstable();
    hook_ids.dedup();
    // Deduplicated: with several webhooks, one event is in many deliveries, and a list with
    // repeats makes PostgreSQL misjudge how many rows it matches and scan the whole table.
    let mut event_ids: Vec<&str> = claimed.iter().map(|d| d.event_id.as_str()).collect();
    event_ids.sort_unstable();
    event_ids.dedup();
    let hooks = webhook::Entity::find().filter(webhook::Column::Id.is_in(hook_ids)).all(writer.db()).await?;
    let events = event::Entity::find().filter(event::Column::Id.is_in(event_ids)).all(writer.db()).await?;
    Ok((
        hooks.into_iter().map(|h| (h.id.clone(), Arc::new(h))).collect(),
        events.into_iter().map(|e| (e.id.clone(), Arc::new(e))).collect(),
    ))
}

/// Write outcomes as they arrive, those that arrived together in one transaction.
async fn record_outcomes(writer: Writer, cfg: WebhookConfig, mut outcomes: mpsc::Receiver<Outcome>) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while outcomes.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        // Final failures may disable a webhook (and record an event): each takes its own
        // transaction; the rest, nearly always all of them, share one.
        let (single, shared): (Vec<Outcome>, Vec<Outcome>) = batch.drain(..).partition(|o| match o {
            Outcome::Dropped { .. } => true,
            Outcome::Sent { d, attempt, .. } => !attempt.succeeded() && retry_wait(&cfg, d).is_none(),
        });
        if !shared.is_empty() {
            let n = shared.len();
            let recorded = writer
                .write_plain(crate::domain::Actor::SYSTEM, async |txn| {
                    relaxed_commit(txn).await?;
                    record_batch(txn, &cfg, &shared).await
                })
                .await;
            if let Err(e) = recorded {
                // One row may stand in the way (say its webhook was deleted meanwhile): record
                // them one by one instead.
                tracing::debug!(error = %e, n, "recording a batch of deliveries failed; recording them one by one");
                for o in shared {
                    record_single(&writer, &cfg, o).await;
                }
            }
        }
        for o in single {
            record_single(&writer, &cfg, o).await;
        }
    }
}

async fn record_single(writer: &Writer, cfg: &WebhookConfig, outcome: Outcome) {
    let result = match outcome {
        Outcome::Dropped { d, why } => {
            let pool = PoolId::trusted(d.user_pool_id.clone());
            writer.write(&pool, async |txn, _| finish(txn, d, None, DeliveryStatus::Failed, Some(why.into()), None).await).await
        }
        Outcome::Sent { d, hook, attempt } => record_sent(writer, cfg, d, &hook, &attempt).await,
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "recording a webhook delivery failed");
    }
}

/// When a failed delivery is tried again, if it is.
fn retry_wait(cfg: &WebhookConfig, d: &delivery::Model) -> Option<f64> {
    cfg.retry_schedule_secs.get(d.attempts as usize).copied()
}

/// Successes and retries: every attempt logged in one INSERT, the successes in one UPDATE per
/// status code, the webhooks that succeeded reset to no failures in a row, retries rescheduled
/// (each its own time).
async fn record_batch(txn: &impl ConnectionTrait, cfg: &WebhookConfig, outcomes: &[Outcome]) -> AppResult<()> {
    let sent: Vec<(&delivery::Model, &webhook::Model, &Attempt)> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Sent { d, hook, attempt } => Some((d, hook.as_ref(), attempt)),
            Outcome::Dropped { .. } => None,
        })
        .collect();
    // A delivery deleted meanwhile (with its webhook) gets no log row: the foreign key would
    // refuse it.
    let ids: Vec<&str> = sent.iter().map(|(d, _, _)| d.id.as_str()).collect();
    let present: Vec<String> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::Id.is_in(ids))
        .into_tuple()
        .all(txn)
        .await?;
    let present: std::collections::HashSet<String> = present.into_iter().collect();
    let now = chrono::Utc::now();
    let rows: Vec<delivery_attempt::ActiveModel> =
        sent.iter().filter(|(d, _, _)| present.contains(&d.id)).map(|(d, _, a)| attempt_row(&d.id, a, now)).collect();
    if !rows.is_empty() {
        delivery_attempt::Entity::insert_many(rows).exec(txn).await?;
    }
    let mut succeeded: HashMap<Option<i32>, Vec<&str>> = HashMap::new();
    let mut hooks: Vec<&str> = Vec::new();
    for (d, hook, a) in &sent {
        if a.succeeded() {
            succeeded.entry(a.response_status.map(i32::from)).or_default().push(&d.id);
            hooks.push(&hook.id);
        } else if let Some(wait) = retry_wait(cfg, d) {
            reschedule(txn, d, a, wait).await?;
        }
    }
    for (status, ids) in succeeded {
        let mut values = vec![
            DeliveryStatus::Succeeded.to_value().into(),
            Value::from(status),
            Value::from(now),
        ];
        values.extend(sql::strings(&ids));
        let sql = format!(
            "UPDATE delivery SET status = $1, lease_until = NULL, attempts = attempts + 1, last_status_code = $2,
                                 last_error = NULL, updated_at = $3
             WHERE id IN ({})",
            sql::placeholders(4, ids.len()));
        sql::exec(txn, &sql, values).await?;
    }
    if !hooks.is_empty() {
        hooks.sort_unstable(); // the same lock order in every instance
        hooks.dedup();
        let sql = format!("UPDATE webhook SET consecutive_failures = 0 WHERE id IN ({}) AND consecutive_failures <> 0", sql::placeholders(1, hooks.len()));
        sql::exec(txn, &sql, sql::strings(&hooks)).await?;
    }
    Ok(())
}

/// Schedule the next attempt of a failed delivery, `wait` seconds (±20%) from now.
async fn reschedule(txn: &impl ConnectionTrait, d: &delivery::Model, attempt: &Attempt, wait: f64) -> AppResult<()> {
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    let next = chrono::Utc::now() + chrono::Duration::milliseconds((wait * jitter * 1000.0) as i64);
    let mut row: delivery::ActiveModel = d.clone().into();
    row.status = Set(DeliveryStatus::Pending);
    row.attempts = Set(d.attempts + 1);
    row.next_attempt_at = Set(next);
    row.lease_until = Set(None);
    row.last_status_code = Set(attempt.response_status.map(i32::from));
    row.last_error = Set(failure_text(attempt));
    row.updated_at = Set(chrono::Utc::now());
    row.update(txn).await?;
    hold_behind(txn, d, next).await
}

fn failure_text(attempt: &Attempt) -> Option<String> {
    attempt.error.clone().or_else(|| attempt.response_status.map(|s| format!("answered HTTP {s}")))
}

/// One sent delivery in its own transaction: the path of final failures (and of a batch that
/// could not be written).
async fn record_sent(writer: &Writer, cfg: &WebhookConfig, d: delivery::Model, hook: &webhook::Model, attempt: &Attempt) -> AppResult<()> {
    let pool = PoolId::trusted(d.user_pool_id.clone());
    let attempts = d.attempts + 1;
    let status = attempt.response_status.map(i32::from);
    writer
        .write(&pool, async |txn, outbox| {
            log_attempt(txn, &d.id, attempt).await?;
            if attempt.succeeded() {
                sql::exec(txn, "UPDATE webhook SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures <> 0", vec![hook.id.clone().into()]).await?;
                return finish(txn, d, status, DeliveryStatus::Succeeded, None, Some(attempts)).await;
            }
            if let Some(wait) = retry_wait(cfg, &d) {
                return reschedule(txn, &d, attempt, wait).await;
            }
            let error = failure_text(attempt);
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
    attempt_row(delivery_id, a, chrono::Utc::now()).insert(db).await?;
    Ok(())
}

/// The log row of one request.
fn attempt_row(delivery_id: &str, a: &Attempt, at: chrono::DateTime<chrono::Utc>) -> delivery_attempt::ActiveModel {
    delivery_attempt::ActiveModel {
        id: Set(ids::new_id()),
        delivery_id: Set(delivery_id.to_string()),
        attempted_at: Set(at),
        request_headers: Set(a.request_headers.clone()),
        request_body: Set(a.request_body.clone()),
        response_status: Set(a.response_status.map(i32::from)),
        response_headers: Set(a.response_headers.clone()),
        response_body: Set(a.response_body.clone()),
        duration_ms: Set(a.duration_ms),
        error: Set(a.error.clone()),
    }
}
