//! The persistence seam: handlers talk to `dyn Store`, one implementation per
//! database backend. SQL lives only below this module.

#[macro_use]
mod sql;
mod postgres;
mod sqlite;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{
    ValidationError,
    app::{App, AppStatus, Environment, UpdateAppRequest},
    audit::{AuditContext, AuditEvent, AuditFilter},
    organization::Organization,
    token::{NewToken, Token, TokenGrant, UpdateApiTokenRequest},
};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The change contradicts the stored state (a duplicate label, the last admin).
    #[error("{0}")]
    Conflict(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How a store's connection pool behaves.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub acquire_timeout: Duration,
}

/// The connection pool, as `/metrics` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub connections: u32,
    pub idle_connections: usize,
}

/// Which apps a list returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppFilter {
    pub environment: Option<Environment>,
    pub status: Option<AppStatus>,
}

/// One page of a keyset-paginated list: items after `after` in the list's
/// order (oldest first, or newest first for audit events).
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<Uuid>,
    pub limit: u32,
}

/// Every write records its `AuditEvent`, made from the `AuditContext` it is
/// given, in its own transaction: a write never succeeds without its event,
/// nor an event exists for a write that rolled back.
#[async_trait]
pub trait Store: Send + Sync {
    /// Applies the migrations this binary embeds that the database lacks.
    async fn migrate(&self) -> StoreResult<()>;
    /// Whether the database answers.
    async fn ping(&self) -> StoreResult<()>;
    fn pool_status(&self) -> PoolStatus;

    async fn count_organizations(&self) -> StoreResult<i64>;
    /// Creates an organization and its first admin token in one transaction.
    async fn create_organization(
        &self,
        organization: &Organization,
        first_token: &NewToken,
        audit: &AuditContext,
    ) -> StoreResult<Token>;
    async fn get_organization(&self, id: Uuid) -> StoreResult<Option<Organization>>;
    async fn rename_organization(
        &self,
        id: Uuid,
        name: &str,
        audit: &AuditContext,
    ) -> StoreResult<Option<Organization>>;

    /// Inserts a token; a label already used by a live token of the organization is a `Conflict`.
    async fn create_token(&self, token: &NewToken, audit: &AuditContext) -> StoreResult<Token>;
    async fn list_tokens(&self, organization_id: Uuid, page: PageRequest) -> StoreResult<Vec<Token>>;
    /// A live (not revoked) token of the organization.
    async fn get_token(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<Token>>;
    /// Relabels, disables or enables a live token in one transaction. Leaving
    /// the organization without an active admin token is a `Conflict`.
    async fn update_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: UpdateApiTokenRequest,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<Token>>;
    /// Revokes a live token for good; `false` when there is none. Revoking
    /// the organization's last active admin token is a `Conflict`.
    async fn revoke_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<bool>;
    /// The live (not revoked) token with this hash, with its organization.
    async fn find_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<TokenGrant>>;
    async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()>;

    async fn insert_app(&self, app: &App, audit: &AuditContext) -> StoreResult<()>;
    async fn get_app(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<App>>;
    async fn list_apps(&self, organization_id: Uuid, filter: AppFilter, page: PageRequest) -> StoreResult<Vec<App>>;
    /// Applies `changes` to the stored app inside one transaction, so
    /// concurrent updates of different fields do not overwrite each other.
    async fn update_app(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: UpdateAppRequest,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<App>>;
    async fn rotate_app_secret(
        &self,
        organization_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<Option<App>>;
    async fn delete_app(&self, organization_id: Uuid, id: Uuid, audit: &AuditContext) -> StoreResult<bool>;

    /// The organization's audit events, newest first.
    async fn list_audit_events(
        &self,
        organization_id: Uuid,
        filter: AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<AuditEvent>>;
}

/// Opens the store `database_url` names: `sqlite:` or `postgres:`.
pub async fn connect(database_url: &str, settings: PoolSettings) -> anyhow::Result<Arc<dyn Store>> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(database_url, settings).await?))
    } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        Ok(Arc::new(PostgresStore::connect(database_url, settings)?))
    } else {
        anyhow::bail!("DATABASE_URL must start with `sqlite:` or `postgres:`")
    }
}
