//! SQLite migrations, run with rusqlite from the SQL files sqlx embedded
//! before (`sqlx::migrate!` still embeds them: it only reads the files),
//! and recorded in sqlx's `_sqlx_migrations` table, with the same versions
//! and checksums. A database made by a release that migrated with sqlx
//! opens and migrates as it did.

use std::time::Instant;

use rusqlite::{Connection, OptionalExtension};

use crate::store::{StoreError, StoreResult};

/// sqlx's own table, as sqlx creates it on SQLite.
const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
)";

/// Applies the embedded migrations the database lacks. Runs on the writer
/// inside its group's transaction, so a failing migration leaves nothing.
pub fn migrate(connection: &Connection) -> StoreResult<()> {
    let migrator = sqlx::migrate!("./migrations/sqlite");
    connection.execute_batch(CREATE_MIGRATIONS_TABLE)?;
    let dirty: Option<i64> = connection
        .query_row("SELECT version FROM _sqlx_migrations WHERE success = false ORDER BY version LIMIT 1", [], |row| {
            row.get(0)
        })
        .optional()?;
    if let Some(version) = dirty {
        return Err(StoreError::Migration(sqlx::migrate::MigrateError::Dirty(version)));
    }
    for migration in migrator.iter() {
        let applied: Option<Vec<u8>> = connection
            .query_row("SELECT checksum FROM _sqlx_migrations WHERE version = ?1", [migration.version], |row| {
                row.get(0)
            })
            .optional()?;
        match applied {
            Some(checksum) if checksum == *migration.checksum => continue,
            Some(_) => {
                return Err(StoreError::Migration(sqlx::migrate::MigrateError::VersionMismatch(migration.version)));
            }
            None => {}
        }
        let started = Instant::now();
        connection.execute_batch(migration.sql.as_str())?;
        let elapsed = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
        connection.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?1, ?2, TRUE, ?3, ?4)",
            rusqlite::params![migration.version, migration.description.as_ref(), migration.checksum.as_ref(), elapsed],
        )?;
        tracing::info!(version = migration.version, description = %migration.description, "migration applied");
    }
    Ok(())
}
