use async_graphql::{Context, Result, Subscription};
use futures_util::{Stream, StreamExt as _};

use crate::{
    domain::events::EventFilter,
    graphql::{context::ContextExt, types::event::Event},
    metrics::SubscriptionGuard,
};

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// The pool's events as they are committed, filtered by names and org. With `after` (an
    /// event id), first the events after it from the outbox, then live ones, with no gap and no
    /// repeat. A subscriber too slow to keep up catches up from the outbox the same way.
    async fn events(
        &self,
        ctx: &Context<'_>,
        event_names: Option<Vec<String>>,
        org_id: Option<String>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Event>> + use<>> {
        let pool = ctx.pool()?;
        let filter = EventFilter { names: event_names, org_id };
        let after = after.filter(|a| !a.is_empty());
        let live = ctx.state().events.live(&pool, filter, after.as_deref()).await?;
        let counted = SubscriptionGuard::new(&ctx.state().metrics);
        Ok(live.into_stream().map(move |e| {
            let _counted = &counted;
            Ok(Event::from(e?.as_ref().clone()))
        }))
    }
}
