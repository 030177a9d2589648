//! GraphQL over Server-Sent Events on `/graphql`, the "distinct connections" mode of the GraphQL
//! over SSE protocol (what the `graphql-sse` client speaks): a request whose `Accept` asks for
//! `text/event-stream` is answered by a stream of `next` events, each an execution result, then
//! `complete`. Subscriptions stay open; queries and mutations send one result.
//!
//! The caller authenticates as on any request (`Authorization`), and the same document rules
//! apply (persisted queries, trusted documents, GET for queries only). An event of the `events`
//! subscription goes out with its event id as the SSE `id`, so a client reconnecting with
//! `Last-Event-ID` resumes after it with no gap and no repeat, as `after` does. A comment every
//! [`HEARTBEAT`] keeps idle proxies from closing the stream, and a revoked token ends it with an
//! `INVALID_TOKEN` error, as on WebSockets. Streams count against the server's connection cap
//! like any connection.

use std::{convert::Infallible, time::Duration};

use async_graphql::Request;
use axum::{
    http::{HeaderMap, HeaderValue, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use futures_util::StreamExt as _;

use super::HttpState;
use crate::{
    auth::Auth,
    graphql::{
        errors::ensure_codes,
        resolvers::subscriptions::{LastEventId, ResumeAfter},
    },
    security::tokens::Credential,
};

/// How often an idle stream sends a comment.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// Whether `Accept` asks for an event stream.
pub fn asks_for_events(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| range.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("text/event-stream")))
}

/// Run `request` for `auth` and stream its results.
pub fn respond(http: &HttpState, headers: &HeaderMap, auth: Auth, request: Request) -> Response {
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let labels = LastEventId::default();
    let mut request = request.data(labels.clone());
    if let Some(after) = resume {
        request = request.data(ResumeAfter(after.to_string()));
    }
    let credential = auth.claims().ok().map(|claims| Credential::from(claims.as_ref()));
    let results = http.schema.execute_stream(request.data(auth));
    let tokens = http.app.tokens.clone();
    let events = async_stream::stream! {
        let revoked = async {
            match &credential {
                Some(credential) => tokens.revocation(credential).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(revoked);
        tokio::pin!(results);
        loop {
            tokio::select! {
                next = results.next() => match next {
                    Some(mut response) => {
                        ensure_codes(&mut response);
                        let mut event = Event::default().event("next").data(serde_json::to_string(&response).unwrap_or_default());
                        if let Some(id) = labels.take() {
                            event = event.id(id);
                        }
                        yield Ok::<_, Infallible>(event);
                    }
                    None => break,
                },
                why = &mut revoked => {
                    let error = serde_json::json!({ "errors": [{ "message": why.to_string(), "extensions": { "code": why.code() } }] });
                    yield Ok(Event::default().event("next").data(error.to_string()));
                    break;
                }
            }
        }
        yield Ok(Event::default().event("complete").data(""));
    };
    let mut res = Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx would otherwise hold the events back to fill its buffer.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}
