//! The HTTP surface: `router(state)` for serving, and `openapi()`, the
//! document derived from the handlers' annotations, which must say the same
//! as `openapi.yaml` (no database or socket needed to build it).

mod api_tokens;
mod apps;
mod audit;
mod extract;
mod fallback;
mod identity;
mod json_body;
mod operations;
mod optional_bodies;
mod organization;
mod pagination;
mod reference;
mod responses;
pub mod spec;
mod webhook_deliveries;
mod webhook_endpoints;

use std::time::{Duration, Instant};

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderName, HeaderValue, Method},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower_http::{
    LatencyUnit,
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self,
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth,
    config::Config,
    domain::webhook_event::WebhookEvent,
    error::{ApiError, ErrorBody},
    rate_limit::CountedRequest,
    request_id,
    state::AppState,
    store,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "appdeck App Management API", version = "1.0.0"),
    security(("ApiKeyHeader" = []), ("TokenAuth" = []), ("BearerAuth" = [])),
    modifiers(&SecuritySchemes),
    components(schemas(ErrorBody, WebhookEvent)),
    tags(
        (name = "identity", description = "Who the calling token is"),
        (name = "organization", description = "The organization that owns the calling token"),
        (name = "apps", description = "Apps of the organization"),
        (name = "api-tokens", description = "The organization's API tokens (admin tokens only)"),
        (name = "audit", description = "Who changed what, and when (admin tokens only)"),
        (name = "webhook-endpoints", description = "Where the organization's events are delivered, signed (admin tokens only)"),
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

fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(identity::get_current_token))
        .routes(routes!(organization::get_organization, organization::update_organization))
        .routes(routes!(apps::list_apps, apps::create_app))
        .routes(routes!(apps::get_app, apps::update_app, apps::delete_app))
        .routes(routes!(apps::rotate_app_secret))
        .routes(routes!(api_tokens::list_api_tokens, api_tokens::create_api_token))
        .routes(routes!(api_tokens::get_api_token, api_tokens::update_api_token, api_tokens::revoke_api_token))
        .routes(routes!(api_tokens::roll_api_token))
        .routes(routes!(audit::list_audit_events))
        .routes(routes!(webhook_endpoints::list_webhook_endpoints, webhook_endpoints::create_webhook_endpoint))
        .routes(routes!(
            webhook_endpoints::get_webhook_endpoint,
            webhook_endpoints::update_webhook_endpoint,
            webhook_endpoints::delete_webhook_endpoint
        ))
        .routes(routes!(webhook_endpoints::rotate_webhook_endpoint_secret))
        .routes(routes!(webhook_deliveries::list_webhook_deliveries))
        .routes(routes!(webhook_deliveries::retry_webhook_delivery))
}

/// The OpenAPI document derived from the handlers' annotations.
pub fn openapi() -> openapi::OpenApi {
    let mut document = api_routes().into_openapi();
    // After the routes: `ApiDoc`'s own modifiers run before any path exists.
    responses::ResponseHeaders.modify(&mut document);
    optional_bodies::AbsentNotNull.modify(&mut document);
    document
}

/// How the HTTP layer behaves, from `Config`.
pub struct HttpSettings {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Origins allowed to call the API from a browser; none turns CORS off.
    pub cors_allowed_origins: Vec<HeaderValue>,
}

impl HttpSettings {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let cors_allowed_origins = config
            .cors_allowed_origins
            .iter()
            .filter(|origin| !origin.trim().is_empty())
            .map(|origin| {
                HeaderValue::from_str(origin.trim())
                    .map_err(|_| anyhow::anyhow!("APPDECK_CORS_ALLOWED_ORIGINS: `{origin}` is not a valid origin"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            max_body_bytes: usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX),
            request_timeout: Duration::from_secs(config.request_timeout_secs),
            cors_allowed_origins,
        })
    }
}

/// The whole service: the API (each `/v1` route behind `auth::authenticate`
/// and a timeout), the spec, Swagger UI and the API reference, probes and
/// metrics, and the layers every request passes: request id, tracing, CORS,
/// compression, panics, body limit, metrics.
pub fn router(state: AppState, settings: &HttpSettings) -> Router {
    let (api_router, _) = api_routes().split_for_parts();
    let request_id_header = HeaderName::from_static(request_id::HEADER);
    let timeout = settings.request_timeout;
    // The timeout sits outside `authenticate`, so the database and Redis
    // calls that authentication makes are bounded too; and inside
    // `observe`, so a timed-out request is counted.
    let router = api_router
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .route_layer(middleware::from_fn(|request: Request, next: Next| {
            store::one_read_connection_per_request(next.run(request))
        }))
        .route_layer(middleware::from_fn(move |request: Request, next: Next| enforce_timeout(timeout, request, next)))
        .merge(operations::router())
        .merge(spec::router())
        .merge(reference::router())
        .fallback(fallback::route_not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(CatchPanicLayer::custom(fallback::panic_response))
        .layer(CompressionLayer::new());
    let router = match cors_layer(&settings.cors_allowed_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let request_id = request_id::of(request.headers()).unwrap_or_default();
                    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        route,
                        request_id,
                        token_id = tracing::field::Empty,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Millis)),
        )
        .layer(PropagateRequestIdLayer::new(request_id_header.clone()))
        .layer(SetRequestIdLayer::new(request_id_header, request_id::MakeRequestUuidV7))
        .layer(middleware::map_request(request_id::drop_unacceptable))
}

/// Counts every answer by route template and status, with its latency.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe_request(&method, &route, response.status().as_u16(), started.elapsed());
    response
}

/// Abandons a request that takes too long; dropping its future rolls back
/// any transaction it had open, so nothing half-done is kept. A request that
/// was counted against its token's limit before it timed out still gets the
/// `X-RateLimit-*` headers of what it used.
async fn enforce_timeout(timeout: Duration, mut request: Request, next: Next) -> Response {
    let counted = CountedRequest::default();
    request.extensions_mut().insert(counted.clone());
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let mut response = ApiError::RequestTimeout.into_response();
            if let Some(decision) = counted.decision() {
                decision.write_headers(response.headers_mut());
            }
            response
        }
    }
}

/// CORS for the listed origins: the API's methods and headers in, and the
/// headers an integrator reads out.
fn cors_layer(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let header = HeaderName::from_static;
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
            .allow_headers([
                header("x-api-key"),
                header("authorization"),
                header("content-type"),
                header("x-request-id"),
                header("idempotency-key"),
            ])
            .expose_headers([
                header("x-request-id"),
                header("x-ratelimit-limit"),
                header("x-ratelimit-remaining"),
                header("x-ratelimit-reset"),
                header("retry-after"),
                header("idempotent-replayed"),
            ])
            .max_age(Duration::from_secs(3600)),
    )
}
