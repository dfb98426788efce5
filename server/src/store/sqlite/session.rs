//! rusqlite as a `Session`: statements run inline, prepared once per
//! connection (`prepare_cached`), and each row is mapped where it lies,
//! with no copy or message per row. The futures are ready when returned.

use std::future::{Future, ready};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{
    Connection, ErrorCode, params_from_iter,
    types::{ToSql, ToSqlOutput, ValueRef},
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::store::{
    StorageFault, StoreError, StoreResult,
    session::{Row, Session, Value},
};

/// Timestamps as sqlx wrote them (RFC 3339, UTC, `+00:00`), so rows of
/// earlier releases read the same, and text order is time order.
fn time_text(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as Owned;
        Ok(match self {
            Value::Uuid(Some(id)) => ToSqlOutput::Borrowed(ValueRef::Blob(id.as_bytes())),
            Value::Text(Some(text)) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Value::Int(number) => ToSqlOutput::Owned(Owned::Integer(*number)),
            Value::Int32(number) => ToSqlOutput::Owned(Owned::Integer(i64::from(*number))),
            Value::Bool(flag) => ToSqlOutput::Owned(Owned::Integer(i64::from(*flag))),
            Value::Time(Some(time)) => ToSqlOutput::Owned(Owned::Text(time_text(time))),
            Value::Bytes(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
            Value::Json(Some(json)) => ToSqlOutput::Owned(Owned::Text(json.to_string())),
            Value::Uuid(None) | Value::Text(None) | Value::Time(None) | Value::Json(None) => {
                ToSqlOutput::Owned(Owned::Null)
            }
        })
    }
}

impl From<rusqlite::Error> for StoreError {
    /// Faults an operator can act on become `StorageFault`s; the rest stay
    /// errors of the statement.
    fn from(error: rusqlite::Error) -> Self {
        let rusqlite::Error::SqliteFailure(failure, _) = &error else { return Self::Sqlite(error) };
        match failure.code {
            ErrorCode::DiskFull => Self::Fault(StorageFault::Full),
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Self::Fault(StorageFault::Busy),
            ErrorCode::ReadOnly
            | ErrorCode::CannotOpen
            | ErrorCode::SystemIoFailure
            | ErrorCode::NotADatabase
            | ErrorCode::DatabaseCorrupt => {
                tracing::error!(error = %error, "the SQLite database cannot be used");
                Self::Fault(StorageFault::Unavailable)
            }
            _ => Self::Sqlite(error),
        }
    }
}

/// The statement text with `$N` placeholders written `?N`: the same
/// numbered parameter to SQLite, whatever order they appear in.
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

fn execute(connection: &Connection, sql: &str, parameters: &[Value]) -> StoreResult<u64> {
    let mut statement = connection.prepare_cached(&numbered(sql))?;
    let changed = statement.execute(params_from_iter(parameters))?;
    Ok(u64::try_from(changed).unwrap_or(u64::MAX))
}

fn fetch_all<T>(
    connection: &Connection,
    sql: &str,
    parameters: &[Value],
    mut map: impl FnMut(&rusqlite::Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut statement = connection.prepare_cached(&numbered(sql))?;
    let mut rows = statement.query(params_from_iter(parameters))?;
    let mut mapped = Vec::new();
    while let Some(row) = rows.next()? {
        mapped.push(map(row)?);
    }
    Ok(mapped)
}

fn fetch_optional<T>(
    connection: &Connection,
    sql: &str,
    parameters: &[Value],
    map: impl FnOnce(&rusqlite::Row<'_>) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut statement = connection.prepare_cached(&numbered(sql))?;
    let mut rows = statement.query(params_from_iter(parameters))?;
    rows.next()?.map(map).transpose()
}

impl Session for Connection {
    type Row<'row> = rusqlite::Row<'row>;

    const LOCKS_ROWS: bool = false;

    fn execute(&mut self, sql: &str, parameters: &[Value]) -> impl Future<Output = StoreResult<u64>> + Send {
        ready(execute(self, sql, parameters))
    }

    fn fetch_all<T: Send>(
        &mut self,
        sql: &str,
        parameters: &[Value],
        map: impl FnMut(&Self::Row<'_>) -> StoreResult<T> + Send,
    ) -> impl Future<Output = StoreResult<Vec<T>>> + Send {
        ready(fetch_all(self, sql, parameters, map))
    }

    fn fetch_optional<T: Send>(
        &mut self,
        sql: &str,
        parameters: &[Value],
        map: impl FnOnce(&Self::Row<'_>) -> StoreResult<T> + Send,
    ) -> impl Future<Output = StoreResult<Option<T>>> + Send {
        ready(fetch_optional(self, sql, parameters, map))
    }
}

fn parse_time(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).map(|time| time.with_timezone(&Utc)).map_err(StoreError::decode)
}

impl Row for rusqlite::Row<'_> {
    fn uuid(&self, index: usize) -> StoreResult<Uuid> {
        Uuid::from_slice(self.get_ref(index)?.as_blob()?).map_err(StoreError::decode)
    }

    fn uuid_opt(&self, index: usize) -> StoreResult<Option<Uuid>> {
        match self.get_ref(index)?.as_blob_or_null()? {
            Some(bytes) => Uuid::from_slice(bytes).map(Some).map_err(StoreError::decode),
            None => Ok(None),
        }
    }

    fn text(&self, index: usize) -> StoreResult<String> {
        Ok(self.get(index)?)
    }

    fn text_opt(&self, index: usize) -> StoreResult<Option<String>> {
        Ok(self.get(index)?)
    }

    fn int(&self, index: usize) -> StoreResult<i64> {
        Ok(self.get(index)?)
    }

    fn int32(&self, index: usize) -> StoreResult<i32> {
        Ok(self.get(index)?)
    }

    fn bool(&self, index: usize) -> StoreResult<bool> {
        Ok(self.get(index)?)
    }

    fn time(&self, index: usize) -> StoreResult<DateTime<Utc>> {
        parse_time(self.get_ref(index)?.as_str()?)
    }

    fn time_opt(&self, index: usize) -> StoreResult<Option<DateTime<Utc>>> {
        self.get_ref(index)?.as_str_or_null()?.map(parse_time).transpose()
    }

    fn bytes(&self, index: usize) -> StoreResult<Vec<u8>> {
        Ok(self.get(index)?)
    }

    fn json<T: DeserializeOwned>(&self, index: usize) -> StoreResult<T> {
        serde_json::from_str(self.get_ref(index)?.as_str()?).map_err(StoreError::decode)
    }

    fn json_opt<T: DeserializeOwned>(&self, index: usize) -> StoreResult<Option<T>> {
        match self.get_ref(index)?.as_str_or_null()? {
            Some(text) => serde_json::from_str(text).map(Some).map_err(StoreError::decode),
            None => Ok(None),
        }
    }
}

impl From<rusqlite::types::FromSqlError> for StoreError {
    fn from(error: rusqlite::types::FromSqlError) -> Self {
        Self::decode(error)
    }
}
