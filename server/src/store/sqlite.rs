//! The SQLite store: the embedded default. WAL lets readers run beside the
//! one writer; writes that read first take the write lock up front
//! (`BEGIN IMMEDIATE`) so they never fail half-way on a busy database.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{
    QueryBuilder, Sqlite, SqliteConnection, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
};
use uuid::Uuid;

use super::{AppFilter, PageRequest, PoolStatus, Store, StoreError, StoreResult};
use crate::domain::{
    ValidationError,
    app::{App, UpdateAppRequest},
    organization::Organization,
    token::{NewToken, Token, TokenActor, TokenGrant, TokenRole, TokenStatus, UpdateApiTokenRequest},
};

/// Every column of `apps`, in the order `bind_app` binds them. Macros rather
/// than constants, so that `concat!` builds static SQL strings, which sqlx
/// accepts as free of injection.
macro_rules! app_columns {
    () => {
        "id, organization_id, name, description, api_key, api_secret, platform, bundle_id, \
     environment, app_store_url, play_store_url, website_url, authorized_domains, data_retention_days, timezone, \
     features, status, engagement_platform, engagement_credentials, email_platform, email_credentials, \
     webhook_enabled, webhook_url, webhook_use_query_params, context_info, url_context, cached_user_count, \
     cached_event_count, cached_last_event, stats_last_updated, created_at, updated_at"
    };
}

/// One placeholder per column of `app_columns!`.
macro_rules! app_placeholders {
    () => {
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
    };
}

macro_rules! token_select {
    () => {
        "SELECT t.id, t.organization_id, t.label, t.role, t.masked_token, t.status, t.created_at, \
     t.last_used_at, t.expires_at, creator.id AS creator_id, creator.label AS creator_label, \
     o.rate_limit_per_hour FROM api_tokens t JOIN organizations o ON o.id = t.organization_id \
     LEFT JOIN api_tokens creator ON creator.id = t.created_by"
    };
}

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating when missing) the database file `database_url` names.
    pub async fn connect(database_url: &str) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
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
        let sql = concat!(
            "UPDATE apps SET (",
            app_columns!(),
            ") = (",
            app_placeholders!(),
            ") WHERE id = ? AND organization_id = ?"
        );
        bind_app(sqlx::query(sql), &app).bind(id).bind(organization_id).execute(&mut *transaction).await?;
        transaction.commit().await?;
        Ok(Some(app))
    }
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>;

fn bind_app<'q>(query: SqliteQuery<'q>, app: &App) -> SqliteQuery<'q> {
    query
        .bind(app.id)
        .bind(app.organization_id)
        .bind(app.name.clone())
        .bind(app.description.clone())
        .bind(app.api_key.clone())
        .bind(app.api_secret.clone())
        .bind(app.platform.clone())
        .bind(app.bundle_id.clone())
        .bind(app.environment)
        .bind(app.app_store_url.clone())
        .bind(app.play_store_url.clone())
        .bind(app.website_url.clone())
        .bind(sqlx::types::Json(app.authorized_domains.clone()))
        .bind(app.data_retention_days)
        .bind(app.timezone.clone())
        .bind(sqlx::types::Json(app.features))
        .bind(app.status)
        .bind(app.engagement_platform)
        .bind(app.engagement_credentials.clone().map(sqlx::types::Json))
        .bind(app.email_platform)
        .bind(app.email_credentials.clone().map(sqlx::types::Json))
        .bind(app.webhook_enabled)
        .bind(app.webhook_url.clone())
        .bind(app.webhook_use_query_params)
        .bind(app.context_info.clone())
        .bind(app.url_context.clone())
        .bind(app.cached_user_count)
        .bind(app.cached_event_count)
        .bind(app.cached_last_event)
        .bind(app.stats_last_updated)
        .bind(app.created_at)
        .bind(app.updated_at)
}

/// One page of apps, keyset-paginated on the UUIDv7 id, pushed after
/// whatever `query` holds (tests put `EXPLAIN QUERY PLAN` there).
fn push_apps_page(query: &mut QueryBuilder<Sqlite>, organization_id: Uuid, filter: AppFilter, page: PageRequest) {
    query.push(concat!("SELECT ", app_columns!(), " FROM apps WHERE organization_id = ")).push_bind(organization_id);
    if let Some(environment) = filter.environment {
        query.push(" AND environment = ").push_bind(environment);
    }
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status);
    }
    if let Some(after) = page.after {
        query.push(" AND id > ").push_bind(after);
    }
    query.push(" ORDER BY id LIMIT ").push_bind(i64::from(page.limit));
}

/// One page of live tokens, keyset-paginated like apps.
fn push_tokens_page(query: &mut QueryBuilder<Sqlite>, organization_id: Uuid, page: PageRequest) {
    query
        .push(concat!(token_select!(), " WHERE t.revoked_at IS NULL AND t.organization_id = "))
        .push_bind(organization_id);
    if let Some(after) = page.after {
        query.push(" AND t.id > ").push_bind(after);
    }
    query.push(" ORDER BY t.id LIMIT ").push_bind(i64::from(page.limit));
}

async fn select_app(connection: &mut SqliteConnection, organization_id: Uuid, id: Uuid) -> StoreResult<Option<App>> {
    let sql = concat!("SELECT ", app_columns!(), " FROM apps WHERE id = ? AND organization_id = ?");
    Ok(sqlx::query_as::<_, App>(sql).bind(id).bind(organization_id).fetch_optional(connection).await?)
}

async fn insert_token(connection: &mut SqliteConnection, token: &NewToken) -> StoreResult<Token> {
    sqlx::query(
        "INSERT INTO api_tokens (id, organization_id, label, role, token_hash, masked_token, status, created_at, \
         created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)",
    )
    .bind(token.id)
    .bind(token.organization_id)
    .bind(&token.label)
    .bind(token.role)
    .bind(&token.token_hash)
    .bind(&token.masked_token)
    .bind(token.created_at)
    .bind(token.created_by)
    .bind(token.expires_at)
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
    let sql = concat!(token_select!(), " WHERE t.id = ? AND t.organization_id = ? AND t.revoked_at IS NULL");
    let row: Option<TokenRow> = sqlx::query_as(sql).bind(id).bind(organization_id).fetch_optional(connection).await?;
    Ok(row.map(|row| row.into_grant().token))
}

/// The only unique key a token write can break is the live label's.
fn label_conflict(error: sqlx::Error, label: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(database_error) if database_error.is_unique_violation() => {
            StoreError::Conflict(format!("A live token of this organization already has the label `{label}`"))
        }
        _ => StoreError::Database(error),
    }
}

/// Refuses a change that would take `token` out of the organization's
/// active admin tokens when no other one is left. Runs inside the write
/// transaction, so two such changes cannot both pass.
async fn keep_an_active_admin(
    connection: &mut SqliteConnection,
    token: &Token,
    organization_id: Uuid,
    now: DateTime<Utc>,
    action: &str,
) -> StoreResult<()> {
    let is_active_admin = token.role == TokenRole::Admin
        && token.status == TokenStatus::Active
        && token.expires_at.is_none_or(|expires_at| expires_at > now);
    if !is_active_admin {
        return Ok(());
    }
    let others: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_tokens WHERE organization_id = ? AND id <> ? AND role = 'admin' \
         AND status = 'active' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
    )
    .bind(organization_id)
    .bind(token.id)
    .bind(now)
    .fetch_one(connection)
    .await?;
    if others == 0 {
        return Err(StoreError::Conflict(format!(
            "The organization's last active admin token cannot be {action}; make another admin token first"
        )));
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    organization_id: Uuid,
    label: String,
    role: TokenRole,
    masked_token: String,
    status: TokenStatus,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    creator_id: Option<Uuid>,
    creator_label: Option<String>,
    rate_limit_per_hour: i64,
}

impl TokenRow {
    fn into_grant(self) -> TokenGrant {
        let created_by = self.creator_id.zip(self.creator_label).map(|(id, label)| TokenActor { id, label });
        TokenGrant {
            organization_id: self.organization_id,
            rate_limit_per_hour: u32::try_from(self.rate_limit_per_hour).unwrap_or(u32::MAX),
            token: Token {
                id: self.id,
                label: self.label,
                role: self.role,
                masked_token: self.masked_token,
                status: self.status,
                created_at: self.created_at,
                created_by,
                last_used_at: self.last_used_at,
                expires_at: self.expires_at,
            },
        }
    }
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
        sqlx::query("INSERT INTO organizations (id, name, rate_limit_per_hour, created_at) VALUES (?, ?, ?, ?)")
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
        Ok(sqlx::query_as("SELECT id, name, created_at, rate_limit_per_hour FROM organizations WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    #[tracing::instrument(skip(self))]
    async fn rename_organization(&self, id: Uuid, name: &str) -> StoreResult<Option<Organization>> {
        Ok(sqlx::query_as(
            "UPDATE organizations SET name = ? WHERE id = ? RETURNING id, name, created_at, rate_limit_per_hour",
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
        push_tokens_page(&mut query, organization_id, page);
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
        sqlx::query("UPDATE api_tokens SET label = ?, status = ? WHERE id = ?")
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
        sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(true)
    }

    async fn find_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<TokenGrant>> {
        let sql = concat!(token_select!(), " WHERE t.token_hash = ? AND t.revoked_at IS NULL");
        let row: Option<TokenRow> = sqlx::query_as(sql).bind(token_hash).fetch_optional(&self.pool).await?;
        Ok(row.map(TokenRow::into_grant))
    }

    async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip(self, app), fields(app_id = %app.id))]
    async fn insert_app(&self, app: &App) -> StoreResult<()> {
        let sql = concat!("INSERT INTO apps (", app_columns!(), ") VALUES (", app_placeholders!(), ")");
        bind_app(sqlx::query(sql), app).execute(&self.pool).await?;
        Ok(())
    }

    async fn get_app(&self, organization_id: Uuid, id: Uuid) -> StoreResult<Option<App>> {
        let mut connection = self.pool.acquire().await?;
        select_app(&mut connection, organization_id, id).await
    }

    async fn list_apps(&self, organization_id: Uuid, filter: AppFilter, page: PageRequest) -> StoreResult<Vec<App>> {
        let mut query = QueryBuilder::new("");
        push_apps_page(&mut query, organization_id, filter, page);
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
        let result = sqlx::query("DELETE FROM apps WHERE id = ? AND organization_id = ?")
            .bind(id)
            .bind(organization_id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::app::{AppStatus, Environment};

    async fn store() -> (SqliteStore, tempfile::TempDir) {
        let directory = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", directory.path().join("plan.db").display());
        let store = SqliteStore::connect(&url).await.unwrap();
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
                let plan = plan(&store, |query| push_apps_page(query, organization, filter, page)).await;
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
            let plan = plan(&store, |query| push_tokens_page(query, Uuid::now_v7(), page)).await;
            assert_keyset_plan(&plan);
        }
    }
}
