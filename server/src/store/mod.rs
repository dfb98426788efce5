//! The persistence seam: handlers talk to `dyn Store`, one implementation per
//! database backend. SQL lives only below this module.

mod deferred;
pub mod delivery_queue;
mod idempotency;
mod operations;
mod outbox;
mod postgres;
mod session;
mod sql;
mod sqlite;
mod webhook_sql;
mod webhooks;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::domain::{
    ValidationError,
    app::{App, AppStatus, Environment, UpdateAppRequest},
    audit::{AuditContext, AuditEvent, AuditFilter},
    organization::Organization,
    quota::{QuotaExceeded, Quotas},
    token::{NewToken, Token, TokenGrant, TokenRoll, UpdateApiTokenRequest},
};

pub use deferred::Deferred;
pub use operations::{Backend, SqlStore};
pub use postgres::{PostgresBackend, PostgresStore, one_read_connection_per_request};
pub use sqlite::{SqliteBackend, SqliteStore};
pub use webhooks::WebhookStore;

use crate::webhook_secrets::WebhookSecretKey;
use delivery_queue::DeliveryQueue;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// PostgreSQL, through sqlx.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// SQLite, through rusqlite.
    #[error(transparent)]
    Sqlite(rusqlite::Error),
    /// The database cannot take the request now, for a reason an operator
    /// can act on; nothing of the request was kept.
    #[error("{0}")]
    Fault(#[from] StorageFault),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The change contradicts the stored state (a duplicate label, the last admin).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Quota(#[from] QuotaExceeded),
    /// A stored value the domain type cannot hold.
    #[error("a stored value cannot be read: {0}")]
    Decode(String),
    /// A row the transaction itself wrote was not there to read back.
    #[error("{0} was not found")]
    Vanished(&'static str),
    /// The write failed for a reason outside the database (the writer
    /// panicked or stopped); the detail is logged where it happened.
    #[error("the write failed: {0}")]
    Writer(String),
    /// A webhook signing secret must be sealed, and the server has no key.
    #[error("APPDECK_WEBHOOK_SECRET_KEY is not set")]
    WebhookSecretKeyMissing,
}

/// Whether a PostgreSQL error means the database cannot serve now: the
/// pool timed out or closed, the connection failed, or the server answered
/// with a connection-class SQLSTATE (`08`), an administrator or crash
/// shutdown (`57P01`, `57P02`), a server still starting (`57P03`), or a
/// statement cancelled at its `statement_timeout` (`57014`). They pass, so
/// they are 503, never 500.
pub fn is_unavailable_sqlx(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(database_error) => database_error.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "57014")
        }),
        _ => false,
    }
}

/// Why the database cannot take a request, each answered 503 with its own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StorageFault {
    /// The disk (or the database's size limit) is full.
    #[error("the database's storage is full")]
    Full,
    /// Another process holds the database's write lock past the busy timeout.
    #[error("the database is locked by another process")]
    Busy,
    /// The database cannot be reached, or its file is gone or unwritable.
    #[error("the database is unavailable")]
    Unavailable,
}

impl StoreError {
    pub(crate) fn decode(error: impl std::fmt::Display) -> Self {
        Self::Decode(error.to_string())
    }

    /// The only unique key a token write can break is the live label's.
    fn label_conflict(self, label: &str) -> Self {
        if self.is_unique_violation() {
            Self::Conflict(format!("A live token of this organization already has the label `{label}`"))
        } else {
            self
        }
    }

    /// Whether the database cannot be reached or used now, for a reason
    /// that passes: the request may be retried, and `serve` keeps trying.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Fault(StorageFault::Unavailable | StorageFault::Busy) => true,
            Self::Database(error)
            | Self::Migration(
                sqlx::migrate::MigrateError::Execute(error) | sqlx::migrate::MigrateError::ExecuteMigration(error, _),
            ) => is_unavailable_sqlx(error),
            _ => false,
        }
    }

    fn is_unique_violation(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(error)) => error.is_unique_violation(),
            Self::Sqlite(rusqlite::Error::SqliteFailure(error, _)) => {
                error.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            }
            _ => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How long a response recorded under an `Idempotency-Key` is replayed.
/// An older record is ignored, as if the key had never been used, and is
/// deleted after a later keyed write.
pub const IDEMPOTENCY_KEY_LIFETIME: TimeDelta = TimeDelta::hours(24);

/// The most expired idempotency records one keyed write deletes, so that
/// the clean-up never makes a single request slow.
const EXPIRED_IDEMPOTENCY_RECORDS_PER_WRITE: i64 = 100;

/// A response as recorded under an `Idempotency-Key`: its status and its
/// body, sealed (see `idempotency::sealed`), never in plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedResponse {
    pub status: u16,
    pub nonce: Vec<u8>,
    pub sealed_body: Vec<u8>,
}

/// What the store keeps under an `Idempotency-Key` of an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// SHA-256 of the operation and the request body it answered.
    pub fingerprint: Vec<u8>,
    pub response: SealedResponse,
}

/// A create to record under an `Idempotency-Key`. The organization is the
/// created resource's. It owns what it holds: SQLite runs writes on a
/// thread of their own.
pub struct IdempotentWrite<T> {
    /// SHA-256 of the key; the key itself is never stored.
    pub key_hash: Vec<u8>,
    pub fingerprint: Vec<u8>,
    pub now: DateTime<Utc>,
    /// Makes the response to record from what the write created; called
    /// inside the write's transaction.
    pub seal: Arc<dyn Fn(&T) -> SealedResponse + Send + Sync>,
}

/// What a create under an `Idempotency-Key` did.
#[derive(Debug)]
pub enum Created<T> {
    /// It wrote, and recorded its response.
    New(T),
    /// It wrote nothing: an earlier request under the same key (perhaps a
    /// concurrent one, which it waited for) had, and recorded this.
    Earlier(IdempotencyRecord),
}

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

/// Whether a list of apps reads their credentials. A `ci` token is never
/// shown them, so its lists skip the columns rather than load and drop
/// what may be kilobytes per app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialColumns {
    Read,
    Skipped,
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
///
/// Webhook endpoints and deliveries are its supertraits: `WebhookStore`
/// for the API, `DeliveryQueue` for the delivery worker.
#[async_trait]
pub trait Store: WebhookStore + DeliveryQueue + Send + Sync {
    /// Applies the migrations this binary embeds that the database lacks.
    async fn migrate(&self) -> StoreResult<()>;
    /// Whether the database answers reads, and commits writes.
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

    /// Inserts a token; a label already used by a live token of the
    /// organization is a `Conflict`, an organization at its token quota
    /// (counted in the same transaction) a `Quota` error.
    async fn create_token(&self, token: &NewToken, audit: &AuditContext, quotas: Quotas) -> StoreResult<Token>;
    /// `create_token`, unless the `Idempotency-Key` has a live record; the
    /// record is written in the token's transaction, so concurrent requests
    /// under one key create one token.
    async fn create_token_once(
        &self,
        token: &NewToken,
        audit: &AuditContext,
        quotas: Quotas,
        write: IdempotentWrite<Token>,
    ) -> StoreResult<Created<Token>>;
    async fn list_tokens(&self, organization_id: Uuid, page: PageRequest) -> StoreResult<Vec<Token>>;
    /// A live (not revoked) token of the organization.
    async fn get_token(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<Token>>;
    /// Relabels, disables or enables a live token in one transaction. Leaving
    /// the organization without a lasting admin token (`Token::is_lasting_admin`) is a `Conflict`.
    async fn update_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: UpdateApiTokenRequest,
        audit: &AuditContext,
    ) -> StoreResult<Option<Token>>;
    /// Revokes a live token for good; `false` when there is none. Revoking
    /// the organization's last lasting admin token is a `Conflict`.
    async fn revoke_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditContext,
    ) -> StoreResult<bool>;
    /// Gives a live token a new secret in one transaction, keeping the old
    /// one as `roll` says (and dropping any kept by an earlier roll); `None`
    /// when there is no such token. Its role and status stay, so the
    /// last-admin rule holds as it did.
    async fn roll_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
        roll: &TokenRoll,
        audit: &AuditContext,
    ) -> StoreResult<Option<Token>>;
    /// The live (not revoked) token with this hash, with its organization:
    /// its current secret's, or a rolled one's until its overlap ends (`now`).
    async fn find_token_by_hash(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<TokenGrant>>;
    async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()>;

    /// Inserts an app, unless the organization is at its app quota, counted
    /// in the same transaction so concurrent creates cannot both pass it.
    async fn insert_app(&self, app: &App, audit: &AuditContext, quotas: Quotas) -> StoreResult<()>;
    /// `insert_app`, unless the `Idempotency-Key` has a live record; as
    /// `create_token_once`.
    async fn insert_app_once(
        &self,
        app: &App,
        audit: &AuditContext,
        quotas: Quotas,
        write: IdempotentWrite<App>,
    ) -> StoreResult<Created<()>>;
    async fn get_app(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<App>>;
    /// One page of the organization's apps; with `CredentialColumns::Skipped`
    /// both credentials are `None`, never read from the database.
    async fn list_apps(
        &self,
        organization_id: Uuid,
        filter: AppFilter,
        page: PageRequest,
        credentials: CredentialColumns,
    ) -> StoreResult<Vec<App>>;
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

    /// The response recorded under the `Idempotency-Key` with this hash,
    /// unless it is older than `IDEMPOTENCY_KEY_LIFETIME` at `now`.
    async fn find_idempotency_record(
        &self,
        organization_id: Uuid,
        key_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IdempotencyRecord>>;

    /// The organization's audit events, newest first.
    async fn list_audit_events(
        &self,
        organization_id: Uuid,
        filter: AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<AuditEvent>>;
}

/// What a store needs to open beside its URL.
#[derive(Debug, Clone, Copy)]
pub struct StoreSettings {
    pub pool: PoolSettings,
    /// PostgreSQL: longest a statement may run before the server cancels it.
    pub statement_timeout: Duration,
    /// SQLite, for tests of a full disk only: the most pages the database
    /// file may hold (`PRAGMA max_page_count`).
    pub sqlite_max_page_count: Option<u64>,
    /// Seals and opens webhook signing secrets; without it endpoints cannot
    /// be created nor their secrets rotated, and deliveries fail.
    pub webhook_secret_key: Option<WebhookSecretKey>,
}

/// Opens the store `database_url` names: `sqlite:` or `postgres:`.
pub fn connect(database_url: &str, settings: StoreSettings) -> anyhow::Result<Arc<dyn Store>> {
    if database_url.starts_with("sqlite:") {
        Ok(operations::shared(SqliteBackend::open(database_url, settings)?, settings.webhook_secret_key))
    } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        Ok(operations::shared(PostgresBackend::connect(database_url, settings)?, settings.webhook_secret_key))
    } else {
        anyhow::bail!("DATABASE_URL must start with `sqlite:` or `postgres:`")
    }
}
