//! Probes for load balancers and orchestrators, outside `/v1` and without a token.

use axum::{Json, Router, extract::State, routing::get};
use serde_json::{Value, json};

use crate::{error::ApiError, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
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
