//! `ApiError`, the one error type, and the extractors that turn axum's own
//! rejections into it, so every failure has the same JSON body.

use axum::{
    Json,
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Query, Request, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};
use std::{collections::BTreeMap, time::Duration};

use utoipa::{
    IntoResponses, ToSchema,
    openapi::{self, RefOr},
};

use crate::{
    domain::{RequestBody, ValidationError, quota::QuotaExceeded},
    store::{StorageFault, StoreError, is_unavailable_sqlx},
    strict_json::{self, BodyProblem, Strict},
};

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Always false.
    pub success: bool,
    /// A sentence for people; it may change.
    pub error: String,
    /// A stable snake_case code for programs.
    pub code: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A malformed or rule-breaking request; `code` is stable, `message` names the field.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("API key disabled")]
    TokenDisabled,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// The `Idempotency-Key` was already used with another request (another body or operation).
    #[error(
        "This Idempotency-Key was already used for a different request (another body or operation); \
         send a new key for a new request"
    )]
    IdempotencyKeyReused,
    /// A create past one of the organization's quotas.
    #[error("{0}")]
    QuotaExceeded(#[from] QuotaExceeded),
    #[error("Request body is too large")]
    PayloadTooLarge,
    #[error("Request body must be sent with Content-Type: application/json")]
    UnsupportedMediaType,
    /// Too many failed authentications from the client's address; retry after the duration.
    #[error("Too many failed authentications from this address, try again later")]
    TooManyFailedAuthentications(Duration),
    /// The token used its hourly allowance; retry after the duration.
    #[error("This token has used its {limit} requests for the hour, try again later")]
    RateLimited { retry_after: Duration, limit: u32 },
    /// The shared rate-limit store did not answer and the server fails closed.
    #[error("Rate limiting is unavailable, try again later")]
    LimitStoreUnavailable,
    /// The request took longer than the server allows; its work was abandoned.
    #[error("The request took too long and was abandoned, try again")]
    RequestTimeout,
    #[error("The database is unavailable, try again later")]
    DatabaseUnavailable,
    /// The database's disk is full: writes are refused until space returns.
    #[error("The database's storage is full; writes are refused until space is freed")]
    StorageFull,
    /// Another process holds the database's write lock.
    #[error("The database is locked by another process, try again later")]
    DatabaseBusy,
    /// Anything unexpected; the detail is logged, never sent.
    #[error("Internal server error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::TokenDisabled | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::IdempotencyKeyReused | Self::QuotaExceeded(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyFailedAuthentications(_) | Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::DatabaseUnavailable
            | Self::StorageFull
            | Self::DatabaseBusy
            | Self::RequestTimeout
            | Self::LimitStoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } => code,
            Self::Unauthorized(_) => "unauthorized",
            Self::TokenDisabled => "token_disabled",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::QuotaExceeded(_) => "quota_exceeded",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooManyFailedAuthentications(_) | Self::RateLimited { .. } => "rate_limited",
            Self::RequestTimeout => "request_timeout",
            Self::LimitStoreUnavailable => "rate_limit_unavailable",
            Self::DatabaseUnavailable => "database_unavailable",
            Self::StorageFull => "storage_full",
            Self::DatabaseBusy => "database_busy",
            Self::Internal(_) => "internal_error",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(error) = &self {
            tracing::error!(error = format!("{error:#}"), "request failed");
        }
        let body = ErrorBody { success: false, error: self.to_string(), code: self.code().to_owned() };
        let mut response = (self.status(), Json(body)).into_response();
        if let Self::TooManyFailedAuthentications(wait) | Self::RateLimited { retry_after: wait, .. } = self {
            // Whole seconds, rounded up, so a client that waits this long gets through.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response.headers_mut().insert(header::RETRY_AFTER, seconds.max(1).into());
        }
        response
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        Self::bad_request(error.code, error.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(error) => error.into(),
            StoreError::Fault(StorageFault::Full) => Self::StorageFull,
            StoreError::Fault(StorageFault::Busy) => Self::DatabaseBusy,
            StoreError::Fault(StorageFault::Unavailable) => Self::DatabaseUnavailable,
            StoreError::Invalid(error) => error.into(),
            StoreError::Conflict(message) => Self::Conflict(message),
            StoreError::Quota(exceeded) => Self::QuotaExceeded(exceeded),
            error @ (StoreError::Sqlite(_)
            | StoreError::Migration(_)
            | StoreError::Decode(_)
            | StoreError::Vanished(_)
            | StoreError::Writer(_)) => Self::Internal(anyhow::Error::new(error).context("database error")),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable_sqlx(&error) {
            tracing::error!(error = %error, "database unavailable");
            Self::DatabaseUnavailable
        } else {
            Self::Internal(anyhow::Error::new(error).context("database error"))
        }
    }
}

/// The error statuses an operation can answer, documented once: handlers
/// list these sets in `#[utoipa::path(responses(...))]` instead of
/// repeating each status, and every one carries the `ErrorBody` schema.
const ERROR_STATUSES: [(StatusCode, &str); 10] = [
    (StatusCode::BAD_REQUEST, "The request is malformed or breaks a rule; `error` names the field"),
    (StatusCode::UNAUTHORIZED, "The token is missing, malformed, unknown, revoked or expired"),
    (StatusCode::FORBIDDEN, "The token is disabled, or its role may not do this"),
    (StatusCode::NOT_FOUND, "No such resource in the token's organization"),
    (
        StatusCode::CONFLICT,
        "The change conflicts with the current state (a duplicate label, the last active admin token \
         without an expiry, an organization at its quota of apps or tokens, or an Idempotency-Key already \
         used for a different request)",
    ),
    (StatusCode::PAYLOAD_TOO_LARGE, "The body is larger than the server accepts"),
    (StatusCode::UNSUPPORTED_MEDIA_TYPE, "The body is not sent as application/json"),
    (
        StatusCode::TOO_MANY_REQUESTS,
        "The token is over its hourly limit, or this client address failed authentication too often",
    ),
    (StatusCode::INTERNAL_SERVER_ERROR, "Something failed on the server; the detail is in its logs"),
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The database or the rate-limit store cannot be reached, the database is full or locked by another \
         process, or the request took too long",
    ),
];

fn error_responses(statuses: &[StatusCode]) -> BTreeMap<String, RefOr<openapi::Response>> {
    ERROR_STATUSES
        .iter()
        .filter(|(status, _)| statuses.contains(status))
        .map(|(status, description)| {
            let content =
                openapi::ContentBuilder::new().schema(Some(openapi::Ref::from_schema_name("ErrorBody"))).build();
            let mut response =
                openapi::ResponseBuilder::new().description(*description).content("application/json", content);
            if *status == StatusCode::TOO_MANY_REQUESTS {
                response = response.header("Retry-After", integer_header("Seconds to wait before trying again"));
                for (name, header) in rate_limit_headers() {
                    response = response.header(name, header);
                }
            }
            (status.as_u16().to_string(), RefOr::T(response.build()))
        })
        .collect()
}

fn integer_header(description: &str) -> openapi::Header {
    let integer = openapi::ObjectBuilder::new()
        .schema_type(openapi::schema::Type::Integer)
        .format(Some(openapi::SchemaFormat::KnownFormat(openapi::KnownFormat::Int64)));
    openapi::header::HeaderBuilder::new().schema(Some(integer)).description(Some(description)).build()
}

/// The headers `rate_limit::RateLimitDecision::write_headers` sets, as documented.
pub fn rate_limit_headers() -> [(&'static str, openapi::Header); 3] {
    [
        ("X-RateLimit-Limit", integer_header("Requests the token may make in an hour")),
        ("X-RateLimit-Remaining", integer_header("Requests the token may still make before it is limited")),
        ("X-RateLimit-Reset", integer_header("Unix time, in seconds, when the token's full hourly allowance is back")),
    ]
}

/// 401, 403, 429, 500, 503: what any operation that needs a token can answer.
pub struct AuthenticatedErrors;

impl IntoResponses for AuthenticatedErrors {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        error_responses(&[
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::SERVICE_UNAVAILABLE,
        ])
    }
}

/// 409: what an operation that must keep an invariant of stored data can answer.
pub struct ConflictError;

impl IntoResponses for ConflictError {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        error_responses(&[StatusCode::CONFLICT])
    }
}

/// 400: what any operation that takes input can answer.
pub struct InputErrors;

impl IntoResponses for InputErrors {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        error_responses(&[StatusCode::BAD_REQUEST])
    }
}

/// 413, 415: what any operation that reads a JSON body can answer.
pub struct JsonBodyErrors;

impl IntoResponses for JsonBodyErrors {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        error_responses(&[StatusCode::PAYLOAD_TOO_LARGE, StatusCode::UNSUPPORTED_MEDIA_TYPE])
    }
}

/// 404: what any operation on one resource by id can answer.
pub struct NotFoundError;

impl IntoResponses for NotFoundError {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        error_responses(&[StatusCode::NOT_FOUND])
    }
}

/// Answers for a handler that panicked: the same 500 as any internal error,
/// with the panic logged.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError::Internal(anyhow::anyhow!("handler panicked: {detail}")).into_response()
}

/// Answers a request whose path matches no route.
pub async fn route_not_found() -> ApiError {
    ApiError::NotFound("No route matches this path")
}

/// Answers a request whose path matches a route but not its method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// JSON request body: like `axum::Json`, but every rejection is an `ApiError`
/// and a deserialisation error names the field it happened at.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: RequestBody,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json_value(request, state).await.and_then(deserialize_json_body).map(ApiJson)
    }
}

/// A request's body as a JSON object, after the content type and size checks.
pub async fn read_json_value<S: Send + Sync>(request: Request, state: &S) -> Result<serde_json::Value, ApiError> {
    if !has_json_content_type(request.headers()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = Bytes::from_request(request, state).await.map_err(body_rejection)?;
    parse_json_value(&body)
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::bad_request("invalid_body", format!("Request body could not be read: {}", rejection.body_text()))
    }
}

fn has_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// A JSON body is parsed in two steps (this, then `deserialize_json_body`) so
/// that syntax errors and field errors get distinct codes, and so that
/// unknown fields are reported by name.
fn parse_json_value(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    let value = strict_json::parse(body).map_err(|problem| match problem {
        BodyProblem::Syntax(error) => {
            ApiError::bad_request("invalid_json", format!("Request body is not valid JSON: {error}"))
        }
        BodyProblem::Nul(path) if path == "." => {
            ApiError::bad_request("invalid_character", "Request body must not contain the NUL character (U+0000)")
        }
        BodyProblem::Nul(path) => ApiError::bad_request(
            "invalid_character",
            format!("Field `{path}` must not contain the NUL character (U+0000)"),
        ),
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request("invalid_json", "Request body must be a JSON object"));
    }
    Ok(value)
}

/// The request type from a JSON object, with field errors named. The value
/// is read through `strict_json::Strict`, so a field gets only the JSON type
/// the spec gives it.
pub fn deserialize_json_body<T: RequestBody>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(Strict(value)).map_err(|error| {
        let field = error.path().to_string();
        let inner = error.into_inner().to_string();
        if let Some(name) = unknown_field_name(&inner) {
            // The path ends with the unknown field itself, e.g. `features.colour`.
            let full_name = if field == "." { name } else { field.as_str() };
            if T::READ_ONLY_FIELDS.contains(&full_name) {
                ApiError::bad_request("read_only_field", format!("Field `{full_name}` is read-only"))
            } else {
                ApiError::bad_request("unknown_field", format!("Unknown field `{full_name}`"))
            }
        } else if field == "." {
            ApiError::bad_request("validation_failed", format!("Invalid request body: {inner}"))
        } else {
            ApiError::bad_request("validation_failed", format!("Invalid field `{field}`: {inner}"))
        }
    })
}

/// serde reports unknown fields as "unknown field `x`, expected ...".
fn unknown_field_name(message: &str) -> Option<&str> {
    message.strip_prefix("unknown field `")?.split('`').next()
}

/// Path parameters whose rejection is an `ApiError`.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state).await.map(|Path(value)| ApiPath(value)).map_err(|rejection| {
            ApiError::bad_request("invalid_parameter", format!("Invalid path parameter: {}", rejection.body_text()))
        })
    }
}

/// Query parameters whose rejection is an `ApiError`.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state).await.map(|Query(value)| ApiQuery(value)).map_err(|rejection| {
            ApiError::bad_request("invalid_parameter", format!("Invalid query parameter: {}", rejection.body_text()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        name: String,
    }

    impl RequestBody for Sample {
        const READ_ONLY_FIELDS: &'static [&'static str] = &["api_key"];
    }

    fn parse_json_body<T: RequestBody>(body: &[u8]) -> Result<T, ApiError> {
        parse_json_value(body).and_then(deserialize_json_body)
    }

    fn code_of(result: Result<Sample, ApiError>) -> &'static str {
        result.expect_err("the body should be rejected").code()
    }

    #[test]
    fn valid_body_parses() {
        let sample: Sample = parse_json_body(br#"{"name":"a"}"#).unwrap();
        assert_eq!(sample.name, "a");
    }

    #[test]
    fn malformed_json_is_invalid_json() {
        assert_eq!(code_of(parse_json_body(b"{")), "invalid_json");
        assert_eq!(code_of(parse_json_body(b"[1]")), "invalid_json");
    }

    #[test]
    fn unknown_field_is_named() {
        let error = parse_json_body::<Sample>(br#"{"name":"a","colour":"red"}"#).unwrap_err();
        assert_eq!(error.code(), "unknown_field");
        assert_eq!(error.to_string(), "Unknown field `colour`");
    }

    #[test]
    fn read_only_field_is_named() {
        let error = parse_json_body::<Sample>(br#"{"name":"a","api_key":"ak_x"}"#).unwrap_err();
        assert_eq!(error.code(), "read_only_field");
        assert_eq!(error.to_string(), "Field `api_key` is read-only");
        let error = parse_json_body::<Sample>(br#"{"name":"a","api_secret":"x"}"#).unwrap_err();
        assert_eq!(error.code(), "unknown_field", "only the body's own read-only fields are called read-only");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let error = parse_json_body::<Sample>(br#"{"name":5}"#).unwrap_err();
        assert_eq!(error.code(), "validation_failed");
        assert!(error.to_string().starts_with("Invalid field `name`"), "{error}");
    }

    #[test]
    fn content_type_must_be_json() {
        let mut headers = HeaderMap::new();
        assert!(!has_json_content_type(&headers));
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!has_json_content_type(&headers));
        headers.insert(header::CONTENT_TYPE, "Application/JSON; charset=utf-8".parse().unwrap());
        assert!(has_json_content_type(&headers));
    }
}
