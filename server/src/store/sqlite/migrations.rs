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

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use crate::store::{PoolSettings, StoreSettings, connect};

    fn settings() -> StoreSettings {
        StoreSettings {
            pool: PoolSettings { max_connections: 2, acquire_timeout: std::time::Duration::from_secs(5) },
            statement_timeout: std::time::Duration::from_secs(10),
            sqlite_max_page_count: None,
            webhook_secret_key: None,
        }
    }

    /// `(version, description, checksum)` of every applied migration.
    fn applied(path: &std::path::Path) -> Vec<(i64, String, Vec<u8>)> {
        let connection =
            rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut statement =
            connection.prepare("SELECT version, description, checksum FROM _sqlx_migrations ORDER BY version").unwrap();
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// `(version, description, checksum)` of every migration this binary embeds.
    fn embedded() -> Vec<(i64, String, Vec<u8>)> {
        let migrator = sqlx::migrate!("./migrations/sqlite");
        migrator
            .iter()
            .map(|migration| (migration.version, migration.description.to_string(), migration.checksum.to_vec()))
            .collect()
    }

    /// The migrations written since the fixture was made, after every one it holds.
    fn newer_than_the_fixture(fixture: &[(i64, String, Vec<u8>)]) -> Vec<(i64, String, Vec<u8>)> {
        embedded().split_off(fixture.len())
    }

    /// `tests/fixtures/appdeck-before-rusqlite.db` was made by the last
    /// release that ran SQLite on sqlx (`appdeck-server migrate`, `org
    /// create`, then an app and a `ci` token created through the API).
    #[tokio::test]
    async fn a_database_made_by_the_sqlx_release_opens_migrates_and_reads_back() {
        // Arrange
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("appdeck.db");
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/appdeck-before-rusqlite.db");
        std::fs::copy(fixture, &path).unwrap();
        let before = applied(&path);

        // Act
        let store = connect(&format!("sqlite://{}", path.display()), settings()).unwrap();
        store.migrate().await.unwrap();

        // Assert: the fixture's migrations recognised as applied, only the later ones
        // run, and the rows read as written.
        let newer = newer_than_the_fixture(&before);
        assert_eq!(applied(&path), [before.clone(), newer.clone()].concat());
        assert_eq!(
            newer.iter().map(|(version, ..)| *version).collect::<Vec<_>>(),
            [5, 6],
            "the token roll's and the webhooks'"
        );
        let organization_id = Uuid::parse_str("01a23ad6-1dad-756e-95b4-97fcc9e7cb97").unwrap();
        let app_id = Uuid::parse_str("01a23ad6-25b8-7608-840e-ebd3923e3dfd").unwrap();
        let app = store.get_app(organization_id, app_id).await.unwrap().expect("the fixture's app");
        assert_eq!(app.name, "Fixture App");
        assert_eq!(app.authorized_domains, ["shop.example.com"]);
        assert!(app.features.push && !app.features.analytics);
        assert_eq!(app.engagement_credentials.unwrap()["access_token"], "x");
        assert_eq!(app.created_at.to_rfc3339(), "2026-12-03T07:37:22.616+00:00");
        let page = crate::store::PageRequest { after: None, limit: 10 };
        let tokens = store.list_tokens(organization_id, page).await.unwrap();
        assert_eq!(tokens.iter().map(|token| token.label.as_str()).collect::<Vec<_>>(), ["admin", "ci pipeline"]);
        assert_eq!(tokens[1].created_by.as_ref().map(|creator| creator.label.as_str()), Some("admin"));
        let events = store.list_audit_events(organization_id, Default::default(), page).await.unwrap();
        assert_eq!(events.len(), 3, "{events:?}");
        let (roll, _) = crate::provisioning::roll_token(&Default::default()).unwrap();
        let rolled = store.roll_token(organization_id, tokens[1].id, &roll, &Default::default()).await.unwrap();
        assert_eq!(rolled.map(|token| token.masked_token), Some(roll.masked_token), "a fixture token rolls");
    }

    #[tokio::test]
    async fn a_new_database_records_the_migrations_as_sqlx_did() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("appdeck.db");
        let store = connect(&format!("sqlite://{}", path.display()), settings()).unwrap();
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/appdeck-before-rusqlite.db");
        let fixture = applied(std::path::Path::new(fixture));
        assert_eq!(applied(&path), [fixture.clone(), newer_than_the_fixture(&fixture)].concat());
        assert_eq!(applied(&path), embedded());
    }
}
