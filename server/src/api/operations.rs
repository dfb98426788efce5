//! Probes for load balancers and orchestrators, and metrics for Prometheus:
//! outside `/v1`, without a token.

use axum::{Json, Router, extract::State, http::header, response::IntoResponse, routing::get};
use serde_json::{Value, json};

use crate::{error::ApiError, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

/// The process is alive.
async fn healthz() -> Json<Value> {
    Json(json!({"success": true, "status": "ok"}))
}

/// The database answers; 503 with the error body when it does not.
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if let Err(error) = state.store.ping().await {
        tracing::warn!(%error, "readiness check failed");
        return Err(ApiError::DatabaseUnavailable);
    }
    Ok(Json(json!({"success": true, "status": "ready"})))
}

/// Every metric, in the OpenMetrics text format Prometheus scrapes.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.metrics.render(state.store.pool_status());
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
}
