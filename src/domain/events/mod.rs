//! Events: every change writes its events to the outbox table (`event`) in its own
//! transaction, and after the commit hands them to the in-process bus, from which subscribers
//! read them live. A failed change writes and publishes nothing.

pub mod catalog;

use std::sync::Arc;

use entity::event;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use tokio::sync::broadcast;

use super::PoolId;
use crate::{
    error::{AppError, AppResult},
    ids,
};

/// Largest `data` of a published event, serialised.
pub const MAX_DATA_BYTES: usize = 64 * 1024;

/// Committed events, to every live subscriber of this process.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<event::Model>>,
}

impl Default for EventBus {
    fn default() -> Self {
        // A subscriber that falls this far behind is told it lagged (and can resume with
        // `after`), instead of slowing the writers.
        let (tx, _) = broadcast::channel(4096);
        EventBus { tx }
    }
}

impl EventBus {
    /// Hand the events of a committed transaction to the live subscribers.
    pub fn publish(&self, outbox: Outbox) {
        for e in outbox.events {
            let _ = self.tx.send(Arc::new(e));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<event::Model>> {
        self.tx.subscribe()
    }
}

/// The events one transaction writes; publish them on the bus once it has committed.
pub struct Outbox {
    pool: PoolId,
    events: Vec<event::Model>,
    /// The pool's enabled webhooks, read once per transaction however many events it writes.
    hooks: Option<Vec<(String, Value)>>,
}

impl Outbox {
    pub fn new(pool: &PoolId) -> Self {
        Outbox { pool: pool.clone(), events: Vec::new(), hooks: None }
    }

    /// Write one event in the caller's transaction.
    pub async fn record(&mut self, db: &impl ConnectionTrait, name: &str, org_id: Option<&str>, data: Value) -> AppResult<()> {
        let row = event::ActiveModel {
            id: Set(ids::new_id()),
            user_pool_id: Set(self.pool.as_str().to_string()),
            event_name: Set(name.to_string()),
            org_id: Set(org_id.map(str::to_string)),
            data: Set(data),
            created_at: Set(chrono::Utc::now()),
        }
        .insert(db)
        .await?;
        if self.hooks.is_none() {
            self.hooks = Some(crate::domain::webhooks::enabled_hooks(db, &self.pool).await?);
        }
        crate::domain::webhooks::enqueue(db, &self.pool, self.hooks.as_deref().unwrap_or_default(), &row.id, name).await?;
        // PostgreSQL delivers a NOTIFY at commit, and only then: other instances learn of the
        // event exactly when it becomes visible (the payload is just the id; see cross_instance).
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            crate::storage::sql::exec(db, "SELECT pg_notify($1, $2)", vec![NOTIFY_CHANNEL.into(), row.id.clone().into()]).await?;
        }
        self.events.push(row);
        Ok(())
    }
}

/// The PostgreSQL channel on which committed event ids are announced.
pub const NOTIFY_CHANNEL: &str = "orgraph_events";

/// On PostgreSQL, relay the events other instances commit to this instance's bus: LISTEN on
/// [`NOTIFY_CHANNEL`], read each announced event from the outbox. Runs until the process ends,
/// reconnecting after errors (subscribers that resume with `after` cover what a reconnect
/// missed).
pub fn spawn_cross_instance_relay(url: String, db: DatabaseConnection, bus: EventBus) {
    tokio::spawn(async move {
        loop {
            match relay(&url, &db, &bus).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "event relay (LISTEN {NOTIFY_CHANNEL}) failed; reconnecting in 1 s");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    });
}

async fn relay(url: &str, db: &DatabaseConnection, bus: &EventBus) -> anyhow::Result<()> {
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    loop {
        let note = listener.recv().await?;
        if let Some(e) = event::Entity::find_by_id(note.payload().to_string()).one(db).await? {
            let _ = bus.tx.send(Arc::new(e));
        }
    }
}

/// Which events to list or stream.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub names: Option<Vec<String>>,
    pub org_id: Option<String>,
}

impl EventFilter {
    pub fn matches(&self, pool: &PoolId, e: &event::Model) -> bool {
        e.user_pool_id == pool.as_str()
            && self.names.as_ref().is_none_or(|n| n.iter().any(|n| n == &e.event_name))
            && self.org_id.as_ref().is_none_or(|o| e.org_id.as_deref() == Some(o.as_str()))
    }
}

#[derive(Clone)]
pub struct EventService {
    db: DatabaseConnection,
    pub bus: EventBus,
}

impl EventService {
    pub fn new(db: DatabaseConnection, bus: EventBus) -> Self {
        Self { db, bus }
    }

    /// Events of the pool after the event id `after` (from the oldest when absent), oldest
    /// first, at most `first`.
    pub async fn list(&self, pool: &PoolId, after: Option<&str>, filter: &EventFilter, first: u64) -> AppResult<Vec<event::Model>> {
        let mut q = event::Entity::find().filter(event::Column::UserPoolId.eq(pool.as_str()));
        if let Some(after) = after.filter(|a| !a.is_empty()) {
            q = q.filter(event::Column::Id.gt(after));
        }
        if let Some(names) = &filter.names {
            q = q.filter(event::Column::EventName.is_in(names.clone()));
        }
        if let Some(org) = &filter.org_id {
            q = q.filter(event::Column::OrgId.eq(org.as_str()));
        }
        Ok(q.order_by_asc(event::Column::Id).limit(first).all(&self.db).await?)
    }

    /// Publish an event of the catalog on behalf of a system in front of orgraph.
    pub async fn publish(&self, pool: &PoolId, name: &str, data: Value) -> AppResult<event::Model> {
        if !catalog::is_known(name) {
            return Err(AppError::invalid("eventName", format!("{name:?} is not an event name; see webhookEventList")));
        }
        if !data.is_object() {
            return Err(AppError::invalid("data", "data must be a JSON object"));
        }
        if data.to_string().len() > MAX_DATA_BYTES {
            return Err(AppError::invalid("data", format!("data is larger than {MAX_DATA_BYTES} bytes")));
        }
        let org_id = data.pointer("/organization/id").and_then(Value::as_str).map(str::to_string);
        let txn = crate::storage::begin_write(&self.db).await?;
        let mut outbox = Outbox::new(pool);
        outbox.record(&txn, name, org_id.as_deref(), data).await?;
        txn.commit().await?;
        let event = outbox.events.first().cloned().ok_or_else(|| AppError::internal(anyhow::anyhow!("event not recorded")))?;
        self.bus.publish(outbox);
        Ok(event)
    }
}
