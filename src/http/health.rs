//! `/healthz` (the process answers), `/readyz` (and so does the database), `/metrics`
//! (Prometheus text).

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use super::HttpState;
use crate::storage;

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

pub async fn metrics(State(http): State<HttpState>) -> impl IntoResponse {
    let mut out = String::new();
    http.app.db_metrics.render(&mut out);
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
