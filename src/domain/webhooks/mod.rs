//! Webhooks: which URL gets which of the pool's events, and the deliveries each event makes.

pub mod due;
pub mod manual;
pub mod secret;

use entity::{
    delivery::{self, DeliveryStatus},
    delivery_attempt,
    webhook::{self, ContentType},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use entity::event;

use self::secret::{generate_secret, whsec_key};
use super::{
    Kept, PoolId,
    events::custom,
    pagination::{Page, Paginated},
    validate,
    write::Writer,
};
use crate::{
    error::{AppError, AppResult},
    ids,
};

/// What a create or update sets; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    pub name: Option<String>,
    pub url: Option<String>,
    pub secret: Option<String>,
    pub content_type: Option<ContentType>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    /// A department: only the events inside its subtree (an empty one, on an update: all the
    /// pool's events again).
    pub subtree_of: Option<String>,
}

/// One request of the delivery log, with what it was about.
#[derive(Debug, Clone)]
pub struct LoggedAttempt {
    pub webhook_id: String,
    pub event_id: String,
    pub event_name: String,
    pub attempt: delivery_attempt::Model,
}

/// A webhook as a create or a rotation left it, with the secret orgraph generated for it: the one
/// answer that shows it (the secret is write-only).
#[derive(Debug, Clone)]
pub struct WithSecret {
    pub webhook: webhook::Model,
    pub generated_secret: Option<String>,
}

#[derive(Clone)]
pub struct WebhookService {
    db: DatabaseConnection,
    writer: Writer,
}

/// Only http and https URLs with a host; where they may point is checked at delivery, after
/// DNS resolution (see `delivery::guard`).
fn check_url(url: &str) -> AppResult<String> {
    let url = validate::required_text("url", url, 2048)?;
    let parsed = reqwest::Url::parse(&url).map_err(|e| AppError::invalid("url", format!("url is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(AppError::invalid("url", "url must be an http or https URL with a host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AppError::invalid("url", "url must not carry credentials; use the secret"));
    }
    Ok(url)
}

/// A given secret, trimmed; `None` when empty. A `whsec_` secret must be one the Standard
/// Webhooks libraries decode to a key of the size the spec allows; any other is used as is.
fn check_secret(secret: &str) -> AppResult<Option<String>> {
    let secret = validate::optional_text("secret", secret, 256)?;
    if let Some(Err(why)) = secret.as_deref().and_then(whsec_key) {
        return Err(AppError::invalid("secret", why));
    }
    Ok(secret)
}

/// The events a webhook subscribes to: at least one, each a catalog name (or its v3 name) or a
/// custom type of the pool; stored as the catalog names.
async fn check_events(db: &impl ConnectionTrait, pool: &PoolId, events: &[String]) -> AppResult<Vec<String>> {
    if events.is_empty() {
        return Err(AppError::invalid("events", "subscribe to at least one event"));
    }
    let known = custom::resolve_names(db, pool, "events", events).await?;
    Ok(known.iter().map(|k| k.as_str().to_string()).collect())
}

/// A webhook checked for a create (its events are checked against the pool when written).
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    pub name: String,
    pub url: String,
    /// `None`: a generated one.
    pub secret: Option<String>,
    pub content_type: ContentType,
    pub events: Vec<String>,
    pub enabled: bool,
    pub subtree_of: Option<String>,
}

/// The subtree a webhook watches: a department of the pool, or none when empty.
async fn check_subtree(db: &impl ConnectionTrait, pool: &PoolId, subtree_of: &str) -> AppResult<Option<String>> {
    let id = subtree_of.trim();
    if id.is_empty() {
        return Ok(None);
    }
    let node = crate::domain::org_tree::find_node(db, pool, id).await?;
    super::events::subtree::may_watch(db, pool, &node.id).await?;
    Ok(Some(node.id))
}

impl NewWebhook {
    pub fn check(input: WebhookInput) -> AppResult<NewWebhook> {
        let name = validate::required_text("name", input.name.as_deref().unwrap_or(""), validate::MAX_TEXT)?;
        let url = check_url(input.url.as_deref().unwrap_or(""))?;
        let secret = check_secret(input.secret.as_deref().unwrap_or(""))?;
        let events = input.events.unwrap_or_default();
        if events.is_empty() {
            return Err(AppError::invalid("events", "subscribe to at least one event"));
        }
        let content_type = input.content_type.unwrap_or(ContentType::Json);
        let subtree_of = input.subtree_of.filter(|s| !s.trim().is_empty());
        Ok(NewWebhook { name, url, secret, content_type, events, enabled: input.enabled.unwrap_or(true), subtree_of })
    }
}

/// Create a checked webhook in the caller's transaction: its events must be the catalog's or
/// the pool's custom types (those the transaction defined included).
pub async fn create_in(db: &impl ConnectionTrait, pool: &PoolId, hook: &NewWebhook, kept: &Kept) -> AppResult<WithSecret> {
    let (secret, generated_secret) = match &hook.secret {
        Some(given) => (given.clone(), None),
        None => {
            let generated = generate_secret();
            (generated.clone(), Some(generated))
        }
    };
    let events = check_events(db, pool, &hook.events).await?;
    let subtree_of = match &hook.subtree_of {
        Some(id) => check_subtree(db, pool, id).await?,
        None => None,
    };
    let (created_at, updated_at) = kept.times();
    let row = webhook::ActiveModel {
        id: Set(kept.id()),
        user_pool_id: Set(pool.as_str().to_string()),
        name: Set(hook.name.clone()),
        url: Set(hook.url.clone()),
        secret: Set(secret),
        content_type: Set(hook.content_type),
        events: Set(json!(events)),
        enabled: Set(hook.enabled),
        consecutive_failures: Set(0),
        subtree_of: Set(subtree_of),
        created_at: Set(created_at),
        updated_at: Set(updated_at),
    };
    Ok(WithSecret { webhook: row.insert(db).await?, generated_secret })
}

impl WebhookService {
    pub fn new(writer: Writer) -> Self {
        Self { db: writer.db().clone(), writer }
    }

    /// A new webhook; without a secret, it gets a generated `whsec_` one, answered once.
    pub async fn create(&self, pool: &PoolId, input: WebhookInput) -> AppResult<WithSecret> {
        let hook = NewWebhook::check(input)?;
        self.writer.write(pool, async |txn, _| create_in(txn, pool, &hook, &Kept::default()).await).await
    }

    pub async fn update(&self, pool: &PoolId, id: &str, input: WebhookInput) -> AppResult<webhook::Model> {
        let current = self.get(pool, id).await?;
        let mut row: webhook::ActiveModel = current.into();
        if let Some(n) = input.name {
            row.name = Set(validate::required_text("name", &n, validate::MAX_TEXT)?);
        }
        if let Some(u) = input.url {
            row.url = Set(check_url(&u)?);
        }
        if let Some(s) = input.secret {
            // Every webhook is signed: a new secret replaces it, none removes it.
            let secret = check_secret(&s)?
                .ok_or_else(|| AppError::invalid("secret", "secret cannot be empty; rotateWebhookSecret generates a new one"))?;
            row.secret = Set(secret);
        }
        if let Some(c) = input.content_type {
            row.content_type = Set(c);
        }
        if let Some(e) = input.events {
            row.events = Set(json!(check_events(&self.db, pool, &e).await?));
        }
        if let Some(enabled) = input.enabled {
            row.enabled = Set(enabled);
            if enabled {
                row.consecutive_failures = Set(0);
            }
        }
        row.updated_at = Set(chrono::Utc::now());
        self.writer
            .write(pool, async |txn, _| {
                if let Some(subtree_of) = &input.subtree_of {
                    row.subtree_of = Set(check_subtree(txn, pool, subtree_of).await?);
                }
                Ok(row.update(txn).await?)
            })
            .await
    }

    /// Give a webhook a new generated `whsec_` secret, answered once; deliveries sign with it
    /// from their next attempt.
    pub async fn rotate_secret(&self, pool: &PoolId, id: &str) -> AppResult<WithSecret> {
        let mut row: webhook::ActiveModel = self.get(pool, id).await?.into();
        let secret = generate_secret();
        row.secret = Set(secret.clone());
        row.updated_at = Set(chrono::Utc::now());
        let webhook = self.writer.write(pool, async |txn, _| Ok(row.update(txn).await?)).await?;
        Ok(WithSecret { webhook, generated_secret: Some(secret) })
    }

    pub async fn delete(&self, pool: &PoolId, id: &str) -> AppResult<()> {
        self.delete_many(pool, &[id.to_string()]).await
    }

    /// Delete these webhooks of the pool, all or none: an id that is not one of them deletes
    /// nothing and is named in the error. Their deliveries and attempts go with them.
    pub async fn delete_many(&self, pool: &PoolId, ids: &[String]) -> AppResult<()> {
        if ids.is_empty() {
            return Err(AppError::invalid("webhookIds", "name at least one webhook"));
        }
        self.writer
            .write(pool, async |txn, _| {
                let found: Vec<String> = webhook::Entity::find()
                    .select_only()
                    .column(webhook::Column::Id)
                    .filter(webhook::Column::UserPoolId.eq(pool.as_str()))
                    .filter(webhook::Column::Id.is_in(ids.to_vec()))
                    .into_tuple()
                    .all(txn)
                    .await?;
                let missing: Vec<&str> = ids.iter().filter(|i| !found.contains(i)).map(String::as_str).collect();
                if !missing.is_empty() {
                    return Err(AppError::not_found("webhook", missing.join(", ")));
                }
                webhook::Entity::delete_many()
                    .filter(webhook::Column::UserPoolId.eq(pool.as_str()))
                    .filter(webhook::Column::Id.is_in(found))
                    .exec(txn)
                    .await?;
                Ok(())
            })
            .await
    }

    pub async fn get(&self, pool: &PoolId, id: &str) -> AppResult<webhook::Model> {
        webhook::Entity::find_by_id(id.to_string())
            .filter(webhook::Column::UserPoolId.eq(pool.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("webhook", id))
    }

    pub async fn list(&self, pool: &PoolId) -> AppResult<Vec<webhook::Model>> {
        Ok(webhook::Entity::find()
            .filter(webhook::Column::UserPoolId.eq(pool.as_str()))
            .order_by_asc(webhook::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// A page of the pool's webhooks, oldest first.
    pub async fn page(&self, pool: &PoolId, page: Page) -> AppResult<Paginated<webhook::Model>> {
        let base = webhook::Entity::find().filter(webhook::Column::UserPoolId.eq(pool.as_str()));
        let total_count = base.clone().count(&self.db).await?;
        let list = base
            .order_by_asc(webhook::Column::CreatedAt)
            .order_by_asc(webhook::Column::Id)
            .offset(page.offset())
            .limit(page.limit)
            .all(&self.db)
            .await?;
        Ok(Paginated { total_count, list })
    }

    /// A page of the requests sent to one of the pool's webhooks (every attempt of every
    /// delivery), newest first, each with the name of the event it carried.
    pub async fn attempt_log(&self, pool: &PoolId, webhook_id: &str, page: Page) -> AppResult<Paginated<LoggedAttempt>> {
        let hook = self.get(pool, webhook_id).await?;
        let of_hook = sea_orm::sea_query::Query::select()
            .column(delivery::Column::Id)
            .from(delivery::Entity)
            .and_where(delivery::Column::WebhookId.eq(hook.id.as_str()))
            .to_owned();
        let base = delivery_attempt::Entity::find().filter(delivery_attempt::Column::DeliveryId.in_subquery(of_hook));
        let total_count = base.clone().count(&self.db).await?;
        let attempts = base
            .order_by_desc(delivery_attempt::Column::AttemptedAt)
            .order_by_desc(delivery_attempt::Column::Id)
            .offset(page.offset())
            .limit(page.limit)
            .all(&self.db)
            .await?;
        let delivery_ids: Vec<String> = attempts.iter().map(|a| a.delivery_id.clone()).collect();
        let deliveries: Vec<(String, String)> = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .column(delivery::Column::EventId)
            .filter(delivery::Column::Id.is_in(delivery_ids))
            .into_tuple()
            .all(&self.db)
            .await?;
        let event_ids: Vec<String> = deliveries.iter().map(|(_, e)| e.clone()).collect();
        let names: Vec<(String, String)> = event::Entity::find()
            .select_only()
            .column(event::Column::Id)
            .column(event::Column::EventName)
            .filter(event::Column::Id.is_in(event_ids))
            .into_tuple()
            .all(&self.db)
            .await?;
        let list = attempts
            .into_iter()
            .map(|attempt| {
                let event_id = deliveries.iter().find(|(d, _)| *d == attempt.delivery_id).map(|(_, e)| e.clone()).unwrap_or_default();
                let event_name = names.iter().find(|(e, _)| *e == event_id).map(|(_, n)| n.clone()).unwrap_or_default();
                LoggedAttempt { webhook_id: hook.id.clone(), event_id, event_name, attempt }
            })
            .collect();
        Ok(Paginated { total_count, list })
    }

    /// A page of a webhook's deliveries, newest first, each with its attempts.
    pub async fn deliveries(&self, webhook_id: &str, page: Page) -> AppResult<Paginated<(delivery::Model, Vec<delivery_attempt::Model>)>> {
        let base = delivery::Entity::find().filter(delivery::Column::WebhookId.eq(webhook_id));
        let total_count = base.clone().count(&self.db).await?;
        let rows = base
            .order_by_desc(delivery::Column::CreatedAt)
            .order_by_desc(delivery::Column::Id)
            .offset(page.offset())
            .limit(page.limit)
            .all(&self.db)
            .await?;
        let ids: Vec<String> = rows.iter().map(|d| d.id.clone()).collect();
        let attempts = delivery_attempt::Entity::find()
            .filter(delivery_attempt::Column::DeliveryId.is_in(ids))
            .order_by_asc(delivery_attempt::Column::AttemptedAt)
            .all(&self.db)
            .await?;
        let list = rows
            .into_iter()
            .map(|d| {
                let mine = attempts.iter().filter(|a| a.delivery_id == d.id).cloned().collect();
                (d, mine)
            })
            .collect();
        Ok(Paginated { total_count, list })
    }
}

/// The delivery queue of every pool, for operators: how many deliveries in each status, and how
/// many are due now.
pub async fn queue_stats(db: &impl ConnectionTrait) -> AppResult<(Vec<(DeliveryStatus, i64)>, i64)> {
    let by_status: Vec<(DeliveryStatus, i64)> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Status)
        .column_as(delivery::Column::Id.count(), "n")
        .group_by(delivery::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    // The worker's own condition (an ended lease counts: its instance died), as `doctor` counts.
    let due = delivery::Entity::find().filter(due::due_condition(chrono::Utc::now())).count(db).await?;
    Ok((by_status, due as i64))
}

/// Most events one `replayEvents` call queues.
pub const MAX_REPLAY: u64 = 10_000;

impl WebhookService {
    /// Send a delivery again from the start of the retry schedule.
    pub async fn retry_delivery(&self, pool: &PoolId, id: &str) -> AppResult<delivery::Model> {
        let d = delivery::Entity::find_by_id(id.to_string())
            .filter(delivery::Column::UserPoolId.eq(pool.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("delivery", id))?;
        if d.status == DeliveryStatus::Delivering {
            return Err(AppError::Conflict { field: None, message: "the delivery is being sent right now".into() });
        }
        let now = chrono::Utc::now();
        let mut row: delivery::ActiveModel = d.clone().into();
        row.status = Set(DeliveryStatus::Pending);
        row.attempts = Set(0);
        row.next_attempt_at = Set(now);
        row.updated_at = Set(now);
        self.writer
            .write(pool, async |txn, _| {
                let updated = row.update(txn).await?;
                due::hold_behind(txn, &d, now).await?;
                Ok(updated)
            })
            .await
    }

    /// Queue again, for one webhook, every event it subscribes to since `since` (an event id,
    /// or an ISO 8601 time); returns how many were queued.
    pub async fn replay(&self, pool: &PoolId, webhook_id: &str, since: &str) -> AppResult<usize> {
        let hook = self.get(pool, webhook_id).await?;
        let names: Vec<String> = hook.events.as_array().map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_string)).collect()).unwrap_or_default();
        let filter = super::events::EventFilter { names: Some(names), org_id: None, subtree_of: hook.subtree_of.clone() };
        let mut q = filter.select(pool);
        q = match chrono::DateTime::parse_from_rfc3339(since) {
            Ok(t) => q.filter(event::Column::CreatedAt.gte(t.with_timezone(&chrono::Utc))),
            Err(_) => q.filter(event::Column::Seq.gt(super::events::position(&self.db, pool, "since", since).await?)),
        };
        // Only what a delivery keeps of its event: not the events' data.
        let events: Vec<(String, i64, Option<String>)> = q
            .select_only()
            .column(event::Column::Id)
            .column(event::Column::Seq)
            .column(event::Column::Entity)
            .order_by_asc(event::Column::Seq)
            .limit(MAX_REPLAY)
            .into_tuple()
            .all(&self.db)
            .await?;
        let now = chrono::Utc::now();
        let rows: Vec<delivery::ActiveModel> = events
            .iter()
            .map(|(id, seq, entity)| new_delivery(pool, &hook.id, id, *seq, entity.as_deref(), now))
            .collect();
        let n = rows.len();
        self.writer
            .write(pool, async |txn, _| {
                for chunk in rows.chunks(500) {
                    delivery::Entity::insert_many(chunk.to_vec()).exec(txn).await?;
                }
                Ok(())
            })
            .await?;
        Ok(n)
    }
}

/// A delivery of event `event_id` (its `seq` and `entity`) to `webhook_id`, ordered after the
/// webhook's earlier deliveries about the same entity.
fn new_delivery(
    pool: &PoolId,
    webhook_id: &str,
    event_id: &str,
    seq: i64,
    entity: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> delivery::ActiveModel {
    delivery::ActiveModel {
        entity: Set(entity.map(str::to_string)),
        seq: Set(seq),
        id: Set(ids::new_id()),
        user_pool_id: Set(pool.as_str().to_string()),
        webhook_id: Set(webhook_id.to_string()),
        event_id: Set(event_id.to_string()),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        last_status_code: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Queue one delivery per enabled webhook of the pool that subscribes to each of `events`, in the
/// caller's transaction: a committed event is never without its deliveries. The pool's webhooks
/// are read once however many events there are.
pub async fn enqueue(db: &impl ConnectionTrait, pool: &PoolId, events: &[event::Model]) -> AppResult<usize> {
    let hooks: Vec<(String, serde_json::Value, Option<String>)> = webhook::Entity::find()
        .select_only()
        .column(webhook::Column::Id)
        .column(webhook::Column::Events)
        .column(webhook::Column::SubtreeOf)
        .filter(webhook::Column::UserPoolId.eq(pool.as_str()))
        .filter(webhook::Column::Enabled.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    if hooks.is_empty() {
        return Ok(0);
    }
    let now = chrono::Utc::now();
    let rows: Vec<delivery::ActiveModel> = events
        .iter()
        .flat_map(|e| {
            hooks
                .iter()
                .filter(|(_, names, subtree_of)| {
                    names.as_array().is_some_and(|a| a.iter().any(|n| n == e.event_name.as_str()))
                        && subtree_of.as_deref().is_none_or(|node| super::events::subtree::within(e.scope.as_deref(), node))
                })
                .map(|(hook, _, _)| new_delivery(pool, hook, &e.id, e.seq, e.entity.as_deref(), now))
        })
        .collect();
    let n = rows.len();
    for chunk in rows.chunks(500) {
        delivery::Entity::insert_many(chunk.to_vec()).exec(db).await?;
    }
    Ok(n)
}
