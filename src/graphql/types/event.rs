use async_graphql::{Json, SimpleObject};
use entity::event;
use serde_json::Value;

use crate::domain::docs::iso;

/// A change, as webhooks and subscribers receive it: `{eventName, data}` with Authing's
/// payloads. `id` is time-ordered: pass the last one seen as `after` to resume.
#[derive(SimpleObject, Clone, Debug)]
pub struct Event {
    pub id: String,
    pub event_name: String,
    /// The organization the event is about, if any.
    pub org_id: Option<String>,
    pub data: Json<Value>,
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
    pub name: String,
    pub description: String,
}
