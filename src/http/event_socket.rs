//! Authing's own event socket: `GET /events/v1/management/sub?code=<event name>`, a plain
//! WebSocket that carries one JSON text message per event of that name in the caller's pool:
//! `{"id", "eventName", "data", "createdAt"}`. The code is a catalog name (or its v3 name) or a
//! custom type the pool defined (v3 `define-event`). Callers authenticate as their SDKs do:
//! authing-js-sdk v4's `managementClient.event.sub` sends `&token=<access token>`; the v3 SDKs
//! (authing-node-sdk 4 `sub`, PyPI authing 5 `sub_event`) send no token but the header
//! `authorization: authing <pool id>:<base64 HMAC-SHA1(secret, "websocket\n")>`. A refused
//! upgrade answers the v3 envelope with its HTTP status (401, 400), which WebSocket clients report.
//! `&after=<event id>` (orgraph's) resumes after that event: the ones missed first, then live
//! ones, each once and in commit order (the domain's live stream; this only writes its frames).
//! While open, the socket's credential is checked again every `--token-revocation-check-secs`:
//! once the pool's secret has changed (which revokes tokens and makes the old signature wrong),
//! the socket is closed with code 4403 and an `INVALID_TOKEN` reason. A token's expiry does not
//! close it.

use axum::{
    extract::{
        Query, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket, close_code},
    },
    http::{Extensions, HeaderMap},
    response::{IntoResponse, Response},
};
use futures_util::{Stream, StreamExt as _};
use serde::Deserialize;
use serde_json::json;

use super::{HttpState, envelope::V3Error, client_address::client_address, v3::call};
use crate::{
    domain::{PoolId, docs::iso, events::EventFilter},
    error::{AppError, AppResult},
    metrics::SubscriptionGuard,
    security::tokens::Credential,
};

/// What the v3 SDKs sign for the socket. It holds no time, so the header is the same on every
/// connection: it proves the secret is known, like the secret itself would.
pub const SIGNED_TEXT: &str = "websocket\n";

#[derive(Deserialize)]
pub struct SubQuery {
    code: Option<String>,
    token: Option<String>,
    after: Option<String>,
}

pub async fn subscribe(
    State(http): State<HttpState>,
    Query(q): Query<SubQuery>,
    headers: HeaderMap,
    extensions: Extensions,
    ws: WebSocketUpgrade,
) -> Response {
    let credential = match caller(&http, q.token.as_deref(), &headers, &extensions).await {
        Ok(credential) => credential,
        Err(e) => return V3Error(e).into_response(),
    };
    let pool = PoolId::trusted(credential.pool.clone());
    let code = match q.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => return V3Error(AppError::invalid("code", "code is required: the event name to receive")).into_response(),
        Some(code) => match http.app.events.resolve(&pool, "code", code).await {
            Ok(name) => name,
            Err(e) => return V3Error(e).into_response(),
        },
    };
    let filter = EventFilter { names: Some(vec![code.as_str().to_string()]), org_id: None, subtree_of: None };
    // Open before answering the upgrade: an event committed once the client sees the socket
    // open reaches it.
    let after = q.after.as_deref().map(str::trim).filter(|a| !a.is_empty());
    let live = match http.app.events.live(&pool, filter, after).await {
        Ok(live) => live,
        Err(e) => return V3Error(e).into_response(),
    };
    let metrics = http.app.metrics.clone();
    let tokens = http.app.tokens.clone();
    ws.on_upgrade(move |socket| async move {
        let _counted = SubscriptionGuard::new(&metrics);
        forward(socket, live.into_stream(), tokens.revocation(&credential)).await
    })
}

/// Whose events the socket carries, and by what credential: the `token`, else the signed header.
async fn caller(http: &HttpState, token: Option<&str>, headers: &HeaderMap, extensions: &Extensions) -> AppResult<Credential> {
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        return Ok(Credential::from(&http.app.tokens.verify(token).await?));
    }
    let credential = call::signed_credential(headers).ok_or(AppError::Unauthenticated)?;
    let (pool_id, signature) = call::split_credential(credential)?;
    http.app.pools.signed_credential(pool_id, &[SIGNED_TEXT.to_string()], signature, client_address(extensions)).await
}

/// One text frame per event, as Authing's socket sends them, until `revocation` ends the
/// socket; the client's messages are only watched for the close.
async fn forward(
    mut socket: WebSocket,
    events: impl Stream<Item = AppResult<std::sync::Arc<entity::event::Model>>>,
    revocation: impl Future<Output = AppError>,
) {
    let mut events = std::pin::pin!(events);
    let mut revocation = std::pin::pin!(revocation);
    loop {
        tokio::select! {
            why = &mut revocation => {
                let _ = socket.send(super::subscriptions::revoked_close(&why)).await;
                return;
            }
            next = events.next() => match next {
                Some(Ok(e)) => {
                    let msg = json!({ "id": e.id, "eventName": e.event_name, "data": e.data, "createdAt": iso(e.created_at) });
                    if socket.send(Message::Text(msg.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Some(Err(e)) => {
                    // Closed, not silently ended: the client reconnects with `after`.
                    e.log_if_internal();
                    let frame = CloseFrame { code: close_code::ERROR, reason: "reading events failed; reconnect with after=<last id>".into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    return;
                }
                None => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
