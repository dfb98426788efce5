//! Domain types and the rules that validate them, free of HTTP and SQL text.

pub mod app;
pub mod organization;
pub mod rules;
pub mod token;

/// Fields the API shows but no request may set. A request body that names
/// one is refused as read-only rather than as unknown, which would mislead.
pub const READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "organization_id",
    "api_key",
    "api_secret",
    "platform",
    "bundle_id",
    "url_context",
    "cached_user_count",
    "cached_event_count",
    "cached_last_event",
    "stats_last_updated",
    "created_at",
    "updated_at",
    "rate_limit_per_hour",
];

/// A broken rule, described in a sentence that names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValidationError(pub String);

impl ValidationError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// The current time at the millisecond precision the API shows and both
/// databases keep, so a value reads back exactly as it was written.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(3)
}
