//! The pool's webhooks in a company file: name, URL, events, content type, enabled state and
//! times, checked and written by `webhooks`' rules. Never their deliveries.
//!
//! Signing secrets are exported only when asked; an imported row without one gets a new
//! generated secret, which the import answers once (its receivers need it). A webhook is the same
//! one as the pool's when it has its id (ids kept) or its name and URL (`--new-ids`); the same
//! one with other fields is a conflict, and so is (ids kept) another webhook of the pool with
//! the same name and URL: either would deliver twice. Conflicts are refused before anything is
//! written.

use std::collections::{HashMap, HashSet};

use entity::webhook::{self, ContentType};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, Iterable, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use super::{Row, import::{NewSecret, at_row}, kept, plan::{Refusal, Refusals, object}};
use crate::{
    domain::{
        Kept, PoolId,
        docs::iso,
        events::EventName,
        webhooks::{NewWebhook, WebhookInput, create_in},
    },
    error::AppResult,
};

pub const WEBHOOK_COLUMNS: &[&str] = &["id", "name", "url", "contentType", "events", "enabled", "subtreeOf", "secret", "createdAt", "updatedAt"];

#[derive(Debug, Clone)]
pub struct WebhookPlan {
    pub at: String,
    pub key: String,
    pub hook: NewWebhook,
    pub kept: Kept,
}

impl WebhookPlan {
    /// The events as stored: catalog names for catalog events (a v3 name is the catalog's),
    /// each once.
    fn stored_events(&self) -> Value {
        let mut names: Vec<String> = Vec::new();
        for e in &self.hook.events {
            let name = EventName::lookup(e).map_or_else(|| e.clone(), |n| n.as_str().to_string());
            if !names.contains(&name) {
                names.push(name);
            }
        }
        json!(names)
    }

    /// Whether `w` is this webhook (its fields, not its id, secret or times; with new ids, its
    /// subtree's id was the file's).
    fn is(&self, w: &webhook::Model, new_ids: bool) -> bool {
        let same_subtree = if new_ids { w.subtree_of.is_some() == self.hook.subtree_of.is_some() } else { w.subtree_of == self.hook.subtree_of };
        w.name == self.hook.name && w.url == self.hook.url && w.content_type == self.hook.content_type && w.enabled == self.hook.enabled
            && w.events == self.stored_events() && same_subtree
    }
}

pub(super) fn plan(rows: Vec<Row>, bad: &mut Refusals) -> Vec<WebhookPlan> {
    let mut out: Vec<WebhookPlan> = Vec::with_capacity(rows.len());
    let mut keys = HashMap::new();
    for row in rows {
        let parsed = (|| -> Result<WebhookPlan, String> {
            if let Some(why) = row.unknown(WEBHOOK_COLUMNS) {
                return Err(why);
            }
            let key = row.key("id")?;
            let content_type = match row.text("contentType") {
                None => None,
                Some(v) => Some(ContentType::iter().find(|t| t.to_value() == v.trim()).ok_or_else(|| format!("contentType must be json or form, got {v:?}"))?),
            };
            let events = match row.json("events")? {
                Some(Value::Array(items)) => items.iter().map(|v| v.as_str().map(str::to_string).ok_or("events must be a JSON array of event names")).collect::<Result<Vec<_>, _>>()?,
                None => Vec::new(),
                Some(_) => return Err("events must be a JSON array of event names".into()),
            };
            let input = WebhookInput {
                name: row.text("name"),
                url: row.text("url"),
                secret: row.text("secret"),
                content_type,
                events: Some(events),
                enabled: row.flag("enabled")?,
                subtree_of: row.text("subtreeOf"),
            };
            let hook = NewWebhook::check(input).map_err(|e| e.to_string())?;
            let created_at = row.time("createdAt")?;
            Ok(WebhookPlan { at: row.at.clone(), key, hook, kept: Kept { id: None, created_at, updated_at: row.time("updatedAt")?.or(created_at) } })
        })();
        match parsed {
            Err(why) => bad.add(&row.at, why),
            Ok(p) => match keys.insert(p.key.clone(), p.at.clone()) {
                Some(first) => bad.add(&p.at, format!("id {:?} is also the id of the webhook at {first}", p.key)),
                None => out.push(p),
            },
        }
    }
    out
}

fn refusal(at: &str, message: String) -> Refusal {
    Refusal { at: at.to_string(), message }
}

/// The pool's webhooks, by id and by (name, URL).
async fn pool_webhooks(db: &impl ConnectionTrait, pool: &PoolId) -> AppResult<Vec<webhook::Model>> {
    Ok(webhook::Entity::find().filter(webhook::Column::UserPoolId.eq(pool.as_str())).all(db).await?)
}

/// The rows that conflict with the pool (see the module comment), subscribe to an event that is
/// neither built in nor a custom type of the file or the pool, or keep an id another row holds.
pub(super) async fn refused(
    db: &impl ConnectionTrait,
    pool: &PoolId,
    hooks: &[WebhookPlan],
    file_types: &HashSet<&str>,
    file_nodes: &HashSet<&str>,
    new_ids: bool,
) -> AppResult<Vec<Refusal>> {
    let mut out = Vec::new();
    if hooks.is_empty() {
        return Ok(out);
    }
    let existing = pool_webhooks(db, pool).await?;
    let pool_types: HashSet<String> = entity::event_definition::Entity::find()
        .filter(entity::event_definition::Column::UserPoolId.eq(pool.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.event_type)
        .collect();
    let owners = if new_ids { HashMap::new() } else { kept::owners(db, "webhook", &hooks.iter().map(|h| h.key.as_str()).collect::<Vec<_>>()).await? };
    let mut named: HashMap<(&str, &str), &str> = HashMap::new();
    for h in hooks {
        let unknown: Vec<&str> = h
            .hook
            .events
            .iter()
            .filter(|e| EventName::lookup(e).is_none() && !file_types.contains(e.as_str()) && !pool_types.contains(e.as_str()))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            out.push(refusal(&h.at, format!("events {unknown:?}: neither built-in events nor custom event types of the file or the pool")));
            continue;
        }
        if let Some(node) = h.hook.subtree_of.as_deref()
            && !file_nodes.contains(node)
            && (new_ids || crate::domain::org_tree::find_node(db, pool, node).await.is_err())
        {
            out.push(refusal(&h.at, format!("subtreeOf {node:?} is a department of neither the file nor the pool")));
            continue;
        }
        let same_place = existing.iter().find(|w| w.name == h.hook.name && w.url == h.hook.url && (new_ids || w.id != h.key));
        let same_id = existing.iter().find(|w| w.id == h.key && !new_ids);
        if new_ids && let Some(first) = named.insert((&h.hook.name, &h.hook.url), &h.at) {
            out.push(refusal(&h.at, format!("the same name and url as the webhook at {first}: with --new-ids a webhook is known by its name and url")));
            continue;
        }
        match (new_ids, same_id, same_place) {
            (false, _, Some(w)) => {
                out.push(refusal(&h.at, format!(
                    "the pool already has webhook {} named {:?} to {}; importing this one too would deliver every event twice", w.id, w.name, w.url)));
                continue;
            }
            (false, Some(w), None) | (true, _, Some(w)) if !h.is(w, new_ids) => {
                out.push(refusal(&h.at, format!(
                    "the pool already has webhook {} ({:?} to {}) with another url, name, events, content type, enabled state or subtree; nothing was imported over it",
                    w.id, w.name, w.url)));
                continue;
            }
            _ => {}
        }
        if new_ids {
            continue;
        }
        if let Some(why) = kept::not_an_id(&h.key) {
            out.push(refusal(&h.at, why));
        } else if let Some(whose) = kept::taken(&owners, &h.key, pool.as_str(), same_id.map(|w| w.id.as_str())) {
            out.push(refusal(&h.at, format!("id {:?} is already the id of another webhook of {whose}", h.key)));
        }
    }
    Ok(out)
}

/// Create the webhooks of `chunk` the pool does not have: whether each was created, and the
/// secret generated for one the file gave none.
/// With `--new-ids`, `translate` gives the department a webhook watches its new id.
pub(super) async fn write(
    txn: &DatabaseTransaction,
    pool: &PoolId,
    chunk: &[WebhookPlan],
    new_ids: bool,
    translate: Option<&super::scheduled::NewIds>,
) -> AppResult<Vec<(bool, Option<NewSecret>)>> {
    if chunk.is_empty() {
        return Ok(Vec::new());
    }
    let existing = pool_webhooks(txn, pool).await?;
    let mut out = Vec::with_capacity(chunk.len());
    for h in chunk {
        let there = existing.iter().any(|w| if new_ids { w.name == h.hook.name && w.url == h.hook.url } else { w.id == h.key });
        if there {
            out.push((false, None));
            continue;
        }
        let kept = Kept { id: (!new_ids).then(|| h.key.clone()), ..h.kept.clone() };
        let hook = NewWebhook { subtree_of: h.hook.subtree_of.as_deref().map(|id| translate.map_or_else(|| id.to_string(), |t| t.node(id))), ..h.hook.clone() };
        let made = create_in(txn, pool, &hook, &kept).await.map_err(|e| at_row(&h.at, e))?;
        let secret = made.generated_secret.map(|secret| NewSecret { webhook_id: made.webhook.id.clone(), name: made.webhook.name.clone(), url: made.webhook.url.clone(), secret });
        out.push((true, secret));
    }
    Ok(out)
}

/// The pool's webhooks, oldest first; their secrets only when asked.
pub(super) async fn export(db: &impl ConnectionTrait, pool: &PoolId, with_secrets: bool) -> AppResult<Vec<Row>> {
    Ok(webhook::Entity::find()
        .filter(webhook::Column::UserPoolId.eq(pool.as_str()))
        .order_by_asc(webhook::Column::CreatedAt)
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|w| Row {
            at: String::new(),
            fields: object([
                ("id", Value::from(w.id)),
                ("name", Value::from(w.name)),
                ("url", Value::from(w.url)),
                ("contentType", Value::from(w.content_type.to_value())),
                ("events", w.events),
                ("enabled", Value::from(w.enabled)),
                ("subtreeOf", w.subtree_of.map_or(Value::Null, Value::from)),
                ("secret", if with_secrets { Value::from(w.secret) } else { Value::Null }),
                ("createdAt", Value::from(iso(w.created_at))),
                ("updatedAt", Value::from(iso(w.updated_at))),
            ]),
        })
        .collect())
}
