//! The PostgreSQL store: for production and for several instances sharing
//! one database. Writes that read first lock what they read (`FOR UPDATE`),
//! so concurrent changes queue instead of overwriting each other.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{
    PgConnection, PgPool, Postgres, QueryBuilder,
    postgres::{PgConnectOptions, PgPoolOptions},
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

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects lazily: the server starts, and answers 503, while the
    /// database is down, and recovers when it returns.
    pub fn connect(database_url: &str, settings: PoolSettings) -> Result<Self, sqlx::Error> {
        let options = PgConnectOptions::from_str(database_url)?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    async fn modify_app(
        &self,
        organization_id: Uuid,
        id: Uuid,
        modify: impl FnOnce(&mut App) -> Result<(), ValidationError> + Send,
    ) -> StoreResult<Option<App>> {
        let mut transaction = self.pool.begin().await?;
        let sql = concat!(select_app_sql!(), " FOR UPDATE");
        let Some(mut app) =
            sqlx::query_as::<_, App>(sql).bind(id).bind(organization_id).fetch_optional(&mut *transaction).await?
        else {
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

    /// Starts a transaction that changes a token's standing, holding the
    /// organization's row so that two such changes run one after the other
    /// (otherwise two admins revoking each other could both succeed).
    async fn lock_organization_and_token(
        &self,
        organization_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<(sqlx::Transaction<'static, Postgres>, Token)>> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE")
            .bind(organization_id)
            .execute(&mut *transaction)
            .await?;
        match select_token(&mut transaction, organization_id, id).await? {
            Some(token) => Ok(Some((transaction, token))),
            None => Ok(None),
        }
    }
}

async fn select_token(connection: &mut PgConnection, organization_id: Uuid, id: Uuid) -> StoreResult<Option<Token>> {
    let row: Option<TokenRow> =
        sqlx::query_as(select_token_sql!()).bind(id).bind(organization_id).fetch_optional(connection).await?;
    Ok(row.map(|row| row.into_grant().token))
}

async fn insert_token(connection: &mut PgConnection, token: &NewToken) -> StoreResult<Token> {
    bind_new_token!(sqlx::query(insert_token_sql!()), token)
        .execute(&mut *connection)
        .await
        .map_err(|error| label_conflict(error, &token.label))?;
    let token = select_token(connection, token.organization_id, token.id).await?;
    token.ok_or_else(|| StoreError::Database(sqlx::Error::RowNotFound))
}

/// Refuses a change that would leave the organization without an active
/// admin token; the caller holds the organization's row.
async fn keep_an_active_admin(
    connection: &mut PgConnection,
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
impl Store for PostgresStore {
    #[tracing::instrument(skip(self))]
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/postgres").run(&self.pool).await?;
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
        let Some((mut transaction, token)) = self.lock_organization_and_token(organization_id, id).await? else {
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
        let Some((mut transaction, token)) = self.lock_organization_and_token(organization_id, id).await? else {
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
        Ok(sqlx::query_as::<_, App>(select_app_sql!())
            .bind(id)
            .bind(organization_id)
            .fetch_optional(&self.pool)
            .await?)
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
