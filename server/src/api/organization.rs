//! `GET`/`PATCH /v1/organization`: the organization of the calling token.

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    extract::ApiJson,
    responses::{AuthenticatedErrors, InputErrors, JsonBodyErrors},
};
use crate::{
    auth::{Administer, Authorized, Caller},
    domain::{
        RequestBody,
        audit::AuditContext,
        organization::{Organization, validate_organization_name},
        rules,
    },
    error::ApiError,
    state::AppState,
};

#[derive(Serialize, ToSchema)]
pub struct OrganizationResponse {
    #[schema(example = true)]
    success: bool,
    organization: Organization,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    #[schema(schema_with = name_schema)]
    name: String,
}

fn name_schema() -> utoipa::openapi::Object {
    rules::name_schema("Trimmed; 1-100 characters.")
}

impl RequestBody for UpdateOrganizationRequest {
    const READ_ONLY_FIELDS: &'static [&'static str] = &["id", "created_at", "rate_limit_per_hour"];
}

/// The caller's organization. Tokens are deleted with their organization, so a
/// missing organization is a broken invariant, not a 404.
pub(super) async fn load(state: &AppState, caller: &Caller) -> Result<Organization, ApiError> {
    state
        .store
        .get_organization(caller.organization_id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("token {} has no organization", caller.token.id)))
}

/// Get the organization of the calling token
#[utoipa::path(
    get,
    path = "/v1/organization",
    operation_id = "get_organization",
    tag = "organization",
    responses(
        (status = 200, description = "The organization", body = OrganizationResponse),
        AuthenticatedErrors,
    )
)]
pub async fn get_organization(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<OrganizationResponse>, ApiError> {
    let organization = load(&state, &caller).await?;
    Ok(Json(OrganizationResponse { success: true, organization }))
}

/// Rename the organization
///
/// Admin tokens only.
#[utoipa::path(
    patch,
    path = "/v1/organization",
    operation_id = "update_organization",
    tag = "organization",
    request_body = UpdateOrganizationRequest,
    responses(
        (status = 200, description = "The updated organization", body = OrganizationResponse),
        AuthenticatedErrors,
        InputErrors,
        JsonBodyErrors,
    )
)]
pub async fn update_organization(
    authorized: Authorized<Administer>,
    audit: AuditContext,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<UpdateOrganizationRequest>,
) -> Result<Json<OrganizationResponse>, ApiError> {
    let name = validate_organization_name(&request.name)?;
    let organization = state
        .store
        .rename_organization(authorized.caller.organization_id, &name, &audit)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("organization vanished during rename")))?;
    Ok(Json(OrganizationResponse { success: true, organization }))
}
