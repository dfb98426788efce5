//! `GET /v1/audit-events`: who changed what, for admin tokens.

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    extract::ApiQuery,
    pagination::{into_page, page_request},
    responses::{AuthenticatedErrors, InputErrors},
};
use crate::{
    auth::{Administer, Authorized},
    domain::audit::{AuditAction, AuditEvent, AuditFilter},
    error::ApiError,
    state::AppState,
};

#[derive(Serialize, ToSchema)]
pub struct AuditEventListResponse {
    #[schema(example = true)]
    success: bool,
    events: Vec<AuditEvent>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAuditEventsQuery {
    /// How many items a page holds at most.
    #[param(minimum = 1, maximum = 100, default = 50)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; absent or empty for the first page.
    #[param(pattern = "^([0-9a-fA-F]{32})?$")]
    cursor: Option<String>,
    /// Only events of this action.
    action: Option<AuditAction>,
    /// Only events made by this token.
    actor_id: Option<Uuid>,
    /// Only events about this app, token or organization.
    target_id: Option<Uuid>,
    /// Only events that occurred at or after this time.
    since: Option<DateTime<Utc>>,
    /// Only events that occurred before this time.
    until: Option<DateTime<Utc>>,
}

/// List the organization's audit events, newest first
///
/// Admin tokens only. Every successful write is recorded, in the same
/// transaction as the write: which token made it, what it changed
/// (field names, never values), and the request's `X-Request-Id`.
#[utoipa::path(
    get,
    path = "/v1/audit-events",
    operation_id = "list_audit_events",
    tag = "audit",
    params(ListAuditEventsQuery),
    responses(
        (status = 200, description = "One page of events", body = AuditEventListResponse),
        AuthenticatedErrors,
        InputErrors,
    )
)]
pub async fn list_audit_events(
    authorized: Authorized<Administer>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListAuditEventsQuery>,
) -> Result<Json<AuditEventListResponse>, ApiError> {
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let filter = AuditFilter {
        action: query.action,
        actor_id: query.actor_id,
        target_id: query.target_id,
        since: query.since,
        until: query.until,
    };
    let events = state.store.list_audit_events(authorized.caller.organization_id, filter, page).await?;
    let (events, next_cursor) = into_page(events, page, |event| event.id);
    Ok(Json(AuditEventListResponse { success: true, events, next_cursor }))
}
