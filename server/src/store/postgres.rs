//! The PostgreSQL store: for production and for several instances sharing
//! one database. Writes that read first lock what they read (`FOR UPDATE`),
//! so concurrent changes queue instead of overwriting each other.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{
    Connection, PgConnection, PgPool, Postgres, QueryBuilder, Transaction,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use uuid::Uuid;

use super::{
    AppFilter, Created, CredentialColumns, EXPIRED_IDEMPOTENCY_RECORDS_PER_WRITE, IDEMPOTENCY_KEY_LIFETIME,
    IdempotencyRecord, IdempotentWrite, PageRequest, PoolSettings, PoolStatus, SealedResponse, Store, StoreError,
    StoreResult,
    sql::{
        AuditRow, IdempotencyRow, TokenRow, label_conflict, last_admin_conflict, token_changes, token_creation_changes,
    },
};
use crate::domain::{
    ValidationError,
    app::{App, UpdateAppRequest},
    audit::{AuditAction, AuditContext, AuditEvent, AuditFilter, AuditTarget, AuditTargetType},
    organization::Organization,
    token::{NewToken, Token, TokenGrant, TokenStatus, UpdateApiTokenRequest},
};

/// A connection used this recently is taken to be alive. sqlx's default,
/// a ping before every use, adds a round trip to every query; a connection
/// idle for longer (the database may have restarted meanwhile) is still
/// pinged, and replaced when the ping fails.
const TRUSTED_AFTER_USE: Duration = Duration::from_millis(500);

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects lazily: the server starts, and answers 503, while the
    /// database is down, and recovers when it returns.
    pub fn connect(database_url: &str, settings: PoolSettings) -> Result<Self, sqlx::Error> {
        let options = PgConnectOptions::from_str(database_url)?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .test_before_acquire(false)
            .before_acquire(|connection, metadata| {
                Box::pin(async move {
                    if metadata.idle_for > TRUSTED_AFTER_USE {
                        connection.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    /// Reads and writes share one pool: PostgreSQL runs writes side by side.
    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn connection_status(&self) -> PoolStatus {
        PoolStatus { connections: self.pool.size(), idle_connections: self.pool.num_idle() }
    }

    /// Locks the app's row: a concurrent change waits for this one.
    async fn begin_app_change(
        &self,
        organization_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<(Transaction<'static, Postgres>, App)>> {
        let mut transaction = self.begin_write().await?;
        let app = sqlx::query_as::<_, App>(concat!(select_app_sql!(), " FOR UPDATE"))
            .bind(id)
            .bind(organization_id)
            .fetch_optional(&mut *transaction)
            .await?;
        Ok(app.map(|app| (transaction, app)))
    }

    /// Locks the organization's row, so that two changes to its tokens run
    /// one after the other (otherwise two admins revoking each other could
    /// both succeed).
    async fn begin_token_change(
        &self,
        organization_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<(Transaction<'static, Postgres>, Token)>> {
        let mut transaction = self.begin_write().await?;
        sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE")
            .bind(organization_id)
            .execute(&mut *transaction)
            .await?;
        let token = select_token(&mut transaction, organization_id, id).await?;
        Ok(token.map(|token| (transaction, token)))
    }

    /// A plain transaction (the unique key on `idempotency_keys` makes a
    /// concurrent claim of the same key wait for this one to end), begun in
    /// a task of its own. sqlx's `begin` on PostgreSQL does not survive
    /// being abandoned (a client gone, a request timed out) while `BEGIN`
    /// is in flight: the connection goes back to the pool inside a
    /// transaction nobody owns, where later statements run uncommitted and
    /// hold their locks. Spawned, the begin always finishes; a transaction
    /// nobody awaits any more is then dropped, which rolls it back.
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        let pool = self.pool.clone();
        let begun = tokio::spawn(async move { pool.begin().await }).await;
        Ok(begun.map_err(|error| sqlx::Error::Io(std::io::Error::other(error)))??)
    }
}

impl_store!(PostgresStore, PgConnection, "./migrations/postgres");

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Abandons `begin_write` at many points (as when a client goes away or
    /// a request times out) and checks after each that the connection it
    /// used is not left inside a transaction nobody owns.
    #[tokio::test]
    #[ignore = "needs PostgreSQL (TEST_DATABASE_URL): cargo xtask test runs it"]
    async fn a_write_abandoned_while_it_begins_leaves_no_transaction_behind() {
        let url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
        // One connection, so every attempt and every check use the same one.
        let settings = PoolSettings { max_connections: 1, acquire_timeout: Duration::from_secs(5) };
        let store = PostgresStore::connect(&url, settings).unwrap();
        let mut observer = PgConnection::connect(&url).await.unwrap();
        let mut abandoned = 0;
        for attempt in 0..400 {
            let patience = Duration::from_micros(attempt % 100 * 10);
            if tokio::time::timeout(patience, store.begin_write()).await.is_err() {
                abandoned += 1;
            }
            let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&store.pool).await.unwrap();
            let state: Option<String> = sqlx::query_scalar("SELECT state FROM pg_stat_activity WHERE pid = $1")
                .bind(backend)
                .fetch_optional(&mut observer)
                .await
                .unwrap();
            assert_ne!(state.as_deref(), Some("idle in transaction"), "attempt {attempt} left a transaction open");
        }
        assert!(abandoned > 0, "no begin was abandoned, so nothing was tested");
    }
}
