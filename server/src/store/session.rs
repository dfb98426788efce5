//! The small seam between the store's operations and a database driver: a
//! `Session` runs one statement with `Value` parameters and hands each row
//! to a mapping as a `Row`. The SQLite session (rusqlite) never waits, so
//! its futures are ready at once; the PostgreSQL one (sqlx) awaits the
//! network. Operations are written once, against this trait.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::StoreResult;

/// A statement parameter. Nulls are typed, because PostgreSQL checks the
/// type of every parameter, null or not.
#[derive(Debug, Clone)]
pub enum Value {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    /// `BIGINT`.
    Int(i64),
    /// `INTEGER`.
    Int32(i32),
    Bool(bool),
    Time(Option<DateTime<Utc>>),
    Bytes(Vec<u8>),
    Json(Option<serde_json::Value>),
}

/// One row of a result, its columns read by position.
pub trait Row {
    fn uuid(&self, index: usize) -> StoreResult<Uuid>;
    fn uuid_opt(&self, index: usize) -> StoreResult<Option<Uuid>>;
    fn text(&self, index: usize) -> StoreResult<String>;
    fn text_opt(&self, index: usize) -> StoreResult<Option<String>>;
    fn int(&self, index: usize) -> StoreResult<i64>;
    fn int32(&self, index: usize) -> StoreResult<i32>;
    fn bool(&self, index: usize) -> StoreResult<bool>;
    fn time(&self, index: usize) -> StoreResult<DateTime<Utc>>;
    fn time_opt(&self, index: usize) -> StoreResult<Option<DateTime<Utc>>>;
    fn bytes(&self, index: usize) -> StoreResult<Vec<u8>>;
    fn json<T: DeserializeOwned>(&self, index: usize) -> StoreResult<T>;
    fn json_opt<T: DeserializeOwned>(&self, index: usize) -> StoreResult<Option<T>>;
}

/// A connection an operation runs its statements on; for a write, inside
/// the transaction (or savepoint) the backend opened for it.
pub trait Session: Send {
    type Row<'row>: Row;

    /// Whether a write must lock the rows it reads before changing them
    /// (`FOR UPDATE`). SQLite's writer holds the database's write lock for
    /// the whole transaction, so it need not.
    const LOCKS_ROWS: bool;

    /// Runs a statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, parameters: &[Value]) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Every row of a query, each mapped as it is read.
    fn fetch_all<T: Send>(
        &mut self,
        sql: &str,
        parameters: &[Value],
        map: impl FnMut(&Self::Row<'_>) -> StoreResult<T> + Send,
    ) -> impl Future<Output = StoreResult<Vec<T>>> + Send;

    /// The first row of a query, if any, mapped.
    fn fetch_optional<T: Send>(
        &mut self,
        sql: &str,
        parameters: &[Value],
        map: impl FnOnce(&Self::Row<'_>) -> StoreResult<T> + Send,
    ) -> impl Future<Output = StoreResult<Option<T>>> + Send;
}
