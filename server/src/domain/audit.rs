//! The audit log: one event per successful write, recorded in the write's
//! own transaction, naming the token that made it and the fields it
//! changed — never their values, so no secret can end up here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::token::TokenActor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AuditAction {
    #[serde(rename = "app.created")]
    AppCreated,
    #[serde(rename = "app.updated")]
    AppUpdated,
    #[serde(rename = "app.deleted")]
    AppDeleted,
    #[serde(rename = "app.secret_rotated")]
    AppSecretRotated,
    #[serde(rename = "token.created")]
    TokenCreated,
    #[serde(rename = "token.updated")]
    TokenUpdated,
    #[serde(rename = "token.revoked")]
    TokenRevoked,
    #[serde(rename = "token.rolled")]
    TokenRolled,
    #[serde(rename = "organization.updated")]
    OrganizationUpdated,
    #[serde(rename = "webhook_endpoint.created")]
    WebhookEndpointCreated,
    #[serde(rename = "webhook_endpoint.updated")]
    WebhookEndpointUpdated,
    #[serde(rename = "webhook_endpoint.deleted")]
    WebhookEndpointDeleted,
    #[serde(rename = "webhook_endpoint.secret_rotated")]
    WebhookEndpointSecretRotated,
    #[serde(rename = "webhook_endpoint.disabled")]
    WebhookEndpointDisabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditTargetType {
    App,
    Token,
    Organization,
    WebhookEndpoint,
}

/// What a write was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditTarget {
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: AuditTargetType,
    pub id: Uuid,
}

/// One successful write. It never holds a secret.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub action: AuditAction,
    /// The token that made the write, with its label at the time; null for the server's CLI.
    #[schema(required = true)]
    pub actor: Option<TokenActor>,
    pub target: AuditTarget,
    /// The names of the fields the write changed, never their values.
    #[schema(example = json!(["name", "features"]))]
    pub changes: Vec<String>,
    /// The `X-Request-Id` of the request that made the write; null for the server's CLI.
    #[schema(required = true)]
    pub request_id: Option<String>,
}

/// Who is writing, recorded with every write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditContext {
    /// `None` for the server itself (its CLI, its first start).
    pub actor: Option<TokenActor>,
    pub request_id: Option<String>,
}

/// Which events a list returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditFilter {
    pub action: Option<AuditAction>,
    pub actor_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl AuditEvent {
    /// A new event for a write happening now in `context`.
    pub fn record(
        context: &AuditContext,
        action: AuditAction,
        target: AuditTarget,
        changes: Vec<&'static str>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            occurred_at: super::now(),
            action,
            actor: context.actor.clone(),
            target,
            changes: changes.into_iter().map(str::to_owned).collect(),
            request_id: context.request_id.clone(),
        }
    }
}
