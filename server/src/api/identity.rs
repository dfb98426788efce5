//! `GET /v1/me`: what the calling token is.

use axum::{Json, extract::State};
use serde::Serialize;
use utoipa::ToSchema;

use super::responses::AuthenticatedErrors;
use crate::{
    auth::Caller,
    domain::{organization::Organization, token::Token},
    error::ApiError,
    state::AppState,
};

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    #[schema(example = true)]
    success: bool,
    token: Token,
    organization: Organization,
}

/// Describe the calling token and its organization
///
/// Checks that a token is valid and shows what it is.
#[utoipa::path(
    get,
    path = "/v1/me",
    operation_id = "get_current_token",
    tag = "identity",
    responses(
        (status = 200, description = "The calling token and its organization", body = MeResponse),
        AuthenticatedErrors,
    )
)]
pub async fn get_current_token(caller: Caller, State(state): State<AppState>) -> Result<Json<MeResponse>, ApiError> {
    let organization = super::organization::load(&state, &caller).await?;
    Ok(Json(MeResponse { success: true, token: caller.token, organization }))
}
