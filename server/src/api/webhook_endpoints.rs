//! `/v1/webhook-endpoints`: where the organization's events are delivered,
//! for admin tokens only. An endpoint's signing secret appears in exactly
//! one response: the one that creates the endpoint (replayed, sealed until
//! then, to a retry with the same `Idempotency-Key`), or the one that
//! rotates it.

use axum::{Json, extract::State, response::Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    apps::SuccessResponse,
    extract::{ApiJson, ApiPath, ApiQuery, IdempotentJson},
    pagination::{into_page, page_request},
    responses::{AuthenticatedErrors, ConflictError, InputErrors, JsonBodyErrors, NotFoundError},
};
use crate::{
    auth::{Administer, Authorized},
    domain::{
        self,
        audit::AuditContext,
        webhook_endpoint::{
            CreateWebhookEndpointRequest, PlainHttpHosts, UpdateWebhookEndpointRequest, WebhookEndpoint,
        },
    },
    error::ApiError,
    idempotency::{Create, IdempotencyKey},
    state::AppState,
    webhook_secrets::SigningSecret,
    webhooks::allowed_hosts::AllowedHosts,
};

impl PlainHttpHosts for AllowedHosts {
    fn allows_plain_http(&self, host: &str) -> bool {
        self.allows_host(host)
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedWebhookEndpointResponse {
    #[schema(example = true)]
    success: bool,
    webhook_endpoint: WebhookEndpoint,
    /// The endpoint's signing secret (Standard Webhooks: the receiver's key
    /// is the base64 after `whsec_`). It is shown only in this response (or
    /// a rotation's); store it now.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw4Ly8nkTQZoE=")]
    secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookEndpointResponse {
    #[schema(example = true)]
    success: bool,
    webhook_endpoint: WebhookEndpoint,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookEndpointListResponse {
    #[schema(example = true)]
    success: bool,
    webhook_endpoints: Vec<WebhookEndpoint>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items a page holds at most.
    #[param(minimum = 1, maximum = 100, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; absent or empty for the first page.
    #[param(pattern = "^([0-9a-fA-F]{32})?$")]
    pub cursor: Option<String>,
}

pub fn endpoint_not_found() -> ApiError {
    ApiError::NotFound("Webhook endpoint not found")
}

/// List the organization's webhook endpoints, oldest first
///
/// Admin tokens only. Signing secrets are never listed. Each delivery's
/// body is a `WebhookEvent` (see its schema).
#[utoipa::path(
    get,
    path = "/v1/webhook-endpoints",
    operation_id = "list_webhook_endpoints",
    tag = "webhook-endpoints",
    params(PageQuery),
    responses(
        (status = 200, description = "One page of endpoints", body = WebhookEndpointListResponse),
        AuthenticatedErrors,
        InputErrors,
    )
)]
pub async fn list_webhook_endpoints(
    authorized: Authorized<Administer>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<WebhookEndpointListResponse>, ApiError> {
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let endpoints = state.store.list_webhook_endpoints(authorized.caller.organization_id, page).await?;
    let (webhook_endpoints, next_cursor) = into_page(endpoints, page, |endpoint| endpoint.id);
    Ok(Json(WebhookEndpointListResponse { success: true, webhook_endpoints, next_cursor }))
}

/// Create a webhook endpoint
///
/// Admin tokens only. With only `url`, the endpoint receives every event
/// type. The URL must be https (plain http only on hosts the server's
/// operator allows); internal addresses are refused at delivery unless
/// allowed. The response carries the signing secret, shown this once
/// (a retry with the same `Idempotency-Key` gets the first response
/// again). Deliveries are signed per Standard Webhooks (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`); each body is a
/// `WebhookEvent`. Delivery is at least once and unordered: drop
/// duplicates by `webhook-id`. 503 `webhook_secret_key_missing` when the
/// server has no key to seal secrets with.
#[utoipa::path(
    post,
    path = "/v1/webhook-endpoints",
    operation_id = "create_webhook_endpoint",
    tag = "webhook-endpoints",
    params(IdempotencyKey),
    request_body = CreateWebhookEndpointRequest,
    responses(
        (
            status = 201,
            description = "The created endpoint, with its signing secret",
            body = CreatedWebhookEndpointResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when this replays an earlier response")),
        ),
        AuthenticatedErrors,
        InputErrors,
        ConflictError,
        JsonBodyErrors,
    )
)]
pub async fn create_webhook_endpoint(
    authorized: Authorized<Administer>,
    audit: AuditContext,
    State(state): State<AppState>,
    IdempotentJson { body: request, key }: IdempotentJson<CreateWebhookEndpointRequest>,
) -> Result<Response, ApiError> {
    let organization_id = authorized.caller.organization_id;
    let now = domain::now();
    let store = state.store.as_ref();
    let hosts = state.webhook_allowed_hosts.as_ref();
    let secret = SigningSecret::generate();
    Create { store, organization_id, operation: "create_webhook_endpoint", now }
        .answer(
            key,
            || {
                let endpoint = WebhookEndpoint::create(request, hosts, now)?;
                // Under a key this answer is recorded: it holds the secret, so it is kept sealed.
                let shown = secret.clone();
                let respond = move |endpoint: &WebhookEndpoint| CreatedWebhookEndpointResponse {
                    success: true,
                    webhook_endpoint: endpoint.clone(),
                    secret: shown.expose().to_owned(),
                };
                Ok((endpoint, respond))
            },
            async |endpoint| {
                store.create_webhook_endpoint(organization_id, &endpoint, &secret, &audit, state.quotas).await
            },
            async |endpoint, write| {
                store
                    .create_webhook_endpoint_once(organization_id, &endpoint, &secret, &audit, state.quotas, write)
                    .await
            },
        )
        .await
}

/// Get a webhook endpoint
///
/// Admin tokens only. The signing secret is never shown again.
#[utoipa::path(
    get,
    path = "/v1/webhook-endpoints/{id}",
    operation_id = "get_webhook_endpoint",
    tag = "webhook-endpoints",
    params(("id" = Uuid, Path, description = "The webhook endpoint's id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpointResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
    )
)]
pub async fn get_webhook_endpoint(
    authorized: Authorized<Administer>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<WebhookEndpointResponse>, ApiError> {
    let organization_id = authorized.caller.organization_id;
    let webhook_endpoint =
        state.store.get_webhook_endpoint(organization_id, id).await?.ok_or_else(endpoint_not_found)?;
    Ok(Json(WebhookEndpointResponse { success: true, webhook_endpoint }))
}

/// Change a webhook endpoint's URL, description, event types or enabled state
///
/// Admin tokens only. Only the fields sent change. Enabling an endpoint
/// the server disabled clears `disabled_reason`.
#[utoipa::path(
    patch,
    path = "/v1/webhook-endpoints/{id}",
    operation_id = "update_webhook_endpoint",
    tag = "webhook-endpoints",
    params(("id" = Uuid, Path, description = "The webhook endpoint's id")),
    request_body = UpdateWebhookEndpointRequest,
    responses(
        (status = 200, description = "The updated endpoint", body = WebhookEndpointResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
        JsonBodyErrors,
    )
)]
pub async fn update_webhook_endpoint(
    authorized: Authorized<Administer>,
    audit: AuditContext,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateWebhookEndpointRequest>,
) -> Result<Json<WebhookEndpointResponse>, ApiError> {
    let changes = request.validated(state.webhook_allowed_hosts.as_ref())?;
    let webhook_endpoint = state
        .store
        .update_webhook_endpoint(authorized.caller.organization_id, id, changes, domain::now(), &audit)
        .await?
        .ok_or_else(endpoint_not_found)?;
    Ok(Json(WebhookEndpointResponse { success: true, webhook_endpoint }))
}

/// Delete a webhook endpoint
///
/// Admin tokens only. Its deliveries, pending ones included, go with it.
#[utoipa::path(
    delete,
    path = "/v1/webhook-endpoints/{id}",
    operation_id = "delete_webhook_endpoint",
    tag = "webhook-endpoints",
    params(("id" = Uuid, Path, description = "The webhook endpoint's id")),
    responses(
        (status = 200, description = "The endpoint is gone", body = SuccessResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
    )
)]
pub async fn delete_webhook_endpoint(
    authorized: Authorized<Administer>,
    audit: AuditContext,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<SuccessResponse>, ApiError> {
    if state.store.delete_webhook_endpoint(authorized.caller.organization_id, id, &audit).await? {
        Ok(Json(SuccessResponse::DONE))
    } else {
        Err(endpoint_not_found())
    }
}

/// Replace a webhook endpoint's signing secret
///
/// Admin tokens only. The response carries the new secret, shown this
/// once; deliveries are signed with it from now on. Rotating also repairs
/// an endpoint whose secret the server can no longer read (its key changed).
#[utoipa::path(
    post,
    path = "/v1/webhook-endpoints/{id}/rotate-secret",
    operation_id = "rotate_webhook_endpoint_secret",
    tag = "webhook-endpoints",
    params(("id" = Uuid, Path, description = "The webhook endpoint's id")),
    responses(
        (status = 200, description = "The endpoint, with its new signing secret", body = CreatedWebhookEndpointResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
    )
)]
pub async fn rotate_webhook_endpoint_secret(
    authorized: Authorized<Administer>,
    audit: AuditContext,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CreatedWebhookEndpointResponse>, ApiError> {
    let secret = SigningSecret::generate();
    let webhook_endpoint = state
        .store
        .rotate_webhook_endpoint_secret(authorized.caller.organization_id, id, &secret, domain::now(), &audit)
        .await?
        .ok_or_else(endpoint_not_found)?;
    Ok(Json(CreatedWebhookEndpointResponse { success: true, webhook_endpoint, secret: secret.expose().to_owned() }))
}
