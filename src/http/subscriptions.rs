//! GraphQL subscriptions over WebSocket, on `/graphql/ws` and as an upgrade of `GET /graphql`:
//! both protocols async-graphql serves (`graphql-transport-ws` and the legacy `graphql-ws`). The
//! access token comes in `connection_init`'s payload; without a valid one the socket is closed
//! with the protocol's error.

use crate::auth::Auth;
use async_graphql::{Data, http::ALL_WEBSOCKET_PROTOCOLS};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use std::time::Duration;

use axum::{
    extract::{
        FromRequestParts, Request, State, WebSocketUpgrade,
        ws::{CloseFrame, Message},
    },
    response::{IntoResponse, Response},
};
use futures_util::{SinkExt as _, Stream, StreamExt as _};
use serde_json::Value;

use super::HttpState;

/// `GET /graphql`: a WebSocket upgrade is a subscription connection, anything else the
/// playground's page.
pub async fn graphql_get(state: State<HttpState>, req: Request) -> Response {
    let wants_ws = req
        .headers()
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if wants_ws { upgrade(state, req).await } else { super::playground::page(&state.0, &req) }
}

/// `GET /graphql/ws`.
pub async fn upgrade(State(http): State<HttpState>, req: Request) -> Response {
    let (mut parts, _) = req.into_parts();
    let protocol = match GraphQLProtocol::from_request_parts(&mut parts, &()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let schema = http.schema.clone();
    let tokens = http.app.tokens.clone();
    let init_wait = Duration::from_secs(http.app.config.limits.header_read_timeout_secs.max(1));
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let (sink, stream) = socket.split();
            // A close frame's reason must fit a control frame (125 bytes with the code).
            let sink = sink.with(|msg: Message| async move { Ok::<_, axum::Error>(fit_close_reason(msg)) });
            GraphQLWebSocket::new_with_pair(sink, first_message_within(init_wait, stream), schema, protocol)
                .on_connection_init(move |payload| async move {
                    let auth = auth_from_init(&tokens, &payload).await;
                    // Refuse the connection itself, not each subscription later; the close
                    // reason carries the code and a short message.
                    auth.require().map_err(|e| async_graphql::Error::new(format!("{}: {}", e.code(), e)))?;
                    let mut data = Data::default();
                    data.insert(auth);
                    Ok(data)
                })
                .serve()
        })
        .into_response()
}

/// Longest close reason: a control frame carries 125 bytes, 2 of them the code.
const MAX_CLOSE_REASON: usize = 123;

fn fit_close_reason(msg: Message) -> Message {
    match msg {
        Message::Close(Some(CloseFrame { code, reason })) if reason.len() > MAX_CLOSE_REASON => {
            let mut end = MAX_CLOSE_REASON;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            Message::Close(Some(CloseFrame { code, reason: reason.as_str()[..end].to_string().into() }))
        }
        other => other,
    }
}

/// The client's messages, ended when the first (`connection_init`) does not come in time: an
/// idle socket holds a connection slot for nothing.
fn first_message_within<S>(wait: Duration, stream: S) -> impl Stream<Item = S::Item> + Send
where
    S: Stream + Unpin + Send,
    S::Item: Send,
{
    async_stream::stream! {
        let mut stream = stream;
        match tokio::time::timeout(wait, stream.next()).await {
            Ok(Some(first)) => yield first,
            _ => return,
        }
        while let Some(next) = stream.next().await {
            yield next;
        }
    }
}

/// The credentials of `connection_init`: `{"Authorization": "Bearer <token>"}` (any case), or
/// `{"token": "<token>"}` / `{"accessToken": "<token>"}`, with an optional
/// `x-authing-userpool-id` that must match the token.
async fn auth_from_init(tokens: &crate::security::tokens::TokenService, payload: &Value) -> Auth {
    let mut headers = axum::http::HeaderMap::new();
    if let Some(obj) = payload.as_object() {
        for (k, v) in obj {
            let Some(v) = v.as_str() else { continue };
            let name = match k.to_ascii_lowercase().as_str() {
                "authorization" => axum::http::header::AUTHORIZATION.as_str().to_string(),
                "token" | "accesstoken" | "access_token" => {
                    if let Ok(value) = format!("Bearer {v}").parse() {
                        headers.insert(axum::http::header::AUTHORIZATION, value);
                    }
                    continue;
                }
                other => other.to_string(),
            };
            if let (Ok(name), Ok(value)) = (axum::http::HeaderName::try_from(name), v.parse()) {
                headers.insert(name, value);
            }
        }
    }
    Auth::from_headers(tokens, &headers).await
}
