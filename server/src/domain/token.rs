//! API tokens as the API shows them: never with their secret.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{ToSchema, openapi::Object};
use uuid::Uuid;

use super::{RequestBody, ValidationError, fields, rules};

/// What a token may do. `ci` tokens read apps with secrets masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenRole {
    Admin,
    Developer,
    Ci,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    Disabled,
}

/// The token that did something.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TokenActor {
    pub id: Uuid,
    #[schema(example = "deploy pipeline")]
    pub label: String,
}

/// An organization API token, never with its secret.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Token {
    #[schema(read_only)]
    pub id: Uuid,
    #[schema(min_length = 1, max_length = 100, example = "deploy pipeline")]
    pub label: String,
    pub role: TokenRole,
    #[schema(read_only, example = "apps_AbCd…wXyZ")]
    pub masked_token: String,
    pub status: TokenStatus,
    #[schema(read_only)]
    pub created_at: DateTime<Utc>,
    /// The token that made this one; null when the server's CLI made it.
    #[schema(required = true, read_only)]
    pub created_by: Option<TokenActor>,
    #[schema(required = true, read_only)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token as authentication finds it: with its organization.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub token: Token,
    pub organization_id: Uuid,
    /// The organization's hourly request limit per token.
    pub rate_limit_per_hour: u32,
}

/// Everything the store needs to insert a token; the secret itself is not here.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub label: String,
    pub role: TokenRole,
    pub token_hash: String,
    pub masked_token: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The fields of `Token` that no request may set.
const TOKEN_READ_ONLY_FIELDS: &[&str] = &["id", "masked_token", "created_at", "created_by", "last_used_at", "status"];

/// The body of `POST /v1/api-tokens`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiTokenRequest {
    #[schema(schema_with = label_schema)]
    pub label: String,
    pub role: TokenRole,
    /// When the token stops working; must be in the future. Null or absent never expires.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl RequestBody for CreateApiTokenRequest {
    const READ_ONLY_FIELDS: &'static [&'static str] = TOKEN_READ_ONLY_FIELDS;
}

/// The body of `PATCH /v1/api-tokens/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApiTokenRequest {
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(schema_with = label_schema)]
    pub label: Option<String>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub status: Option<TokenStatus>,
}

/// `role` and `expires_at` are fixed once a token exists: a token that
/// should do more, or live longer, is a new token.
impl RequestBody for UpdateApiTokenRequest {
    const READ_ONLY_FIELDS: &'static [&'static str] =
        &["id", "masked_token", "created_at", "created_by", "last_used_at", "role", "expires_at"];
}

/// The longest a rolled token's old secret may keep working: 7 days.
pub const MAX_ROLL_OVERLAP_SECONDS: i64 = 604_800;

/// The body of `POST /v1/api-tokens/{id}/roll`; an absent body is this
/// with its default, which refuses the old secret at once.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollApiTokenRequest {
    /// How many seconds the old secret keeps working, so its holders can
    /// move to the new one; 0 refuses it from the next request.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 604_800, default = 0)]
    pub previous_expires_in_seconds: i64,
}

/// A roll names no field of the token: every token field is simply unknown here.
impl RequestBody for RollApiTokenRequest {
    const READ_ONLY_FIELDS: &'static [&'static str] = &[];
}

impl RollApiTokenRequest {
    /// How long the old secret keeps working; `None` when not at all.
    pub fn overlap(&self) -> Result<Option<TimeDelta>, ValidationError> {
        match self.previous_expires_in_seconds {
            0 => Ok(None),
            seconds @ 1..=MAX_ROLL_OVERLAP_SECONDS => Ok(Some(TimeDelta::seconds(seconds))),
            _ => Err(ValidationError::new(format!(
                "`previous_expires_in_seconds` must be between 0 and {MAX_ROLL_OVERLAP_SECONDS} (7 days)"
            ))),
        }
    }
}

/// What a roll writes; the new secret itself is not here.
#[derive(Debug, Clone)]
pub struct TokenRoll {
    pub token_hash: String,
    pub masked_token: String,
    /// Until when the old secret still works; `None`: it is refused at once.
    pub previous_expires_at: Option<DateTime<Utc>>,
}

fn label_schema() -> Object {
    rules::name_schema("Trimmed; 1-100 characters; unique among the organization's live tokens.")
}

/// A token label: trimmed, 1-100 characters.
pub fn validate_label(label: &str) -> Result<String, ValidationError> {
    rules::trimmed_name(label, "Token label")
}

/// An expiry must lie ahead: a token born expired is a mistake, not a token.
pub fn validate_expiry(
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ValidationError> {
    match expires_at {
        Some(moment) if moment <= now => Err(ValidationError::new("`expires_at` must be in the future")),
        Some(moment) => Ok(Some(moment.trunc_subsecs(3))),
        None => Ok(None),
    }
}

impl Token {
    /// Whether the organization can count on this token to remain its admin:
    /// an active admin token without an expiry. An organization must keep
    /// one (the last-admin rule). Admin tokens that expire do not count,
    /// because each will lapse on its own and could leave the organization
    /// with no admin and no way back but the server's `token create`.
    pub fn is_lasting_admin(&self) -> bool {
        self.role == TokenRole::Admin && self.status == TokenStatus::Active && self.expires_at.is_none()
    }

    /// The fields an update changed from `self` to `after`, for the audit.
    pub fn changed_fields(&self, after: &Token) -> Vec<&'static str> {
        [("label", self.label != after.label), ("status", self.status != after.status)]
            .into_iter()
            .filter(|(_, changed)| *changed)
            .map(|(name, _)| name)
            .collect()
    }
}

impl NewToken {
    /// The fields a token's creation sets, for the audit.
    pub fn set_fields(&self) -> Vec<&'static str> {
        let mut fields = vec!["label", "role"];
        if self.expires_at.is_some() {
            fields.push("expires_at");
        }
        fields
    }
}

impl UpdateApiTokenRequest {
    /// The request with its label checked and trimmed.
    pub fn validated(mut self) -> Result<Self, ValidationError> {
        self.label = self.label.as_deref().map(validate_label).transpose()?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn expiry_must_be_in_the_future() {
        let now = Utc::now();
        assert!(validate_expiry(Some(now - TimeDelta::seconds(1)), now).is_err());
        assert!(validate_expiry(Some(now), now).is_err());
        assert!(validate_expiry(Some(now + TimeDelta::hours(1)), now).is_ok());
        assert_eq!(validate_expiry(None, now).unwrap(), None);
    }

    #[test]
    fn only_active_admins_without_expiry_are_lasting_admins() {
        let admin = Token {
            id: Uuid::now_v7(),
            label: "admin".into(),
            role: TokenRole::Admin,
            masked_token: "apps_AbCd…wXyZ".into(),
            status: TokenStatus::Active,
            created_at: Utc::now(),
            created_by: None,
            last_used_at: None,
            expires_at: None,
        };
        assert!(admin.is_lasting_admin());
        let expiring = Token { expires_at: Some(Utc::now() + TimeDelta::days(365)), ..admin.clone() };
        assert!(!expiring.is_lasting_admin());
        assert!(!Token { status: TokenStatus::Disabled, ..admin.clone() }.is_lasting_admin());
        assert!(!Token { role: TokenRole::Developer, ..admin }.is_lasting_admin());
    }

    #[test]
    fn a_roll_overlap_is_at_most_seven_days() {
        let overlap = |seconds| RollApiTokenRequest { previous_expires_in_seconds: seconds }.overlap();
        assert_eq!(overlap(0).unwrap(), None);
        assert_eq!(overlap(60).unwrap(), Some(TimeDelta::seconds(60)));
        assert_eq!(overlap(604_800).unwrap(), Some(TimeDelta::days(7)));
        assert!(overlap(604_801).is_err());
        assert!(overlap(-1).is_err());
    }

    #[test]
    fn labels_are_trimmed_and_bounded() {
        assert_eq!(validate_label("  ci  ").unwrap(), "ci");
        assert!(validate_label(" ").is_err());
        assert!(validate_label(&"x".repeat(101)).is_err());
    }
}
