//! Events: every change writes its events to the outbox table (`event`) in its own
//! transaction, and after the commit hands them to the in-process bus, from which subscribers
//! read them live. A failed change writes and publishes nothing.

pub mod catalog;
pub mod custom;
pub mod live;
pub mod payload;
pub mod subtree;

pub use catalog::EventName;
pub use custom::KnownName;
pub use live::LiveEvents;
pub use payload::{DomainEvent, WebhookRef};

use std::sync::Arc;

use entity::event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde_json::Value;
use tokio::sync::broadcast;

use super::PoolId;
use crate::{
    domain::write::Writer,
    error::{AppError, AppResult},
    ids,
    storage::sql,
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
        // A subscriber that falls this far behind is told it lagged (and catches up from the
        // outbox, see `live`), instead of slowing the writers or making the bus buffer more.
        let (tx, _) = broadcast::channel(4096);
        EventBus { tx }
    }
}

impl EventBus {
    /// Hand the events of a committed transaction to the live subscribers.
    pub fn publish(&self, events: Vec<event::Model>) {
        for e in events {
            let _ = self.tx.send(Arc::new(e));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<event::Model>> {
        self.tx.subscribe()
    }
}

/// The events one transaction records. They are written when the transaction is about to
/// commit ([`Outbox::flush`]), which numbers them in commit order.
pub struct Outbox {
    pool: PoolId,
    pending: Vec<event::Model>,
    /// What puts each pending event inside subtrees (its `scope` is read at flush).
    scopes: Vec<subtree::ScopeOf>,
}

/// PostgreSQL advisory lock that orders event writers: held from numbering a transaction's events
/// to its commit, so `seq` order is commit order and a reader paging by `seq` never skips an event
/// that commits late. (SQLite writers are serialised anyway.)
pub const EVENT_ORDER_LOCK: i64 = 0x6f72_6772_6170_6801; // "orgraph" + 1

/// Most ids in one NOTIFY payload (each 32 characters; payloads must stay under 8,000 bytes).
const IDS_PER_NOTIFY: usize = 200;

impl Outbox {
    pub fn new(pool: &PoolId) -> Self {
        Outbox { pool: pool.clone(), pending: Vec::new(), scopes: Vec::new() }
    }

    /// Record one event of this transaction.
    pub fn record(&mut self, event: DomainEvent) {
        let org_id = event.org_id().map(str::to_string);
        let data = serde_json::to_value(&event).unwrap_or(Value::Null);
        self.push(event.name().as_str(), org_id.as_deref(), data, event.entity(), subtree::ScopeOf::of(&event));
    }

    /// Record an event published on behalf of another system (`publishEvent`, v3 `pub-event`): a
    /// name of the catalog or a custom type of the pool, any object as data.
    pub fn record_published(&mut self, name: impl Into<KnownName>, org_id: Option<&str>, data: Value) {
        self.push(name.into().as_str(), org_id, data, None, subtree::ScopeOf::None);
    }

    fn push(&mut self, name: &str, org_id: Option<&str>, data: Value, entity: Option<String>, scope: subtree::ScopeOf) {
        self.scopes.push(scope);
        self.pending.push(event::Model {
            id: ids::new_id(),
            seq: 0,
            user_pool_id: self.pool.as_str().to_string(),
            event_name: name.to_string(),
            org_id: org_id.map(str::to_string),
            data,
            created_at: chrono::Utc::now(),
            entity,
            scope: None,
        });
    }

    /// Write the recorded events, numbered, with their webhook deliveries, in the caller's
    /// transaction, which must commit right after. Returns the events to publish once it has.
    pub async fn flush(mut self, db: &impl ConnectionTrait) -> AppResult<Vec<event::Model>> {
        // Only a change to memberships or departments can move users into or out of subtrees;
        // one that also records no event has nothing to write.
        let moved = subtree::moved_anyone(db).await?;
        if self.pending.is_empty() && !moved {
            return Ok(Vec::new());
        }
        let postgres = db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
        // The pool's changes read their crossings and scopes one at a time, each seeing the ones
        // before it (two removals of one user's last two memberships in a subtree, committing
        // together, would otherwise each see the other membership), and after any watch that
        // committed first (see `subtree::lock_pool`).
        subtree::lock_pool(db, &self.pool).await?;
        let watched = if moved { subtree::watched_now(db, &self.pool).await? } else { Vec::new() };
        // After the change's own events: who it brought into or took out of watched subtrees
        // (also for a change that records no event of its own).
        for crossing in subtree::crossings(db, &self.pool, &watched).await? {
            self.record(crossing);
        }
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let mut events = self.pending;
        subtree::fill_scopes(db, &mut events, &self.scopes).await?;
        if postgres {
            sql::exec(db, "SELECT pg_advisory_xact_lock($1)", vec![EVENT_ORDER_LOCK.into()]).await?;
        }
        let mut next = last_seq(db).await?;
        for e in &mut events {
            next += 1;
            e.seq = next;
        }
        for chunk in events.chunks(500) {
            event::Entity::insert_many(chunk.iter().cloned().map(event::ActiveModel::from)).exec(db).await?;
        }
        crate::domain::webhooks::enqueue(db, &self.pool, &events).await?;
        // PostgreSQL delivers a NOTIFY at commit, and only then: other instances learn of the
        // events exactly when they become visible (the payload is just their ids; see relay).
        if postgres {
            for chunk in events.chunks(IDS_PER_NOTIFY) {
                let ids: Vec<&str> = chunk.iter().map(|e| e.id.as_str()).collect();
                sql::exec(db, "SELECT pg_notify($1, $2)", vec![NOTIFY_CHANNEL.into(), ids.join(",").into()]).await?;
            }
        }
        Ok(events)
    }
}

/// The number of the last event committed, of any pool (0 when none is). Under
/// [`EVENT_ORDER_LOCK`] every event numbered up to it is committed too.
pub async fn last_seq(db: &impl ConnectionTrait) -> AppResult<i64> {
    let last: Option<i64> = event::Entity::find().select_only().column_as(event::Column::Seq.max(), "m").into_tuple().one(db).await?.flatten();
    Ok(last.unwrap_or(0))
}

/// The PostgreSQL channel on which committed event ids are announced (comma-separated).
pub const NOTIFY_CHANNEL: &str = "orgraph_events";

/// The connection on which this instance hears of other instances' commits.
pub type RelayListener = sea_orm::sqlx::postgres::PgListener;

/// LISTEN on [`NOTIFY_CHANNEL`]. Returns once the LISTEN is in effect: every commit after this
/// point is announced to it. A server takes it before serving, so that no event committed
/// elsewhere after it started is missed by its subscribers.
pub async fn listen_to_other_instances(url: &str) -> anyhow::Result<RelayListener> {
    let mut listener = RelayListener::connect(url).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    Ok(listener)
}

/// On PostgreSQL, relay the events other instances commit to this instance's bus: read each
/// event announced on `listener` from the outbox. Runs until aborted, reconnecting after errors.
/// After a reconnect it publishes the last event committed again: a live stream that missed
/// events meanwhile reads them from the outbox like any gap, instead of waiting for the next
/// commit, and one that did not passes it over as already seen.
pub async fn run_cross_instance_relay(url: String, listener: RelayListener, db: DatabaseConnection, bus: EventBus) {
    let mut listener = Some(listener);
    loop {
        let result = async {
            let l = match listener.take() {
                Some(l) => l,
                None => {
                    let l = listen_to_other_instances(&url).await?;
                    publish_last(&db, &bus).await?;
                    l
                }
            };
            relay(l, &db, &bus).await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "event relay (LISTEN {NOTIFY_CHANNEL}) failed; reconnecting in 1 s");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}

/// Relay until the connection is lost (`Ok`) or reading fails (`Err`).
async fn relay(mut listener: RelayListener, db: &DatabaseConnection, bus: &EventBus) -> anyhow::Result<()> {
    // `try_recv`, not `recv`: `recv` reconnects by itself and hides that announcements were lost.
    while let Some(note) = listener.try_recv().await? {
        let ids: Vec<String> = note.payload().split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
        let events = event::Entity::find().filter(event::Column::Id.is_in(ids)).order_by_asc(event::Column::Seq).all(db).await?;
        bus.publish(events);
    }
    tracing::warn!("event relay: the connection (LISTEN {NOTIFY_CHANNEL}) was lost; reconnecting");
    Ok(())
}

/// Publish the last committed event again (see the relay's reconnect).
async fn publish_last(db: &DatabaseConnection, bus: &EventBus) -> anyhow::Result<()> {
    let last = event::Entity::find().order_by_desc(event::Column::Seq).one(db).await?;
    bus.publish(last.into_iter().collect());
    Ok(())
}

/// The position of event `id` of the pool in commit order (its `seq`), for a cursor argument
/// named `field`; `"0"` is the position before the first event.
pub async fn position(db: &impl ConnectionTrait, pool: &PoolId, field: &str, id: &str) -> AppResult<i64> {
    if id == "0" {
        return Ok(0);
    }
    event::Entity::find()
        .select_only()
        .column(event::Column::Seq)
        .filter(event::Column::UserPoolId.eq(pool.as_str()))
        .filter(event::Column::Id.eq(id))
        .into_tuple()
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid(field, format!("{id:?} is not an event id of this user pool (\"0\" starts from the first event)")))
}

/// Which events to list or stream.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub names: Option<Vec<String>>,
    pub org_id: Option<String>,
    /// Only events inside this department's subtree at commit time (`subtree`).
    pub subtree_of: Option<String>,
}

impl EventFilter {
    pub fn matches(&self, pool: &PoolId, e: &event::Model) -> bool {
        e.user_pool_id == pool.as_str()
            && self.names.as_ref().is_none_or(|n| n.iter().any(|n| n == &e.event_name))
            && self.org_id.as_ref().is_none_or(|o| e.org_id.as_deref() == Some(o.as_str()))
            && self.subtree_of.as_ref().is_none_or(|n| subtree::within(e.scope.as_deref(), n))
    }

    /// The pool's events that pass the filter, as a query (what [`Self::matches`] accepts).
    pub fn select(&self, pool: &PoolId) -> Select<event::Entity> {
        let mut q = event::Entity::find().filter(event::Column::UserPoolId.eq(pool.as_str()));
        if let Some(names) = &self.names {
            q = q.filter(event::Column::EventName.is_in(names.clone()));
        }
        if let Some(org) = &self.org_id {
            q = q.filter(event::Column::OrgId.eq(org.as_str()));
        }
        if let Some(node) = &self.subtree_of {
            q = q.filter(subtree::within_condition(node));
        }
        q
    }
}

#[derive(Clone)]
pub struct EventService {
    db: DatabaseConnection,
    writer: Writer,
    pub bus: EventBus,
}

impl EventService {
    pub fn new(writer: Writer) -> Self {
        Self { db: writer.db().clone(), bus: writer.bus().clone(), writer }
    }

    /// The position of event `id` of the pool in commit order (see [`position`]).
    pub async fn position(&self, pool: &PoolId, id: &str) -> AppResult<i64> {
        position(&self.db, pool, "after", id).await
    }

    /// The pool's events as they commit, after the event `after` or from now (see [`LiveEvents`]).
    /// With a subtree filter, the subscriber watches that subtree: its commits record who
    /// enters and leaves it (see [`subtree`]).
    pub async fn live(&self, pool: &PoolId, filter: EventFilter, after: Option<&str>) -> AppResult<LiveEvents> {
        let watch = match &filter.subtree_of {
            Some(node) => Some(subtree::Watch::start(&self.writer, pool, node).await?),
            None => None,
        };
        LiveEvents::open(&self.db, &self.bus, pool, filter, after, watch).await
    }

    /// Events of the pool committed after the one at position `after` (from the oldest when
    /// absent), in commit order, at most `first`.
    pub async fn list(&self, pool: &PoolId, after: Option<i64>, filter: &EventFilter, first: u64) -> AppResult<Vec<event::Model>> {
        let mut q = filter.select(pool);
        if let Some(after) = after {
            q = q.filter(event::Column::Seq.gt(after));
        }
        Ok(q.order_by_asc(event::Column::Seq).limit(first).all(&self.db).await?)
    }

    /// Publish an event on behalf of a system in front of orgraph: of the catalog (or its v3 name)
    /// or a custom type the pool defined. It is numbered, stored and delivered (webhooks,
    /// subscriptions, the event socket) like the events orgraph causes.
    pub async fn publish(&self, pool: &PoolId, name: &str, data: Value) -> AppResult<event::Model> {
        if !data.is_object() {
            return Err(AppError::invalid("data", "the event's data must be a JSON object"));
        }
        if data.to_string().len() > MAX_DATA_BYTES {
            return Err(AppError::invalid("data", format!("the event's data is larger than {MAX_DATA_BYTES} bytes")));
        }
        let name = self.resolve(pool, "eventName", name).await?;
        let org_id = data.pointer("/organization/id").and_then(Value::as_str).map(str::to_string);
        let events = self
            .writer
            .write_events(pool, async |_, outbox| {
                outbox.record_published(name, org_id.as_deref(), data);
                Ok(())
            })
            .await?;
        events.into_iter().next().ok_or_else(|| AppError::internal(anyhow::anyhow!("event not recorded")))
    }
}
