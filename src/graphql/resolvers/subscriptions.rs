use async_graphql::{Context, Result, Subscription};
use std::sync::{Arc, Mutex};

use futures_util::{Stream, StreamExt as _};

use crate::{
    domain::events::EventFilter,
    graphql::{context::ContextExt, types::event::Event},
    metrics::SubscriptionGuard,
};

#[derive(Default)]
pub struct Subscription;

/// Where `events` starts when its `after` is not given, set by a transport that resumes by its
/// own header (SSE's `Last-Event-ID`).
pub struct ResumeAfter(pub String);

/// The id of the event `events` yielded last, for a transport that labels what it sends (SSE's
/// `id:` lines).
#[derive(Clone, Default)]
pub struct LastEventId(Arc<Mutex<Option<String>>>);

impl LastEventId {
    fn set(&self, id: &str) {
        if let Ok(mut last) = self.0.lock() {
            *last = Some(id.to_string());
        }
    }

    /// The id set since the last call, if any.
    pub fn take(&self) -> Option<String> {
        self.0.lock().ok().and_then(|mut last| last.take())
    }
}

/// Live streams, over WebSocket or server-sent events.
#[Subscription]
impl Subscription {
    /// The pool's events as they are committed, filtered by names and org. With `after` (an
    /// event id), first the events after it from the outbox, then live ones, with no gap and no
    /// repeat. A subscriber too slow to keep up catches up from the outbox the same way.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of these names, compared exactly with `eventName`; null for all.")] event_names: Option<Vec<String>>,
        #[graphql(desc = "Only events about this organization (their `orgId`); null for all.")] org_id: Option<String>,
        #[graphql(desc = "A department id: only the events inside its subtree when they were committed (its \
                          departments' and memberships' events, its members' user events), and, for each user a \
                          commit brings into the subtree or takes out of it, `organization:subtree-member-entered` \
                          / `organization:subtree-member-left` (`data.users`, at most 1,000 per event), so that a \
                          copy of its member list stays exact. While subscribed, and for 24 hours after, the \
                          subtree is watched: resuming with `after` within that time misses no crossing. Null for \
                          all events.")]
        subtree_of: Option<String>,
        #[graphql(desc = "An event id of the pool: start with the events committed after it (`\"0\"` for every stored event). Null or empty starts from now, or over SSE after the `Last-Event-ID` header when sent. An unknown id is an error.")]
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Event>> + use<>> {
        let pool = ctx.pool()?;
        let filter = EventFilter { names: event_names, org_id, subtree_of: subtree_of.filter(|s| !s.is_empty()) };
        let after = after.filter(|a| !a.is_empty()).or_else(|| ctx.data_opt::<ResumeAfter>().map(|r| r.0.clone()));
        let live = ctx.state().events.live(&pool, filter, after.as_deref()).await?;
        let counted = SubscriptionGuard::new(&ctx.state().metrics);
        let labels = ctx.data_opt::<LastEventId>().cloned();
        Ok(live.into_stream().map(move |e| {
            let _counted = &counted;
            let event = Event::from(e?.as_ref().clone());
            if let Some(labels) = &labels {
                labels.set(&event.id);
            }
            Ok(event)
        }))
    }
}
