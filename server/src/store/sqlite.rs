//! The SQLite store: the embedded default. WAL lets readers run beside the
//! one writer; writes that read first take the write lock up front
//! (`BEGIN IMMEDIATE`) so they never fail half-way on a busy database.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{
    QueryBuilder, SqliteConnection, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
};
use uuid::Uuid;

use super::{
    AppFilter, PageRequest, PoolSettings, PoolStatus, Store, StoreError, StoreResult,
    sql::{TokenRow, is_active_admin, label_conflict, last_admin_conflict},
};
use crate::domain::{
    ValidationError,
    app::{App, UpdateAppRequest},
    organization::Organization,
    token::{NewToken, Token, TokenGrant, TokenStatus, UpdateApiTokenRequest},
};

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating when missing) the database file `database_url` names.
    pub async fn connect(database_url: &str, settings: PoolSettings) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    async fn modify_app(
        &self,
        organization_id: Uuid,
        id: Uuid,
        modify: impl FnOnce(&mut App) -> Result<(), ValidationError> + Send,
    ) -> StoreResult<Option<App>> {
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let Some(mut app) = select_app(&mut transaction, organization_id, id).await? else {
            return Ok(None);
        };
        modify(&mut app)?;
        bind_app!(sqlx::query(update_app_sql!()), &app)
            .bind(id)
            .bind(organization_id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(Some(app))
    }
}

async fn select_app(connection: &mut SqliteConnection, organization_id: Uuid, id: Uuid) -> StoreResult<Option<App>> {
    Ok(sqlx::query_as::<_, App>(select_app_sql!()).bind(id).bind(organization_id).fetch_optional(connection).await?)
}

async fn insert_token(connection: &mut SqliteConnection, token: &NewToken) -> StoreResult<Token> {
    bind_new_token!(sqlx::query(insert_token_sql!()), token)
        .execute(&mut *connection)
        .await
        .map_err(|error| label_conflict(error, &token.label))?;
    let token = select_token(connection, token.organization_id, token.id).await?;
    token.ok_or_else(|| StoreError::Database(sqlx::Error::RowNotFound))
}

async fn select_token(
    connection: &mut SqliteConnection,
    organization_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<Token>> {
    let row: Option<TokenRow> =
        sqlx::query_as(select_token_sql!()).bind(id).bind(organization_id).fetch_optional(connection).await?;
    Ok(row.map(|row| row.into_grant().token))
}

/// Refuses a change that would take `token` out of the organization's
/// active admin tokens when no other one is left. Runs inside a
/// `BEGIN IMMEDIATE` transaction, which holds the database's write lock, so
/// two such changes cannot both pass.
async fn keep_an_active_admin(
    connection: &mut SqliteConnection,
    token: &Token,
    organization_id: Uuid,
    now: DateTime<Utc>,
    action: &str,
) -> StoreResult<()> {
    if !is_active_admin(token, now) {
        return Ok(());
    }
    let others: i64 = sqlx::query_scalar(count_other_active_admins_sql!())
        .bind(organization_id)
        .bind(token.id)
        .bind(now)
        .fetch_one(connection)
        .await?;
    if others == 0 { Err(last_admin_conflict(action)) } else { Ok(()) }
}

#[async_trait]
impl Store for SqliteStore {
    #[tracing::instrument(skip(self))]
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite").run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_status(&self) -> PoolStatus {
        PoolStatus { connections: self.pool.size(), idle_connections: self.pool.num_idle() }
    }

    async fn count_organizations(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organizations").fetch_one(&self.pool).await?)
    }

    #[tracing::instrument(skip(self, first_token), fields(organization_id = %organization.id))]
    async fn create_organization(&self, organization: &Organization, first_token: &NewToken) -> StoreResult<Token> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("INSERT INTO organizations (id, name, rate_limit_per_hour, created_at) VALUES ($1, $2, $3, $4)")
            .bind(organization.id)
            .bind(&organization.name)
            .bind(organization.rate_limit_per_hour)
            .bind(organization.created_at)
            .execute(&mut *transaction)
            .await?;
        let token = insert_token(&mut transaction, first_token).await?;
        transaction.commit().await?;
        Ok(token)
    }

    async fn get_organization(&self, id: Uuid) -> StoreResult<Option<Organization>> {
        Ok(sqlx::query_as("SELECT id, name, created_at, rate_limit_per_hour FROM organizations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    #[tracing::instrument(skip(self))]
    async fn rename_organization(&self, id: Uuid, name: &str) -> StoreResult<Option<Organization>> {
        Ok(sqlx::query_as(
            "UPDATE organizations SET name = $1 WHERE id = $2 RETURNING id, name, created_at, rate_limit_per_hour",
        )
        .bind(name)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    #[tracing::instrument(skip(self, token), fields(token_id = %token.id))]
    async fn create_token(&self, token: &NewToken) -> StoreResult<Token> {
        let mut connection = self.pool.acquire().await?;
        insert_token(&mut connection, token).await
    }

    async fn list_tokens(&self, organization_id: Uuid, page: PageRequest) -> StoreResult<Vec<Token>> {
        let mut query = QueryBuilder::new("");
        push_tokens_page!(&mut query, organization_id, page);
        let rows: Vec<TokenRow> = query.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|row| row.into_grant().token).collect())
    }

    async fn get_token(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<Token>> {
        let mut connection = self.pool.acquire().await?;
        select_token(&mut connection, organization_id, id).await
    }

    #[tracing::instrument(skip(self, changes))]
    async fn update_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: UpdateApiTokenRequest,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Token>> {
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let Some(token) = select_token(&mut transaction, organization_id, id).await? else {
            return Ok(None);
        };
        if changes.status == Some(TokenStatus::Disabled) {
            keep_an_active_admin(&mut transaction, &token, organization_id, now, "disabled").await?;
        }
        let label = changes.label.unwrap_or_else(|| token.label.clone());
        sqlx::query("UPDATE api_tokens SET label = $1, status = $2 WHERE id = $3")
            .bind(&label)
            .bind(changes.status.unwrap_or(token.status))
            .bind(id)
            .execute(&mut *transaction)
            .await
            .map_err(|error| label_conflict(error, &label))?;
        let updated = select_token(&mut transaction, organization_id, id).await?;
        transaction.commit().await?;
        Ok(updated)
    }

    #[tracing::instrument(skip(self))]
    async fn revoke_token(&self, organization_id: Uuid, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let Some(token) = select_token(&mut transaction, organization_id, id).await? else {
            return Ok(false);
        };
        keep_an_active_admin(&mut transaction, &token, organization_id, now, "revoked").await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(true)
    }

    async fn find_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<TokenGrant>> {
        let sql = concat!(token_select!(), " WHERE t.token_hash = $1 AND t.revoked_at IS NULL");
        let row: Option<TokenRow> = sqlx::query_as(sql).bind(token_hash).fetch_optional(&self.pool).await?;
        Ok(row.map(TokenRow::into_grant))
    }

    async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip(self, app), fields(app_id = %app.id))]
    async fn insert_app(&self, app: &App) -> StoreResult<()> {
        bind_app!(sqlx::query(insert_app_sql!()), app).execute(&self.pool).await?;
        Ok(())
    }

    async fn get_app(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<App>> {
        let mut connection = self.pool.acquire().await?;
        select_app(&mut connection, organization_id, id).await
    }

    async fn list_apps(&self, organization_id: Uuid, filter: AppFilter, page: PageRequest) -> StoreResult<Vec<App>> {
        let mut query = QueryBuilder::new("");
        push_apps_page!(&mut query, organization_id, filter, page);
        Ok(query.build_query_as::<App>().fetch_all(&self.pool).await?)
    }

    #[tracing::instrument(skip(self, changes))]
    async fn update_app(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: UpdateAppRequest,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<App>> {
        self.modify_app(organization_id, id, |app| app.apply(changes, now)).await
    }

    #[tracing::instrument(skip(self))]
    async fn rotate_app_secret(&self, organization_id: Uuid, id: Uuid, now: DateTime<Utc>) -> StoreResult<Option<App>> {
        self.modify_app(organization_id, id, |app| {
            app.rotate_secret(now);
            Ok(())
        })
        .await
    }

    #[tracing::instrument(skip(self))]
    async fn delete_app(&self, organization_id: Uuid, id: Uuid) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM apps WHERE id = $1 AND organization_id = $2")
            .bind(id)
            .bind(organization_id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Sqlite;

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
        assert!(
            !plan.lines().any(|step| step.starts_with("SCAN apps") || step.starts_with("SCAN t")),
            "full scan:\n{plan}"
        );
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
    async fn token_pages_are_read_from_an_index_in_order() {
        let (store, _directory) = store().await;
        for after in [None, Some(Uuid::now_v7())] {
            let page = PageRequest { after, limit: 51 };
            let plan = plan(&store, |query| push_tokens_page!(query, Uuid::now_v7(), page)).await;
            assert_keyset_plan(&plan);
        }
    }
}
