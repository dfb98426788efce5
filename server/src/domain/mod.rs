//! Domain types and the rules that validate them, free of HTTP and SQL text.

pub mod app;
pub mod audit;
pub mod fields;
pub mod organization;
pub mod quota;
pub mod rules;
pub mod token;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_event;

/// A JSON request body. A body that names one of `READ_ONLY_FIELDS` (fields
/// of the resource the API shows but no request may set) is refused as
/// read-only rather than as unknown, which would mislead.
pub trait RequestBody: serde::de::DeserializeOwned {
    const READ_ONLY_FIELDS: &'static [&'static str];
}

/// A broken rule, described in a sentence that names the field, with the
/// stable code the error body carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub message: String,
    pub code: &'static str,
}

impl ValidationError {
    /// A broken rule with the general code, `validation_failed`.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_code("validation_failed", message)
    }

    /// A broken rule a client may want to tell apart from the others.
    pub fn with_code(code: &'static str, message: impl Into<String>) -> Self {
        Self { message: message.into(), code }
    }
}

/// The current time at the millisecond precision the API shows and both
/// databases keep, so a value reads back exactly as it was written.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(3)
}
