//! A store that is not there yet: `serve` starts while the database cannot
//! be reached, and `Deferred` answers every call `StorageFault::Unavailable`
//! (503, `/readyz` too) until the background task that keeps trying
//! (`startup::open_store_for_serving`) hands it the migrated store.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    AppFilter, Created, CredentialColumns, IdempotencyRecord, IdempotentWrite, PageRequest, PoolStatus, StorageFault,
    Store, StoreError, StoreResult, WebhookStore,
    delivery_queue::{AttemptRecord, DeliveryQueue, DueDelivery},
};
use crate::domain::{
    app::{App, UpdateAppRequest},
    audit::{AuditContext, AuditEvent, AuditFilter},
    organization::Organization,
    quota::Quotas,
    token::{NewToken, Token, TokenGrant, TokenRoll, UpdateApiTokenRequest},
    webhook_delivery::WebhookDelivery,
    webhook_endpoint::{EndpointChanges, WebhookEndpoint},
};
use crate::webhook_secrets::SigningSecret;

#[derive(Default)]
pub struct Deferred {
    store: OnceLock<Arc<dyn Store>>,
}

impl Deferred {
    /// From now on every call goes to `store`.
    pub fn reached(&self, store: Arc<dyn Store>) {
        let _ = self.store.set(store);
    }

    fn store(&self) -> StoreResult<&Arc<dyn Store>> {
        self.store.get().ok_or(StoreError::Fault(StorageFault::Unavailable))
    }
}

#[async_trait]
impl Store for Deferred {
    async fn migrate(&self) -> StoreResult<()> {
        self.store()?.migrate().await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.store()?.ping().await
    }

    fn pool_status(&self) -> PoolStatus {
        self.store.get().map_or(PoolStatus { connections: 0, idle_connections: 0 }, |store| store.pool_status())
    }

    async fn count_organizations(&self) -> StoreResult<i64> {
        self.store()?.count_organizations().await
    }

    async fn create_organization(
        &self,
        organization: &Organization,
        first_token: &NewToken,
        audit: &AuditContext,
    ) -> StoreResult<Token> {
        self.store()?.create_organization(organization, first_token, audit).await
    }

    async fn get_organization(&self, id: Uuid) -> StoreResult<Option<Organization>> {
        self.store()?.get_organization(id).await
    }

    async fn rename_organization(
        &self,
        id: Uuid,
        name: &str,
        audit: &AuditContext,
    ) -> StoreResult<Option<Organization>> {
        self.store()?.rename_organization(id, name, audit).await
    }

    async fn create_token(&self, token: &NewToken, audit: &AuditContext, quotas: Quotas) -> StoreResult<Token> {
        self.store()?.create_token(token, audit, quotas).await
    }

    async fn create_token_once(
        &self,
        token: &NewToken,
        audit: &AuditContext,
        quotas: Quotas,
        write: IdempotentWrite<Token>,
    ) -> StoreResult<Created<Token>> {
        self.store()?.create_token_once(token, audit, quotas, write).await
    }

    async fn list_tokens(&self, organization_id: Uuid, page: PageRequest) -> StoreResult<Vec<Token>> {
        self.store()?.list_tokens(organization_id, page).await
    }

    async fn get_token(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<Token>> {
        self.store()?.get_token(organization_id, id).await
    }

    async fn update_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: UpdateApiTokenRequest,
        audit: &AuditContext,
    ) -> StoreResult<Option<Token>> {
        self.store()?.update_token(organization_id, id, changes, audit).await
    }

    async fn revoke_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<bool> {
        self.store()?.revoke_token(organization_id, id, now, audit).await
    }

    async fn roll_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
        roll: &TokenRoll,
        audit: &AuditContext,
    ) -> StoreResult<Option<Token>> {
        self.store()?.roll_token(organization_id, id, roll, audit).await
    }

    async fn find_token_by_hash(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<TokenGrant>> {
        self.store()?.find_token_by_hash(token_hash, now).await
    }

    async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        self.store()?.touch_token(id, now).await
    }

    async fn insert_app(&self, app: &App, audit: &AuditContext, quotas: Quotas) -> StoreResult<()> {
        self.store()?.insert_app(app, audit, quotas).await
    }

    async fn insert_app_once(
        &self,
        app: &App,
        audit: &AuditContext,
        quotas: Quotas,
        write: IdempotentWrite<App>,
    ) -> StoreResult<Created<()>> {
        self.store()?.insert_app_once(app, audit, quotas, write).await
    }

    async fn get_app(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<App>> {
        self.store()?.get_app(organization_id, id).await
    }

    async fn list_apps(
        &self,
        organization_id: Uuid,
        filter: AppFilter,
        page: PageRequest,
        credentials: CredentialColumns,
    ) -> StoreResult<Vec<App>> {
        self.store()?.list_apps(organization_id, filter, page, credentials).await
    }

    async fn update_app(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: UpdateAppRequest,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<App>> {
        self.store()?.update_app(organization_id, id, changes, now, audit).await
    }

    async fn rotate_app_secret(
        &self,
        organization_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<App>> {
        self.store()?.rotate_app_secret(organization_id, id, now, audit).await
    }

    async fn delete_app(&self, organization_id: Uuid, id: Uuid, audit: &AuditContext) -> StoreResult<bool> {
        self.store()?.delete_app(organization_id, id, audit).await
    }

    async fn find_idempotency_record(
        &self,
        organization_id: Uuid,
        key_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        self.store()?.find_idempotency_record(organization_id, key_hash, now).await
    }

    async fn list_audit_events(
        &self,
        organization_id: Uuid,
        filter: AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<AuditEvent>> {
        self.store()?.list_audit_events(organization_id, filter, page).await
    }
}

#[async_trait]
impl WebhookStore for Deferred {
    async fn create_webhook_endpoint(
        &self,
        organization_id: Uuid,
        endpoint: &WebhookEndpoint,
        secret: &SigningSecret,
        audit: &AuditContext,
        quotas: Quotas,
    ) -> StoreResult<WebhookEndpoint> {
        self.store()?.create_webhook_endpoint(organization_id, endpoint, secret, audit, quotas).await
    }

    async fn create_webhook_endpoint_once(
        &self,
        organization_id: Uuid,
        endpoint: &WebhookEndpoint,
        secret: &SigningSecret,
        audit: &AuditContext,
        quotas: Quotas,
        write: IdempotentWrite<WebhookEndpoint>,
    ) -> StoreResult<Created<WebhookEndpoint>> {
        self.store()?.create_webhook_endpoint_once(organization_id, endpoint, secret, audit, quotas, write).await
    }

    async fn list_webhook_endpoints(
        &self,
        organization_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Vec<WebhookEndpoint>> {
        self.store()?.list_webhook_endpoints(organization_id, page).await
    }

    async fn get_webhook_endpoint(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<WebhookEndpoint>> {
        self.store()?.get_webhook_endpoint(organization_id, id).await
    }

    async fn update_webhook_endpoint(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: EndpointChanges,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        self.store()?.update_webhook_endpoint(organization_id, id, changes, now, audit).await
    }

    async fn delete_webhook_endpoint(
        &self,
        organization_id: Uuid,
        id: Uuid,
        audit: &AuditContext,
    ) -> StoreResult<bool> {
        self.store()?.delete_webhook_endpoint(organization_id, id, audit).await
    }

    async fn rotate_webhook_endpoint_secret(
        &self,
        organization_id: Uuid,
        id: Uuid,
        secret: &SigningSecret,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        self.store()?.rotate_webhook_endpoint_secret(organization_id, id, secret, now, audit).await
    }

    async fn list_webhook_deliveries(
        &self,
        organization_id: Uuid,
        endpoint_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Option<Vec<WebhookDelivery>>> {
        self.store()?.list_webhook_deliveries(organization_id, endpoint_id, page).await
    }

    async fn retry_webhook_delivery(
        &self,
        organization_id: Uuid,
        endpoint_id: Uuid,
        delivery_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.store()?.retry_webhook_delivery(organization_id, endpoint_id, delivery_id, now).await
    }
}

#[async_trait]
impl DeliveryQueue for Deferred {
    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        self.store()?.claim_due_deliveries(now, lease, limit).await
    }

    async fn record_attempt(&self, attempt: &AttemptRecord) -> StoreResult<Option<DateTime<Utc>>> {
        self.store()?.record_attempt(attempt).await
    }

    async fn disable_failing_endpoint(&self, endpoint_id: Uuid, reason: &str) -> StoreResult<()> {
        self.store()?.disable_failing_endpoint(endpoint_id, reason).await
    }
}
