//! `/v1/api-tokens`: the organization's tokens, for admin tokens only.
//! A secret appears in exactly one response: the one that creates the token
//! (replayed, sealed until then, to a retry with the same `Idempotency-Key`),
//! or the one that rolls it to a new secret.

use axum::{Json, extract::State, response::Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    apps::SuccessResponse,
    extract::{ApiJson, ApiJsonOrDefault, ApiPath, ApiQuery, IdempotentJson},
    pagination::{into_page, page_request},
    responses::{AuthenticatedErrors, ConflictError, InputErrors, JsonBodyErrors, NotFoundError},
};
use crate::{
    auth::{Administer, Authorized},
    domain::{
        self,
        audit::AuditContext,
        token::{CreateApiTokenRequest, RollApiTokenRequest, Token, UpdateApiTokenRequest},
    },
    error::ApiError,
    idempotency::{Create, IdempotencyKey},
    provisioning,
    state::AppState,
};

#[derive(Serialize, ToSchema)]
pub struct CreatedApiTokenResponse {
    #[schema(example = true)]
    success: bool,
    token: Token,
    /// The full token. It is shown only in this response (or a roll's); store it now.
    #[schema(example = "apps_Xq3vB8nLw2Ke5TgR9mZc1YhU7dPa4sFj0b2Qx9")]
    secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApiTokenResponse {
    #[schema(example = true)]
    success: bool,
    token: Token,
}

#[derive(Serialize, ToSchema)]
pub struct ApiTokenListResponse {
    #[schema(example = true)]
    success: bool,
    tokens: Vec<Token>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListApiTokensQuery {
    /// How many items a page holds at most.
    #[param(minimum = 1, maximum = 100, default = 50)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; absent or empty for the first page.
    #[param(pattern = "^([0-9a-fA-F]{32})?$")]
    cursor: Option<String>,
}

fn token_not_found() -> ApiError {
    ApiError::NotFound("API token not found")
}

/// List the organization's live API tokens, oldest first
///
/// Admin tokens only. Revoked tokens are not listed; secrets never are.
#[utoipa::path(
    get,
    path = "/v1/api-tokens",
    operation_id = "list_api_tokens",
    tag = "api-tokens",
    params(ListApiTokensQuery),
    responses(
        (status = 200, description = "One page of tokens", body = ApiTokenListResponse),
        AuthenticatedErrors,
        InputErrors,
    )
)]
pub async fn list_api_tokens(
    authorized: Authorized<Administer>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListApiTokensQuery>,
) -> Result<Json<ApiTokenListResponse>, ApiError> {
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let tokens = state.store.list_tokens(authorized.caller.organization_id, page).await?;
    let (tokens, next_cursor) = into_page(tokens, page, |token| token.id);
    Ok(Json(ApiTokenListResponse { success: true, tokens, next_cursor }))
}

/// Create an API token
///
/// Admin tokens only. The response carries the full token in `secret`:
/// it is shown this once and cannot be read again, except by a retry with
/// the same `Idempotency-Key`, which gets the first response again.
#[utoipa::path(
    post,
    path = "/v1/api-tokens",
    operation_id = "create_api_token",
    tag = "api-tokens",
    params(IdempotencyKey),
    request_body = CreateApiTokenRequest,
    responses(
        (
            status = 201,
            description = "The created token, with its secret",
            body = CreatedApiTokenResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when this replays an earlier response")),
        ),
        AuthenticatedErrors,
        InputErrors,
        ConflictError,
        JsonBodyErrors,
    )
)]
pub async fn create_api_token(
    authorized: Authorized<Administer>,
    audit: AuditContext,
    State(state): State<AppState>,
    IdempotentJson { body: request, key }: IdempotentJson<CreateApiTokenRequest>,
) -> Result<Response, ApiError> {
    let caller = authorized.caller;
    let now = domain::now();
    let store = state.store.as_ref();
    Create { store, organization_id: caller.organization_id, operation: "create_api_token", now }
        .answer(
            key,
            || {
                let (new_token, secret) = provisioning::new_token(
                    caller.organization_id,
                    &request.label,
                    request.role,
                    Some(caller.token.id),
                    request.expires_at,
                )?;
                // Under a key this answer is recorded: it holds the secret, so it is kept sealed, never in plaintext.
                let respond = move |token: &Token| CreatedApiTokenResponse {
                    success: true,
                    token: token.clone(),
                    secret: secret.clone(),
                };
                Ok((new_token, respond))
            },
            async |new_token| store.create_token(&new_token, &audit, state.quotas).await,
            async |new_token, write| store.create_token_once(&new_token, &audit, state.quotas, write).await,
        )
        .await
}

/// Get an API token
///
/// Admin tokens only.
#[utoipa::path(
    get,
    path = "/v1/api-tokens/{id}",
    operation_id = "get_api_token",
    tag = "api-tokens",
    params(("id" = Uuid, Path, description = "The token's id")),
    responses(
        (status = 200, description = "The token", body = ApiTokenResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
    )
)]
pub async fn get_api_token(
    authorized: Authorized<Administer>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ApiTokenResponse>, ApiError> {
    let token = state.store.get_token(authorized.caller.organization_id, id).await?.ok_or_else(token_not_found)?;
    Ok(Json(ApiTokenResponse { success: true, token }))
}

/// Relabel, disable or enable an API token
///
/// Admin tokens only. A disabled token is answered 403 until it is
/// enabled again. The organization's last active admin token cannot be
/// disabled (409). The role cannot be changed: make a new token.
#[utoipa::path(
    patch,
    path = "/v1/api-tokens/{id}",
    operation_id = "update_api_token",
    tag = "api-tokens",
    params(("id" = Uuid, Path, description = "The token's id")),
    request_body = UpdateApiTokenRequest,
    responses(
        (status = 200, description = "The updated token", body = ApiTokenResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
        ConflictError,
        JsonBodyErrors,
    )
)]
pub async fn update_api_token(
    authorized: Authorized<Administer>,
    audit: AuditContext,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(changes): ApiJson<UpdateApiTokenRequest>,
) -> Result<Json<ApiTokenResponse>, ApiError> {
    let changes = changes.validated()?;
    let token = state
        .store
        .update_token(authorized.caller.organization_id, id, changes, &audit)
        .await?
        .ok_or_else(token_not_found)?;
    Ok(Json(ApiTokenResponse { success: true, token }))
}

/// Revoke an API token
///
/// Admin tokens only. The token is refused from the very next request.
/// The organization's last active admin token cannot be revoked (409).
#[utoipa::path(
    delete,
    path = "/v1/api-tokens/{id}",
    operation_id = "revoke_api_token",
    tag = "api-tokens",
    params(("id" = Uuid, Path, description = "The token's id")),
    responses(
        (status = 200, description = "The token is revoked", body = SuccessResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
        ConflictError,
    )
)]
pub async fn revoke_api_token(
    authorized: Authorized<Administer>,
    audit: AuditContext,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<SuccessResponse>, ApiError> {
    if state.store.revoke_token(authorized.caller.organization_id, id, domain::now(), &audit).await? {
        Ok(Json(SuccessResponse::DONE))
    } else {
        Err(token_not_found())
    }
}

/// Give an API token a new secret
///
/// Admin tokens only. The token keeps its id, label, role and audit
/// history; the response carries its new secret, shown this once. The old
/// secret keeps working for `previous_expires_in_seconds` (0 to 7 days,
/// default 0: refused from the next request), then is answered 401, so
/// its holders can move to the new one without downtime. Rolling again
/// ends any earlier overlap. The body is optional.
#[utoipa::path(
    post,
    path = "/v1/api-tokens/{id}/roll",
    operation_id = "roll_api_token",
    tag = "api-tokens",
    params(("id" = Uuid, Path, description = "The token's id")),
    request_body = Option<RollApiTokenRequest>,
    responses(
        (status = 200, description = "The token, with its new secret", body = CreatedApiTokenResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
        JsonBodyErrors,
    )
)]
pub async fn roll_api_token(
    authorized: Authorized<Administer>,
    audit: AuditContext,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJsonOrDefault(request): ApiJsonOrDefault<RollApiTokenRequest>,
) -> Result<Json<CreatedApiTokenResponse>, ApiError> {
    let (roll, secret) = provisioning::roll_token(&request)?;
    let token = state
        .store
        .roll_token(authorized.caller.organization_id, id, &roll, &audit)
        .await?
        .ok_or_else(token_not_found)?;
    Ok(Json(CreatedApiTokenResponse { success: true, token, secret }))
}
