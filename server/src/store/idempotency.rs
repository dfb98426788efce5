//! `Idempotency-Key` inside a create's transaction: claiming the key,
//! recording the sealed answer, and reading back an earlier one.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Created, IDEMPOTENCY_KEY_LIFETIME, IdempotencyRecord, IdempotentWrite, StoreError, StoreResult,
    session::{Session, Value},
    sql::{self, time, uuid},
};

/// Claims the write's `Idempotency-Key` for `organization_id`; `false`
/// when the key has a live record, and the write must not happen.
pub(super) async fn claim_idempotency_key<S: Session, T>(
    session: &mut S,
    organization_id: Uuid,
    write: &IdempotentWrite<T>,
) -> StoreResult<bool> {
    let parameters = [
        uuid(organization_id),
        Value::Bytes(write.key_hash.clone()),
        Value::Bytes(write.fingerprint.clone()),
        Value::Bytes(Vec::new()),
        Value::Bytes(Vec::new()),
        time(write.now),
        time(write.now - IDEMPOTENCY_KEY_LIFETIME),
    ];
    Ok(session.execute(sql::CLAIM_IDEMPOTENCY_KEY, &parameters).await? == 1)
}

pub(super) async fn record_idempotent_response<S: Session, T>(
    session: &mut S,
    organization_id: Uuid,
    write: &IdempotentWrite<T>,
    created: &T,
) -> StoreResult<()> {
    let response = (write.seal)(created);
    let parameters = [
        Value::Int32(i32::from(response.status)),
        Value::Bytes(response.nonce),
        Value::Bytes(response.sealed_body),
        uuid(organization_id),
        Value::Bytes(write.key_hash.clone()),
    ];
    session.execute(sql::RECORD_IDEMPOTENT_RESPONSE, &parameters).await.map(drop)
}

pub(super) async fn find_idempotency_record<S: Session>(
    session: &mut S,
    organization_id: Uuid,
    key_hash: &[u8],
    now: DateTime<Utc>,
) -> StoreResult<Option<IdempotencyRecord>> {
    let parameters = [uuid(organization_id), Value::Bytes(key_hash.to_vec()), time(now - IDEMPOTENCY_KEY_LIFETIME)];
    session
        .fetch_optional(sql::SELECT_IDEMPOTENCY_RECORD, &parameters, |row| sql::idempotency_record_from_row(row))
        .await
}

/// The record that made a claim fail, read in the claim's transaction: it
/// is committed by then (on PostgreSQL the claim waited for it; on SQLite
/// the writer runs one write at a time).
pub(super) async fn created_earlier<S: Session, T, U>(
    session: &mut S,
    organization_id: Uuid,
    write: &IdempotentWrite<T>,
) -> StoreResult<Created<U>> {
    match find_idempotency_record(session, organization_id, &write.key_hash, write.now).await? {
        Some(record) => Ok(Created::Earlier(record)),
        // Only when the record expired between the claim and this read.
        None => Err(StoreError::Conflict(
            "The earlier request with this Idempotency-Key expired just now; retry".to_owned(),
        )),
    }
}
