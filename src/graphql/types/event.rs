use async_graphql::{Json, SimpleObject};
use entity::event;
use serde_json::Value;

use crate::domain::docs::iso;

/// A change, as webhooks and subscribers receive it: `{eventName, data}` with Authing's
/// payloads. `id` is time-ordered: pass the last one seen as `after` to resume.
#[derive(SimpleObject, Clone, Debug)]
pub struct Event {
    /// The event's id, 32 hex digits (a UUIDv7); pass it as `after` to get the events after it.
    pub id: String,
    /// The event's name, e.g. `user:created`, or a custom event type of the pool.
    pub event_name: String,
    /// The organization the event is about, if any.
    pub org_id: Option<String>,
    /// The event's payload, a JSON object (for a published event, the `data` it was given).
    pub data: Json<Value>,
    /// When the event was recorded, RFC 3339 in UTC with milliseconds.
    pub created_at: String,
}

impl From<event::Model> for Event {
    fn from(e: event::Model) -> Self {
        Event { id: e.id, event_name: e.event_name, org_id: e.org_id, data: Json(e.data), created_at: iso(e.created_at) }
    }
}

/// An event name a webhook or subscriber may ask for.
#[derive(SimpleObject, Clone, Debug)]
pub struct WebhookEvent {
    /// The event name, e.g. `user:created`.
    pub name: String,
    /// What the event means and when it is sent.
    pub description: String,
}
