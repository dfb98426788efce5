//! The HTTP surface: `router(state)` for serving, and `openapi()`, the
//! document derived from the handlers' annotations, which must say the same
//! as `openapi.yaml` (no database or socket needed to build it).

mod api_tokens;
mod apps;
mod identity;
mod operations;
mod organization;
mod pagination;
pub mod spec;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, Request},
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self,
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{error, state::AppState};

const REQUEST_ID_HEADER: &str = "x-request-id";

#[derive(OpenApi)]
#[openapi(
    info(title = "appdeck App Management API", version = "1.0.0"),
    security(("ApiKeyHeader" = []), ("TokenAuth" = []), ("BearerAuth" = [])),
    modifiers(&SecuritySchemes, &RequestIdHeader),
    components(schemas(error::ErrorBody)),
    tags(
        (name = "identity", description = "Who the calling token is"),
        (name = "organization", description = "The organization that owns the calling token"),
        (name = "apps", description = "Apps of the organization"),
        (name = "api-tokens", description = "The organization's API tokens (admin tokens only)"),
    )
)]
struct ApiDoc;

/// The three accepted ways of sending a token.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "ApiKeyHeader",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "The token itself: `X-API-Key: apps_...`",
            ))),
        );
        components.add_security_scheme(
            "TokenAuth",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "The word Token, a space and the token: `Authorization: Token apps_...`",
            ))),
        );
        components.add_security_scheme(
            "BearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`Authorization: Bearer apps_...`"))
                    .build(),
            ),
        );
    }
}

/// Every response carries `X-Request-Id` (set by one layer in `router`), so
/// the header is declared on every response here, in one place, too.
struct RequestIdHeader;

impl Modify for RequestIdHeader {
    fn modify(&self, openapi: &mut openapi::OpenApi) {
        let header = openapi::header::HeaderBuilder::new()
            .schema(Some(openapi::ObjectBuilder::new().schema_type(openapi::schema::Type::String)))
            .description(Some("The request's id, echoed from the request or generated"))
            .build();
        for path_item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut path_item.get,
                &mut path_item.put,
                &mut path_item.post,
                &mut path_item.delete,
                &mut path_item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for response in operation.responses.responses.values_mut() {
                    if let openapi::RefOr::T(response) = response {
                        response.headers.insert("X-Request-Id".to_owned(), openapi::RefOr::T(header.clone()));
                    }
                }
            }
        }
    }
}

fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(identity::get_current_token))
        .routes(routes!(organization::get_organization, organization::update_organization))
        .routes(routes!(apps::list_apps, apps::create_app))
        .routes(routes!(apps::get_app, apps::update_app, apps::delete_app))
        .routes(routes!(apps::rotate_app_secret))
        .routes(routes!(api_tokens::list_api_tokens, api_tokens::create_api_token))
        .routes(routes!(api_tokens::get_api_token, api_tokens::update_api_token, api_tokens::revoke_api_token))
}

/// The OpenAPI document derived from the handlers' annotations.
pub fn openapi() -> openapi::OpenApi {
    let mut document = api_routes().into_openapi();
    RequestIdHeader.modify(&mut document);
    document
}

/// Request ids are UUIDv7, like every other id of the API.
#[derive(Clone, Copy)]
struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        uuid::Uuid::now_v7().to_string().parse().ok().map(RequestId::new)
    }
}

/// The whole service: the API, the spec and Swagger UI, probes, and the
/// layers every request passes (request id, tracing, panics, body limit).
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    let (api_router, _) = api_routes().split_for_parts();
    let request_id_header = HeaderName::from_static(REQUEST_ID_HEADER);
    api_router
        .merge(operations::router())
        .merge(spec::router())
        .fallback(error::route_not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let request_id =
                request.headers().get(REQUEST_ID_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default();
            tracing::info_span!("request", method = %request.method(), uri = %request.uri().path(), request_id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id_header.clone()))
        .layer(SetRequestIdLayer::new(request_id_header, MakeRequestUuidV7))
}
