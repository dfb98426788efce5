//! The organization that owns apps and API tokens.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ValidationError, rules};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Organization {
    #[schema(read_only)]
    pub id: Uuid,
    #[schema(min_length = 1, max_length = 100, example = "Acme Inc.")]
    pub name: String,
    #[schema(read_only)]
    pub created_at: DateTime<Utc>,
    /// Requests a token of this organization may make in one hour.
    #[schema(read_only, example = 1000)]
    pub rate_limit_per_hour: i64,
}

/// Trims an organization name and checks its length.
pub fn validate_organization_name(name: &str) -> Result<String, ValidationError> {
    rules::trimmed_name(name, "Organization name")
}
