use async_graphql::{Context, Object, Result};

use crate::{
    domain::webhooks::{WebhookInput, manual::ManualRequest},
    graphql::{
        context::ContextExt,
        types::{
            common::CommonMessage,
            webhook::{TestWebhookResult, Webhook, WebhookContentType},
        },
    },
};

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Webhook>> {
        let pool = ctx.pool()?;
        Ok(ctx.state().webhooks.list(&pool).await?.into_iter().map(Webhook::from).collect())
    }

    async fn webhook(&self, ctx: &Context<'_>, id: String) -> Result<Webhook> {
        let pool = ctx.pool()?;
        Ok(ctx.state().webhooks.get(&pool, &id).await?.into())
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// A webhook: `url` (http or https) receives the `events` it names (see
    /// `webhookEventList`, or custom types of the pool), signed with `secret`, as JSON (default)
    /// or FORM. A `whsec_` secret is base64 of the signing key (24 to 64 bytes), as Standard
    /// Webhooks libraries read it; any other secret signs as its own bytes. Without `secret`, a
    /// `whsec_` one is generated and answered once, in `secret`.
    #[allow(clippy::too_many_arguments)]
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        name: String,
        url: String,
        secret: Option<String>,
        content_type: Option<WebhookContentType>,
        events: Vec<String>,
        enabled: Option<bool>,
    ) -> Result<Webhook> {
        let pool = ctx.pool()?;
        let input = WebhookInput {
            name: Some(name),
            url: Some(url),
            secret,
            content_type: content_type.map(Into::into),
            events: Some(events),
            enabled,
        };
        Ok(ctx.state().webhooks.create(&pool, input).await?.into())
    }

    /// Change a webhook; arguments left out keep their value. Enabling resets the failure run.
    #[allow(clippy::too_many_arguments)]
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        id: String,
        name: Option<String>,
        url: Option<String>,
        secret: Option<String>,
        content_type: Option<WebhookContentType>,
        events: Option<Vec<String>>,
        enabled: Option<bool>,
    ) -> Result<Webhook> {
        let pool = ctx.pool()?;
        let input = WebhookInput { name, url, secret, content_type: content_type.map(Into::into), events, enabled };
        Ok(ctx.state().webhooks.update(&pool, &id, input).await?.into())
    }

    /// Give a webhook a new generated `whsec_` secret, answered once in `secret`; deliveries
    /// sign with it from their next attempt.
    async fn rotate_webhook_secret(&self, ctx: &Context<'_>, id: String) -> Result<Webhook> {
        let pool = ctx.pool()?;
        Ok(ctx.state().webhooks.rotate_secret(&pool, &id).await?.into())
    }

    async fn delete_webhook(&self, ctx: &Context<'_>, id: String) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().webhooks.delete(&pool, &id).await?;
        Ok(CommonMessage::ok("webhook deleted"))
    }

    /// Send a delivery again, from the start of the retry schedule.
    async fn retry_delivery(&self, ctx: &Context<'_>, id: String) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().webhooks.retry_delivery(&pool, &id).await?;
        Ok(CommonMessage::ok("delivery queued"))
    }

    /// Queue again, for one webhook, the events it subscribes to since `since` (an event id or
    /// an ISO 8601 time), at most 10,000; answers how many.
    async fn replay_events(&self, ctx: &Context<'_>, webhook_id: String, since: String) -> Result<i64> {
        let pool = ctx.pool()?;
        Ok(ctx.state().webhooks.replay(&pool, &webhook_id, &since).await? as i64)
    }

    /// Send the test event (`{"description": "A test from GenAuth Webhook"}`) now and answer
    /// with the request sent and the response received.
    async fn test_webhook(&self, ctx: &Context<'_>, id: String) -> Result<TestWebhookResult> {
        let pool = ctx.pool()?;
        let state = ctx.state();
        let hook = state.webhooks.get(&pool, &id).await?;
        Ok(state.sender.send_manual(&hook, &crate::ids::new_id(), &ManualRequest::default()).await.into())
    }
}
