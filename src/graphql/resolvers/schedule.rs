//! Scheduled reorganizations: `scheduleChanges`, `cancelScheduledChanges`, `scheduledChanges`.

use async_graphql::{Context, Object, Result};

use crate::{
    domain::docs::parse_instant,
    graphql::{
        context::ContextExt,
        types::schedule::{OrgChangeInput, ScheduledChanges, ScheduledChangesStatus},
    },
};

#[derive(Default)]
pub struct ScheduleQuery;

#[Object]
impl ScheduleQuery {
    /// The pool's scheduled batches (of one status when given), by time, at most the largest page.
    async fn scheduled_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the batches in this status (all when absent).")] status: Option<ScheduledChangesStatus>,
    ) -> Result<Vec<ScheduledChanges>> {
        let state = ctx.state();
        let found = state.schedule.list(&ctx.pool()?, status.map(Into::into), state.config.limits.max_page_size).await?;
        Ok(found.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct ScheduleMutation;

#[Object]
impl ScheduleMutation {
    /// Schedule an ordered batch of changes to the org chart for `at`. It is checked now against
    /// the tree as planned for `at` (the current tree with the pending batches due before it),
    /// and applied at `at` as one transaction, with the usual events; the departments it adds
    /// get their ids now (`createdNodes`). If it no longer applies then, it fails as a whole,
    /// keeps the reason and sends `organization:scheduled-changes-failed`.
    async fn schedule_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "When to apply the batch (RFC 3339), in the future.")] at: String,
        #[graphql(desc = "The changes, applied in this order (1 to 500).")] changes: Vec<OrgChangeInput>,
    ) -> Result<ScheduledChanges> {
        let at = parse_instant("at", &at)?;
        let changes = changes.into_iter().enumerate().map(|(i, c)| c.into_change(i)).collect::<Result<Vec<_>, _>>()?;
        Ok(ctx.state().schedule.schedule(&ctx.pool()?, at, changes).await?.into())
    }

    /// Cancel a pending batch.
    async fn cancel_scheduled_changes(&self, ctx: &Context<'_>, #[graphql(desc = "The batch's id.")] id: String) -> Result<ScheduledChanges> {
        Ok(ctx.state().schedule.cancel(&ctx.pool()?, &id).await?.into())
    }
}
