//! The store written once: `SqlStore<B>` implements `Store` for any
//! `Backend`, with every operation a generic function over a `Session`.
//! A backend brings only what differs: where a read runs (SQLite: a
//! connection of the calling thread; PostgreSQL: a pooled connection) and
//! how a write is made durable (SQLite: the writer thread's group commit;
//! PostgreSQL: a transaction of its own).

use std::{future::Future, ops::DerefMut, pin::Pin, sync::Arc};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    AppFilter, Created, CredentialColumns, EXPIRED_IDEMPOTENCY_RECORDS_PER_WRITE, IDEMPOTENCY_KEY_LIFETIME,
    IdempotencyRecord, IdempotentWrite, PageRequest, PoolStatus, Store, StoreError, StoreResult,
    idempotency::{claim_idempotency_key, created_earlier, find_idempotency_record, record_idempotent_response},
    outbox::record_event,
    session::{Row, Session, Value},
    sql::{self, time, uuid},
};
use crate::domain::{
    ValidationError,
    app::{App, UpdateAppRequest},
    audit::{AuditAction, AuditContext, AuditEvent, AuditFilter, AuditTarget, AuditTargetType},
    organization::Organization,
    quota::Quotas,
    token::{NewToken, Token, TokenGrant, TokenRoll, TokenStatus, UpdateApiTokenRequest},
    webhook_event::EventSubject,
};
use crate::webhook_secrets::WebhookSecretKey;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A write, as a backend runs it: on a session inside the write's
/// transaction. It owns what it needs, since SQLite runs it on its writer
/// thread.
pub type WriteOp<S, T> = Box<dyn for<'s> FnOnce(&'s mut S) -> BoxFuture<'s, StoreResult<T>> + Send>;

/// What a database backend brings to `SqlStore`.
pub trait Backend: Send + Sync + 'static {
    type Session: Session;
    /// A connection for reads, returned when dropped.
    type Reader: DerefMut<Target = Self::Session> + Send;

    fn reader(&self) -> impl Future<Output = StoreResult<Self::Reader>> + Send;
    /// Runs `op` in a transaction and commits it; its result once it is durable.
    fn write<T: Send + 'static>(&self, op: WriteOp<Self::Session, T>) -> impl Future<Output = StoreResult<T>> + Send;
    fn migrate(&self) -> impl Future<Output = StoreResult<()>> + Send;
    fn pool_status(&self) -> PoolStatus;
}

/// Boxes a write for `Backend::write`, naming the bounds once.
pub(super) fn write_op<S, T, F>(op: F) -> WriteOp<S, T>
where
    F: for<'s> FnOnce(&'s mut S) -> BoxFuture<'s, StoreResult<T>> + Send + 'static,
{
    Box::new(op)
}

pub struct SqlStore<B> {
    backend: B,
    /// Seals endpoints' signing secrets, and opens them for delivery;
    /// `None` when `APPDECK_WEBHOOK_SECRET_KEY` is not set.
    webhook_secret_key: Option<WebhookSecretKey>,
}

impl<B: Backend> SqlStore<B> {
    pub fn new(backend: B, webhook_secret_key: Option<WebhookSecretKey>) -> Self {
        Self { backend, webhook_secret_key }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    pub(super) fn webhook_secret_key(&self) -> Option<&WebhookSecretKey> {
        self.webhook_secret_key.as_ref()
    }

    pub(super) async fn write<T: Send + 'static>(&self, op: WriteOp<B::Session, T>) -> StoreResult<T> {
        self.backend.write(op).await
    }

    /// Deletes some expired idempotency records, after a keyed write and
    /// outside its transaction: a failure only delays the clean-up, so it
    /// is logged and the write stands.
    async fn forget_expired_idempotency_records(&self, now: DateTime<Utc>) {
        let expired_at = now - IDEMPOTENCY_KEY_LIFETIME;
        let deleted = self
            .write(write_op(move |session: &mut B::Session| {
                Box::pin(async move {
                    let parameters =
                        [time(expired_at), time(expired_at), Value::Int(EXPIRED_IDEMPOTENCY_RECORDS_PER_WRITE)];
                    session.execute(sql::DELETE_EXPIRED_IDEMPOTENCY_RECORDS, &parameters).await.map(drop)
                })
            }))
            .await;
        if let Err(error) = deleted {
            tracing::warn!(error = %error, "expired idempotency records were not deleted");
        }
    }
}

async fn count<S: Session>(session: &mut S, sql: &str, parameters: &[Value]) -> StoreResult<i64> {
    let count = session.fetch_optional(sql, parameters, |row| sql::count_from_row(row)).await?;
    Ok(count.unwrap_or(0))
}

async fn select_token<S: Session>(session: &mut S, organization_id: Uuid, id: Uuid) -> StoreResult<Option<Token>> {
    session.fetch_optional(sql::SELECT_TOKEN, &[uuid(id), uuid(organization_id)], |row| sql::token_from_row(row)).await
}

/// Serializes the organization's writes that check a count or a rule over
/// its rows, where the backend locks rows (on SQLite the writer holds the
/// database's write lock already).
pub(super) async fn lock_organization<S: Session>(session: &mut S, organization_id: Uuid) -> StoreResult<()> {
    if S::LOCKS_ROWS {
        session.execute(sql::LOCK_ORGANIZATION, &[uuid(organization_id)]).await?;
    }
    Ok(())
}

/// Refuses a create past the organization's quota, counted inside the
/// create's transaction (after `lock_organization`), so concurrent creates
/// cannot both pass it.
pub(super) async fn check_quota<S: Session>(
    session: &mut S,
    organization_id: Uuid,
    quota: Option<u32>,
    count_sql: &str,
    allow: impl FnOnce(u64) -> Result<(), crate::domain::quota::QuotaExceeded>,
) -> StoreResult<()> {
    let Some(quota) = quota else { return Ok(()) };
    lock_organization(session, organization_id).await?;
    let held = count(session, count_sql, &[uuid(organization_id), Value::Int(i64::from(quota))]).await?;
    Ok(allow(u64::try_from(held).unwrap_or(0))?)
}

async fn insert_token<S: Session>(
    session: &mut S,
    token: &NewToken,
    audit: &AuditContext,
    quotas: Quotas,
) -> StoreResult<Token> {
    check_quota(session, token.organization_id, quotas.tokens, sql::COUNT_LIVE_TOKENS, |held| quotas.allow_token(held))
        .await?;
    session
        .execute(sql::INSERT_TOKEN, &sql::new_token_parameters(token))
        .await
        .map_err(|error| error.label_conflict(&token.label))?;
    let target = AuditTarget { kind: AuditTargetType::Token, id: token.id };
    let event = AuditEvent::record(audit, AuditAction::TokenCreated, target, token.set_fields());
    let created = select_token(session, token.organization_id, token.id).await?;
    let created = created.ok_or_else(|| StoreError::Vanished("a token just inserted"))?;
    record_event(session, token.organization_id, &event, EventSubject::Token(created.clone())).await?;
    Ok(created)
}

async fn insert_app_with_event<S: Session>(
    session: &mut S,
    app: &App,
    audit: &AuditContext,
    quotas: Quotas,
) -> StoreResult<()> {
    check_quota(session, app.organization_id, quotas.apps, sql::COUNT_APPS, |held| quotas.allow_app(held)).await?;
    session.execute(sql::INSERT_APP, &sql::app_parameters(app)).await?;
    let target = AuditTarget { kind: AuditTargetType::App, id: app.id };
    let event = AuditEvent::record(audit, AuditAction::AppCreated, target, app.fields_set_on_creation());
    record_event(session, app.organization_id, &event, EventSubject::App { name: app.name.clone() }).await
}

/// Refuses a change that would take `token` out of the organization's
/// lasting admin tokens (`Token::is_lasting_admin`) when no other one is
/// left. Runs after `lock_organization`, so two such changes cannot both pass.
async fn keep_a_lasting_admin<S: Session>(
    session: &mut S,
    token: &Token,
    organization_id: Uuid,
    action: &str,
) -> StoreResult<()> {
    if !token.is_lasting_admin() {
        return Ok(());
    }
    let others = count(session, sql::COUNT_OTHER_LASTING_ADMINS, &[uuid(organization_id), uuid(token.id)]).await?;
    if others == 0 { Err(last_admin_conflict(action)) } else { Ok(()) }
}

/// The live token, read after taking the organization's lock, so the
/// organization's token changes run one after the other.
async fn begin_token_change<S: Session>(
    session: &mut S,
    organization_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<Token>> {
    lock_organization(session, organization_id).await?;
    select_token(session, organization_id, id).await
}

async fn modify_app<S: Session>(
    session: &mut S,
    organization_id: Uuid,
    id: Uuid,
    action: AuditAction,
    audit: &AuditContext,
    modify: impl FnOnce(&mut App) -> Result<(), ValidationError>,
) -> StoreResult<Option<App>> {
    let select = if S::LOCKS_ROWS { sql::SELECT_APP_FOR_UPDATE } else { sql::SELECT_APP };
    let found =
        session.fetch_optional(select, &[uuid(id), uuid(organization_id)], |row| sql::app_from_row(row)).await?;
    let Some(mut app) = found else { return Ok(None) };
    let before = app.clone();
    modify(&mut app)?;
    let mut parameters = sql::app_parameters(&app);
    parameters.extend([uuid(id), uuid(organization_id)]);
    session.execute(sql::UPDATE_APP, &parameters).await?;
    let target = AuditTarget { kind: AuditTargetType::App, id };
    let event = AuditEvent::record(audit, action, target, before.changed_fields(&app));
    record_event(session, organization_id, &event, EventSubject::App { name: app.name.clone() }).await?;
    Ok(Some(app))
}

fn last_admin_conflict(action: &str) -> StoreError {
    StoreError::Conflict(format!(
        "The organization's last active admin token without an expiry cannot be {action}; \
         make another admin token without an expiry first"
    ))
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    #[tracing::instrument(skip(self))]
    async fn migrate(&self) -> StoreResult<()> {
        self.backend.migrate().await
    }

    /// Reads and writes both answer: a write runs (and commits nothing).
    async fn ping(&self) -> StoreResult<()> {
        let mut reader = self.backend.reader().await?;
        count(&mut *reader, sql::COUNT_ORGANIZATIONS, &[]).await?;
        drop(reader);
        self.write(write_op(|_: &mut B::Session| Box::pin(async { Ok(()) }))).await
    }

    fn pool_status(&self) -> PoolStatus {
        self.backend.pool_status()
    }

    async fn count_organizations(&self) -> StoreResult<i64> {
        count(&mut *self.backend.reader().await?, sql::COUNT_ORGANIZATIONS, &[]).await
    }

    #[tracing::instrument(skip(self, first_token), fields(organization_id = %organization.id))]
    async fn create_organization(
        &self,
        organization: &Organization,
        first_token: &NewToken,
        audit: &AuditContext,
    ) -> StoreResult<Token> {
        let (organization, first_token, audit) = (organization.clone(), first_token.clone(), audit.clone());
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                session.execute(sql::INSERT_ORGANIZATION, &sql::organization_parameters(&organization)).await?;
                insert_token(session, &first_token, &audit, Quotas::default()).await
            })
        }))
        .await
    }

    async fn get_organization(&self, id: Uuid) -> StoreResult<Option<Organization>> {
        let mut reader = self.backend.reader().await?;
        reader.fetch_optional(sql::SELECT_ORGANIZATION, &[uuid(id)], |row| sql::organization_from_row(row)).await
    }

    #[tracing::instrument(skip(self, audit))]
    async fn rename_organization(
        &self,
        id: Uuid,
        name: &str,
        audit: &AuditContext,
    ) -> StoreResult<Option<Organization>> {
        let (name, audit) = (name.to_owned(), audit.clone());
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                let before =
                    session.fetch_optional(sql::SELECT_ORGANIZATION_NAME, &[uuid(id)], |row| row.text(0)).await?;
                let Some(before) = before else { return Ok(None) };
                let renamed = session
                    .fetch_optional(sql::RENAME_ORGANIZATION, &[sql::text(&name), uuid(id)], |row| {
                        sql::organization_from_row(row)
                    })
                    .await?;
                let organization = renamed.ok_or(StoreError::Vanished("an organization being renamed"))?;
                let changes = if before == organization.name { vec![] } else { vec!["name"] };
                let target = AuditTarget { kind: AuditTargetType::Organization, id };
                let event = AuditEvent::record(&audit, AuditAction::OrganizationUpdated, target, changes);
                let subject = EventSubject::Organization { name: organization.name.clone() };
                record_event(session, id, &event, subject).await?;
                Ok(Some(organization))
            })
        }))
        .await
    }

    #[tracing::instrument(skip(self, token, audit), fields(token_id = %token.id))]
    async fn create_token(&self, token: &NewToken, audit: &AuditContext, quotas: Quotas) -> StoreResult<Token> {
        let (token, audit) = (token.clone(), audit.clone());
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move { insert_token(session, &token, &audit, quotas).await })
        }))
        .await
    }

    #[tracing::instrument(skip(self, token, audit, write), fields(token_id = %token.id))]
    async fn create_token_once(
        &self,
        token: &NewToken,
        audit: &AuditContext,
        quotas: Quotas,
        write: IdempotentWrite<Token>,
    ) -> StoreResult<Created<Token>> {
        let now = write.now;
        let (token, audit) = (token.clone(), audit.clone());
        let created = self
            .write(write_op(move |session: &mut B::Session| {
                Box::pin(async move {
                    if !claim_idempotency_key(session, token.organization_id, &write).await? {
                        return created_earlier(session, token.organization_id, &write).await;
                    }
                    let created = insert_token(session, &token, &audit, quotas).await?;
                    record_idempotent_response(session, token.organization_id, &write, &created).await?;
                    Ok(Created::New(created))
                })
            }))
            .await?;
        if matches!(created, Created::New(_)) {
            self.forget_expired_idempotency_records(now).await;
        }
        Ok(created)
    }

    async fn list_tokens(&self, organization_id: Uuid, page: PageRequest) -> StoreResult<Vec<Token>> {
        let statement = sql::tokens_page(organization_id, page);
        let mut reader = self.backend.reader().await?;
        reader.fetch_all(&statement.sql, &statement.parameters, |row| sql::token_from_row(row)).await
    }

    async fn get_token(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<Token>> {
        select_token(&mut *self.backend.reader().await?, organization_id, id).await
    }

    #[tracing::instrument(skip(self, changes, audit))]
    async fn update_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: UpdateApiTokenRequest,
        audit: &AuditContext,
    ) -> StoreResult<Option<Token>> {
        let audit = audit.clone();
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                let Some(token) = begin_token_change(session, organization_id, id).await? else { return Ok(None) };
                if changes.status == Some(TokenStatus::Disabled) {
                    keep_a_lasting_admin(session, &token, organization_id, "disabled").await?;
                }
                let label = changes.label.unwrap_or_else(|| token.label.clone());
                let status = sql::enum_text(&changes.status.unwrap_or(token.status));
                session
                    .execute(sql::UPDATE_TOKEN, &[sql::text(&label), status, uuid(id)])
                    .await
                    .map_err(|error| error.label_conflict(&label))?;
                let Some(updated) = select_token(session, organization_id, id).await? else { return Ok(None) };
                let target = AuditTarget { kind: AuditTargetType::Token, id };
                let event =
                    AuditEvent::record(&audit, AuditAction::TokenUpdated, target, token.changed_fields(&updated));
                record_event(session, organization_id, &event, EventSubject::Token(updated.clone())).await?;
                Ok(Some(updated))
            })
        }))
        .await
    }

    #[tracing::instrument(skip(self, audit))]
    async fn revoke_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<bool> {
        let audit = audit.clone();
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                let Some(token) = begin_token_change(session, organization_id, id).await? else { return Ok(false) };
                keep_a_lasting_admin(session, &token, organization_id, "revoked").await?;
                session.execute(sql::REVOKE_TOKEN, &[time(now), uuid(id)]).await?;
                let target = AuditTarget { kind: AuditTargetType::Token, id };
                let event = AuditEvent::record(&audit, AuditAction::TokenRevoked, target, vec![]);
                record_event(session, organization_id, &event, EventSubject::Token(token)).await?;
                Ok(true)
            })
        }))
        .await
    }

    #[tracing::instrument(skip(self, roll, audit))]
    async fn roll_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
        roll: &TokenRoll,
        audit: &AuditContext,
    ) -> StoreResult<Option<Token>> {
        let (roll, audit) = (roll.clone(), audit.clone());
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                if begin_token_change(session, organization_id, id).await?.is_none() {
                    return Ok(None);
                }
                let (hash, masked) = (sql::text(&roll.token_hash), sql::text(&roll.masked_token));
                let (statement, parameters) = match roll.previous_expires_at {
                    Some(until) => (sql::ROLL_TOKEN_WITH_OVERLAP, vec![hash, masked, time(until), uuid(id)]),
                    None => (sql::ROLL_TOKEN, vec![hash, masked, uuid(id)]),
                };
                session.execute(statement, &parameters).await?;
                let Some(rolled) = select_token(session, organization_id, id).await? else { return Ok(None) };
                let target = AuditTarget { kind: AuditTargetType::Token, id };
                let event = AuditEvent::record(&audit, AuditAction::TokenRolled, target, vec!["masked_token"]);
                record_event(session, organization_id, &event, EventSubject::Token(rolled.clone())).await?;
                Ok(Some(rolled))
            })
        }))
        .await
    }

    async fn find_token_by_hash(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<TokenGrant>> {
        let mut reader = self.backend.reader().await?;
        let parameters = [sql::text(token_hash), time(now)];
        reader.fetch_optional(sql::SELECT_TOKEN_BY_HASH, &parameters, |row| sql::grant_from_row(row)).await
    }

    async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move { session.execute(sql::TOUCH_TOKEN, &[time(now), uuid(id)]).await.map(drop) })
        }))
        .await
    }

    #[tracing::instrument(skip(self, app, audit), fields(app_id = %app.id))]
    async fn insert_app(&self, app: &App, audit: &AuditContext, quotas: Quotas) -> StoreResult<()> {
        let (app, audit) = (app.clone(), audit.clone());
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move { insert_app_with_event(session, &app, &audit, quotas).await })
        }))
        .await
    }

    #[tracing::instrument(skip(self, app, audit, write), fields(app_id = %app.id))]
    async fn insert_app_once(
        &self,
        app: &App,
        audit: &AuditContext,
        quotas: Quotas,
        write: IdempotentWrite<App>,
    ) -> StoreResult<Created<()>> {
        let now = write.now;
        let (app, audit) = (app.clone(), audit.clone());
        let created = self
            .write(write_op(move |session: &mut B::Session| {
                Box::pin(async move {
                    if !claim_idempotency_key(session, app.organization_id, &write).await? {
                        return created_earlier(session, app.organization_id, &write).await;
                    }
                    insert_app_with_event(session, &app, &audit, quotas).await?;
                    record_idempotent_response(session, app.organization_id, &write, &app).await?;
                    Ok(Created::New(()))
                })
            }))
            .await?;
        if matches!(created, Created::New(())) {
            self.forget_expired_idempotency_records(now).await;
        }
        Ok(created)
    }

    async fn get_app(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<App>> {
        let mut reader = self.backend.reader().await?;
        reader.fetch_optional(sql::SELECT_APP, &[uuid(id), uuid(organization_id)], |row| sql::app_from_row(row)).await
    }

    async fn list_apps(
        &self,
        organization_id: Uuid,
        filter: AppFilter,
        page: PageRequest,
        credentials: CredentialColumns,
    ) -> StoreResult<Vec<App>> {
        let statement = sql::apps_page(organization_id, filter, page, credentials);
        let mut reader = self.backend.reader().await?;
        reader.fetch_all(&statement.sql, &statement.parameters, |row| sql::app_from_row(row)).await
    }

    #[tracing::instrument(skip(self, changes, audit))]
    async fn update_app(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: UpdateAppRequest,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<App>> {
        let audit = audit.clone();
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                modify_app(session, organization_id, id, AuditAction::AppUpdated, &audit, |app| app.apply(changes, now))
                    .await
            })
        }))
        .await
    }

    #[tracing::instrument(skip(self, audit))]
    async fn rotate_app_secret(
        &self,
        organization_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<App>> {
        let audit = audit.clone();
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                modify_app(session, organization_id, id, AuditAction::AppSecretRotated, &audit, |app| {
                    app.rotate_secret(now);
                    Ok(())
                })
                .await
            })
        }))
        .await
    }

    #[tracing::instrument(skip(self, audit))]
    async fn delete_app(&self, organization_id: Uuid, id: Uuid, audit: &AuditContext) -> StoreResult<bool> {
        let audit = audit.clone();
        self.write(write_op(move |session: &mut B::Session| {
            Box::pin(async move {
                let parameters = [uuid(id), uuid(organization_id)];
                let deleted = session.fetch_optional(sql::DELETE_APP, &parameters, |row| row.text(0)).await?;
                let Some(name) = deleted else { return Ok(false) };
                let target = AuditTarget { kind: AuditTargetType::App, id };
                let event = AuditEvent::record(&audit, AuditAction::AppDeleted, target, vec![]);
                record_event(session, organization_id, &event, EventSubject::App { name }).await?;
                Ok(true)
            })
        }))
        .await
    }

    async fn find_idempotency_record(
        &self,
        organization_id: Uuid,
        key_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        find_idempotency_record(&mut *self.backend.reader().await?, organization_id, key_hash, now).await
    }

    async fn list_audit_events(
        &self,
        organization_id: Uuid,
        filter: AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<AuditEvent>> {
        let statement = sql::audit_page(organization_id, filter, page);
        let mut reader = self.backend.reader().await?;
        reader.fetch_all(&statement.sql, &statement.parameters, |row| sql::audit_event_from_row(row)).await
    }
}

/// Holds a backend's store behind `Arc<dyn Store>`.
pub fn shared<B: Backend>(backend: B, webhook_secret_key: Option<WebhookSecretKey>) -> Arc<dyn Store> {
    Arc::new(SqlStore::new(backend, webhook_secret_key))
}
