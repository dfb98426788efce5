//! Deliveries as the API shows them: one event to one endpoint, with every
//! attempt made so far.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::AuditAction;

/// `pending` until delivered or given up (`failed`); a retry makes it
/// `pending` again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; null when no response came.
    #[schema(required = true, minimum = 100, maximum = 599)]
    pub status_code: Option<u16>,
    #[schema(minimum = 0)]
    pub latency_ms: i64,
    /// Why the attempt failed; null when it succeeded.
    #[schema(required = true)]
    pub error: Option<String>,
}

/// One event to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WebhookDelivery {
    pub id: Uuid,
    /// The event's id, sent as `webhook-id` on every attempt: receivers drop
    /// duplicates by it.
    pub event_id: Uuid,
    pub event_type: AuditAction,
    pub status: DeliveryStatus,
    /// How many attempts were made.
    #[schema(minimum = 0)]
    pub attempt_count: i32,
    /// When the next attempt is due; null when none is.
    #[schema(required = true)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}
