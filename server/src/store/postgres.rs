//! The PostgreSQL store: for production and for several instances sharing
//! one database, on sqlx. Reads run on a pooled connection with no
//! transaction around them; each write runs in a transaction of its own,
//! and writes that read first lock what they read (`FOR UPDATE`), so
//! concurrent changes queue instead of overwriting each other. sqlx
//! prepares each statement once per connection and caches it.

use std::{
    cell::RefCell,
    ops::{Deref, DerefMut},
    str::FromStr,
    time::Duration,
};

use serde::de::DeserializeOwned;
use sqlx::{
    Connection, PgConnection, PgPool, Postgres, Row as _, Transaction,
    pool::PoolConnection,
    postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow},
    query::Query,
};
use uuid::Uuid;

use super::{
    PoolStatus, StoreResult, StoreSettings,
    operations::{Backend, SqlStore, WriteOp},
    session::{Row, Session, Value},
};
use chrono::{DateTime, Utc};

/// A connection used this recently is taken to be alive. sqlx's default,
/// a ping before every use, adds a round trip to every query; a connection
/// idle for longer (the database may have restarted meanwhile) is still
/// pinged, and replaced when the ping fails.
const TRUSTED_AFTER_USE: Duration = Duration::from_millis(500);

pub type PostgresStore = SqlStore<PostgresBackend>;

pub struct PostgresBackend {
    pool: PgPool,
    /// The connection options without the statement timeout, for migrations.
    options: PgConnectOptions,
    acquire_timeout: Duration,
}

impl PostgresBackend {
    /// Connects lazily: the server starts, and answers 503, while the
    /// database is down, and recovers when it returns. Every connection
    /// gets the statement timeout, so no statement holds a connection (and
    /// its locks) for longer.
    pub fn connect(database_url: &str, settings: StoreSettings) -> Result<Self, sqlx::Error> {
        let options = PgConnectOptions::from_str(database_url)?;
        let timeout_ms = settings.statement_timeout.as_millis().to_string();
        let with_timeout = options.clone().options([("statement_timeout", timeout_ms)]);
        let pool = PgPoolOptions::new()
            .max_connections(settings.pool.max_connections)
            .acquire_timeout(settings.pool.acquire_timeout)
            .test_before_acquire(false)
            .before_acquire(|connection, metadata| {
                Box::pin(async move {
                    if metadata.idle_for > TRUSTED_AFTER_USE {
                        connection.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_lazy_with(with_timeout);
        Ok(Self { pool, options, acquire_timeout: settings.pool.acquire_timeout })
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

tokio::task_local! {
    /// The read connection of the request being served, taken from the pool
    /// at its first read and given back when the request ends (see
    /// `one_read_connection_per_request`).
    static REQUEST_CONNECTION: RefCell<Option<PoolConnection<Postgres>>>;
}

/// Runs `request` so that its reads share one pooled connection: the
/// token's and the resource's, one checkout instead of two. A write gives
/// it back first and runs in a transaction of its own, so a request never
/// holds two connections (which, with every connection held by requests
/// waiting for a second one, would stall the pool).
pub async fn one_read_connection_per_request<F: Future>(request: F) -> F::Output {
    REQUEST_CONNECTION.scope(RefCell::new(None), request).await
}

fn take_request_connection() -> Option<PoolConnection<Postgres>> {
    REQUEST_CONNECTION.try_with(|connection| connection.borrow_mut().take()).ok().flatten()
}

/// A read connection, kept for the rest of the request when dropped.
pub struct PgReader {
    connection: Option<PoolConnection<Postgres>>,
}

impl Drop for PgReader {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else { return };
        // Outside a request, it simply goes back to the pool.
        let _ = REQUEST_CONNECTION.try_with(|kept| *kept.borrow_mut() = Some(connection));
    }
}

impl Deref for PgReader {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.connection.as_ref().expect("a reader holds its connection until dropped")
    }
}

impl DerefMut for PgReader {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.connection.as_mut().expect("a reader holds its connection until dropped")
    }
}

impl Backend for PostgresBackend {
    type Session = PgConnection;
    type Reader = PgReader;

    async fn reader(&self) -> StoreResult<PgReader> {
        let connection = match take_request_connection() {
            Some(connection) => connection,
            None => self.pool.acquire().await?,
        };
        Ok(PgReader { connection: Some(connection) })
    }

    async fn write<T: Send + 'static>(&self, op: WriteOp<PgConnection, T>) -> StoreResult<T> {
        drop(take_request_connection());
        let mut transaction = self.begin_write().await?;
        let result = op(&mut transaction).await?;
        transaction.commit().await?;
        Ok(result)
    }

    /// Migrations may run longer than a request's statement may (an index
    /// on a large table), so they run on a connection of their own with no
    /// statement timeout.
    async fn migrate(&self) -> StoreResult<()> {
        let options = self.options.clone().options([("statement_timeout", "0")]);
        let pool =
            PgPoolOptions::new().max_connections(1).acquire_timeout(self.acquire_timeout).connect_lazy_with(options);
        let migrated = sqlx::migrate!("./migrations/postgres").run(&pool).await;
        pool.close().await;
        Ok(migrated?)
    }

    fn pool_status(&self) -> PoolStatus {
        PoolStatus { connections: self.pool.size(), idle_connections: self.pool.num_idle() }
    }
}

fn bind<'q>(sql: &'q str, parameters: &'q [Value]) -> Query<'q, Postgres, PgArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for parameter in parameters {
        query = match parameter {
            Value::Uuid(id) => query.bind(*id),
            Value::Text(text) => query.bind(text.as_deref()),
            Value::Int(number) => query.bind(*number),
            Value::Int32(number) => query.bind(*number),
            Value::Bool(flag) => query.bind(*flag),
            Value::Time(time) => query.bind(*time),
            Value::Bytes(bytes) => query.bind(bytes.as_slice()),
            Value::Json(json) => query.bind(json.as_ref().map(sqlx::types::Json)),
        };
    }
    query
}

impl Session for PgConnection {
    type Row<'row> = PgRow;

    const LOCKS_ROWS: bool = true;

    async fn execute(&mut self, sql: &str, parameters: &[Value]) -> StoreResult<u64> {
        Ok(bind(sql, parameters).execute(self).await?.rows_affected())
    }

    async fn fetch_all<T: Send>(
        &mut self,
        sql: &str,
        parameters: &[Value],
        map: impl FnMut(&PgRow) -> StoreResult<T> + Send,
    ) -> StoreResult<Vec<T>> {
        bind(sql, parameters).fetch_all(self).await?.iter().map(map).collect()
    }

    async fn fetch_optional<T: Send>(
        &mut self,
        sql: &str,
        parameters: &[Value],
        map: impl FnOnce(&PgRow) -> StoreResult<T> + Send,
    ) -> StoreResult<Option<T>> {
        bind(sql, parameters).fetch_optional(self).await?.as_ref().map(map).transpose()
    }
}

impl Row for PgRow {
    fn uuid(&self, index: usize) -> StoreResult<Uuid> {
        Ok(self.try_get(index)?)
    }

    fn uuid_opt(&self, index: usize) -> StoreResult<Option<Uuid>> {
        Ok(self.try_get(index)?)
    }

    fn text(&self, index: usize) -> StoreResult<String> {
        Ok(self.try_get(index)?)
    }

    fn text_opt(&self, index: usize) -> StoreResult<Option<String>> {
        Ok(self.try_get(index)?)
    }

    fn int(&self, index: usize) -> StoreResult<i64> {
        Ok(self.try_get(index)?)
    }

    fn int32(&self, index: usize) -> StoreResult<i32> {
        Ok(self.try_get(index)?)
    }

    fn bool(&self, index: usize) -> StoreResult<bool> {
        Ok(self.try_get(index)?)
    }

    fn time(&self, index: usize) -> StoreResult<DateTime<Utc>> {
        Ok(self.try_get(index)?)
    }

    fn time_opt(&self, index: usize) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(self.try_get(index)?)
    }

    fn bytes(&self, index: usize) -> StoreResult<Vec<u8>> {
        Ok(self.try_get(index)?)
    }

    fn json<T: DeserializeOwned>(&self, index: usize) -> StoreResult<T> {
        Ok(self.try_get::<sqlx::types::Json<T>, _>(index)?.0)
    }

    fn json_opt<T: DeserializeOwned>(&self, index: usize) -> StoreResult<Option<T>> {
        Ok(self.try_get::<Option<sqlx::types::Json<T>>, _>(index)?.map(|json| json.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PoolSettings;

    /// Abandons `begin_write` at many points (as when a client goes away or
    /// a request times out) and checks after each that the connection it
    /// used is not left inside a transaction nobody owns.
    #[tokio::test]
    #[ignore = "needs PostgreSQL (TEST_DATABASE_URL): cargo xtask test runs it"]
    async fn a_write_abandoned_while_it_begins_leaves_no_transaction_behind() {
        let url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
        // One connection, so every attempt and every check use the same one.
        let settings = StoreSettings {
            pool: PoolSettings { max_connections: 1, acquire_timeout: Duration::from_secs(5) },
            statement_timeout: Duration::from_secs(10),
            sqlite_max_page_count: None,
            webhook_secret_key: None,
        };
        let backend = PostgresBackend::connect(&url, settings).unwrap();
        let mut observer = PgConnection::connect(&url).await.unwrap();
        let mut abandoned = 0;
        for attempt in 0..400 {
            let patience = Duration::from_micros(attempt % 100 * 10);
            if tokio::time::timeout(patience, backend.begin_write()).await.is_err() {
                abandoned += 1;
            }
            let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&backend.pool).await.unwrap();
            let state: Option<String> = sqlx::query_scalar("SELECT state FROM pg_stat_activity WHERE pid = $1")
                .bind(pid)
                .fetch_optional(&mut observer)
                .await
                .unwrap();
            assert_ne!(state.as_deref(), Some("idle in transaction"), "attempt {attempt} left a transaction open");
        }
        assert!(abandoned > 0, "no begin was abandoned, so nothing was tested");
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL (TEST_DATABASE_URL): cargo xtask test runs it"]
    async fn every_connection_has_the_statement_timeout() {
        let url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
        let settings = StoreSettings {
            pool: PoolSettings { max_connections: 1, acquire_timeout: Duration::from_secs(5) },
            statement_timeout: Duration::from_secs(1),
            sqlite_max_page_count: None,
            webhook_secret_key: None,
        };
        let backend = PostgresBackend::connect(&url, settings).unwrap();
        let timeout: String = sqlx::query_scalar("SHOW statement_timeout").fetch_one(&backend.pool).await.unwrap();
        assert_eq!(timeout, "1s");
        let cancelled = sqlx::query("SELECT pg_sleep(3)").execute(&backend.pool).await.unwrap_err();
        let code = cancelled.as_database_error().and_then(|error| error.code()).map(|code| code.into_owned());
        assert_eq!(code.as_deref(), Some("57014"), "{cancelled}");
    }

    async fn backend_pid(backend: &PostgresBackend) -> i32 {
        let mut reader = backend.reader().await.unwrap();
        sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut *reader).await.unwrap()
    }

    /// Connections checked out of the pool, once the pool has taken back
    /// what was dropped (it does so in a task of its own).
    async fn checked_out(backend: &PostgresBackend, expected: u32) -> u32 {
        let mut checked_out = u32::MAX;
        for _ in 0..100 {
            checked_out = backend.pool.size() - u32::try_from(backend.pool.num_idle()).unwrap();
            if checked_out == expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        checked_out
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL (TEST_DATABASE_URL): cargo xtask test runs it"]
    async fn the_reads_of_one_request_share_one_connection_and_a_write_gives_it_back_first() {
        let url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
        let settings = StoreSettings {
            pool: PoolSettings { max_connections: 4, acquire_timeout: Duration::from_secs(5) },
            statement_timeout: Duration::from_secs(10),
            sqlite_max_page_count: None,
            webhook_secret_key: None,
        };
        let backend = PostgresBackend::connect(&url, settings).unwrap();
        one_read_connection_per_request(async {
            let first = backend_pid(&backend).await;
            assert_eq!(checked_out(&backend, 1).await, 1, "the request keeps its read connection");
            assert_eq!(backend_pid(&backend).await, first, "the second read uses the same connection");
            backend.write(Box::new(|_| Box::pin(async { Ok(()) }))).await.unwrap();
            assert_eq!(checked_out(&backend, 0).await, 0, "the write gave the read connection back, then its own");
        })
        .await;
        backend_pid(&backend).await;
        assert_eq!(checked_out(&backend, 0).await, 0, "outside a request a read connection goes back at once");
    }
}
