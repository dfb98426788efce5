//! The SQLite store: the embedded default, on rusqlite. Reads run inline
//! on a read-only connection of the calling thread (`readers`); writes
//! queue for the one writer thread, which commits them in groups
//! (`writer`). WAL lets the readers run beside the writer, and every write
//! group takes the write lock up front (`BEGIN IMMEDIATE`), so it never
//! fails half-way because another process holds the lock.

mod migrations;
mod readers;
mod session;
mod writer;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use rusqlite::{Connection, OpenFlags};

use self::{
    readers::{Reader, ReaderSource},
    writer::Writer,
};
use super::{
    PoolStatus, StoreResult, StoreSettings,
    operations::{Backend, SqlStore, WriteOp},
};

/// How long a statement waits for a lock another process holds before it
/// fails with `StorageFault::Busy`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub type SqliteStore = SqlStore<SqliteBackend>;

pub struct SqliteBackend {
    readers: Arc<ReaderSource>,
    writer: Writer,
}

/// The file a `sqlite:` URL names; its query (sqlx's options) is ignored.
fn database_path(database_url: &str) -> anyhow::Result<PathBuf> {
    let rest = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:"));
    let path = rest.map(|rest| rest.split('?').next().unwrap_or_default()).unwrap_or_default();
    anyhow::ensure!(!path.is_empty(), "DATABASE_URL: `sqlite://PATH` names no file");
    Ok(PathBuf::from(path))
}

impl SqliteBackend {
    /// Opens (creating when missing) the database file `database_url` names
    /// and starts its writer thread.
    pub fn open(database_url: &str, settings: StoreSettings) -> anyhow::Result<Self> {
        let path = database_path(database_url)?;
        let writer = open_writer(&path, settings.sqlite_max_page_count)?;
        let readers = ReaderSource::new(path.clone(), BUSY_TIMEOUT);
        Ok(Self { readers, writer: Writer::start(writer, path)? })
    }
}

/// The write connection. It opens first: it creates the file and turns WAL
/// on, which a read connection may not do.
fn open_writer(path: &Path, max_page_count: Option<u64>) -> Result<Connection, rusqlite::Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "journal_mode", "wal")?;
    // A write answered 201 survives a power cut, not only a crash.
    connection.pragma_update(None, "synchronous", "full")?;
    connection.pragma_update(None, "foreign_keys", true)?;
    if let Some(pages) = max_page_count {
        connection.pragma_update(None, "max_page_count", i64::try_from(pages).unwrap_or(i64::MAX))?;
    }
    connection.set_prepared_statement_cache_capacity(readers::STATEMENT_CACHE_CAPACITY);
    Ok(connection)
}

/// Runs a session's future that never waits: a SQLite session's futures
/// are ready when made.
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => unreachable!("a SQLite session never waits"),
    }
}

impl Backend for SqliteBackend {
    type Session = Connection;
    type Reader = Reader;

    async fn reader(&self) -> StoreResult<Reader> {
        readers::reader(&self.readers)
    }

    async fn write<T: Send + 'static>(&self, op: WriteOp<Connection, T>) -> StoreResult<T> {
        self.writer.write(move |connection| ready(op(connection))).await
    }

    async fn migrate(&self) -> StoreResult<()> {
        self.writer.write(|connection| migrations::migrate(connection)).await
    }

    /// The writer's connection. Read connections belong to threads, not
    /// to a pool, and are not counted.
    fn pool_status(&self) -> PoolStatus {
        PoolStatus { connections: 1, idle_connections: 0 }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::{
        domain::{
            app::{AppStatus, Environment},
            audit::{AuditAction, AuditFilter},
        },
        store::{AppFilter, CredentialColumns, PageRequest, PoolSettings, Store, sql, webhook_sql},
    };

    fn open(directory: &tempfile::TempDir) -> (SqliteStore, PathBuf) {
        let path = directory.path().join("plan.db");
        let settings = StoreSettings {
            pool: PoolSettings { max_connections: 2, acquire_timeout: Duration::from_secs(5) },
            statement_timeout: Duration::from_secs(10),
            sqlite_max_page_count: None,
            webhook_secret_key: None,
        };
        let backend = SqliteBackend::open(&format!("sqlite://{}", path.display()), settings).unwrap();
        (SqlStore::new(backend, None), path)
    }

    async fn store() -> (SqliteStore, tempfile::TempDir) {
        let directory = tempfile::tempdir().unwrap();
        let (store, _) = open(&directory);
        store.migrate().await.unwrap();
        (store, directory)
    }

    /// The plan SQLite picks for a statement, one step a line.
    fn plan(store: &SqliteStore, statement: sql::Statement) -> String {
        let reader = readers::reader(&store.backend().readers).unwrap();
        let sql = format!("EXPLAIN QUERY PLAN {}", statement.sql.replace('$', "?"));
        let mut prepared = reader.prepare(&sql).unwrap();
        let steps = prepared
            .query_map(rusqlite::params_from_iter(&statement.parameters), |row| row.get::<_, String>(3))
            .unwrap();
        steps.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    /// A page that costs the same however many rows there are: a search on
    /// an index, in index order, with no full scan and no sort.
    fn assert_keyset_plan(plan: &str) {
        assert!(plan.contains("USING INDEX") || plan.contains("USING COVERING INDEX"), "no index used:\n{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "the page is sorted instead of read in order:\n{plan}");
        assert!(!plan.lines().any(|step| step.starts_with("SCAN") && !step.contains("INDEX")), "full scan:\n{plan}");
    }

    #[tokio::test]
    async fn reads_cannot_write_so_every_write_queues_on_the_writer() {
        let (store, _directory) = store().await;
        let reader = readers::reader(&store.backend().readers).unwrap();
        let refused = reader.execute(
            "INSERT INTO organizations (id, name, rate_limit_per_hour, created_at) \
                                      VALUES (x'00', 'Acme', 1, '2026-01-01T00:00:00+00:00')",
            [],
        );
        assert!(refused.unwrap_err().to_string().contains("readonly"), "a read connection wrote");
    }

    #[tokio::test]
    async fn app_pages_are_read_from_an_index_in_order_with_or_without_filters() {
        let (store, _directory) = store().await;
        let organization = Uuid::now_v7();
        let filters = [
            AppFilter::default(),
            AppFilter { environment: Some(Environment::Staging), status: None },
            AppFilter { environment: None, status: Some(AppStatus::Inactive) },
            AppFilter { environment: Some(Environment::Staging), status: Some(AppStatus::Active) },
        ];
        for filter in filters {
            for after in [None, Some(Uuid::now_v7())] {
                let page = PageRequest { after, limit: 51 };
                let plan = plan(&store, sql::apps_page(organization, filter, page, CredentialColumns::Read));
                assert_keyset_plan(&plan);
                // Every filter is part of the index searched, so no row is read only to be dropped.
                let searched = plan.lines().next().unwrap_or_default();
                assert_eq!(searched.contains("environment=?"), filter.environment.is_some(), "{plan}");
                assert_eq!(searched.contains("status=?"), filter.status.is_some(), "{plan}");
            }
        }
    }

    #[tokio::test]
    async fn audit_pages_are_read_from_an_index_in_order_with_or_without_filters() {
        let (store, _directory) = store().await;
        let filters = [
            AuditFilter::default(),
            AuditFilter { action: Some(AuditAction::AppUpdated), ..AuditFilter::default() },
            AuditFilter { actor_id: Some(Uuid::now_v7()), ..AuditFilter::default() },
            AuditFilter { target_id: Some(Uuid::now_v7()), ..AuditFilter::default() },
        ];
        for filter in filters {
            for after in [None, Some(Uuid::now_v7())] {
                let page = PageRequest { after, limit: 51 };
                assert_keyset_plan(&plan(&store, sql::audit_page(Uuid::now_v7(), filter, page)));
            }
        }
    }

    #[tokio::test]
    async fn a_token_is_found_by_either_hash_through_their_unique_indexes() {
        let (store, _directory) = store().await;
        let parameters = vec![sql::text("hash"), sql::time(chrono::Utc::now())];
        let plan = plan(&store, sql::Statement { sql: sql::SELECT_TOKEN_BY_HASH.to_owned(), parameters });
        assert!(plan.contains("MULTI-INDEX OR"), "{plan}");
        assert!(
            plan.contains("sqlite_autoindex_api_tokens_") && plan.contains("api_tokens_previous_token_hash"),
            "{plan}"
        );
        assert!(!plan.lines().any(|step| step.starts_with("SCAN") && !step.contains("INDEX")), "full scan:\n{plan}");
    }

    #[tokio::test]
    async fn webhook_endpoint_and_delivery_pages_are_read_from_an_index_in_order() {
        let (store, _directory) = store().await;
        for after in [None, Some(Uuid::now_v7())] {
            let page = PageRequest { after, limit: 51 };
            assert_keyset_plan(&plan(&store, webhook_sql::endpoints_page(Uuid::now_v7(), page)));
            let deliveries = plan(&store, webhook_sql::deliveries_page(Uuid::now_v7(), page));
            assert!(deliveries.contains("webhook_deliveries_by_endpoint"), "{deliveries}");
            assert!(!deliveries.contains("TEMP B-TREE"), "{deliveries}");
        }
    }

    #[tokio::test]
    async fn token_pages_are_read_from_an_index_in_order() {
        let (store, _directory) = store().await;
        for after in [None, Some(Uuid::now_v7())] {
            let page = PageRequest { after, limit: 51 };
            assert_keyset_plan(&plan(&store, sql::tokens_page(Uuid::now_v7(), page)));
        }
    }
}
