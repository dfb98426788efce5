//! `DeliveryQueue` on the store: the worker's claims, attempts and
//! disabling of failing endpoints, in transactions of their own.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::audit_event;
use crate::{
    domain::{
        self,
        audit::{AuditAction, AuditContext},
        webhook_delivery::DeliveryStatus,
        webhook_event::EventSubject,
    },
    store::{
        StoreResult,
        delivery_queue::{AttemptRecord, DeliveryQueue, DueDelivery, NextStep},
        operations::{Backend, SqlStore, write_op},
        outbox::record_event,
        session::{Row, Session, Value},
        sql::{Statement, enum_text, time, uuid},
        webhook_sql as sql,
    },
    webhook_secrets::{SealedSecret, WebhookSecretKey},
};

/// A due delivery as read, before its secret is opened.
struct Claimed {
    delivery: DueDelivery,
    sealed: SealedSecret,
}

fn claimed_from_row(row: &impl Row) -> StoreResult<Claimed> {
    let delivery = DueDelivery {
        id: row.uuid(0)?,
        event_id: row.uuid(1)?,
        endpoint_id: row.uuid(2)?,
        organization_id: row.uuid(3)?,
        url: row.text(4)?,
        signing_secret: Err(String::new()),
        payload: row.text(7)?,
        attempts: u32::try_from(row.int32(8)?).unwrap_or(0),
        created_at: row.time(9)?,
    };
    Ok(Claimed { delivery, sealed: SealedSecret { nonce: row.bytes(5)?, ciphertext: row.bytes(6)? } })
}

/// The secret, opened; or why it cannot be, which the attempt records.
fn opened(key: Option<&WebhookSecretKey>, claimed: Claimed) -> DueDelivery {
    let Claimed { mut delivery, sealed } = claimed;
    delivery.signing_secret = match key {
        None => {
            Err("APPDECK_WEBHOOK_SECRET_KEY is not set, so the endpoint's signing secret cannot be read".to_owned())
        }
        Some(key) => key
            .open(delivery.endpoint_id, &sealed)
            .map(|secret| secret.expose().to_owned())
            .map_err(|error| error.to_string()),
    };
    delivery
}

fn lease_statement(ids: &[Uuid], until: DateTime<Utc>) -> Statement {
    let mut statement = Statement::new("UPDATE webhook_deliveries SET lease_until = $1 WHERE id IN (");
    statement.parameters.push(time(until));
    for (index, id) in ids.iter().enumerate() {
        statement.push_bind(if index == 0 { "" } else { ", " }, uuid(*id));
    }
    statement.push(")");
    statement
}

#[async_trait]
impl<B: Backend> DeliveryQueue for SqlStore<B> {
    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        let until = now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::MAX);
        let claimed = self
            .write(write_op(move |session: &mut B::Session| {
                Box::pin(async move {
                    let select = if B::Session::LOCKS_ROWS {
                        sql::SELECT_DUE_DELIVERIES_SKIP_LOCKED
                    } else {
                        sql::SELECT_DUE_DELIVERIES
                    };
                    let parameters = [time(now), Value::Int(i64::from(limit))];
                    let claimed = session.fetch_all(select, &parameters, |row| claimed_from_row(row)).await?;
                    if !claimed.is_empty() {
                        let ids: Vec<Uuid> = claimed.iter().map(|claimed| claimed.delivery.id).collect();
                        let statement = lease_statement(&ids, until);
                        session.execute(&statement.sql, &statement.parameters).await?;
                    }
                    Ok(claimed)
                })
            }))
            .await?;
        let key = self.webhook_secret_key();
        Ok(claimed.into_iter().map(|claimed| opened(key, claimed)).collect())
    }

    async fn record_attempt(&self, attempt: &AttemptRecord) -> StoreResult<Option<DateTime<Utc>>> {
        let attempt = attempt.clone();
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                let (status, next_attempt_at) = match attempt.next {
                    NextStep::Delivered => (DeliveryStatus::Delivered, None),
                    NextStep::RetryAt(at) => (DeliveryStatus::Pending, Some(at)),
                    NextStep::GaveUp => (DeliveryStatus::Failed, None),
                };
                if B::Session::LOCKS_ROWS
                    && session
                        .fetch_optional(sql::LOCK_ENDPOINT_OF_DELIVERY, &[uuid(attempt.delivery_id)], |_| Ok(()))
                        .await?
                        .is_none()
                {
                    return Ok(None);
                }
                let parameters = [enum_text(&status), Value::Time(next_attempt_at), uuid(attempt.delivery_id)];
                // The endpoint (and with it the delivery) may have been deleted meanwhile.
                if session.execute(sql::FINISH_ATTEMPT, &parameters).await? == 0 {
                    return Ok(None);
                }
                let latency_ms = i64::try_from(attempt.latency.as_millis()).unwrap_or(i64::MAX);
                let parameters = [
                    uuid(Uuid::now_v7()),
                    uuid(attempt.delivery_id),
                    time(attempt.attempted_at),
                    Value::Int32(attempt.status_code.map_or(0, i32::from)),
                    Value::Int(latency_ms),
                    Value::Text(attempt.error.clone()),
                ];
                session.execute(sql::INSERT_ATTEMPT, &parameters).await?;
                if status == DeliveryStatus::Delivered {
                    session.execute(sql::ENDPOINT_SUCCEEDED, &[uuid(attempt.delivery_id)]).await?;
                    return Ok(None);
                }
                let parameters = [time(attempt.attempted_at), uuid(attempt.delivery_id)];
                session.fetch_optional(sql::ENDPOINT_FAILED, &parameters, |row| row.time(0)).await
            })
        }))
        .await
    }

    async fn disable_failing_endpoint(&self, endpoint_id: Uuid, reason: &str) -> StoreResult<()> {
        let reason = reason.to_owned();
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                let select = if B::Session::LOCKS_ROWS {
                    sql::SELECT_ENDPOINT_TO_DISABLE_FOR_UPDATE
                } else {
                    sql::SELECT_ENDPOINT_TO_DISABLE
                };
                let found = session
                    .fetch_optional(select, &[uuid(endpoint_id)], |row| Ok((row.uuid(0)?, row.text(1)?, row.bool(2)?)))
                    .await?;
                let Some((organization_id, url, true)) = found else { return Ok(()) };
                let parameters = [Value::Text(Some(reason)), time(domain::now()), uuid(endpoint_id)];
                session.execute(sql::DISABLE_ENDPOINT, &parameters).await?;
                // The server itself acts: no actor, no request.
                let event = audit_event(
                    &AuditContext::default(),
                    AuditAction::WebhookEndpointDisabled,
                    endpoint_id,
                    vec!["enabled", "disabled_reason"],
                );
                record_event(session, organization_id, &event, EventSubject::WebhookEndpoint { url }).await
            })
        }))
        .await
    }
}
