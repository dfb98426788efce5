//! API tokens as the API shows them: never with their secret.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What a token may do. `ci` tokens read apps with secrets masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum TokenRole {
    Admin,
    Developer,
    Ci,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
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
