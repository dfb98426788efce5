//! `ApiError`, the one error type, its conversions from the domain's and
//! the store's errors, and its rendering as the JSON error body, so every
//! failure has the same body.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use std::time::Duration;

use utoipa::ToSchema;

use crate::{
    domain::{ValidationError, quota::QuotaExceeded},
    store::{StorageFault, StoreError, is_unavailable_sqlx},
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
    /// Creating a webhook endpoint or rotating its secret needs the server
    /// key that seals signing secrets, and the operator has not set it.
    #[error(
        "Webhook signing secrets cannot be stored: the server's APPDECK_WEBHOOK_SECRET_KEY is not set; \
         ask its operator to set it"
    )]
    WebhookSecretKeyMissing,
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
            | Self::LimitStoreUnavailable
            | Self::WebhookSecretKeyMissing => StatusCode::SERVICE_UNAVAILABLE,
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
            Self::WebhookSecretKeyMissing => "webhook_secret_key_missing",
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
            StoreError::WebhookSecretKeyMissing => Self::WebhookSecretKeyMissing,
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
