use std::collections::{HashSet, VecDeque};

use async_graphql::{Context, Result, Subscription};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::{
    domain::events::EventFilter,
    graphql::{context::ContextExt, types::event::Event},
    metrics::SubscriptionGuard,
};

/// Events read from the outbox per query while catching up.
const REPLAY_PAGE: u64 = 500;
/// How many recent event ids a subscription remembers to drop repeats (an event can arrive
/// twice: from the outbox and live, or from this instance and the PostgreSQL relay).
const REMEMBERED: usize = 8_192;

/// The ids sent lately, bounded.
#[derive(Default)]
struct Recent {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl Recent {
    /// True when `id` was not sent lately (and remember it).
    fn first_time(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        self.set.insert(id.to_string());
        self.order.push_back(id.to_string());
        if self.order.len() > REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

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
    ) -> Result<impl Stream<Item = Event> + use<>> {
        let pool = ctx.pool()?;
        let service = ctx.state().events.clone();
        let filter = EventFilter { names: event_names, org_id };
        let start = match after.filter(|a| !a.is_empty()) {
            Some(id) => Some(service.position(&pool, &id).await?),
            None => None,
        };
        // Listen before reading the outbox, so nothing committed meanwhile is missed; the ids
        // already sent drop the events seen both ways.
        let mut live = service.bus.subscribe();
        let counted = SubscriptionGuard::new(&ctx.state().metrics);
        Ok(async_stream::stream! {
            let _counted = counted;
            let mut sent = Recent::default();
            let mut cursor = start;
            let mut catch_up = cursor.is_some();
            loop {
                if catch_up {
                    loop {
                        let Ok(page) = service.list(&pool, cursor, &filter, REPLAY_PAGE).await else { return };
                        let full = page.len() as u64 == REPLAY_PAGE;
                        for e in page {
                            cursor = Some(e.seq);
                            if sent.first_time(&e.id) {
                                yield Event::from(e);
                            }
                        }
                        if !full {
                            break;
                        }
                    }
                    catch_up = false;
                }
                match live.recv().await {
                    Ok(e) => {
                        if filter.matches(&pool, &e) && sent.first_time(&e.id) {
                            cursor = Some(e.seq);
                            yield Event::from((*e).clone());
                        }
                    }
                    // Fell behind the bus: read what was missed from the outbox.
                    Err(RecvError::Lagged(_)) => catch_up = cursor.is_some(),
                    Err(RecvError::Closed) => return,
                }
            }
        })
    }
}
