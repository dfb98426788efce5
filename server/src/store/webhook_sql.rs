//! The SQL of webhook endpoints, events, deliveries and attempts, shared by
//! both backends, with each row's mapping.

use uuid::Uuid;

use super::{
    PageRequest, StoreResult,
    session::{Row, Value},
    sql::{Statement, parse_enum, time, uuid},
};
use crate::domain::{
    audit::AuditAction,
    webhook_delivery::{DeliveryAttempt, WebhookDelivery},
    webhook_endpoint::WebhookEndpoint,
};

/// The columns `endpoint_from_row` reads, in order; never the secret.
macro_rules! endpoint_columns {
    () => {
        "id, url, description, event_types, enabled, disabled_reason, created_at, updated_at"
    };
}

pub const INSERT_ENDPOINT: &str = "INSERT INTO webhook_endpoints (id, organization_id, url, description, \
                                   event_types, enabled, disabled_reason, secret_nonce, secret_sealed, created_at, \
                                   updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
pub const SELECT_ENDPOINT: &str =
    concat!("SELECT ", endpoint_columns!(), " FROM webhook_endpoints WHERE id = $1 AND organization_id = $2");
/// PostgreSQL: an update changes no key, so it takes the lock that lets
/// other writes still reference the endpoint (`FOR KEY SHARE` below):
/// `FOR UPDATE` would deadlock two endpoints' updates, each queueing an
/// event for the other.
pub const SELECT_ENDPOINT_FOR_UPDATE: &str = concat!(
    "SELECT ",
    endpoint_columns!(),
    " FROM webhook_endpoints WHERE id = $1 AND organization_id = $2 FOR NO KEY UPDATE"
);
/// Re-enabling an endpoint (it was disabled) forgets since when it failed,
/// so that it is not disabled again at its next failure.
pub const UPDATE_ENDPOINT: &str = "UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, \
                                   failing_since = CASE WHEN enabled THEN failing_since ELSE NULL END, \
                                   enabled = $4, disabled_reason = $5, updated_at = $6 WHERE id = $7";
pub const ROTATE_ENDPOINT_SECRET: &str =
    "UPDATE webhook_endpoints SET secret_nonce = $1, secret_sealed = $2, updated_at = $3 WHERE id = $4";
pub const DELETE_ENDPOINT: &str = "DELETE FROM webhook_endpoints WHERE id = $1 AND organization_id = $2 RETURNING url";
/// How many endpoints an organization holds, counting at most `$2`.
pub const COUNT_ENDPOINTS: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM webhook_endpoints \
                                   WHERE organization_id = $1 LIMIT $2) AS counted";
/// The organization's enabled endpoints and the types each subscribes to.
macro_rules! subscribers {
    () => {
        "SELECT id, event_types FROM webhook_endpoints WHERE organization_id = $1 AND enabled"
    };
}
/// SQLite: its single writer runs one write at a time.
pub const SELECT_SUBSCRIBERS: &str = subscribers!();
/// PostgreSQL: each endpoint a delivery will reference is locked against
/// deletion until the write commits. An endpoint being deleted meanwhile
/// is waited for and then left out; without the lock its delivery's
/// foreign key failed once the delete committed, and the write with it.
pub const SELECT_SUBSCRIBERS_KEY_SHARE: &str = concat!(subscribers!(), " FOR KEY SHARE");

pub const INSERT_EVENT: &str =
    "INSERT INTO webhook_events (id, organization_id, event_type, payload, created_at) VALUES ($1, $2, $3, $4, $5)";
/// A new delivery, due when its event happened (`$4`).
pub const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, status, attempts, \
                                   next_attempt_at, lease_until, created_at) \
                                   VALUES ($1, $2, $3, 'pending', 0, $4, NULL, $4)";
/// Makes a delivery due at `$1`. A lease in force is kept: an attempt in
/// flight finishes before another may start.
pub const RETRY_DELIVERY: &str = "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1 \
                                  WHERE id = $2 AND endpoint_id = $3";

/// Due deliveries to enabled endpoints that no live lease holds (`$1` now),
/// most overdue first, at most `$2`, with what a worker needs to send them.
macro_rules! due_deliveries {
    () => {
        "SELECT d.id, d.event_id, d.endpoint_id, w.organization_id, w.url, w.secret_nonce, w.secret_sealed, \
         e.payload, d.attempts, d.created_at FROM webhook_deliveries d \
         JOIN webhook_endpoints w ON w.id = d.endpoint_id JOIN webhook_events e ON e.id = d.event_id \
         WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1) \
         AND w.enabled ORDER BY d.next_attempt_at LIMIT $2"
    };
}
/// SQLite: its single writer runs one claim at a time.
pub const SELECT_DUE_DELIVERIES: &str = due_deliveries!();
/// PostgreSQL: rows another instance is claiming are skipped, not waited for.
pub const SELECT_DUE_DELIVERIES_SKIP_LOCKED: &str = concat!(due_deliveries!(), " FOR UPDATE OF d SKIP LOCKED");

/// The attempt's outcome: `$1` status, `$2` next attempt; the lease ends.
pub const FINISH_ATTEMPT: &str = "UPDATE webhook_deliveries SET attempts = attempts + 1, status = $1, \
                                  next_attempt_at = $2, lease_until = NULL WHERE id = $3";
pub const INSERT_ATTEMPT: &str = "INSERT INTO webhook_attempts (id, delivery_id, attempted_at, status_code, \
                                  latency_ms, error) VALUES ($1, $2, $3, $4, $5, $6)";
pub const ENDPOINT_SUCCEEDED: &str = "UPDATE webhook_endpoints SET failing_since = NULL \
                                      WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = $1)";
/// Keeps the first failure's time (`$1` when none) and answers it.
pub const ENDPOINT_FAILED: &str = "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1) \
                                   WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = $2) \
                                   RETURNING failing_since";
pub const SELECT_ENDPOINT_TO_DISABLE: &str =
    "SELECT organization_id, url, enabled FROM webhook_endpoints WHERE id = $1";
pub const SELECT_ENDPOINT_TO_DISABLE_FOR_UPDATE: &str =
    "SELECT organization_id, url, enabled FROM webhook_endpoints WHERE id = $1 FOR NO KEY UPDATE";
/// PostgreSQL: an attempt is recorded under its endpoint's lock, taken
/// first, in the order a delete takes them (endpoint, then its
/// deliveries); locking the delivery first deadlocked with the delete.
/// No row: the endpoint is gone.
pub const LOCK_ENDPOINT_OF_DELIVERY: &str = "SELECT w.id FROM webhook_endpoints w \
                                             WHERE w.id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = $1) \
                                             FOR NO KEY UPDATE";
pub const DISABLE_ENDPOINT: &str =
    "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $1, updated_at = $2 WHERE id = $3";

/// One page of the organization's endpoints, oldest first.
pub fn endpoints_page(organization_id: Uuid, page: PageRequest) -> Statement {
    let mut statement = Statement::new(concat!("SELECT ", endpoint_columns!(), " FROM webhook_endpoints WHERE"));
    statement.push_bind(" organization_id = ", uuid(organization_id));
    if let Some(after) = page.after {
        statement.push_bind(" AND id > ", uuid(after));
    }
    statement.push_bind(" ORDER BY id LIMIT ", Value::Int(i64::from(page.limit)));
    statement
}

/// One page of an endpoint's deliveries, newest first, without their attempts.
pub fn deliveries_page(endpoint_id: Uuid, page: PageRequest) -> Statement {
    let mut statement = Statement::new(
        "SELECT d.id, d.event_id, e.event_type, d.status, d.attempts, d.next_attempt_at, d.created_at \
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE",
    );
    statement.push_bind(" d.endpoint_id = ", uuid(endpoint_id));
    if let Some(before) = page.after {
        statement.push_bind(" AND d.id < ", uuid(before));
    }
    statement.push(" ORDER BY d.id DESC").push_bind(" LIMIT ", Value::Int(i64::from(page.limit)));
    statement
}

/// The attempts of these deliveries, oldest first, each with its delivery's id.
pub fn attempts_of(delivery_ids: &[Uuid]) -> Statement {
    let mut statement = Statement::new(
        "SELECT delivery_id, attempted_at, COALESCE(status_code, 0), latency_ms, error FROM webhook_attempts \
         WHERE delivery_id IN (",
    );
    for (index, id) in delivery_ids.iter().enumerate() {
        statement.push_bind(if index == 0 { "" } else { ", " }, uuid(*id));
    }
    statement.push(") ORDER BY id");
    statement
}

/// The parameters of `INSERT_ENDPOINT` but the secret's (`$8`, `$9`).
pub fn endpoint_parameters(organization_id: Uuid, endpoint: &WebhookEndpoint) -> [Value; 9] {
    let WebhookEndpoint { id, url, description, event_types, enabled, disabled_reason, created_at, updated_at } =
        endpoint;
    [
        uuid(*id),
        uuid(organization_id),
        Value::Text(Some(url.clone())),
        Value::Text(description.clone()),
        event_types_value(event_types.as_deref()),
        Value::Bool(*enabled),
        Value::Text(disabled_reason.clone()),
        time(*created_at),
        time(*updated_at),
    ]
}

pub fn event_types_value(event_types: Option<&[AuditAction]>) -> Value {
    Value::Json(event_types.map(|types| serde_json::to_value(types).expect("event types serialise")))
}

/// An endpoint from the columns of `endpoint_columns!`.
pub fn endpoint_from_row(row: &impl Row) -> StoreResult<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: row.uuid(0)?,
        url: row.text(1)?,
        description: row.text_opt(2)?,
        event_types: row.json_opt(3)?,
        enabled: row.bool(4)?,
        disabled_reason: row.text_opt(5)?,
        created_at: row.time(6)?,
        updated_at: row.time(7)?,
    })
}

/// A delivery from the columns of `deliveries_page`, its attempts not yet read.
pub fn delivery_from_row(row: &impl Row) -> StoreResult<WebhookDelivery> {
    Ok(WebhookDelivery {
        id: row.uuid(0)?,
        event_id: row.uuid(1)?,
        event_type: parse_enum(row.text(2)?)?,
        status: parse_enum(row.text(3)?)?,
        attempt_count: row.int32(4)?,
        next_attempt_at: row.time_opt(5)?,
        created_at: row.time(6)?,
        attempts: Vec::new(),
    })
}

/// An attempt with its delivery's id, from the columns of `attempts_of`.
pub fn attempt_from_row(row: &impl Row) -> StoreResult<(Uuid, DeliveryAttempt)> {
    // 0 stands for NULL (no response came), which no HTTP status is.
    let status_code = u16::try_from(row.int32(2)?).ok().filter(|code| *code != 0);
    let attempt =
        DeliveryAttempt { attempted_at: row.time(1)?, status_code, latency_ms: row.int(3)?, error: row.text_opt(4)? };
    Ok((row.uuid(0)?, attempt))
}
