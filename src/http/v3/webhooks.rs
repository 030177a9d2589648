//! v3 webhooks: the webhooks GraphQL manages, shown as `WebhookDto`. Event names are shown by
//! their v3 names (`role:created` for the catalog's `role:add`); the secret is write-only, as in
//! GraphQL (a generated one is shown once, by create-webhook); `retryConfig` is not kept (every webhook follows `--webhook-retry-schedule`).

use axum::{Router, extract::State, response::Response, routing::{get, post}};
use entity::{delivery_attempt, webhook::{self, ContentType}};
use serde_json::{Value, json};

use super::{V3Call, params::Params, success};
use crate::{
    domain::{
        docs::iso,
        events::{EventName, custom::MAX_LISTED},
        pagination::Page,
        webhooks::{LoggedAttempt, WebhookInput, manual::ManualRequest},
    },
    error::{AppError, AppResult},
    http::{
        HttpState,
        envelope::{V3Error, v3_ok},
    },
};

/// Largest page of webhooks and logs ("at most 50").
const MAX_LIMIT: u64 = 50;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/api/v3/create-webhook", post(create))
        .route("/api/v3/list-webhooks", get(list))
        .route("/api/v3/get-webhook", get(one))
        .route("/api/v3/update-webhook", post(update))
        .route("/api/v3/delete-webhook", post(delete))
        .route("/api/v3/get-webhook-logs", post(logs))
        .route("/api/v3/trigger-webhook", post(trigger))
        .route("/api/v3/get-webhook-event-list", get(event_list))
}

const JSON_TYPE: &str = "application/json";
const FORM_TYPE: &str = "application/x-www-form-urlencoded";

fn content_type(p: &Params) -> AppResult<Option<ContentType>> {
    match p.optional("contentType")?.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        None => Ok(None),
        Some(JSON_TYPE | "json") => Ok(Some(ContentType::Json)),
        Some(FORM_TYPE | "form") => Ok(Some(ContentType::Form)),
        Some(other) => Err(AppError::invalid("contentType", format!("contentType must be {JSON_TYPE} or {FORM_TYPE}, got {other:?}"))),
    }
}

/// A stored event name as v3 shows it.
fn v3_event_name(name: &str) -> &str {
    match EventName::parse(name) {
        Some(e) => e.v3_name(),
        None => name,
    }
}

fn webhook_dto(w: &webhook::Model) -> Value {
    let events: Vec<&str> = w.events.as_array().map(|a| a.iter().filter_map(Value::as_str).map(v3_event_name).collect()).unwrap_or_default();
    json!({
        "webhookId": w.id,
        "name": w.name,
        "url": w.url,
        "contentType": match w.content_type { ContentType::Json => JSON_TYPE, ContentType::Form => FORM_TYPE },
        "events": events,
        "enabled": w.enabled,
        "subtreeOf": w.subtree_of,
        "createdAt": iso(w.created_at),
        "updatedAt": iso(w.updated_at),
    })
}

/// The fields of create and update; on update, those left out keep their value.
fn input(p: &Params) -> AppResult<WebhookInput> {
    Ok(WebhookInput {
        name: p.text("name")?,
        url: p.text("url")?,
        secret: p.text("secret")?,
        content_type: content_type(p)?,
        events: p.list("events")?,
        enabled: p.bool("enabled")?,
        subtree_of: p.text("subtreeOf")?,
    })
}

/// `POST /api/v3/create-webhook {name, url, contentType, events, enabled?, secret?}`. Without a
/// secret one is generated and this answer, only, shows it in `secret`.
async fn create(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    p.required("name")?;
    p.required("url")?;
    p.required("contentType")?;
    p.required_list("events")?;
    let created = http.app.webhooks.create(&call.pool, input(p)?).await?;
    let mut dto = webhook_dto(&created.webhook);
    if let (Some(secret), Some(fields)) = (created.generated_secret, dto.as_object_mut()) {
        fields.insert("secret".into(), Value::String(secret));
    }
    Ok(v3_ok(dto))
}

async fn list(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let page = Page::new(p.int("page")?, p.int("limit")?, MAX_LIMIT)?;
    let found = http.app.webhooks.page(&call.pool, page).await?;
    let list: Vec<Value> = found.list.iter().map(webhook_dto).collect();
    Ok(v3_ok(json!({ "totalCount": found.total_count, "list": list })))
}

async fn one(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let hook = http.app.webhooks.get(&call.pool, &call.params.required("webhookId")?).await?;
    Ok(v3_ok(webhook_dto(&hook)))
}

async fn update(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let hook = http.app.webhooks.update(&call.pool, &p.required("webhookId")?, input(p)?).await?;
    Ok(v3_ok(webhook_dto(&hook)))
}

/// `POST /api/v3/delete-webhook {webhookIds}`: all or none. GenAuth ignores unknown ids; orgraph
/// refuses them (404, nothing deleted), so a mistyped id is seen.
async fn delete(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    http.app.webhooks.delete_many(&call.pool, &call.params.required_list("webhookIds")?).await?;
    Ok(v3_ok(success()))
}

/// A body as the log shows it: JSON when it is JSON, else the text.
fn body_value(text: Option<&str>) -> Value {
    match text {
        None => Value::Null,
        Some(t) => serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_string())),
    }
}

fn error_message(a: &delivery_attempt::Model) -> Option<String> {
    a.error.clone().or_else(|| a.response_status.filter(|s| !(200..300).contains(s)).map(|s| format!("the receiver answered HTTP {s}")))
}

fn log_dto(l: &LoggedAttempt) -> Value {
    let a = &l.attempt;
    json!({
        "webhookId": l.webhook_id,
        "eventName": v3_event_name(&l.event_name),
        "requestBody": body_value(Some(&a.request_body)),
        "requestHeaders": a.request_headers,
        "responseStatusCode": a.response_status,
        "responseHeaders": a.response_headers,
        "responseBody": body_value(a.response_body.as_deref()),
        "timestamp": iso(a.attempted_at),
        "success": a.response_status.is_some_and(|s| (200..300).contains(&s)),
        "errorMessage": error_message(a),
        "eventId": l.event_id,
        "deliveryId": a.delivery_id,
        "durationMs": a.duration_ms,
    })
}

/// `POST /api/v3/get-webhook-logs {webhookId, page, limit}`: every request sent to the webhook
/// (each attempt of each delivery), newest first.
async fn logs(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let page = Page::new(p.int("page")?, p.int("limit")?, MAX_LIMIT)?;
    let found = http.app.webhooks.attempt_log(&call.pool, &p.required("webhookId")?, page).await?;
    let list: Vec<Value> = found.list.iter().map(log_dto).collect();
    Ok(v3_ok(json!({ "totalCount": found.total_count, "list": list })))
}

/// `POST /api/v3/trigger-webhook {webhookId, requestHeaders?, requestBody?}`: send it now and
/// answer what the receiver answered (`response`), with what was sent (`request`, secrets
/// masked). Without a body the test event is sent. Nothing is logged or retried.
async fn trigger(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let request = ManualRequest::new(p.value("requestHeaders"), p.value("requestBody"))?;
    let hook = http.app.webhooks.get(&call.pool, &p.required("webhookId")?).await?;
    let sent = http.app.sender.send_manual(&hook, &crate::ids::new_id(), &request).await;
    Ok(v3_ok(json!({
        "response": {
            "status": sent.response_status,
            "headers": sent.response_headers,
            "body": body_value(sent.response_body.as_deref()),
        },
        "request": { "url": sent.url, "headers": sent.request_headers, "body": body_value(Some(&sent.request_body)) },
        "success": sent.succeeded(),
        "errorMessage": sent.error,
        "durationMs": sent.duration_ms,
    })))
}

/// `GET /api/v3/get-webhook-event-list`: the catalog by category, then the pool's custom types,
/// one category per event app.
async fn event_list(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    use crate::domain::events::catalog::CATEGORIES;
    let mut categories: Vec<Value> = CATEGORIES.iter().map(|c| json!({ "name": c.name, "nameEn": c.name_en, "value": c.value })).collect();
    let mut events: Vec<Value> = EventName::ALL
        .iter()
        .map(|e| json!({ "name": e.description(), "nameEn": e.description(), "value": e.v3_name(), "category": e.category().value }))
        .collect();
    let apps = http.app.events.apps(&call.pool).await?;
    categories.extend(apps.list.iter().map(|a| json!({ "name": a.name, "nameEn": a.name, "value": a.identifier })));
    let defined = http.app.events.definitions(&call.pool, None, Page::new(Some(1), Some(MAX_LISTED as i64), MAX_LISTED)?).await?;
    events.extend(
        defined
            .list
            .iter()
            .map(|d| json!({ "name": d.description, "nameEn": d.description, "value": d.event_type, "category": d.app_identifier })),
    );
    Ok(v3_ok(json!({ "categories": categories, "events": events })))
}
