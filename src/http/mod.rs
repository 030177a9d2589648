//! The HTTP surface: routes, and the layers every request passes (logging with duration, body
//! size limit, timeout).

pub mod auth;
pub mod envelope;
pub mod event_socket;
pub mod graphql;
pub mod health;
pub mod listener;
pub mod playground;
pub mod rest_auth;
pub mod rest_orgs;
pub mod rest_users;
pub mod subscriptions;

use std::time::Duration;

use axum::{
    Router,
    http::StatusCode,
    routing::{get, post},
};
use tower_http::{
    LatencyUnit,
    limit::RequestBodyLimitLayer,
    timeout::TimeoutLayer,
    trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{app::AppState, graphql::OrgraphSchema};

/// State of the HTTP handlers: the application and the schema built on it.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schema: OrgraphSchema,
}

pub fn router(app: AppState, schema: OrgraphSchema) -> Router {
    let limits = app.config.limits.clone();
    let state = HttpState { app, schema };
    // Imports carry whole trees: they get their own, larger body limit.
    let imports = Router::new()
        .route("/api/v2/orgs/import", post(rest_orgs::import))
        .with_state(state.clone())
        .layer(RequestBodyLimitLayer::new(limits.max_import_bytes));
    Router::new()
        .route("/graphql", get(subscriptions::graphql_get).post(graphql::execute))
        .route("/graphql/ws", get(subscriptions::upgrade))
        .route("/graphql/assets/{name}", get(playground::asset))
        .route("/events/v1/management/sub", get(event_socket::subscribe))
        .route("/graphql/v2", post(graphql::execute))
        .route("/api/v3/get-management-token", post(rest_auth::management_token))
        .route("/api/v2/.well-known", get(rest_auth::well_known))
        .route("/api/v2/users/{id}", get(rest_users::detail))
        .route("/api/v2/orgs", get(rest_orgs::list))
        .route("/api/v2/orgs/count", get(rest_orgs::count))
        .route("/api/v2/orgs/export", get(rest_orgs::export))
        .route("/api/v2/orgs/nodes/{node_id}/members", get(rest_orgs::node_members))
        .route("/api/v3/list-department-members", get(rest_orgs::department_members_v3))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .merge(imports)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(limits.request_timeout_secs),
        ))
        // One line per request, at its end, with status and duration.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Micros)),
        )
}
