//! `/v1/webhook-endpoints/{id}/deliveries`: what became of each event sent
//! to an endpoint, and a way to send one again. Admin tokens only.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    apps::SuccessResponse,
    extract::{ApiPath, ApiQuery},
    pagination::{into_page, page_request},
    responses::{AuthenticatedErrors, InputErrors, NotFoundError},
    webhook_endpoints::{PageQuery, endpoint_not_found},
};
use crate::{
    auth::{Administer, Authorized},
    domain::{self, webhook_delivery::WebhookDelivery},
    error::ApiError,
    state::AppState,
};

#[derive(Serialize, ToSchema)]
pub struct WebhookDeliveryListResponse {
    #[schema(example = true)]
    success: bool,
    deliveries: Vec<WebhookDelivery>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
pub struct DeliveryPath {
    id: Uuid,
    delivery_id: Uuid,
}

/// List a webhook endpoint's deliveries, newest first
///
/// Admin tokens only. Each delivery has its status, the number of attempts,
/// when the next one is due, and every attempt's status code, latency and
/// error.
#[utoipa::path(
    get,
    path = "/v1/webhook-endpoints/{id}/deliveries",
    operation_id = "list_webhook_deliveries",
    tag = "webhook-endpoints",
    params(("id" = Uuid, Path, description = "The webhook endpoint's id"), PageQuery),
    responses(
        (status = 200, description = "One page of deliveries", body = WebhookDeliveryListResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
    )
)]
pub async fn list_webhook_deliveries(
    authorized: Authorized<Administer>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<WebhookDeliveryListResponse>, ApiError> {
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let deliveries = state
        .store
        .list_webhook_deliveries(authorized.caller.organization_id, id, page)
        .await?
        .ok_or_else(endpoint_not_found)?;
    let (deliveries, next_cursor) = into_page(deliveries, page, |delivery| delivery.id);
    Ok(Json(WebhookDeliveryListResponse { success: true, deliveries, next_cursor }))
}

/// Send a delivery again
///
/// Admin tokens only. A delivered or failed delivery becomes pending and
/// due now; a pending one becomes due now. The event keeps its id, so a
/// receiver that already has it can drop it.
#[utoipa::path(
    post,
    path = "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry",
    operation_id = "retry_webhook_delivery",
    tag = "webhook-endpoints",
    params(
        ("id" = Uuid, Path, description = "The webhook endpoint's id"),
        ("delivery_id" = Uuid, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "The delivery is due now", body = SuccessResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
    )
)]
pub async fn retry_webhook_delivery(
    authorized: Authorized<Administer>,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<DeliveryPath>,
) -> Result<(StatusCode, Json<SuccessResponse>), ApiError> {
    let organization_id = authorized.caller.organization_id;
    if state.store.retry_webhook_delivery(organization_id, path.id, path.delivery_id, domain::now()).await? {
        Ok((StatusCode::ACCEPTED, Json(SuccessResponse::DONE)))
    } else {
        Err(ApiError::NotFound("Webhook delivery not found"))
    }
}
