//! The webhook event: what a delivery's body says about one audit event,
//! in the Standard Webhooks shape (`id`, `type`, `timestamp`, `data`). It
//! is built in the write's transaction, from the audit event and what the
//! write touched, and stored as text once, so every attempt sends (and
//! signs) the same bytes. It names changed fields, never their values,
//! and never a secret.

use chrono::SecondsFormat;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    audit::{AuditAction, AuditEvent},
    token::{Token, TokenActor, TokenRole},
};

/// What the write touched, as the event shows it beside the audit's target.
#[derive(Debug, Clone)]
pub enum EventSubject {
    App { name: String },
    Token(Token),
    Organization { name: String },
    WebhookEndpoint { url: String },
}

/// The body of every webhook delivery (Standard Webhooks): signed with the
/// endpoint's secret, sent with `webhook-id` (= `id`), `webhook-timestamp`
/// and `webhook-signature`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01890a5d-ac96-774b-bcce-b302099a8057",
    "type": "app.updated",
    "timestamp": "2026-01-02T03:04:05.678Z",
    "data": {
        "actor": {"id": "01890a5d-ac96-774b-bcce-b302099a8001", "label": "deploy pipeline"},
        "request_id": "01890a5d-ac96-774b-bcce-b302099a8099",
        "target": {
            "type": "app",
            "id": "01890a5d-ac96-774b-bcce-b302099a8042",
            "name": "Storefront",
            "changes": ["name", "features"]
        }
    }
}))]
pub struct WebhookEvent {
    /// The audit event's id; the same on every attempt, so receivers drop duplicates by it.
    pub id: Uuid,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: AuditAction,
    /// When the write happened (RFC 3339, UTC, milliseconds).
    #[schema(format = DateTime, value_type = String)]
    pub timestamp: String,
    pub data: WebhookEventData,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookEventData {
    /// The token that made the write; null for the server itself.
    #[schema(required = true)]
    pub actor: Option<TokenActor>,
    /// The `X-Request-Id` of the write's request; null for the server itself.
    #[schema(required = true)]
    pub request_id: Option<String>,
    pub target: WebhookEventTarget,
}

/// What the write was about. `type` says which fields are present: an app
/// and an organization carry `name`, a token `label`, `masked_token`,
/// `role` and `created_by`, a webhook endpoint `url`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookEventTarget {
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: WebhookEventTargetType,
    pub id: Uuid,
    /// The names of the fields the write changed, never their values.
    pub changes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub masked_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub role: Option<TokenRole>,
    /// A token's maker; absent when the server itself made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub created_by: Option<TokenActor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookEventTargetType {
    App,
    Token,
    Organization,
    WebhookEndpoint,
}

impl WebhookEvent {
    pub fn new(event: &AuditEvent, subject: EventSubject) -> Self {
        let mut target = WebhookEventTarget {
            kind: WebhookEventTargetType::App,
            id: event.target.id,
            changes: event.changes.clone(),
            name: None,
            label: None,
            masked_token: None,
            role: None,
            created_by: None,
            url: None,
        };
        match subject {
            EventSubject::App { name } => target.name = Some(name),
            EventSubject::Organization { name } => {
                target.kind = WebhookEventTargetType::Organization;
                target.name = Some(name);
            }
            EventSubject::Token(token) => {
                let Token { label, masked_token, role, created_by, .. } = token;
                target.kind = WebhookEventTargetType::Token;
                (target.label, target.masked_token, target.role) = (Some(label), Some(masked_token), Some(role));
                target.created_by = created_by;
            }
            EventSubject::WebhookEndpoint { url } => {
                target.kind = WebhookEventTargetType::WebhookEndpoint;
                target.url = Some(url);
            }
        }
        Self {
            id: event.id,
            kind: event.action,
            timestamp: event.occurred_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            data: WebhookEventData { actor: event.actor.clone(), request_id: event.request_id.clone(), target },
        }
    }

    /// The JSON stored, signed and sent.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a webhook event serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        audit::{AuditContext, AuditTarget, AuditTargetType},
        token::TokenStatus,
    };

    #[test]
    fn a_token_event_carries_its_mask_role_and_maker_and_no_secret_field() {
        let actor = TokenActor { id: Uuid::now_v7(), label: "admin".to_owned() };
        let context = AuditContext { actor: Some(actor.clone()), request_id: Some("r-1".to_owned()) };
        let token = Token {
            id: Uuid::now_v7(),
            label: "deploy".to_owned(),
            role: TokenRole::Ci,
            masked_token: "apps_AbCd…wXyZ".to_owned(),
            status: TokenStatus::Active,
            created_at: crate::domain::now(),
            created_by: Some(actor),
            last_used_at: None,
            expires_at: None,
        };
        let target = AuditTarget { kind: AuditTargetType::Token, id: token.id };
        let audit = AuditEvent::record(&context, AuditAction::TokenCreated, target, vec!["label", "role"]);
        let json: serde_json::Value =
            serde_json::from_str(&WebhookEvent::new(&audit, EventSubject::Token(token.clone())).to_json()).unwrap();
        assert_eq!(json["type"], "token.created");
        assert_eq!(json["id"], audit.id.to_string());
        let target = &json["data"]["target"];
        assert_eq!(target["type"], "token");
        assert_eq!(target["masked_token"], "apps_AbCd…wXyZ");
        assert_eq!(target["role"], "ci");
        assert_eq!(target["created_by"]["label"], "admin");
        assert_eq!(target["changes"], serde_json::json!(["label", "role"]));
        let keys: Vec<&String> = target.as_object().unwrap().keys().collect();
        assert!(!keys.iter().any(|key| key.contains("secret") || key.contains("hash")), "{keys:?}");
        assert_eq!(json["data"]["request_id"], "r-1");
    }
}
