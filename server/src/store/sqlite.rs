//! The SQLite store: the embedded default. WAL lets readers run beside the
//! one writer, so the store keeps two pools: read-only connections for
//! reads, and one connection for every write. SQLite takes one write at a
//! time anyway; queueing writers on that connection in the process, in
//! order, replaces contending for the lock in SQLite's busy handler (sleeps
//! with back-off, so a long tail; see BENCHMARKS.md). Every write
//! transaction takes the write lock up front (`BEGIN IMMEDIATE`), so it
//! never fails half-way when another process holds the lock.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{
    QueryBuilder, Sqlite, SqliteConnection, SqlitePool, Transaction,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
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

pub struct SqliteStore {
    /// Read-only connections: every read.
    pool: SqlitePool,
    /// One connection: every write.
    writer: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating when missing) the database file `database_url` names,
    /// with `settings.max_connections` connections for reads and one more
    /// for writes.
    pub async fn connect(database_url: &str, settings: PoolSettings) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // The writer opens first: it creates the file and turns WAL on,
        // which read-only connections cannot do.
        let writer = pool_options(1, settings).connect_with(options.clone()).await?;
        let pool = pool_options(settings.max_connections, settings).connect_with(options.read_only(true)).await?;
        Ok(Self { pool, writer })
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    fn connection_status(&self) -> PoolStatus {
        PoolStatus {
            connections: self.pool.size() + self.writer.size(),
            idle_connections: self.pool.num_idle() + self.writer.num_idle(),
        }
    }

    /// Takes the database's write lock up front, so the read and the write
    /// that follows cannot be split by another writer.
    async fn begin_app_change(
        &self,
        organization_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<(Transaction<'static, Sqlite>, App)>> {
        let mut transaction = self.begin_write().await?;
        let app = sqlx::query_as::<_, App>(select_app_sql!())
            .bind(id)
            .bind(organization_id)
            .fetch_optional(&mut *transaction)
            .await?;
        Ok(app.map(|app| (transaction, app)))
    }

    /// The write lock serializes token changes too.
    async fn begin_token_change(
        &self,
        organization_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<(Transaction<'static, Sqlite>, Token)>> {
        let mut transaction = self.begin_write().await?;
        let token = select_token(&mut transaction, organization_id, id).await?;
        Ok(token.map(|token| (transaction, token)))
    }

    /// Takes the write lock up front: a write then runs whole before or
    /// after any other (so a retry under the same `Idempotency-Key` finds
    /// the first one's record instead of racing it).
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// A SQLite connection is a file handle, never stale: testing it before
/// each use (sqlx's default) would only add a round trip to its thread.
fn pool_options(max_connections: u32, settings: PoolSettings) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .test_before_acquire(false)
}

impl_store!(SqliteStore, SqliteConnection, "./migrations/sqlite");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::app::{AppStatus, Environment};

    async fn store() -> (SqliteStore, tempfile::TempDir) {
        let directory = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", directory.path().join("plan.db").display());
        let settings = PoolSettings { max_connections: 2, acquire_timeout: Duration::from_secs(5) };
        let store = SqliteStore::connect(&url, settings).await.unwrap();
        store.migrate().await.unwrap();
        (store, directory)
    }

    /// The plan SQLite picks, one step a line.
    async fn plan(store: &SqliteStore, push: impl FnOnce(&mut QueryBuilder<Sqlite>)) -> String {
        let mut query = QueryBuilder::new("EXPLAIN QUERY PLAN ");
        push(&mut query);
        let rows: Vec<(i64, i64, i64, String)> = query.build_query_as().fetch_all(&store.pool).await.unwrap();
        rows.into_iter().map(|(_, _, _, detail)| detail).collect::<Vec<_>>().join("\n")
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
        let insert = "INSERT INTO organizations (id, name, rate_limit_per_hour, created_at) VALUES ($1, 'Acme', 1, $2)";
        let refused = sqlx::query(insert).bind(Uuid::now_v7()).bind(Utc::now()).execute(&store.pool).await;
        assert!(refused.unwrap_err().to_string().contains("readonly"), "a read connection wrote");
        sqlx::query(insert).bind(Uuid::now_v7()).bind(Utc::now()).execute(store.writer()).await.unwrap();
        assert_eq!(store.count_organizations().await.unwrap(), 1, "reads see what the writer committed");
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
                let plan = plan(&store, |query| push_apps_page!(query, organization, filter, page)).await;
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
                let plan = plan(&store, |query| push_audit_page!(query, Uuid::now_v7(), filter, page)).await;
                assert_keyset_plan(&plan);
            }
        }
    }

    #[tokio::test]
    async fn token_pages_are_read_from_an_index_in_order() {
        let (store, _directory) = store().await;
        for after in [None, Some(Uuid::now_v7())] {
            let page = PageRequest { after, limit: 51 };
            let plan = plan(&store, |query| push_tokens_page!(query, Uuid::now_v7(), page)).await;
            assert_keyset_plan(&plan);
        }
    }
}
