use async_graphql::{ComplexObject, Context, Enum, Json, Result, SimpleObject};
use entity::{delivery, delivery_attempt, webhook};
use serde_json::Value;

use crate::domain::docs::iso;
use crate::{
    delivery::sender::Attempt,
    domain::{pagination::Page, webhooks::WithSecret},
    graphql::context::ContextExt,
};

/// How a webhook encodes the body of its requests.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::webhook::ContentType")]
pub enum WebhookContentType {
    /// `application/json`
    Json,
    /// `application/x-www-form-urlencoded`: `eventName` and `data` (JSON text) fields.
    Form,
}


/// A webhook. Its secret is write-only: only a secret orgraph generated is shown, once.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Webhook {
    /// The webhook's id.
    pub id: String,
    /// Its display name (at most 255 characters).
    pub name: String,
    /// Where deliveries are POSTed: an http or https URL (redirects are not followed).
    /// Loopback, private, link-local and other non-public addresses are refused when sending,
    /// unless allowed by `--webhook-allow-hosts`.
    pub url: String,
    /// How request bodies are encoded.
    pub content_type: WebhookContentType,
    /// The event names it subscribes to: names of `webhookEventList` or custom event types of
    /// the user pool.
    pub events: Vec<String>,
    /// Whether new events are queued for it. Deliveries of a disabled webhook are marked
    /// `failed` instead of being sent.
    pub enabled: bool,
    /// Whether a secret is set.
    pub has_secret: bool,
    /// The `whsec_` secret orgraph generated: only in the answer of `createWebhook` without a
    /// `secret` and of `rotateWebhookSecret`, null everywhere else. Keep it: it is not shown again.
    pub secret: Option<String>,
    /// Deliveries in a row that failed after their last retry; a success or enabling the webhook
    /// resets it, and at `--webhook-max-failures` (50 by default) the webhook is disabled.
    pub consecutive_failures: i32,
    /// The department whose subtree's events only it receives (see `createWebhook`); null for
    /// every event.
    pub subtree_of: Option<String>,
    /// When it was created (RFC 3339, UTC, milliseconds).
    pub created_at: String,
    /// When it was last changed (RFC 3339, UTC, milliseconds).
    pub updated_at: String,
}

impl From<webhook::Model> for Webhook {
    fn from(w: webhook::Model) -> Self {
        Webhook {
            content_type: w.content_type.into(),
            events: w.events.as_array().map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_string)).collect()).unwrap_or_default(),
            has_secret: !w.secret.is_empty(),
            secret: None,
            id: w.id,
            name: w.name,
            url: w.url,
            enabled: w.enabled,
            consecutive_failures: w.consecutive_failures,
            subtree_of: w.subtree_of,
            created_at: iso(w.created_at),
            updated_at: iso(w.updated_at),
        }
    }
}

impl From<WithSecret> for Webhook {
    fn from(w: WithSecret) -> Self {
        Webhook { secret: w.generated_secret, ..w.webhook.into() }
    }
}

#[ComplexObject]
impl Webhook {
    /// Its deliveries, newest first, each with every attempt.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(1)", desc = "Page number, from 1.")] page: Option<i64>,
        #[graphql(
            default_with = "Some(10)",
            desc = "Deliveries per page, from 1 to `--max-page-size` (200 by default); larger values are refused."
        )]
        limit: Option<i64>,
    ) -> Result<PaginatedDeliveries> {
        let state = ctx.state();
        let page = Page::new(page, limit, state.config.limits.max_page_size)?;
        let found = state.webhooks.deliveries(&self.id, page).await?;
        Ok(PaginatedDeliveries {
            total_count: found.total_count as i64,
            list: found.list.into_iter().map(|(d, a)| WebhookDelivery::new(d, a)).collect(),
        })
    }
}

/// A page of a webhook's deliveries.
#[derive(SimpleObject)]
pub struct PaginatedDeliveries {
    /// How many deliveries the webhook has in all.
    pub total_count: i64,
    /// The deliveries of this page, newest first.
    pub list: Vec<WebhookDelivery>,
}

/// One event to one webhook; `eventId` is the `webhook-id` header, the same on every retry.
#[derive(SimpleObject)]
pub struct WebhookDelivery {
    /// The delivery's id (`retryDelivery` takes it).
    pub id: String,
    /// The id of the event it carries, sent as the `webhook-id` header of every attempt: the same
    /// for every webhook and every retry, and the cursor `events(after:)`, the `events`
    /// subscription's `after`, SSE's `Last-Event-ID` and the event socket resume from.
    pub event_id: String,
    /// `pending`, `delivering`, `succeeded` or `failed`.
    pub status: String,
    /// Requests sent so far; `retryDelivery` resets it to 0 (`attemptLog` keeps every request).
    pub attempts: i32,
    /// When the next attempt is due (RFC 3339, UTC, milliseconds); only meaningful while
    /// `status` is `pending`.
    pub next_attempt_at: String,
    /// The HTTP status of the latest response; null when no response came or nothing was sent yet.
    pub last_status_code: Option<i32>,
    /// Why the latest attempt failed: the request error, or `answered HTTP <status>` for a
    /// non-2xx answer. Null after a success or before the first failure.
    pub last_error: Option<String>,
    /// When it was queued (RFC 3339, UTC, milliseconds).
    pub created_at: String,
    /// Every request sent for it, oldest first, retries included.
    pub attempt_log: Vec<DeliveryAttempt>,
}

impl WebhookDelivery {
    fn new(d: delivery::Model, attempts: Vec<delivery_attempt::Model>) -> Self {
        WebhookDelivery {
            id: d.id,
            event_id: d.event_id,
            status: d.status.as_str().to_string(),
            attempts: d.attempts,
            next_attempt_at: iso(d.next_attempt_at),
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: iso(d.created_at),
            attempt_log: attempts.into_iter().map(DeliveryAttempt::from).collect(),
        }
    }
}

/// One request of a delivery and its answer (response body truncated, secret headers masked).
/// It succeeded if the answer has a 2xx status.
#[derive(SimpleObject)]
pub struct DeliveryAttempt {
    /// When it was recorded, right after it ended (RFC 3339, UTC, milliseconds).
    pub attempted_at: String,
    /// The headers sent, as an object of lower-case names to values; the secret headers
    /// `x-authing-webhook-secret` and `x-genauth-token` show `***`.
    pub request_headers: Json<Value>,
    /// The body sent, in full: `{"eventName", "data"}` as JSON, or as form fields.
    pub request_body: String,
    /// The HTTP status of the response; null when no response came (see `error`).
    pub response_status: Option<i32>,
    /// The response headers, as an object of names to values; `{}` when no response came.
    pub response_headers: Json<Value>,
    /// The response body as text, cut after 4096 bytes (then ending with `…`); null when no
    /// response came.
    pub response_body: Option<String>,
    /// How long the request took, reading the response included, in milliseconds.
    pub duration_ms: i64,
    /// Why no response came: a connection or TLS error, the `--webhook-timeout-secs` timeout
    /// (10 s by default), or a non-public address refused. Null when a response came, whatever its status.
    pub error: Option<String>,
}

impl From<delivery_attempt::Model> for DeliveryAttempt {
    fn from(a: delivery_attempt::Model) -> Self {
        DeliveryAttempt {
            attempted_at: iso(a.attempted_at),
            request_headers: Json(a.request_headers),
            request_body: a.request_body,
            response_status: a.response_status,
            response_headers: Json(a.response_headers),
            response_body: a.response_body,
            duration_ms: a.duration_ms,
            error: a.error,
        }
    }
}

/// What `testWebhook` sent and got back.
#[derive(SimpleObject)]
pub struct TestWebhookResult {
    /// The URL the request was sent to (the webhook's `url`).
    pub url: String,
    /// The headers sent, as an object of lower-case names to values; the secret headers
    /// `x-authing-webhook-secret` and `x-genauth-token` show `***`.
    pub request_headers: Json<Value>,
    /// The body sent: the `test` event in the webhook's content type.
    pub request_body: String,
    /// The HTTP status of the response; null when no response came (see `error`).
    pub response_status: Option<i32>,
    /// The response headers, as an object of names to values; `{}` when no response came.
    pub response_headers: Json<Value>,
    /// The response body as text, cut after 4096 bytes (then ending with `…`); null when no
    /// response came.
    pub response_body: Option<String>,
    /// How long the request took, reading the response included, in milliseconds.
    pub duration_ms: i64,
    /// Why no response came: a connection or TLS error, the `--webhook-timeout-secs` timeout
    /// (10 s by default), or a non-public address refused. Null when a response came, whatever its status.
    pub error: Option<String>,
}

impl From<Attempt> for TestWebhookResult {
    fn from(a: Attempt) -> Self {
        TestWebhookResult {
            url: a.url,
            request_headers: Json(a.request_headers),
            request_body: a.request_body,
            response_status: a.response_status.map(i32::from),
            response_headers: Json(a.response_headers),
            response_body: a.response_body,
            duration_ms: a.duration_ms,
            error: a.error,
        }
    }
}
