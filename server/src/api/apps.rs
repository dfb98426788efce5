//! `/v1/apps`: create, list, read, update, delete apps and rotate their secrets.

use axum::{Json, extract::State, response::Response};

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, ApiQuery, IdempotentJson},
    pagination::{into_page, page_request},
    responses::{AuthenticatedErrors, ConflictError, InputErrors, JsonBodyErrors, NotFoundError},
};
use crate::{
    auth::{Authorized, Caller, Permission, WriteApps, role_allows},
    domain::{
        self,
        app::{App, AppStatus, CreateAppRequest, Environment, UpdateAppRequest},
        audit::AuditContext,
    },
    error::ApiError,
    idempotency::{Create, IdempotencyKey},
    state::AppState,
    store::{AppFilter, Created, CredentialColumns},
};

#[derive(Serialize, ToSchema)]
pub struct AppResponse {
    #[schema(example = true)]
    success: bool,
    app: App,
}

#[derive(Serialize, ToSchema)]
pub struct AppListResponse {
    #[schema(example = true)]
    success: bool,
    apps: Vec<App>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SuccessResponse {
    /// Always true.
    #[schema(example = true)]
    success: bool,
}

impl SuccessResponse {
    pub const DONE: Self = Self { success: true };
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAppsQuery {
    /// How many items a page holds at most.
    #[param(minimum = 1, maximum = 100, default = 50)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; absent or empty for the first page.
    #[param(pattern = "^([0-9a-fA-F]{32})?$")]
    cursor: Option<String>,
    /// Only apps of this environment.
    environment: Option<Environment>,
    /// Only apps with this status.
    status: Option<AppStatus>,
}

/// The app as the caller's role may see it.
fn visible_to(caller: &Caller, app: App) -> App {
    if role_allows(caller.role(), Permission::ReadSecrets) { app } else { app.with_secrets_masked() }
}

fn app_not_found() -> ApiError {
    ApiError::NotFound("App not found")
}

/// List the organization's apps, oldest first
#[utoipa::path(
    get,
    path = "/v1/apps",
    operation_id = "list_apps",
    tag = "apps",
    params(ListAppsQuery),
    responses(
        (status = 200, description = "One page of apps", body = AppListResponse),
        AuthenticatedErrors,
        InputErrors,
    )
)]
pub async fn list_apps(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListAppsQuery>,
) -> Result<Json<AppListResponse>, ApiError> {
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let filter = AppFilter { environment: query.environment, status: query.status };
    let credentials = if role_allows(caller.role(), Permission::ReadSecrets) {
        CredentialColumns::Read
    } else {
        CredentialColumns::Skipped
    };
    let apps = state.store.list_apps(caller.organization_id, filter, page, credentials).await?;
    let (apps, next_cursor) = into_page(apps, page, |app| app.id);
    let apps = apps.into_iter().map(|app| visible_to(&caller, app)).collect();
    Ok(Json(AppListResponse { success: true, apps, next_cursor }))
}

/// Create an app
///
/// Admin and developer tokens. `api_key` and `api_secret` are made by the server.
/// With an `Idempotency-Key`, a retry gets the first response again and creates nothing.
#[utoipa::path(
    post,
    path = "/v1/apps",
    operation_id = "create_app",
    tag = "apps",
    params(IdempotencyKey),
    request_body = CreateAppRequest,
    responses(
        (
            status = 201,
            description = "The created app",
            body = AppResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when this replays an earlier response")),
        ),
        AuthenticatedErrors,
        InputErrors,
        ConflictError,
        JsonBodyErrors,
    )
)]
pub async fn create_app(
    authorized: Authorized<WriteApps>,
    audit: AuditContext,
    State(state): State<AppState>,
    IdempotentJson { body: request, key }: IdempotentJson<CreateAppRequest>,
) -> Result<Response, ApiError> {
    let caller = authorized.caller;
    let now = domain::now();
    let store = state.store.as_ref();
    Create { store, organization_id: caller.organization_id, operation: "create_app", now }
        .answer(
            key,
            || {
                let app = App::create(caller.organization_id, request, now)?;
                Ok((app, move |app: &App| AppResponse { success: true, app: visible_to(&caller, app.clone()) }))
            },
            async |app| {
                store.insert_app(&app, &audit, state.quotas).await?;
                Ok(app)
            },
            async |app, write| match store.insert_app_once(&app, &audit, state.quotas, write).await? {
                Created::New(()) => Ok(Created::New(app)),
                Created::Earlier(record) => Ok(Created::Earlier(record)),
            },
        )
        .await
}

/// Get an app
#[utoipa::path(
    get,
    path = "/v1/apps/{id}",
    operation_id = "get_app",
    tag = "apps",
    params(("id" = Uuid, Path, description = "The app's id")),
    responses(
        (status = 200, description = "The app", body = AppResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
    )
)]
pub async fn get_app(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AppResponse>, ApiError> {
    let app = state.store.get_app(caller.organization_id, id).await?.ok_or_else(app_not_found)?;
    Ok(Json(AppResponse { success: true, app: visible_to(&caller, app) }))
}

/// Change some fields of an app
///
/// Admin and developer tokens. A field that is absent is left alone;
/// `null` clears a nullable field; `features` changes only the keys it
/// names. A change that breaks a rule changes nothing.
#[utoipa::path(
    patch,
    path = "/v1/apps/{id}",
    operation_id = "update_app",
    tag = "apps",
    params(("id" = Uuid, Path, description = "The app's id")),
    request_body = UpdateAppRequest,
    responses(
        (status = 200, description = "The updated app", body = AppResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
        JsonBodyErrors,
    )
)]
pub async fn update_app(
    authorized: Authorized<WriteApps>,
    audit: AuditContext,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(changes): ApiJson<UpdateAppRequest>,
) -> Result<Json<AppResponse>, ApiError> {
    let caller = authorized.caller;
    let app = state
        .store
        .update_app(caller.organization_id, id, changes, domain::now(), &audit)
        .await?
        .ok_or_else(app_not_found)?;
    Ok(Json(AppResponse { success: true, app: visible_to(&caller, app) }))
}

/// Delete an app
///
/// Admin and developer tokens.
#[utoipa::path(
    delete,
    path = "/v1/apps/{id}",
    operation_id = "delete_app",
    tag = "apps",
    params(("id" = Uuid, Path, description = "The app's id")),
    responses(
        (status = 200, description = "The app is gone", body = SuccessResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
    )
)]
pub async fn delete_app(
    authorized: Authorized<WriteApps>,
    audit: AuditContext,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<SuccessResponse>, ApiError> {
    if state.store.delete_app(authorized.caller.organization_id, id, &audit).await? {
        Ok(Json(SuccessResponse::DONE))
    } else {
        Err(app_not_found())
    }
}

/// Replace an app's api_secret with a new one
///
/// Admin and developer tokens. The old secret stops being valid at once.
#[utoipa::path(
    post,
    path = "/v1/apps/{id}/rotate-secret",
    operation_id = "rotate_app_secret",
    tag = "apps",
    params(("id" = Uuid, Path, description = "The app's id")),
    responses(
        (status = 200, description = "The app with its new secret", body = AppResponse),
        AuthenticatedErrors,
        InputErrors,
        NotFoundError,
    )
)]
pub async fn rotate_app_secret(
    authorized: Authorized<WriteApps>,
    audit: AuditContext,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AppResponse>, ApiError> {
    let caller = authorized.caller;
    let app = state
        .store
        .rotate_app_secret(caller.organization_id, id, domain::now(), &audit)
        .await?
        .ok_or_else(app_not_found)?;
    Ok(Json(AppResponse { success: true, app: visible_to(&caller, app) }))
}
