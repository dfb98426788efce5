//! The seam between the webhook delivery worker and the store: the worker
//! claims due deliveries under a lease and records each attempt; the store
//! owns the rows. Defined here, beside the store, so that the store can
//! implement it without naming `webhooks` (which names the store);
//! `webhooks::queue` is where the worker reaches it.
//!
//! A delivery is one event to one endpoint. Its row is written in the
//! transaction of the write that caused the event (the audit log is the
//! outbox), so no event is lost and none exists for a write that rolled back.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreResult;

/// A delivery the worker may attempt now. The lease keeps every other worker
/// (another instance included) from claiming it until the lease ends.
#[derive(Clone)]
pub struct DueDelivery {
    pub id: Uuid,
    /// The event's id: the `webhook-id` header, the same on every attempt so
    /// that receivers can drop duplicates.
    pub event_id: Uuid,
    pub endpoint_id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    /// The endpoint's `whsec_…` secret, decrypted by the store; `Err` says
    /// why it could not be (the server key missing or changed), and the
    /// attempt is recorded as failed with that reason.
    pub signing_secret: Result<String, String>,
    /// The event's JSON exactly as stored: the bytes signed and sent.
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: u32,
    /// When the event was recorded: the retry schedule counts from here.
    pub created_at: DateTime<Utc>,
}

/// What became of a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    RetryAt(DateTime<Utc>),
    /// The retry schedule is spent.
    GaveUp,
}

/// One attempt, as `GET /v1/webhook-endpoints/{id}/deliveries` shows it.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub delivery_id: Uuid,
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; `None` when no response came.
    pub status_code: Option<u16>,
    pub latency: Duration,
    /// Why the attempt failed, for the endpoint's admin; never a secret.
    pub error: Option<String>,
    pub next: NextStep,
}

#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    /// Claims up to `limit` deliveries due at `now` that no live lease
    /// holds, and leases them until `now + lease`. On PostgreSQL the claim
    /// uses `FOR UPDATE SKIP LOCKED`, so instances never claim one delivery
    /// at the same moment.
    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>>;

    /// Records the attempt, moves the delivery to `attempt.next` and ends
    /// its lease. Answers since when the endpoint has failed without a
    /// success in between (`None` when this attempt succeeded).
    async fn record_attempt(&self, attempt: &AttemptRecord) -> StoreResult<Option<DateTime<Utc>>>;

    /// Disables an endpoint that has failed for too long, recording a
    /// `webhook_endpoint.disabled` event (audited, and itself delivered to
    /// the organization's other endpoints) with `reason`.
    async fn disable_failing_endpoint(&self, endpoint_id: Uuid, reason: &str) -> StoreResult<()>;
}
