//! Webhook endpoints and their deliveries in the store: `WebhookStore`,
//! what the API asks, and (in `queue`) `DeliveryQueue`, what the delivery
//! worker asks, both implemented once for `SqlStore<B>`. Every endpoint
//! write is audited, and so becomes an event itself (`outbox`).

mod queue;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Created, IdempotentWrite, PageRequest, StoreError, StoreResult,
    idempotency::{claim_idempotency_key, created_earlier, record_idempotent_response},
    operations::{Backend, SqlStore, check_quota, lock_organization, write_op},
    outbox::record_event,
    session::{Row, Session, Value},
    sql::{time, uuid},
    webhook_sql as sql,
};
use crate::{
    domain::{
        audit::{AuditAction, AuditContext, AuditEvent, AuditTarget, AuditTargetType},
        quota::Quotas,
        webhook_delivery::WebhookDelivery,
        webhook_endpoint::{EndpointChanges, FIELDS_SET_ON_CREATION, WebhookEndpoint},
        webhook_event::EventSubject,
    },
    webhook_secrets::{SealedSecret, SigningSecret, WebhookSecretKey},
};

#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Inserts an endpoint with its secret sealed, unless the organization
    /// is at its endpoint quota. Without the server key it is
    /// `StoreError::WebhookSecretKeyMissing` and nothing is written.
    async fn create_webhook_endpoint(
        &self,
        organization_id: Uuid,
        endpoint: &WebhookEndpoint,
        secret: &SigningSecret,
        audit: &AuditContext,
        quotas: Quotas,
    ) -> StoreResult<WebhookEndpoint>;
    /// `create_webhook_endpoint`, unless the `Idempotency-Key` has a live
    /// record; as `Store::create_token_once`.
    async fn create_webhook_endpoint_once(
        &self,
        organization_id: Uuid,
        endpoint: &WebhookEndpoint,
        secret: &SigningSecret,
        audit: &AuditContext,
        quotas: Quotas,
        write: IdempotentWrite<WebhookEndpoint>,
    ) -> StoreResult<Created<WebhookEndpoint>>;
    async fn list_webhook_endpoints(
        &self,
        organization_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Vec<WebhookEndpoint>>;
    async fn get_webhook_endpoint(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<WebhookEndpoint>>;
    /// Applies checked changes inside one transaction.
    async fn update_webhook_endpoint(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: EndpointChanges,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<WebhookEndpoint>>;
    /// Deletes an endpoint and its deliveries; `false` when there is none.
    async fn delete_webhook_endpoint(&self, organization_id: Uuid, id: Uuid, audit: &AuditContext)
    -> StoreResult<bool>;
    /// Replaces the endpoint's secret (also the repair for one sealed under
    /// an earlier server key); `None` when there is no such endpoint.
    async fn rotate_webhook_endpoint_secret(
        &self,
        organization_id: Uuid,
        id: Uuid,
        secret: &SigningSecret,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<WebhookEndpoint>>;
    /// One page of the endpoint's deliveries, newest first, each with its
    /// attempts; `None` when the organization has no such endpoint.
    async fn list_webhook_deliveries(
        &self,
        organization_id: Uuid,
        endpoint_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Option<Vec<WebhookDelivery>>>;
    /// Makes the delivery pending and due at `now`; `false` when the
    /// organization's endpoint has no such delivery.
    async fn retry_webhook_delivery(
        &self,
        organization_id: Uuid,
        endpoint_id: Uuid,
        delivery_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

impl<B: Backend> SqlStore<B> {
    fn sealing_key(&self) -> StoreResult<WebhookSecretKey> {
        self.webhook_secret_key().copied().ok_or(StoreError::WebhookSecretKeyMissing)
    }
}

fn audit_event(audit: &AuditContext, action: AuditAction, id: Uuid, changes: Vec<&'static str>) -> AuditEvent {
    AuditEvent::record(audit, action, AuditTarget { kind: AuditTargetType::WebhookEndpoint, id }, changes)
}

async fn select_endpoint<S: Session>(
    session: &mut S,
    organization_id: Uuid,
    id: Uuid,
    for_update: bool,
) -> StoreResult<Option<WebhookEndpoint>> {
    let select = if for_update && S::LOCKS_ROWS { sql::SELECT_ENDPOINT_FOR_UPDATE } else { sql::SELECT_ENDPOINT };
    session.fetch_optional(select, &[uuid(id), uuid(organization_id)], |row| sql::endpoint_from_row(row)).await
}

async fn insert_endpoint<S: Session>(
    session: &mut S,
    organization_id: Uuid,
    endpoint: &WebhookEndpoint,
    sealed: SealedSecret,
    audit: &AuditContext,
    quotas: Quotas,
) -> StoreResult<WebhookEndpoint> {
    check_quota(session, organization_id, quotas.webhook_endpoints, sql::COUNT_ENDPOINTS, |held| {
        quotas.allow_webhook_endpoint(held)
    })
    .await?;
    let [id, organization, url, description, event_types, enabled, reason, created_at, updated_at] =
        sql::endpoint_parameters(organization_id, endpoint);
    let (nonce, ciphertext) = (Value::Bytes(sealed.nonce), Value::Bytes(sealed.ciphertext));
    let parameters =
        [id, organization, url, description, event_types, enabled, reason, nonce, ciphertext, created_at, updated_at];
    session.execute(sql::INSERT_ENDPOINT, &parameters).await?;
    let event = audit_event(audit, AuditAction::WebhookEndpointCreated, endpoint.id, FIELDS_SET_ON_CREATION.to_vec());
    record_event(session, organization_id, &event, EventSubject::WebhookEndpoint { url: endpoint.url.clone() }).await?;
    Ok(endpoint.clone())
}

#[async_trait]
impl<B: Backend> WebhookStore for SqlStore<B> {
    #[tracing::instrument(skip(self, endpoint, secret, audit), fields(endpoint_id = %endpoint.id))]
    async fn create_webhook_endpoint(
        &self,
        organization_id: Uuid,
        endpoint: &WebhookEndpoint,
        secret: &SigningSecret,
        audit: &AuditContext,
        quotas: Quotas,
    ) -> StoreResult<WebhookEndpoint> {
        let sealed = self.sealing_key()?.seal(endpoint.id, secret);
        let (endpoint, audit) = (endpoint.clone(), audit.clone());
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move { insert_endpoint(session, organization_id, &endpoint, sealed, &audit, quotas).await })
        }))
        .await
    }

    #[tracing::instrument(skip(self, endpoint, secret, audit, write), fields(endpoint_id = %endpoint.id))]
    async fn create_webhook_endpoint_once(
        &self,
        organization_id: Uuid,
        endpoint: &WebhookEndpoint,
        secret: &SigningSecret,
        audit: &AuditContext,
        quotas: Quotas,
        write: IdempotentWrite<WebhookEndpoint>,
    ) -> StoreResult<Created<WebhookEndpoint>> {
        let sealed = self.sealing_key()?.seal(endpoint.id, secret);
        let (endpoint, audit) = (endpoint.clone(), audit.clone());
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                if !claim_idempotency_key(session, organization_id, &write).await? {
                    return created_earlier(session, organization_id, &write).await;
                }
                let created = insert_endpoint(session, organization_id, &endpoint, sealed, &audit, quotas).await?;
                record_idempotent_response(session, organization_id, &write, &created).await?;
                Ok(Created::New(created))
            })
        }))
        .await
    }

    async fn list_webhook_endpoints(
        &self,
        organization_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Vec<WebhookEndpoint>> {
        let statement = sql::endpoints_page(organization_id, page);
        let mut reader = self.backend().reader().await?;
        reader.fetch_all(&statement.sql, &statement.parameters, |row| sql::endpoint_from_row(row)).await
    }

    async fn get_webhook_endpoint(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<WebhookEndpoint>> {
        select_endpoint(&mut *self.backend().reader().await?, organization_id, id, false).await
    }

    #[tracing::instrument(skip(self, changes, audit))]
    async fn update_webhook_endpoint(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: EndpointChanges,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        let audit = audit.clone();
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                let Some(mut endpoint) = select_endpoint(session, organization_id, id, true).await? else {
                    return Ok(None);
                };
                let changed = endpoint.apply(changes, now);
                let parameters = [
                    Value::Text(Some(endpoint.url.clone())),
                    Value::Text(endpoint.description.clone()),
                    sql::event_types_value(endpoint.event_types.as_deref()),
                    Value::Bool(endpoint.enabled),
                    Value::Text(endpoint.disabled_reason.clone()),
                    time(endpoint.updated_at),
                    uuid(id),
                ];
                session.execute(sql::UPDATE_ENDPOINT, &parameters).await?;
                let event = audit_event(&audit, AuditAction::WebhookEndpointUpdated, id, changed);
                let subject = EventSubject::WebhookEndpoint { url: endpoint.url.clone() };
                record_event(session, organization_id, &event, subject).await?;
                Ok(Some(endpoint))
            })
        }))
        .await
    }

    #[tracing::instrument(skip(self, audit))]
    async fn delete_webhook_endpoint(
        &self,
        organization_id: Uuid,
        id: Uuid,
        audit: &AuditContext,
    ) -> StoreResult<bool> {
        let audit = audit.clone();
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                // Two deletes in one organization each lock their endpoint,
                // then every other one as their events' subscribers: one at a time.
                lock_organization(session, organization_id).await?;
                let parameters = [uuid(id), uuid(organization_id)];
                let deleted = session.fetch_optional(sql::DELETE_ENDPOINT, &parameters, |row| row.text(0)).await?;
                let Some(url) = deleted else { return Ok(false) };
                let event = audit_event(&audit, AuditAction::WebhookEndpointDeleted, id, vec![]);
                record_event(session, organization_id, &event, EventSubject::WebhookEndpoint { url }).await?;
                Ok(true)
            })
        }))
        .await
    }

    #[tracing::instrument(skip(self, secret, audit))]
    async fn rotate_webhook_endpoint_secret(
        &self,
        organization_id: Uuid,
        id: Uuid,
        secret: &SigningSecret,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        let sealed = self.sealing_key()?.seal(id, secret);
        let audit = audit.clone();
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                let Some(mut endpoint) = select_endpoint(session, organization_id, id, true).await? else {
                    return Ok(None);
                };
                endpoint.updated_at = now;
                let parameters = [Value::Bytes(sealed.nonce), Value::Bytes(sealed.ciphertext), time(now), uuid(id)];
                session.execute(sql::ROTATE_ENDPOINT_SECRET, &parameters).await?;
                let event = audit_event(&audit, AuditAction::WebhookEndpointSecretRotated, id, vec!["secret"]);
                let subject = EventSubject::WebhookEndpoint { url: endpoint.url.clone() };
                record_event(session, organization_id, &event, subject).await?;
                Ok(Some(endpoint))
            })
        }))
        .await
    }

    async fn list_webhook_deliveries(
        &self,
        organization_id: Uuid,
        endpoint_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Option<Vec<WebhookDelivery>>> {
        let mut reader = self.backend().reader().await?;
        if select_endpoint(&mut *reader, organization_id, endpoint_id, false).await?.is_none() {
            return Ok(None);
        }
        let statement = sql::deliveries_page(endpoint_id, page);
        let mut deliveries =
            reader.fetch_all(&statement.sql, &statement.parameters, |row| sql::delivery_from_row(row)).await?;
        if deliveries.is_empty() {
            return Ok(Some(deliveries));
        }
        let ids: Vec<Uuid> = deliveries.iter().map(|delivery| delivery.id).collect();
        let statement = sql::attempts_of(&ids);
        let attempts =
            reader.fetch_all(&statement.sql, &statement.parameters, |row| sql::attempt_from_row(row)).await?;
        for (delivery_id, attempt) in attempts {
            if let Some(delivery) = deliveries.iter_mut().find(|delivery| delivery.id == delivery_id) {
                delivery.attempts.push(attempt);
            }
        }
        Ok(Some(deliveries))
    }

    #[tracing::instrument(skip(self))]
    async fn retry_webhook_delivery(
        &self,
        organization_id: Uuid,
        endpoint_id: Uuid,
        delivery_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                if select_endpoint(session, organization_id, endpoint_id, false).await?.is_none() {
                    return Ok(false);
                }
                let parameters = [time(now), uuid(delivery_id), uuid(endpoint_id)];
                Ok(session.execute(sql::RETRY_DELIVERY, &parameters).await? == 1)
            })
        }))
        .await
    }
}
