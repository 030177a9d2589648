//! GraphQL subscriptions over WebSocket, on `/graphql/ws` and as an upgrade of `GET /graphql`:
//! both protocols async-graphql serves (`graphql-transport-ws` and the legacy `graphql-ws`). The
//! access token comes in `connection_init`'s payload; without a valid one the socket is closed
//! with the protocol's error. While open, the token is checked again every
//! `--token-revocation-check-secs`: once the pool's secret has changed, the socket is closed
//! with code 4403 and an `INVALID_TOKEN` reason (both protocols). Its expiry does not close it.

use crate::{auth::Auth, error::AppError, security::tokens::Credential};
use async_graphql::{Data, http::ALL_WEBSOCKET_PROTOCOLS};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use std::{sync::Arc, time::Duration};

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
        .on_upgrade(move |socket| async move {
            let (sink, stream) = socket.split();
            // Shared: the close of a revoked connection is sent after the GraphQL side is dropped.
            let sink = Arc::new(tokio::sync::Mutex::new(sink));
            let to_client = futures_util::sink::unfold(sink.clone(), |sink, msg: Message| async move {
                // A close frame's reason must fit a control frame (125 bytes with the code).
                sink.lock().await.send(fit_close_reason(msg)).await?;
                Ok::<_, axum::Error>(sink)
            });
            // The credential `connection_init` authenticated, for the revocation watch.
            let (accepted, credential) = tokio::sync::oneshot::channel::<Credential>();
            let watcher = tokens.clone();
            let graphql = GraphQLWebSocket::new_with_pair(to_client, first_message_within(init_wait, stream), schema, protocol)
                .on_connection_init(move |payload| async move {
                    let auth = auth_from_init(&tokens, &payload).await;
                    // Refuse the connection itself, not each subscription later; the close
                    // reason carries the code and a short message.
                    let claims = auth.claims().map_err(|e| async_graphql::Error::new(format!("{}: {}", e.code(), e)))?;
                    let _ = accepted.send(Credential::from(claims.as_ref()));
                    let mut data = Data::default();
                    data.insert(auth);
                    Ok(data)
                });
            let revocation = async move {
                match credential.await {
                    Ok(credential) => watcher.revocation(&credential).await,
                    // Never authenticated: the protocol has closed it.
                    Err(_) => std::future::pending().await,
                }
            };
            let mut serving = Box::pin(graphql.serve());
            let revoked = tokio::select! {
                () = &mut serving => None,
                why = revocation => Some(why),
            };
            // Dropped first: it ends the connection's subscriptions and frees the sink.
            drop(serving);
            if let Some(why) = revoked {
                let _ = sink.lock().await.send(revoked_close(&why)).await;
            }
        })
        .into_response()
}

/// Close code of a connection whose credential was revoked while it was open (the
/// `graphql-transport-ws` code for "Forbidden"; the event socket uses it too).
pub const REVOKED_CLOSE_CODE: u16 = 4403;

/// The close frame of a connection whose credential was revoked: the error's code, then why.
pub fn revoked_close(why: &AppError) -> Message {
    fit_close_reason(Message::Close(Some(CloseFrame { code: REVOKED_CLOSE_CODE, reason: format!("{}: {}", why.code(), why).into() })))
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
