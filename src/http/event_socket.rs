//! Authing's own event socket, used by authing-js-sdk's `managementClient.event.sub(code, cb)`:
//! `GET /events/v1/management/sub?code=<eventName>&token=<access token>`, a plain WebSocket that
//! carries one JSON message per event of that name in the token's pool:
//! `{"id", "eventName", "data", "createdAt"}`.

use axum::{
    extract::{Query, State, WebSocketUpgrade, ws::{Message, WebSocket}},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::{HttpState, envelope::V2Error};
use crate::{
    domain::{
        PoolId,
        docs::iso,
        events::{EventFilter, catalog},
    },
    error::AppError,
    metrics::SubscriptionGuard,
};

#[derive(Deserialize)]
pub struct SubQuery {
    code: Option<String>,
    token: Option<String>,
}

pub async fn subscribe(State(http): State<HttpState>, Query(q): Query<SubQuery>, ws: WebSocketUpgrade) -> Response {
    let pool = match q.token.as_deref().filter(|t| !t.is_empty()) {
        None => return V2Error(AppError::Unauthenticated).into_response(),
        Some(token) => match http.app.tokens.verify(token) {
            Ok(claims) => PoolId::trusted(claims.scoped_userpool_id),
            Err(e) => return V2Error(e).into_response(),
        },
    };
    let Some(code) = q.code.filter(|c| catalog::is_known(c)) else {
        return V2Error(AppError::invalid("code", "code must be an event name of webhookEventList")).into_response();
    };
    let filter = EventFilter { names: Some(vec![code]), org_id: None };
    let bus = http.app.events.bus.clone();
    let metrics = http.app.metrics.clone();
    ws.on_upgrade(move |socket| async move {
        let _counted = SubscriptionGuard::new(&metrics);
        forward(socket, bus, pool, filter).await
    })
}

async fn forward(mut socket: WebSocket, bus: crate::domain::events::EventBus, pool: PoolId, filter: EventFilter) {
    let mut live = bus.subscribe();
    let mut recent = std::collections::VecDeque::<String>::new();
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(e) => {
                    // The PostgreSQL relay may bring a local event a second time.
                    if !filter.matches(&pool, &e) || recent.contains(&e.id) {
                        continue;
                    }
                    recent.push_back(e.id.clone());
                    if recent.len() > 1024 {
                        recent.pop_front();
                    }
                    let msg = json!({ "id": e.id, "eventName": e.event_name, "data": e.data, "createdAt": iso(e.created_at) });
                    if socket.send(Message::Text(msg.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
