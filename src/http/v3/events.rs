//! v3 event centre: publishing events, and the custom event types apps define. A published event
//! is stored and delivered like the events orgraph causes (webhooks, GraphQL subscriptions, the
//! event socket).

use axum::{Router, extract::State, response::Response, routing::{get, post}};
use entity::{event_app, event_definition};
use serde_json::{Value, json};

use super::{V3Call, success};
use crate::{
    domain::pagination::Page,
    error::AppError,
    http::{
        HttpState,
        envelope::{V3Error, v3_ok},
    },
};

/// Largest page of `list-events` ("at most 50").
const MAX_LIMIT: u64 = 50;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/api/v3/pub-event", post(publish))
        .route("/api/v3/pub-userEvent", post(publish))
        .route("/api/v3/create-event-app", post(create_app))
        .route("/api/v3/list-event-apps", get(list_apps))
        .route("/api/v3/define-event", post(define))
        .route("/api/v3/list-events", get(list_events))
}

fn app_dto(a: &event_app::Model) -> Value {
    json!({ "identifier": a.identifier, "name": a.name, "logo": a.logo })
}

/// `OpenEventDto`: `code` and `topic` are the type (what webhooks, `sub` and `pub-event` name),
/// `name` its part after the app identifier.
fn event_dto(d: &event_definition::Model) -> Value {
    let name = d.event_type.split_once('.').map_or(d.event_type.as_str(), |(_, name)| name);
    json!({ "id": d.id, "code": d.event_type, "topic": d.event_type, "name": name, "desc": d.description, "app": d.app_identifier })
}

/// `POST /api/v3/pub-event {eventType, eventData}` (and `pub-userEvent`, which management clients
/// call the same way). `eventData` is an object, or its JSON text as `put_event` and Node's `pub`
/// send it; Node's `source` is ignored. `eventType` is a custom type (`define-event`) or a
/// built-in event name.
async fn publish(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let event_type = p.required("eventType")?;
    let data = match p.value("eventData") {
        None => return Err(AppError::invalid("eventData", "eventData is required (an object, or its JSON text)").into()),
        Some(Value::String(text)) => serde_json::from_str::<Value>(text)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| AppError::invalid("eventData", "eventData is a text but not the JSON text of an object"))?,
        Some(value) => value.clone(),
    };
    http.app.events.publish(&call.pool, &event_type, data).await?;
    Ok(v3_ok(success()))
}

/// `POST /api/v3/create-event-app {identifier, name, logo}`.
async fn create_app(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let app = http
        .app
        .events
        .create_app(&call.pool, &p.required("identifier")?, &p.required("name")?, &p.text("logo")?.unwrap_or_default())
        .await?;
    Ok(v3_ok(app_dto(&app)))
}

async fn list_apps(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let found = http.app.events.apps(&call.pool).await?;
    let list: Vec<Value> = found.list.iter().map(app_dto).collect();
    Ok(v3_ok(json!({ "totalCount": found.total_count, "list": list })))
}

/// `POST /api/v3/define-event {eventType: "<app identifier>.<name>", eventDescription}`.
async fn define(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let defined = http.app.events.define(&call.pool, &p.required("eventType")?, &p.required("eventDescription")?).await?;
    Ok(v3_ok(event_dto(&defined)))
}

/// `GET /api/v3/list-events?page&limit&app`: the pool's custom event types, oldest first, of one
/// app when `app` is given (the built-in ones are in `get-webhook-event-list`).
async fn list_events(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let page = Page::new(p.int("page")?, p.int("limit")?, MAX_LIMIT)?;
    let found = http.app.events.definitions(&call.pool, p.optional("app")?.as_deref(), page).await?;
    let list: Vec<Value> = found.list.iter().map(event_dto).collect();
    Ok(v3_ok(json!({ "totalCount": found.total_count, "list": list })))
}
