//! The one SQLite writer: a thread that owns the write connection and
//! commits the writes queued meanwhile as one group. One `BEGIN IMMEDIATE`,
//! a `SAVEPOINT` per request (a request that fails rolls back to its
//! savepoint alone, and its caller gets its own error), one `COMMIT` —
//! one `fsync` for the group, at `synchronous=FULL` — and only then is
//! every caller answered. A write answered `Ok` is durable.
//!
//! Nothing a request does can leave the connection inside a transaction:
//! after every group the connection is back in autocommit, a panic is
//! caught and answered, and a failed `COMMIT` answers every caller of the
//! group with the error.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::PathBuf,
    sync::mpsc,
};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::{StorageFault, StoreError, StoreResult};

/// The most writes one group commits. A bound keeps one group's
/// transaction short when the queue is long.
const MOST_WRITES_PER_GROUP: usize = 256;

/// A write waiting in the queue.
pub trait Job: Send {
    /// Whether its caller has gone (a dropped request): then it is not run.
    fn abandoned(&self) -> bool;
    fn run(self: Box<Self>, connection: &mut Connection) -> Box<dyn Outcome>;
    /// Answers the caller with `error` without running the write.
    fn refuse(self: Box<Self>, error: &StoreError);
}

/// A write that ran, waiting for its group's commit.
pub trait Outcome: Send {
    fn error(&self) -> Option<&StoreError>;
    /// Answers the caller: its own result if the group committed, else the group's error.
    fn answer(self: Box<Self>, group: Result<(), &StoreError>);
}

struct Request<T, F> {
    op: F,
    reply: oneshot::Sender<StoreResult<T>>,
}

struct Ran<T> {
    result: StoreResult<T>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for Request<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
{
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn run(self: Box<Self>, connection: &mut Connection) -> Box<dyn Outcome> {
        let Request { op, reply } = *self;
        let result = catch_unwind(AssertUnwindSafe(|| op(connection))).unwrap_or_else(|_| {
            tracing::error!("a write panicked; it was rolled back");
            Err(StoreError::Writer("the write panicked".to_owned()))
        });
        Box::new(Ran { result, reply })
    }

    fn refuse(self: Box<Self>, error: &StoreError) {
        let _ = self.reply.send(Err(replicate(error)));
    }
}

impl<T: Send> Outcome for Ran<T> {
    fn error(&self) -> Option<&StoreError> {
        self.result.as_ref().err()
    }

    fn answer(self: Box<Self>, group: Result<(), &StoreError>) {
        let result = match group {
            Ok(()) => self.result,
            Err(error) => Err(self.result.err().unwrap_or_else(|| replicate(error))),
        };
        // The caller may have gone meanwhile; nothing is owed to it then.
        let _ = self.reply.send(result);
    }
}

/// The group's error again, for one more of its callers.
fn replicate(error: &StoreError) -> StoreError {
    match error {
        StoreError::Fault(fault) => StoreError::Fault(*fault),
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, message)) => {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(*failure, message.clone()))
        }
        other => StoreError::Writer(other.to_string()),
    }
}

/// The queue of the writer thread.
pub struct Writer {
    queue: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer thread on `connection`. It stops when the `Writer` is dropped.
    pub fn start(connection: Connection, path: PathBuf) -> std::io::Result<Self> {
        let identity = FileIdentity::of(&path);
        let (queue, jobs) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new().name("sqlite-writer".to_owned()).spawn(move || {
            let mut writer = GroupWriter { connection, path, identity };
            while let Ok(first) = jobs.recv() {
                let mut group = vec![first];
                group.extend(jobs.try_iter().take(MOST_WRITES_PER_GROUP - 1));
                writer.commit_group(group);
            }
        })?;
        Ok(Self { queue })
    }

    /// Queues `op` and waits for its group's commit.
    pub async fn write<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Box::new(Request { op, reply }))
            .map_err(|_| StoreError::Writer("the SQLite writer has stopped".to_owned()))?;
        answer.await.map_err(|_| StoreError::Writer("the SQLite writer has stopped".to_owned()))?
    }
}

/// The database file's device and inode when it was opened: a file removed
/// or replaced under the running server no longer matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    device: u64,
    inode: u64,
}

impl FileIdentity {
    fn of(path: &std::path::Path) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(path).ok().map(|metadata| Self { device: metadata.dev(), inode: metadata.ino() })
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            None
        }
    }
}

pub struct GroupWriter {
    pub connection: Connection,
    path: PathBuf,
    identity: Option<FileIdentity>,
}

impl GroupWriter {
    #[cfg(test)]
    pub fn new(connection: Connection, path: PathBuf) -> Self {
        let identity = FileIdentity::of(&path);
        Self { connection, path, identity }
    }

    /// Commits the writes of `group` whose callers are still waiting, and answers them.
    pub fn commit_group(&mut self, group: Vec<Box<dyn Job>>) {
        let group: Vec<_> = group.into_iter().filter(|job| !job.abandoned()).collect();
        if group.is_empty() {
            return;
        }
        if let Err(error) = self.check_file() {
            return answer_unrun(group, &error);
        }
        if let Err(error) = self.connection.execute_batch("BEGIN IMMEDIATE") {
            let error = StoreError::from(error);
            self.back_to_autocommit();
            return answer_unrun(group, &error);
        }
        let mut ran: Vec<Box<dyn Outcome>> = Vec::with_capacity(group.len());
        let mut jobs = group.into_iter();
        while let Some(job) = jobs.next() {
            // Checked again now that the lock is held: `BEGIN IMMEDIATE` may
            // have waited long enough for the caller to give up.
            if job.abandoned() {
                continue;
            }
            let step = self.run_in_savepoint(job, &mut ran);
            if let Err(error) = step {
                self.back_to_autocommit();
                answer_all(ran, &error);
                return answer_unrun(jobs.collect(), &error);
            }
        }
        match self.connection.execute_batch("COMMIT") {
            Ok(()) => ran.into_iter().for_each(|outcome| outcome.answer(Ok(()))),
            Err(error) => {
                let error = StoreError::from(error);
                tracing::error!(error = %error, writes = ran.len(), "a group of writes failed to commit");
                self.back_to_autocommit();
                answer_all(ran, &error);
            }
        }
    }

    /// Runs one write inside its own savepoint and keeps its outcome in
    /// `ran`; an error when the group cannot go on.
    fn run_in_savepoint(&mut self, job: Box<dyn Job>, ran: &mut Vec<Box<dyn Outcome>>) -> StoreResult<()> {
        if let Err(error) = self.connection.execute_batch("SAVEPOINT request") {
            let error = StoreError::from(error);
            job.refuse(&error);
            return Err(error);
        }
        let outcome = job.run(&mut self.connection);
        // SQLite rolls a whole transaction back by itself after some errors
        // (a full disk, an I/O error): the writes before this one are gone
        // too, so the group has failed, with this write's error.
        if self.connection.is_autocommit() {
            let error = outcome.error().map_or_else(
                || StoreError::Writer("the group's transaction ended inside a write".to_owned()),
                replicate,
            );
            ran.push(outcome);
            return Err(error);
        }
        let end = if outcome.error().is_some() { "ROLLBACK TO request; RELEASE request" } else { "RELEASE request" };
        ran.push(outcome);
        self.connection.execute_batch(end).map_err(StoreError::from)
    }

    /// Refuses to write to a database file that was removed or replaced
    /// since it was opened: the writes would go to a file nobody reads.
    fn check_file(&self) -> StoreResult<()> {
        if self.identity.is_some() && FileIdentity::of(&self.path) != self.identity {
            tracing::error!(path = %self.path.display(), "the database file was removed or replaced; writes refused");
            return Err(StoreError::Fault(StorageFault::Unavailable));
        }
        Ok(())
    }

    /// Never leaves a transaction nobody owns.
    fn back_to_autocommit(&mut self) {
        if !self.connection.is_autocommit()
            && let Err(error) = self.connection.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %error, "the writer's transaction could not be rolled back");
        }
    }
}

fn answer_all(ran: Vec<Box<dyn Outcome>>, error: &StoreError) {
    ran.into_iter().for_each(|outcome| outcome.answer(Err(error)));
}

/// Answers writes that never ran with the group's error.
fn answer_unrun(jobs: Vec<Box<dyn Job>>, error: &StoreError) {
    jobs.into_iter().for_each(|job| job.refuse(error));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer on a fresh database with one table, and where it lives.
    fn writer() -> (GroupWriter, tempfile::TempDir) {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("writer.db");
        let connection = Connection::open(&path).unwrap();
        connection.execute_batch("PRAGMA journal_mode = wal; CREATE TABLE rows (id INTEGER PRIMARY KEY)").unwrap();
        (GroupWriter::new(connection, path), directory)
    }

    type Answer = oneshot::Receiver<StoreResult<()>>;

    fn job(op: impl FnOnce(&mut Connection) -> StoreResult<()> + Send + 'static) -> (Box<dyn Job>, Answer) {
        let (reply, answer) = oneshot::channel();
        (Box::new(Request { op, reply }), answer)
    }

    fn insert(id: i64) -> (Box<dyn Job>, Answer) {
        job(move |connection| Ok(connection.execute("INSERT INTO rows (id) VALUES (?1)", [id]).map(drop)?))
    }

    fn stored(writer: &GroupWriter) -> Vec<i64> {
        let mut statement = writer.connection.prepare("SELECT id FROM rows ORDER BY id").unwrap();
        statement.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    }

    fn commit(writer: &mut GroupWriter, jobs: Vec<(Box<dyn Job>, Answer)>) -> Vec<StoreResult<()>> {
        let (jobs, answers): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
        writer.commit_group(jobs);
        assert!(writer.connection.is_autocommit(), "a group left a transaction open");
        answers.into_iter().map(|mut answer| answer.try_recv().expect("every caller is answered")).collect()
    }

    #[test]
    fn a_failing_write_rolls_back_alone_and_its_caller_gets_its_own_error() {
        let (mut writer, _directory) = writer();
        let results = commit(&mut writer, vec![insert(1), insert(1), insert(3)]);
        assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
        assert!(matches!(results[1], Err(StoreError::Sqlite(_))), "{results:?}");
        assert_eq!(stored(&writer), [1, 3]);
    }

    #[test]
    fn a_failure_that_ends_the_groups_transaction_fails_every_write_of_the_group_and_the_next_group_commits() {
        // Arrange: the second write ends the transaction, as SQLite does by
        // itself after a full disk or an I/O error.
        let (mut writer, _directory) = writer();
        let ends_the_transaction = job(|connection| {
            connection.execute_batch("ROLLBACK")?;
            Err(StoreError::Fault(StorageFault::Full))
        });

        // Act
        let failed = commit(&mut writer, vec![insert(1), ends_the_transaction, insert(3)]);
        let next = commit(&mut writer, vec![insert(4)]);

        // Assert
        assert!(failed.iter().all(|result| matches!(result, Err(StoreError::Fault(StorageFault::Full)))), "{failed:?}");
        assert!(next[0].is_ok(), "{next:?}");
        assert_eq!(stored(&writer), [4], "nothing of the failed group was kept");
    }

    #[test]
    fn a_write_that_panics_is_answered_with_an_error_and_the_others_commit() {
        let (mut writer, _directory) = writer();
        let panics = job(|_| panic!("a bug in a write"));
        let results = commit(&mut writer, vec![insert(1), panics, insert(3)]);
        assert!(matches!(results[1], Err(StoreError::Writer(_))), "{results:?}");
        assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
        assert_eq!(stored(&writer), [1, 3]);
    }

    #[test]
    fn a_write_whose_caller_has_gone_is_not_run() {
        let (mut writer, _directory) = writer();
        let (abandoned, answer) = insert(1);
        drop(answer);
        let (kept, mut kept_answer) = insert(2);
        writer.commit_group(vec![abandoned, kept]);
        assert!(kept_answer.try_recv().unwrap().is_ok());
        assert_eq!(stored(&writer), [2]);
    }

    #[test]
    fn a_database_file_removed_under_the_writer_refuses_writes() {
        let (mut writer, directory) = writer();
        std::fs::remove_file(directory.path().join("writer.db")).unwrap();
        let results = commit(&mut writer, vec![insert(1)]);
        assert!(matches!(results[0], Err(StoreError::Fault(StorageFault::Unavailable))), "{results:?}");
    }
}
