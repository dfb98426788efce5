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
