//! What the SQLite and PostgreSQL stores share: the SQL text (with `$N`
//! placeholders, which both understand), row mappings and error mapping.
//! Each store keeps its own connection handling and locking.
//!
//! SQL is built with macros rather than constants so that `concat!` makes
//! static strings, which sqlx accepts as free of injection.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{IdempotencyRecord, SealedResponse, StoreError};
use crate::domain::{
    audit::{AuditAction, AuditEvent, AuditTarget, AuditTargetType},
    token::{NewToken, Token, TokenActor, TokenGrant, TokenRole, TokenStatus},
};

/// Every column of `apps`, in the order `bind_app!` binds them.
macro_rules! app_columns {
    () => {
        "id, organization_id, name, description, api_key, api_secret, platform, bundle_id, \
         environment, app_store_url, play_store_url, website_url, authorized_domains, data_retention_days, \
         timezone, features, status, engagement_platform, engagement_credentials, email_platform, \
         email_credentials, webhook_enabled, webhook_url, webhook_use_query_params, context_info, url_context, \
         cached_user_count, cached_event_count, cached_last_event, stats_last_updated, created_at, updated_at"
    };
}

/// `app_columns!` with both credentials read as NULL, for lists a `ci`
/// token asks for: it is never shown credentials, so they are not read.
macro_rules! app_columns_without_credentials {
    () => {
        "id, organization_id, name, description, api_key, api_secret, platform, bundle_id, \
         environment, app_store_url, play_store_url, website_url, authorized_domains, data_retention_days, \
         timezone, features, status, engagement_platform, NULL AS engagement_credentials, email_platform, \
         NULL AS email_credentials, webhook_enabled, webhook_url, webhook_use_query_params, context_info, url_context, \
         cached_user_count, cached_event_count, cached_last_event, stats_last_updated, created_at, updated_at"
    };
}

/// How many apps an organization holds, counting at most `$2` (its quota),
/// so a create's count costs no more than the quota.
macro_rules! count_apps_sql {
    () => {
        "SELECT COUNT(*) FROM (SELECT 1 FROM apps WHERE organization_id = $1 LIMIT $2) AS counted"
    };
}

/// How many live tokens an organization holds, counting at most `$2`.
macro_rules! count_live_tokens_sql {
    () => {
        "SELECT COUNT(*) FROM (SELECT 1 FROM api_tokens WHERE organization_id = $1 AND revoked_at IS NULL \
         LIMIT $2) AS counted"
    };
}

/// One placeholder per column of `app_columns!`.
macro_rules! app_placeholders {
    () => {
        "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
         $23, $24, $25, $26, $27, $28, $29, $30, $31, $32"
    };
}

macro_rules! insert_app_sql {
    () => {
        concat!("INSERT INTO apps (", app_columns!(), ") VALUES (", app_placeholders!(), ")")
    };
}

macro_rules! update_app_sql {
    () => {
        concat!(
            "UPDATE apps SET (",
            app_columns!(),
            ") = (",
            app_placeholders!(),
            ") WHERE id = $33 AND organization_id = $34"
        )
    };
}

macro_rules! select_app_sql {
    () => {
        concat!("SELECT ", app_columns!(), " FROM apps WHERE id = $1 AND organization_id = $2")
    };
}

/// Binds every column of `app`, in `app_columns!` order, to `query`.
macro_rules! bind_app {
    ($query:expr, $app:expr) => {{
        let app = $app;
        $query
            .bind(app.id)
            .bind(app.organization_id)
            .bind(app.name.clone())
            .bind(app.description.clone())
            .bind(app.api_key.clone())
            .bind(app.api_secret.clone())
            .bind(app.platform.clone())
            .bind(app.bundle_id.clone())
            .bind(app.environment)
            .bind(app.app_store_url.clone())
            .bind(app.play_store_url.clone())
            .bind(app.website_url.clone())
            .bind(sqlx::types::Json(app.authorized_domains.clone()))
            .bind(app.data_retention_days)
            .bind(app.timezone.clone())
            .bind(sqlx::types::Json(app.features))
            .bind(app.status)
            .bind(app.engagement_platform)
            .bind(app.engagement_credentials.clone().map(sqlx::types::Json))
            .bind(app.email_platform)
            .bind(app.email_credentials.clone().map(sqlx::types::Json))
            .bind(app.webhook_enabled)
            .bind(app.webhook_url.clone())
            .bind(app.webhook_use_query_params)
            .bind(app.context_info.clone())
            .bind(app.url_context.clone())
            .bind(app.cached_user_count)
            .bind(app.cached_event_count)
            .bind(app.cached_last_event)
            .bind(app.stats_last_updated)
            .bind(app.created_at)
            .bind(app.updated_at)
    }};
}

macro_rules! token_select {
    () => {
        "SELECT t.id, t.organization_id, t.label, t.role, t.masked_token, t.status, t.created_at, \
         t.last_used_at, t.expires_at, creator.id AS creator_id, creator.label AS creator_label, \
         o.rate_limit_per_hour FROM api_tokens t JOIN organizations o ON o.id = t.organization_id \
         LEFT JOIN api_tokens creator ON creator.id = t.created_by"
    };
}

macro_rules! select_token_sql {
    () => {
        concat!(token_select!(), " WHERE t.id = $1 AND t.organization_id = $2 AND t.revoked_at IS NULL")
    };
}

macro_rules! insert_token_sql {
    () => {
        "INSERT INTO api_tokens (id, organization_id, label, role, token_hash, masked_token, status, created_at, \
         created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9)"
    };
}

/// Binds a `NewToken` to `insert_token_sql!`.
macro_rules! bind_new_token {
    ($query:expr, $token:expr) => {{
        let token = $token;
        $query
            .bind(token.id)
            .bind(token.organization_id)
            .bind(token.label.clone())
            .bind(token.role)
            .bind(token.token_hash.clone())
            .bind(token.masked_token.clone())
            .bind(token.created_at)
            .bind(token.created_by)
            .bind(token.expires_at)
    }};
}

/// Other live lasting admin tokens of the organization (active, without an
/// expiry: `Token::is_lasting_admin`): `$1` organization, `$2` the token
/// being changed.
macro_rules! count_other_lasting_admins_sql {
    () => {
        "SELECT COUNT(*) FROM api_tokens WHERE organization_id = $1 AND id <> $2 AND role = 'admin' \
         AND status = 'active' AND revoked_at IS NULL AND expires_at IS NULL"
    };
}

/// One page of apps, keyset-paginated on the UUIDv7 id, pushed after
/// whatever the `QueryBuilder` holds (tests put `EXPLAIN` there); with
/// their credentials unless `CredentialColumns::Skipped` says otherwise.
macro_rules! push_apps_page {
    ($query:expr, $organization_id:expr, $filter:expr, $page:expr) => {
        push_apps_page!($query, $organization_id, $filter, $page, CredentialColumns::Read)
    };
    ($query:expr, $organization_id:expr, $filter:expr, $page:expr, $credentials:expr) => {{
        let (query, filter, page) = ($query, $filter, $page);
        let select = match $credentials {
            CredentialColumns::Read => concat!("SELECT ", app_columns!(), " FROM apps WHERE organization_id = "),
            CredentialColumns::Skipped => {
                concat!("SELECT ", app_columns_without_credentials!(), " FROM apps WHERE organization_id = ")
            }
        };
        query.push(select).push_bind($organization_id);
        if let Some(environment) = filter.environment {
            query.push(" AND environment = ").push_bind(environment);
        }
        if let Some(status) = filter.status {
            query.push(" AND status = ").push_bind(status);
        }
        if let Some(after) = page.after {
            query.push(" AND id > ").push_bind(after);
        }
        query.push(" ORDER BY id LIMIT ").push_bind(i64::from(page.limit));
    }};
}

/// One page of live tokens, keyset-paginated like apps.
macro_rules! push_tokens_page {
    ($query:expr, $organization_id:expr, $page:expr) => {{
        let (query, page) = ($query, $page);
        query
            .push(concat!(token_select!(), " WHERE t.revoked_at IS NULL AND t.organization_id = "))
            .push_bind($organization_id);
        if let Some(after) = page.after {
            query.push(" AND t.id > ").push_bind(after);
        }
        query.push(" ORDER BY t.id LIMIT ").push_bind(i64::from(page.limit));
    }};
}

macro_rules! insert_audit_event_sql {
    () => {
        "INSERT INTO audit_events (id, organization_id, occurred_at, action, actor_id, actor_label, target_type, \
         target_id, changes, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    };
}

/// One page of audit events, newest first, pushed after whatever the
/// `QueryBuilder` holds.
macro_rules! push_audit_page {
    ($query:expr, $organization_id:expr, $filter:expr, $page:expr) => {{
        let (query, filter, page) = ($query, $filter, $page);
        query
            .push(
                "SELECT id, occurred_at, action, actor_id, actor_label, target_type, target_id, changes, request_id \
                 FROM audit_events WHERE organization_id = ",
            )
            .push_bind($organization_id);
        if let Some(action) = filter.action {
            query.push(" AND action = ").push_bind(action);
        }
        if let Some(actor_id) = filter.actor_id {
            query.push(" AND actor_id = ").push_bind(actor_id);
        }
        if let Some(target_id) = filter.target_id {
            query.push(" AND target_id = ").push_bind(target_id);
        }
        if let Some(since) = filter.since {
            query.push(" AND occurred_at >= ").push_bind(since);
        }
        if let Some(until) = filter.until {
            query.push(" AND occurred_at < ").push_bind(until);
        }
        if let Some(before) = page.after {
            query.push(" AND id < ").push_bind(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(page.limit));
    }};
}

/// Claims an `Idempotency-Key` for a write: inserts its record, or takes
/// over one created at or before `$7` (expired). No row is affected when the
/// key has a live record; on PostgreSQL that answer waits for a concurrent
/// claim of the same key to commit or roll back. `$4` and `$5` are empty:
/// the response is recorded by `record_idempotent_response_sql!` in the
/// same transaction, once the write is done.
macro_rules! claim_idempotency_key_sql {
    () => {
        "INSERT INTO idempotency_keys (organization_id, key_hash, fingerprint, status, nonce, sealed_body, created_at) \
         VALUES ($1, $2, $3, 0, $4, $5, $6) ON CONFLICT (organization_id, key_hash) DO UPDATE SET \
         fingerprint = excluded.fingerprint, status = excluded.status, nonce = excluded.nonce, \
         sealed_body = excluded.sealed_body, created_at = excluded.created_at WHERE idempotency_keys.created_at <= $7"
    };
}

macro_rules! record_idempotent_response_sql {
    () => {
        "UPDATE idempotency_keys SET status = $1, nonce = $2, sealed_body = $3 \
         WHERE organization_id = $4 AND key_hash = $5"
    };
}

/// The record of a key created after `$3`.
macro_rules! select_idempotency_record_sql {
    () => {
        "SELECT fingerprint, status, nonce, sealed_body FROM idempotency_keys \
         WHERE organization_id = $1 AND key_hash = $2 AND created_at > $3"
    };
}

/// Deletes at most `$3` records created at or before `$1` (= `$2`), oldest
/// first. The outer condition keeps a record another write renewed meanwhile.
macro_rules! delete_expired_idempotency_records_sql {
    () => {
        "DELETE FROM idempotency_keys WHERE created_at <= $1 AND key_hash IN \
         (SELECT key_hash FROM idempotency_keys WHERE created_at <= $2 ORDER BY created_at LIMIT $3)"
    };
}

#[derive(sqlx::FromRow)]
pub struct IdempotencyRow {
    fingerprint: Vec<u8>,
    status: i32,
    nonce: Vec<u8>,
    sealed_body: Vec<u8>,
}

impl IdempotencyRow {
    pub fn into_record(self) -> IdempotencyRecord {
        IdempotencyRecord {
            fingerprint: self.fingerprint,
            response: SealedResponse {
                // Only statuses the server answered with are recorded.
                status: u16::try_from(self.status).unwrap_or(500),
                nonce: self.nonce,
                sealed_body: self.sealed_body,
            },
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct AuditRow {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    action: AuditAction,
    actor_id: Option<Uuid>,
    actor_label: Option<String>,
    target_type: AuditTargetType,
    target_id: Uuid,
    changes: sqlx::types::Json<Vec<String>>,
    request_id: Option<String>,
}

impl AuditRow {
    pub fn into_event(self) -> AuditEvent {
        AuditEvent {
            id: self.id,
            occurred_at: self.occurred_at,
            action: self.action,
            actor: self.actor_id.zip(self.actor_label).map(|(id, label)| TokenActor { id, label }),
            target: AuditTarget { kind: self.target_type, id: self.target_id },
            changes: self.changes.0,
            request_id: self.request_id,
        }
    }
}

/// What a token's creation sets.
pub fn token_creation_changes(token: &NewToken) -> Vec<&'static str> {
    let mut changes = vec!["label", "role"];
    if token.expires_at.is_some() {
        changes.push("expires_at");
    }
    changes
}

/// What a token update changed.
pub fn token_changes(before: &Token, after: &Token) -> Vec<&'static str> {
    [("label", before.label != after.label), ("status", before.status != after.status)]
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| name)
        .collect()
}

#[derive(sqlx::FromRow)]
pub struct TokenRow {
    id: Uuid,
    organization_id: Uuid,
    label: String,
    role: TokenRole,
    masked_token: String,
    status: TokenStatus,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    creator_id: Option<Uuid>,
    creator_label: Option<String>,
    rate_limit_per_hour: i64,
}

impl TokenRow {
    pub fn into_grant(self) -> TokenGrant {
        let created_by = self.creator_id.zip(self.creator_label).map(|(id, label)| TokenActor { id, label });
        TokenGrant {
            organization_id: self.organization_id,
            rate_limit_per_hour: u32::try_from(self.rate_limit_per_hour).unwrap_or(u32::MAX),
            token: Token {
                id: self.id,
                label: self.label,
                role: self.role,
                masked_token: self.masked_token,
                status: self.status,
                created_at: self.created_at,
                created_by,
                last_used_at: self.last_used_at,
                expires_at: self.expires_at,
            },
        }
    }
}

/// The only unique key a token write can break is the live label's.
pub fn label_conflict(error: sqlx::Error, label: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(database_error) if database_error.is_unique_violation() => {
            StoreError::Conflict(format!("A live token of this organization already has the label `{label}`"))
        }
        _ => StoreError::Database(error),
    }
}

pub fn last_admin_conflict(action: &str) -> StoreError {
    StoreError::Conflict(format!(
        "The organization's last active admin token without an expiry cannot be {action}; \
         make another admin token without an expiry first"
    ))
}

/// The `Store` implementation both backends share, written once. A backend
/// brings its connection type, its migrations, and how it connects and
/// starts writes — which is where the backends differ (SQLite has one
/// writer connection and takes the database's write lock up front,
/// PostgreSQL locks rows):
///
/// - `self.pool`: the pool reads use;
/// - `writer()`: the pool a write outside a transaction uses;
/// - `connection_status()`: the connections of all its pools;
/// - `begin_write()`: a transaction for a write;
/// - `begin_app_change(organization_id, id)`: a write transaction and the app, locked;
/// - `begin_token_change(organization_id, id)`: a write transaction and the
///   live token, with the organization's token changes serialized.
macro_rules! impl_store {
    ($store:ty, $connection:ty, $migrations:literal) => {
        async fn select_token(
            connection: &mut $connection,
            organization_id: Uuid,
            id: Uuid,
        ) -> StoreResult<Option<Token>> {
            let row: Option<TokenRow> =
                sqlx::query_as(select_token_sql!()).bind(id).bind(organization_id).fetch_optional(connection).await?;
            Ok(row.map(|row| row.into_grant().token))
        }

        async fn insert_token(
            connection: &mut $connection,
            token: &NewToken,
            audit: &AuditContext,
        ) -> StoreResult<Token> {
            bind_new_token!(sqlx::query(insert_token_sql!()), token)
                .execute(&mut *connection)
                .await
                .map_err(|error| label_conflict(error, &token.label))?;
            let target = AuditTarget { kind: AuditTargetType::Token, id: token.id };
            let event = AuditEvent::record(audit, AuditAction::TokenCreated, target, token_creation_changes(token));
            insert_audit_event(&mut *connection, token.organization_id, &event).await?;
            let token = select_token(connection, token.organization_id, token.id).await?;
            token.ok_or_else(|| StoreError::Database(sqlx::Error::RowNotFound))
        }

        async fn insert_app_with_event(connection: &mut $connection, app: &App, audit: &AuditContext) -> StoreResult<()> {
            bind_app!(sqlx::query(insert_app_sql!()), app).execute(&mut *connection).await?;
            let target = AuditTarget { kind: AuditTargetType::App, id: app.id };
            let event = AuditEvent::record(audit, AuditAction::AppCreated, target, app.fields_set_on_creation());
            insert_audit_event(connection, app.organization_id, &event).await
        }

        async fn insert_audit_event(
            connection: &mut $connection,
            organization_id: Uuid,
            event: &AuditEvent,
        ) -> StoreResult<()> {
            let (kind, target_id) = (event.target.kind, event.target.id);
            sqlx::query(insert_audit_event_sql!())
                .bind(event.id)
                .bind(organization_id)
                .bind(event.occurred_at)
                .bind(event.action)
                .bind(event.actor.as_ref().map(|actor| actor.id))
                .bind(event.actor.as_ref().map(|actor| actor.label.clone()))
                .bind(kind)
                .bind(target_id)
                .bind(sqlx::types::Json(event.changes.clone()))
                .bind(event.request_id.clone())
                .execute(connection)
                .await?;
            Ok(())
        }

        /// Claims the write's `Idempotency-Key` for `organization_id`; `false`
        /// when the key has a live record, and the write must not happen.
        async fn claim_idempotency_key<T>(
            connection: &mut $connection,
            organization_id: Uuid,
            write: &IdempotentWrite<'_, T>,
        ) -> StoreResult<bool> {
            let claimed = sqlx::query(claim_idempotency_key_sql!())
                .bind(organization_id)
                .bind(write.key_hash)
                .bind(write.fingerprint)
                .bind(Vec::<u8>::new())
                .bind(Vec::<u8>::new())
                .bind(write.now)
                .bind(write.now - IDEMPOTENCY_KEY_LIFETIME)
                .execute(connection)
                .await?;
            Ok(claimed.rows_affected() == 1)
        }

        async fn record_idempotent_response(
            connection: &mut $connection,
            organization_id: Uuid,
            key_hash: &[u8],
            response: SealedResponse,
        ) -> StoreResult<()> {
            sqlx::query(record_idempotent_response_sql!())
                .bind(i32::from(response.status))
                .bind(response.nonce)
                .bind(response.sealed_body)
                .bind(organization_id)
                .bind(key_hash)
                .execute(connection)
                .await?;
            Ok(())
        }

        /// Refuses a change that would take `token` out of the organization's
        /// lasting admin tokens (`Token::is_lasting_admin`) when no other one
        /// is left. Runs inside a `begin_token_change` transaction, so two
        /// such changes cannot both pass.
        async fn keep_a_lasting_admin(
            connection: &mut $connection,
            token: &Token,
            organization_id: Uuid,
            action: &str,
        ) -> StoreResult<()> {
            if !token.is_lasting_admin() {
                return Ok(());
            }
            let others: i64 = sqlx::query_scalar(count_other_lasting_admins_sql!())
                .bind(organization_id)
                .bind(token.id)
                .fetch_one(connection)
                .await?;
            if others == 0 { Err(last_admin_conflict(action)) } else { Ok(()) }
        }

        impl $store {
            /// The record that made a claim fail. It is committed by then: the
            /// claim waited for it.
            async fn created_earlier<T>(
                &self,
                organization_id: Uuid,
                key_hash: &[u8],
                now: DateTime<Utc>,
            ) -> StoreResult<Created<T>> {
                match self.find_idempotency_record(organization_id, key_hash, now).await? {
                    Some(record) => Ok(Created::Earlier(record)),
                    // Only when the record expired between the claim and this read.
                    None => Err(StoreError::Conflict(
                        "The earlier request with this Idempotency-Key expired just now; retry".to_owned(),
                    )),
                }
            }

            /// Deletes some expired idempotency records, after a keyed write
            /// and outside its transaction: a failure only delays the
            /// clean-up, so it is logged and the write stands.
            async fn forget_expired_idempotency_records(&self, now: DateTime<Utc>) {
                let expired_at = now - IDEMPOTENCY_KEY_LIFETIME;
                let deleted = sqlx::query(delete_expired_idempotency_records_sql!())
                    .bind(expired_at)
                    .bind(expired_at)
                    .bind(EXPIRED_IDEMPOTENCY_RECORDS_PER_WRITE)
                    .execute(self.writer())
                    .await;
                if let Err(error) = deleted {
                    tracing::warn!(error = %error, "expired idempotency records were not deleted");
                }
            }

            async fn modify_app(
                &self,
                organization_id: Uuid,
                id: Uuid,
                action: AuditAction,
                audit: &AuditContext,
                modify: impl FnOnce(&mut App) -> Result<(), ValidationError> + Send,
            ) -> StoreResult<Option<App>> {
                let Some((mut transaction, mut app)) = self.begin_app_change(organization_id, id).await? else {
                    return Ok(None);
                };
                let before = app.clone();
                modify(&mut app)?;
                bind_app!(sqlx::query(update_app_sql!()), &app)
                    .bind(id)
                    .bind(organization_id)
                    .execute(&mut *transaction)
                    .await?;
                let target = AuditTarget { kind: AuditTargetType::App, id };
                let event = AuditEvent::record(audit, action, target, before.changed_fields(&app));
                insert_audit_event(&mut transaction, organization_id, &event).await?;
                transaction.commit().await?;
                Ok(Some(app))
            }
        }

        #[async_trait]
        impl Store for $store {
            #[tracing::instrument(skip(self))]
            async fn migrate(&self) -> StoreResult<()> {
                sqlx::migrate!($migrations).run(self.writer()).await?;
                Ok(())
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            fn pool_status(&self) -> PoolStatus {
                self.connection_status()
            }

            async fn count_organizations(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organizations").fetch_one(&self.pool).await?)
            }

            #[tracing::instrument(skip(self, first_token), fields(organization_id = %organization.id))]
            async fn create_organization(
                &self,
                organization: &Organization,
                first_token: &NewToken,
                audit: &AuditContext,
            ) -> StoreResult<Token> {
                let mut transaction = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO organizations (id, name, rate_limit_per_hour, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(organization.id)
                .bind(&organization.name)
                .bind(organization.rate_limit_per_hour)
                .bind(organization.created_at)
                .execute(&mut *transaction)
                .await?;
                let token = insert_token(&mut transaction, first_token, audit).await?;
                transaction.commit().await?;
                Ok(token)
            }

            async fn get_organization(&self, id: Uuid) -> StoreResult<Option<Organization>> {
                Ok(sqlx::query_as("SELECT id, name, created_at, rate_limit_per_hour FROM organizations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip(self, audit))]
            async fn rename_organization(
                &self,
                id: Uuid,
                name: &str,
                audit: &AuditContext,
            ) -> StoreResult<Option<Organization>> {
                let mut transaction = self.begin_write().await?;
                let before: Option<String> = sqlx::query_scalar("SELECT name FROM organizations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *transaction)
                    .await?;
                let Some(before) = before else { return Ok(None) };
                let organization: Organization = sqlx::query_as(
                    "UPDATE organizations SET name = $1 WHERE id = $2 \
                     RETURNING id, name, created_at, rate_limit_per_hour",
                )
                .bind(name)
                .bind(id)
                .fetch_one(&mut *transaction)
                .await?;
                let changes = if before == organization.name { vec![] } else { vec!["name"] };
                let target = AuditTarget { kind: AuditTargetType::Organization, id };
                let event = AuditEvent::record(audit, AuditAction::OrganizationUpdated, target, changes);
                insert_audit_event(&mut transaction, id, &event).await?;
                transaction.commit().await?;
                Ok(Some(organization))
            }

            #[tracing::instrument(skip(self, token, audit), fields(token_id = %token.id))]
            async fn create_token(&self, token: &NewToken, audit: &AuditContext) -> StoreResult<Token> {
                let mut transaction = self.begin_write().await?;
                let token = insert_token(&mut transaction, token, audit).await?;
                transaction.commit().await?;
                Ok(token)
            }

            #[tracing::instrument(skip(self, token, audit, write), fields(token_id = %token.id))]
            async fn create_token_once(
                &self,
                token: &NewToken,
                audit: &AuditContext,
                write: IdempotentWrite<'_, Token>,
            ) -> StoreResult<Created<Token>> {
                let mut transaction = self.begin_write().await?;
                if !claim_idempotency_key(&mut transaction, token.organization_id, &write).await? {
                    transaction.rollback().await?;
                    return self.created_earlier(token.organization_id, write.key_hash, write.now).await;
                }
                let created = insert_token(&mut transaction, token, audit).await?;
                let response = (write.seal)(&created);
                record_idempotent_response(&mut transaction, token.organization_id, write.key_hash, response).await?;
                transaction.commit().await?;
                self.forget_expired_idempotency_records(write.now).await;
                Ok(Created::New(created))
            }

            async fn list_tokens(&self, organization_id: Uuid, page: PageRequest) -> StoreResult<Vec<Token>> {
                let mut query = QueryBuilder::new("");
                push_tokens_page!(&mut query, organization_id, page);
                let rows: Vec<TokenRow> = query.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|row| row.into_grant().token).collect())
            }

            async fn get_token(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<Token>> {
                let mut connection = self.pool.acquire().await?;
                select_token(&mut connection, organization_id, id).await
            }

            #[tracing::instrument(skip(self, changes, audit))]
            async fn update_token(
                &self,
                organization_id: Uuid,
                id: Uuid,
                changes: UpdateApiTokenRequest,
                audit: &AuditContext,
            ) -> StoreResult<Option<Token>> {
                let Some((mut transaction, token)) = self.begin_token_change(organization_id, id).await? else {
                    return Ok(None);
                };
                if changes.status == Some(TokenStatus::Disabled) {
                    keep_a_lasting_admin(&mut transaction, &token, organization_id, "disabled").await?;
                }
                let label = changes.label.unwrap_or_else(|| token.label.clone());
                sqlx::query("UPDATE api_tokens SET label = $1, status = $2 WHERE id = $3")
                    .bind(&label)
                    .bind(changes.status.unwrap_or(token.status))
                    .bind(id)
                    .execute(&mut *transaction)
                    .await
                    .map_err(|error| label_conflict(error, &label))?;
                let Some(updated) = select_token(&mut transaction, organization_id, id).await? else {
                    return Ok(None);
                };
                let target = AuditTarget { kind: AuditTargetType::Token, id };
                let event =
                    AuditEvent::record(audit, AuditAction::TokenUpdated, target, token_changes(&token, &updated));
                insert_audit_event(&mut transaction, organization_id, &event).await?;
                transaction.commit().await?;
                Ok(Some(updated))
            }

            #[tracing::instrument(skip(self, audit))]
            async fn revoke_token(
                &self,
                organization_id: Uuid,
                id: Uuid,
                now: DateTime<Utc>,
                audit: &AuditContext,
            ) -> StoreResult<bool> {
                let Some((mut transaction, token)) = self.begin_token_change(organization_id, id).await? else {
                    return Ok(false);
                };
                keep_a_lasting_admin(&mut transaction, &token, organization_id, "revoked").await?;
                sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *transaction)
                    .await?;
                let target = AuditTarget { kind: AuditTargetType::Token, id };
                let event = AuditEvent::record(audit, AuditAction::TokenRevoked, target, vec![]);
                insert_audit_event(&mut transaction, organization_id, &event).await?;
                transaction.commit().await?;
                Ok(true)
            }

            async fn find_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<TokenGrant>> {
                let sql = concat!(token_select!(), " WHERE t.token_hash = $1 AND t.revoked_at IS NULL");
                let row: Option<TokenRow> = sqlx::query_as(sql).bind(token_hash).fetch_optional(&self.pool).await?;
                Ok(row.map(TokenRow::into_grant))
            }

            async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip(self, app, audit), fields(app_id = %app.id))]
            async fn insert_app(&self, app: &App, audit: &AuditContext) -> StoreResult<()> {
                let mut transaction = self.begin_write().await?;
                insert_app_with_event(&mut transaction, app, audit).await?;
                transaction.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip(self, app, audit, write), fields(app_id = %app.id))]
            async fn insert_app_once(
                &self,
                app: &App,
                audit: &AuditContext,
                write: IdempotentWrite<'_, App>,
            ) -> StoreResult<Created<()>> {
                let mut transaction = self.begin_write().await?;
                if !claim_idempotency_key(&mut transaction, app.organization_id, &write).await? {
                    transaction.rollback().await?;
                    return self.created_earlier(app.organization_id, write.key_hash, write.now).await;
                }
                insert_app_with_event(&mut transaction, app, audit).await?;
                record_idempotent_response(&mut transaction, app.organization_id, write.key_hash, (write.seal)(app))
                    .await?;
                transaction.commit().await?;
                self.forget_expired_idempotency_records(write.now).await;
                Ok(Created::New(()))
            }

            async fn count_apps(&self, organization_id: Uuid, up_to: u32) -> StoreResult<u64> {
                let count: i64 = sqlx::query_scalar(count_apps_sql!())
                    .bind(organization_id)
                    .bind(i64::from(up_to))
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn count_live_tokens(&self, organization_id: Uuid, up_to: u32) -> StoreResult<u64> {
                let count: i64 = sqlx::query_scalar(count_live_tokens_sql!())
                    .bind(organization_id)
                    .bind(i64::from(up_to))
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn get_app(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<App>> {
                Ok(sqlx::query_as::<_, App>(select_app_sql!())
                    .bind(id)
                    .bind(organization_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn list_apps(
                &self,
                organization_id: Uuid,
                filter: AppFilter,
                page: PageRequest,
                credentials: CredentialColumns,
            ) -> StoreResult<Vec<App>> {
                let mut query = QueryBuilder::new("");
                push_apps_page!(&mut query, organization_id, filter, page, credentials);
                Ok(query.build_query_as::<App>().fetch_all(&self.pool).await?)
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
                self.modify_app(organization_id, id, AuditAction::AppUpdated, audit, |app| app.apply(changes, now))
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
                self.modify_app(organization_id, id, AuditAction::AppSecretRotated, audit, |app| {
                    app.rotate_secret(now);
                    Ok(())
                })
                .await
            }

            #[tracing::instrument(skip(self, audit))]
            async fn delete_app(&self, organization_id: Uuid, id: Uuid, audit: &AuditContext) -> StoreResult<bool> {
                let mut transaction = self.begin_write().await?;
                let result = sqlx::query("DELETE FROM apps WHERE id = $1 AND organization_id = $2")
                    .bind(id)
                    .bind(organization_id)
                    .execute(&mut *transaction)
                    .await?;
                if result.rows_affected() == 0 {
                    return Ok(false);
                }
                let target = AuditTarget { kind: AuditTargetType::App, id };
                let event = AuditEvent::record(audit, AuditAction::AppDeleted, target, vec![]);
                insert_audit_event(&mut transaction, organization_id, &event).await?;
                transaction.commit().await?;
                Ok(true)
            }

            async fn find_idempotency_record(
                &self,
                organization_id: Uuid,
                key_hash: &[u8],
                now: DateTime<Utc>,
            ) -> StoreResult<Option<IdempotencyRecord>> {
                let row: Option<IdempotencyRow> = sqlx::query_as(select_idempotency_record_sql!())
                    .bind(organization_id)
                    .bind(key_hash)
                    .bind(now - IDEMPOTENCY_KEY_LIFETIME)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(IdempotencyRow::into_record))
            }

            async fn list_audit_events(
                &self,
                organization_id: Uuid,
                filter: AuditFilter,
                page: PageRequest,
            ) -> StoreResult<Vec<AuditEvent>> {
                let mut query = QueryBuilder::new("");
                push_audit_page!(&mut query, organization_id, filter, page);
                let rows: Vec<AuditRow> = query.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(AuditRow::into_event).collect())
            }
        }
    };
}
