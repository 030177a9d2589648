//! `/healthz` (the process answers), `/readyz` (and so does the database), `/metrics`
//! (Prometheus text; where it is served and whether it asks for `--metrics-token` is decided by
//! the router, see `MetricsConfig`).

use axum::{
    Json,
    extract::{MatchedPath, Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::HttpState;
use crate::{
    metrics::{RequestLabels, RouteLabels, StatusLabels},
    storage,
};

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(http): State<HttpState>) -> impl IntoResponse {
    match storage::ping(&http.app.db).await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready", "database": "ok" }))),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "database": "unreachable" })))
        }
    }
}

pub async fn metrics(State(http): State<HttpState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &http.app.config.metrics.token {
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .unwrap_or("");
        if !crate::security::compare::secrets_match(given.trim(), token) {
            let challenge = [(axum::http::header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")];
            return (StatusCode::UNAUTHORIZED, challenge, "/metrics needs Authorization: Bearer <the metrics token>\n").into_response();
        }
    }
    let metrics = &http.app.metrics;
    match crate::domain::webhooks::queue_stats(&http.app.db).await {
        Ok((by_status, due)) => {
            metrics.deliveries.clear();
            for (status, n) in by_status {
                metrics.deliveries.get_or_create(&StatusLabels { status: status.as_str().into() }).set(n);
            }
            metrics.deliveries_due.set(due);
        }
        Err(err) => tracing::warn!(error = %err, "metrics: the delivery queue could not be read"),
    }
    ([(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], metrics.render()).into_response()
}

/// Count every request by route and status, with its duration.
pub async fn record(State(http): State<HttpState>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().as_str().to_string();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(req).await;
    let metrics = &http.app.metrics;
    metrics.request_seconds.get_or_create(&RouteLabels { method: method.clone(), route: route.clone() }).observe(started.elapsed().as_secs_f64());
    metrics.requests.get_or_create(&RequestLabels { method, route, status: response.status().as_u16() }).inc();
    response
}
