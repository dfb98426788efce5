//! Domain types and the rules that validate them, free of HTTP and SQL text.

pub mod app;
pub mod audit;
pub mod fields;
pub mod organization;
pub mod rules;
pub mod token;

/// A JSON request body. A body that names one of `READ_ONLY_FIELDS` (fields
/// of the resource the API shows but no request may set) is refused as
/// read-only rather than as unknown, which would mislead.
pub trait RequestBody: serde::de::DeserializeOwned {
    const READ_ONLY_FIELDS: &'static [&'static str];
}

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
