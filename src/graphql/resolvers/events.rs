use async_graphql::{Context, Json, Object, Result};
use serde_json::Value;

use crate::{
    domain::events::{EventFilter, EventName},
    error::AppError,
    graphql::{
        context::ContextExt,
        types::event::{Event, WebhookEvent},
    },
};

/// Most events one `events` call returns.
pub const MAX_EVENTS_PAGE: i64 = 1_000;

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// Events of the pool committed after the event `after` (an event id; from the oldest when
    /// absent), in commit order: at most `first` (100 by default, 1,000 at most), of the given
    /// names and org. Paging with the last id seen never skips or repeats an event.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An event id of the pool: list the events committed after it. `\"0\"`, empty or null start from the oldest; an unknown id is an error.")]
        after: Option<String>,
        #[graphql(desc = "Only events of these names, compared exactly with `eventName`; null for all.")] event_names: Option<Vec<String>>,
        #[graphql(desc = "Only events about this organization (their `orgId`); null for all.")] org_id: Option<String>,
        #[graphql(desc = "Only events inside this department's subtree when they were committed: its departments' \
                          and memberships' events, its members' user events, and the crossings recorded while it \
                          was watched (see the `events` subscription). Null for all.")]
        subtree_of: Option<String>,
        #[graphql(default_with = "Some(100)", desc = "The most events to return: 1 to 1,000, 100 by default.")] first: Option<i64>,
    ) -> Result<Vec<Event>> {
        let pool = ctx.pool()?;
        let first = first.unwrap_or(100);
        if !(1..=MAX_EVENTS_PAGE).contains(&first) {
            return Err(AppError::invalid("first", format!("first must be between 1 and {MAX_EVENTS_PAGE}")).into());
        }
        let filter = EventFilter { names: event_names, org_id, subtree_of: subtree_of.filter(|s| !s.is_empty()) };
        let events = &ctx.state().events;
        let after = match after.filter(|a| !a.is_empty()) {
            Some(id) => Some(events.position(&pool, &id).await?),
            None => None,
        };
        let found = events.list(&pool, after, &filter, first as u64).await?;
        Ok(found.into_iter().map(Event::from).collect())
    }

    /// The event names webhooks and subscribers may ask for, with what they mean.
    async fn webhook_event_list(&self) -> Vec<WebhookEvent> {
        EventName::ALL.iter().map(|e| WebhookEvent { name: e.as_str().into(), description: e.description().into() }).collect()
    }
}

#[derive(Default)]
pub struct EventMutation;

#[Object]
impl EventMutation {
    /// Publish an event of `webhookEventList` (e.g. `login` from a system in front of orgraph) or
    /// of a custom type the pool defined (v3 `define-event`): it is stored and delivered like the
    /// events orgraph causes. `data` is a JSON object.
    async fn publish_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A name of `webhookEventList` (or its v3 name) or a custom event type of the pool; any other name is refused.")]
        event_name: String,
        #[graphql(desc = "The event's payload: a JSON object of at most 65,536 bytes as JSON. Its `organization.id`, if any, becomes the event's `orgId`.")]
        data: Json<Value>,
    ) -> Result<Event> {
        let pool = ctx.pool()?;
        Ok(ctx.state().events.publish(&pool, &event_name, data.0).await?.into())
    }
}
