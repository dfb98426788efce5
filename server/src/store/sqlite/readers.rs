//! Read connections, one per thread and store, kept in a thread-local list:
//! a read runs inline on the runtime's worker thread, on a connection no
//! other thread uses, with its prepared statements cached. Nothing is
//! handed to another thread and back, which is where sqlx-sqlite spent
//! most of a request (BENCHMARKS.md). On WAL a reader never waits for the
//! writer.
//!
//! The list is keyed weakly by the store, so a store that is dropped does
//! not keep its connections alive in threads that outlive it beyond their
//! next read.

use std::{
    cell::RefCell,
    ops::{Deref, DerefMut},
    path::PathBuf,
    sync::{Arc, Weak},
    time::Duration,
};

use rusqlite::{Connection, OpenFlags};

use crate::store::StoreResult;

/// Prepared statements one connection keeps: every statement the store
/// runs, with room for the list variants of each filter.
pub const STATEMENT_CACHE_CAPACITY: usize = 64;

thread_local! {
    static IDLE_READERS: RefCell<Vec<(Weak<ReaderSource>, Connection)>> = const { RefCell::new(Vec::new()) };
}

/// Where a store's readers come from; its address is the store's identity
/// in the thread-local lists.
pub struct ReaderSource {
    path: PathBuf,
    busy_timeout: Duration,
}

impl ReaderSource {
    pub fn new(path: PathBuf, busy_timeout: Duration) -> Arc<Self> {
        Arc::new(Self { path, busy_timeout })
    }

    fn open(&self) -> StoreResult<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.busy_timeout(self.busy_timeout)?;
        // Read-only by rule: a read can never take the write lock.
        connection.pragma_update(None, "query_only", true)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        Ok(connection)
    }
}

/// A read connection of the calling thread, lent until dropped.
pub struct Reader {
    connection: Option<Connection>,
    source: Weak<ReaderSource>,
}

/// This thread's idle connection for `source`, or a new one.
pub fn reader(source: &Arc<ReaderSource>) -> StoreResult<Reader> {
    let idle = IDLE_READERS.with_borrow_mut(|idle| {
        idle.retain(|(owner, _)| owner.strong_count() > 0);
        let position = idle.iter().position(|(owner, _)| std::ptr::eq(owner.as_ptr(), Arc::as_ptr(source)))?;
        Some(idle.swap_remove(position).1)
    });
    let connection = match idle {
        Some(connection) => connection,
        None => source.open()?,
    };
    Ok(Reader { connection: Some(connection), source: Arc::downgrade(source) })
}

impl Drop for Reader {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else { return };
        if self.source.strong_count() == 0 {
            return;
        }
        let source = self.source.clone();
        // During thread teardown the list may be gone: the connection then just closes.
        let _ = IDLE_READERS.try_with(|idle| idle.borrow_mut().push((source, connection)));
    }
}

impl Deref for Reader {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.connection.as_ref().expect("a reader holds its connection until dropped")
    }
}

impl DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut Connection {
        self.connection.as_mut().expect("a reader holds its connection until dropped")
    }
}
