use async_graphql::{ComplexObject, Context, Enum, Json, Result, SimpleObject};
use entity::{delivery, delivery_attempt, webhook};
use serde_json::Value;

use crate::domain::docs::iso;
use crate::{
    delivery::sender::Attempt,
    domain::{pagination::Page, webhooks::WithSecret},
    graphql::context::ContextExt,
};

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
    pub id: String,
    pub name: String,
    pub url: String,
    pub content_type: WebhookContentType,
    pub events: Vec<String>,
    pub enabled: bool,
    /// Whether a secret is set.
    pub has_secret: bool,
    /// The `whsec_` secret orgraph generated: only in the answer of `createWebhook` without a
    /// `secret` and of `rotateWebhookSecret`, null everywhere else. Keep it: it is not shown again.
    pub secret: Option<String>,
    /// Deliveries that failed in a row (the webhook is disabled at `--webhook-max-failures`).
    pub consecutive_failures: i32,
    pub created_at: String,
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
        #[graphql(default_with = "Some(1)")] page: Option<i64>,
        #[graphql(default_with = "Some(10)")] limit: Option<i64>,
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

#[derive(SimpleObject)]
pub struct PaginatedDeliveries {
    pub total_count: i64,
    pub list: Vec<WebhookDelivery>,
}

/// One event to one webhook; `id` is the `webhook-id` header, the same on every retry.
#[derive(SimpleObject)]
pub struct WebhookDelivery {
    pub id: String,
    pub event_id: String,
    /// `pending`, `delivering`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: String,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: String,
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

/// One request of a delivery and its answer (bodies truncated, secrets masked).
#[derive(SimpleObject)]
pub struct DeliveryAttempt {
    pub attempted_at: String,
    pub request_headers: Json<Value>,
    pub request_body: String,
    pub response_status: Option<i32>,
    pub response_headers: Json<Value>,
    pub response_body: Option<String>,
    pub duration_ms: i64,
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
    pub url: String,
    pub request_headers: Json<Value>,
    pub request_body: String,
    pub response_status: Option<i32>,
    pub response_headers: Json<Value>,
    pub response_body: Option<String>,
    pub duration_ms: i64,
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
