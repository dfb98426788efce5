//! What the SQLite and PostgreSQL stores share: the SQL text (with `$N`
//! placeholders, which both understand), row mappings and error mapping.
//! Each store keeps its own connection handling and locking.
//!
//! SQL is built with macros rather than constants so that `concat!` makes
//! static strings, which sqlx accepts as free of injection.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;
use crate::domain::token::{Token, TokenActor, TokenGrant, TokenRole, TokenStatus};

/// Every column of `apps`, in the order `bind_app!` binds them.
macro_rules! app_columns {
    () => {
        "id, organization_id, name, description, api_key, api_secret, platform, bundle_id, \
         environment, app_store_url, play_store_url, website_url, authorized_domains, data_retention_days, \
         timezone, features, status, engagement_platform, engagement_credentials, email_platform, \
         email_credentials, webhook_enabled, webhook_url, webhook_use_query_params, context_info, url_context, \
         cached_user_count, cached_event_count, cached_last_event, stats_last_updated, created_at, updated_at"
    };
}

/// One placeholder per column of `app_columns!`.
macro_rules! app_placeholders {
    () => {
        "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
         $23, $24, $25, $26, $27, $28, $29, $30, $31, $32"
    };
}

macro_rules! insert_app_sql {
    () => {
        concat!("INSERT INTO apps (", app_columns!(), ") VALUES (", app_placeholders!(), ")")
    };
}

macro_rules! update_app_sql {
    () => {
        concat!(
            "UPDATE apps SET (",
            app_columns!(),
            ") = (",
            app_placeholders!(),
            ") WHERE id = $33 AND organization_id = $34"
        )
    };
}

macro_rules! select_app_sql {
    () => {
        concat!("SELECT ", app_columns!(), " FROM apps WHERE id = $1 AND organization_id = $2")
    };
}

/// Binds every column of `app`, in `app_columns!` order, to `query`.
macro_rules! bind_app {
    ($query:expr, $app:expr) => {{
        let app = $app;
        $query
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
    }};
}

macro_rules! token_select {
    () => {
        "SELECT t.id, t.organization_id, t.label, t.role, t.masked_token, t.status, t.created_at, \
         t.last_used_at, t.expires_at, creator.id AS creator_id, creator.label AS creator_label, \
         o.rate_limit_per_hour FROM api_tokens t JOIN organizations o ON o.id = t.organization_id \
         LEFT JOIN api_tokens creator ON creator.id = t.created_by"
    };
}

macro_rules! select_token_sql {
    () => {
        concat!(token_select!(), " WHERE t.id = $1 AND t.organization_id = $2 AND t.revoked_at IS NULL")
    };
}

macro_rules! insert_token_sql {
    () => {
        "INSERT INTO api_tokens (id, organization_id, label, role, token_hash, masked_token, status, created_at, \
         created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9)"
    };
}

/// Binds a `NewToken` to `insert_token_sql!`.
macro_rules! bind_new_token {
    ($query:expr, $token:expr) => {{
        let token = $token;
        $query
            .bind(token.id)
            .bind(token.organization_id)
            .bind(token.label.clone())
            .bind(token.role)
            .bind(token.token_hash.clone())
            .bind(token.masked_token.clone())
            .bind(token.created_at)
            .bind(token.created_by)
            .bind(token.expires_at)
    }};
}

/// Other live, active, unexpired admin tokens of the organization: `$1`
/// organization, `$2` the token being changed, `$3` now.
macro_rules! count_other_active_admins_sql {
    () => {
        "SELECT COUNT(*) FROM api_tokens WHERE organization_id = $1 AND id <> $2 AND role = 'admin' \
         AND status = 'active' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)"
    };
}

/// One page of apps, keyset-paginated on the UUIDv7 id, pushed after
/// whatever the `QueryBuilder` holds (tests put `EXPLAIN` there).
macro_rules! push_apps_page {
    ($query:expr, $organization_id:expr, $filter:expr, $page:expr) => {{
        let (query, filter, page) = ($query, $filter, $page);
        query
            .push(concat!("SELECT ", app_columns!(), " FROM apps WHERE organization_id = "))
            .push_bind($organization_id);
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
    }};
}

/// One page of live tokens, keyset-paginated like apps.
macro_rules! push_tokens_page {
    ($query:expr, $organization_id:expr, $page:expr) => {{
        let (query, page) = ($query, $page);
        query
            .push(concat!(token_select!(), " WHERE t.revoked_at IS NULL AND t.organization_id = "))
            .push_bind($organization_id);
        if let Some(after) = page.after {
            query.push(" AND t.id > ").push_bind(after);
        }
        query.push(" ORDER BY t.id LIMIT ").push_bind(i64::from(page.limit));
    }};
}

#[derive(sqlx::FromRow)]
pub struct TokenRow {
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
    pub fn into_grant(self) -> TokenGrant {
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

/// The only unique key a token write can break is the live label's.
pub fn label_conflict(error: sqlx::Error, label: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(database_error) if database_error.is_unique_violation() => {
            StoreError::Conflict(format!("A live token of this organization already has the label `{label}`"))
        }
        _ => StoreError::Database(error),
    }
}

/// Whether a change to `token` could leave the organization without an
/// active admin token, so the other ones must be counted first.
pub fn is_active_admin(token: &Token, now: DateTime<Utc>) -> bool {
    token.role == TokenRole::Admin
        && token.status == TokenStatus::Active
        && token.expires_at.is_none_or(|expires_at| expires_at > now)
}

pub fn last_admin_conflict(action: &str) -> StoreError {
    StoreError::Conflict(format!(
        "The organization's last active admin token cannot be {action}; make another admin token first"
    ))
}
