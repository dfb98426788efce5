//! The responses as the document describes them: the error statuses each
//! operation lists (`AuthenticatedErrors`, `InputErrors`, ...), all with
//! the `ErrorBody` schema, and the headers the layers put on responses
//! (`X-Request-Id`, `X-RateLimit-*`, `Retry-After`).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use utoipa::{
    IntoResponses, Modify,
    openapi::{self, RefOr},
};

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
fn rate_limit_headers() -> [(&'static str, openapi::Header); 3] {
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

/// Every response carries `X-Request-Id`, and every success of an
/// authenticated operation the `X-RateLimit-*` headers, each set by one
/// layer in `router`; so they are declared in one place too, not per handler.
pub(super) struct ResponseHeaders;

impl Modify for ResponseHeaders {
    fn modify(&self, openapi: &mut openapi::OpenApi) {
        let request_id = openapi::header::HeaderBuilder::new()
            .schema(Some(openapi::ObjectBuilder::new().schema_type(openapi::schema::Type::String)))
            .description(Some(
                "The request's id: the client's when it sent one of at most 64 printable ASCII characters, otherwise generated",
            ))
            .build();
        let has_global_security = openapi.security.as_ref().is_some_and(|security| !security.is_empty());
        for path_item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut path_item.get,
                &mut path_item.put,
                &mut path_item.post,
                &mut path_item.delete,
                &mut path_item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let is_authenticated = match &operation.security {
                    Some(security) => !security.is_empty(),
                    None => has_global_security,
                };
                for (status, response) in operation.responses.responses.iter_mut() {
                    let openapi::RefOr::T(response) = response else { continue };
                    response.headers.insert("X-Request-Id".to_owned(), openapi::RefOr::T(request_id.clone()));
                    if is_authenticated && status.starts_with('2') {
                        for (name, header) in rate_limit_headers() {
                            response.headers.insert(name.to_owned(), openapi::RefOr::T(header));
                        }
                    }
                }
            }
        }
    }
}
