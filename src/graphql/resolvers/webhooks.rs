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
    /// Every webhook of the user pool, oldest first.
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Webhook>> {
        let pool = ctx.pool()?;
        Ok(ctx.state().webhooks.list(&pool).await?.into_iter().map(Webhook::from).collect())
    }

    /// One webhook of the user pool; an unknown id is a not-found error.
    async fn webhook(&self, ctx: &Context<'_>, #[graphql(desc = "The webhook's id.")] id: String) -> Result<Webhook> {
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
        #[graphql(desc = "Its display name: not blank, at most 255 characters, trimmed.")] name: String,
        #[graphql(desc = "Where to POST deliveries: an http or https URL with a host and without user or password, \
                          at most 2048 characters. Non-public addresses (loopback, private, link-local, ...) are \
                          refused when sending unless allowed by `--webhook-allow-hosts`.")]
        url: String,
        #[graphql(desc = "The signing secret, at most 256 characters: `whsec_` + padded standard base64 of a 24- to \
                          64-byte key, or any other text, used as the key's own bytes. Omitted or blank: a `whsec_` \
                          secret is generated and answered once in `secret`.")]
        secret: Option<String>,
        #[graphql(desc = "How request bodies are encoded; JSON by default.")] content_type: Option<WebhookContentType>,
        #[graphql(desc = "The event names to subscribe to, at least one: names of `webhookEventList` or custom event \
                          types of the user pool.")]
        events: Vec<String>,
        #[graphql(desc = "Whether new events are queued for it; true by default.")] enabled: Option<bool>,
        #[graphql(desc = "A department id of the pool: only the events inside its subtree at commit time are \
                          delivered (its departments' and memberships' events, its members' user events, and \
                          `organization:subtree-member-entered`/`-left`). Null or empty: every event.")]
        subtree_of: Option<String>,
    ) -> Result<Webhook> {
        let pool = ctx.pool()?;
        let input = WebhookInput {
            name: Some(name),
            url: Some(url),
            secret,
            content_type: content_type.map(Into::into),
            events: Some(events),
            enabled,
            subtree_of,
        };
        Ok(ctx.state().webhooks.create(&pool, input).await?.into())
    }

    /// Change a webhook; arguments left out keep their value. Enabling resets the failure run.
    #[allow(clippy::too_many_arguments)]
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the webhook to change.")] id: String,
        #[graphql(desc = "A new display name: not blank, at most 255 characters, trimmed.")] name: Option<String>,
        #[graphql(desc = "A new URL, under the rules of `createWebhook`: http or https with a host and without user \
                          or password, at most 2048 characters.")]
        url: Option<String>,
        #[graphql(desc = "A new signing secret, under the rules of `createWebhook`; it cannot be blank \
                          (`rotateWebhookSecret` generates one) and is not shown back.")]
        secret: Option<String>,
        #[graphql(desc = "A new body encoding.")] content_type: Option<WebhookContentType>,
        #[graphql(desc = "The new list of event names (replacing the old one), at least one: names of \
                          `webhookEventList` or custom event types of the user pool.")]
        events: Option<Vec<String>>,
        #[graphql(desc = "false stops queuing events for it; true also resets `consecutiveFailures` to 0.")]
        enabled: Option<bool>,
        #[graphql(desc = "A department id of the pool whose subtree's events only are delivered (see \
                          `createWebhook`); empty: every event again.")]
        subtree_of: Option<String>,
    ) -> Result<Webhook> {
        let pool = ctx.pool()?;
        let input = WebhookInput { name, url, secret, content_type: content_type.map(Into::into), events, enabled, subtree_of };
        Ok(ctx.state().webhooks.update(&pool, &id, input).await?.into())
    }

    /// Give a webhook a new generated `whsec_` secret, answered once in `secret`; deliveries
    /// sign with it from their next attempt.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the webhook whose secret to replace.")] id: String,
    ) -> Result<Webhook> {
        let pool = ctx.pool()?;
        Ok(ctx.state().webhooks.rotate_secret(&pool, &id).await?.into())
    }

    /// Delete a webhook, with its deliveries and their attempt log.
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the webhook to delete.")] id: String,
    ) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().webhooks.delete(&pool, &id).await?;
        Ok(CommonMessage::ok("webhook deleted"))
    }

    /// Send a delivery again, from the start of the retry schedule.
    async fn retry_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery's id (`WebhookDelivery.id`); a delivery being sent right now is refused.")]
        id: String,
    ) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().webhooks.retry_delivery(&pool, &id).await?;
        Ok(CommonMessage::ok("delivery queued"))
    }

    /// Queue again, for one webhook, the events it subscribes to since `since` (an event id or
    /// an RFC 3339 time), oldest first and at most 10,000; answers how many.
    async fn replay_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the webhook to queue the events for.")] webhook_id: String,
        #[graphql(desc = "Where to start: an RFC 3339 time (events created at or after it), or an event id of the \
                          user pool (events after it; `0` starts from the first event).")]
        since: String,
    ) -> Result<i64> {
        let pool = ctx.pool()?;
        Ok(ctx.state().webhooks.replay(&pool, &webhook_id, &since).await? as i64)
    }

    /// Send the test event (`{"description": "A test from GenAuth Webhook"}`) now and answer
    /// with the request sent and the response received.
    async fn test_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the webhook to send the test to; it is sent even if the webhook is disabled.")]
        id: String,
    ) -> Result<TestWebhookResult> {
        let pool = ctx.pool()?;
        let state = ctx.state();
        let hook = state.webhooks.get(&pool, &id).await?;
        Ok(state.sender.send_manual(&hook, &crate::ids::new_id(), &ManualRequest::default()).await.into())
    }
}
