//! What the SQLite and PostgreSQL stores share: the SQL text (with `$N`
//! placeholders, which both understand), the parameters each statement
//! takes and the mapping of each row to a domain type. One place for both
//! backends, so they cannot drift apart.

use chrono::{DateTime, Utc};
use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

use super::{
    AppFilter, CredentialColumns, IdempotencyRecord, PageRequest, SealedResponse, StoreError, StoreResult,
    session::{Row, Value},
};
use crate::domain::{
    app::App,
    audit::{AuditEvent, AuditFilter, AuditTarget},
    organization::Organization,
    token::{NewToken, Token, TokenActor, TokenGrant},
};

/// Every column of `apps`, in the order `app_parameters` gives them and `app_from_row` reads them.
macro_rules! app_columns {
    () => {
        "id, organization_id, name, description, api_key, api_secret, platform, bundle_id, \
         environment, app_store_url, play_store_url, website_url, authorized_domains, data_retention_days, \
         timezone, features, status, engagement_platform, engagement_credentials, email_platform, \
         email_credentials, webhook_enabled, webhook_url, webhook_use_query_params, context_info, url_context, \
         cached_user_count, cached_event_count, cached_last_event, stats_last_updated, created_at, updated_at"
    };
}

/// `app_columns!` with both credentials read as NULL, for lists a `ci`
/// token asks for: it is never shown credentials, so they are not read.
macro_rules! app_columns_without_credentials {
    () => {
        "id, organization_id, name, description, api_key, api_secret, platform, bundle_id, \
         environment, app_store_url, play_store_url, website_url, authorized_domains, data_retention_days, \
         timezone, features, status, engagement_platform, NULL AS engagement_credentials, email_platform, \
         NULL AS email_credentials, webhook_enabled, webhook_url, webhook_use_query_params, context_info, url_context, \
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

macro_rules! token_select {
    () => {
        "SELECT t.id, t.organization_id, t.label, t.role, t.masked_token, t.status, t.created_at, \
         t.last_used_at, t.expires_at, creator.id AS creator_id, creator.label AS creator_label, \
         o.rate_limit_per_hour FROM api_tokens t JOIN organizations o ON o.id = t.organization_id \
         LEFT JOIN api_tokens creator ON creator.id = t.created_by"
    };
}

pub const INSERT_APP: &str = concat!("INSERT INTO apps (", app_columns!(), ") VALUES (", app_placeholders!(), ")");
pub const UPDATE_APP: &str = concat!(
    "UPDATE apps SET (",
    app_columns!(),
    ") = (",
    app_placeholders!(),
    ") WHERE id = $33 AND organization_id = $34"
);
pub const SELECT_APP: &str = concat!("SELECT ", app_columns!(), " FROM apps WHERE id = $1 AND organization_id = $2");
pub const SELECT_APP_FOR_UPDATE: &str =
    concat!("SELECT ", app_columns!(), " FROM apps WHERE id = $1 AND organization_id = $2 FOR UPDATE");
pub const DELETE_APP: &str = "DELETE FROM apps WHERE id = $1 AND organization_id = $2 RETURNING name";

/// How many apps an organization holds, counting at most `$2` (its quota),
/// so a create's count costs no more than the quota.
pub const COUNT_APPS: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM apps WHERE organization_id = $1 LIMIT $2) AS counted";
/// How many live tokens an organization holds, counting at most `$2`.
pub const COUNT_LIVE_TOKENS: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM api_tokens WHERE organization_id = $1 \
                                     AND revoked_at IS NULL LIMIT $2) AS counted";

pub const COUNT_ORGANIZATIONS: &str = "SELECT COUNT(*) FROM organizations";
pub const INSERT_ORGANIZATION: &str =
    "INSERT INTO organizations (id, name, rate_limit_per_hour, created_at) VALUES ($1, $2, $3, $4)";
pub const SELECT_ORGANIZATION: &str =
    "SELECT id, name, created_at, rate_limit_per_hour FROM organizations WHERE id = $1";
pub const SELECT_ORGANIZATION_NAME: &str = "SELECT name FROM organizations WHERE id = $1";
pub const RENAME_ORGANIZATION: &str =
    "UPDATE organizations SET name = $1 WHERE id = $2 RETURNING id, name, created_at, rate_limit_per_hour";
/// Makes the organization's writes that keep a count or a rule over its
/// rows (tokens, quotas) run one after the other on PostgreSQL.
pub const LOCK_ORGANIZATION: &str = "SELECT id FROM organizations WHERE id = $1 FOR UPDATE";

pub const SELECT_TOKEN: &str =
    concat!(token_select!(), " WHERE t.id = $1 AND t.organization_id = $2 AND t.revoked_at IS NULL");
/// The live token whose secret hashes to `$1`: its current secret, or a
/// rolled one until its overlap ends (`$2`, now). One statement, each side
/// of the `OR` served by its own unique index.
pub const SELECT_TOKEN_BY_HASH: &str = concat!(
    token_select!(),
    " WHERE (t.token_hash = $1 OR (t.previous_token_hash = $1 AND t.previous_expires_at > $2)) \
     AND t.revoked_at IS NULL"
);
pub const INSERT_TOKEN: &str = "INSERT INTO api_tokens (id, organization_id, label, role, token_hash, \
                                masked_token, status, created_at, created_by, expires_at) \
                                VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9)";
pub const UPDATE_TOKEN: &str = "UPDATE api_tokens SET label = $1, status = $2 WHERE id = $3";
/// A new secret's hash (`$1`) and mask (`$2`); the old secret is refused at once.
pub const ROLL_TOKEN: &str = "UPDATE api_tokens SET token_hash = $1, masked_token = $2, \
                              previous_token_hash = NULL, previous_expires_at = NULL WHERE id = $3";
/// `ROLL_TOKEN`, but the old secret keeps working until `$3` (the right
/// side of `SET` reads the row as it was, so the old hash is kept).
pub const ROLL_TOKEN_WITH_OVERLAP: &str = "UPDATE api_tokens SET previous_token_hash = token_hash, \
                                           previous_expires_at = $3, token_hash = $1, masked_token = $2 \
                                           WHERE id = $4";
pub const REVOKE_TOKEN: &str = "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2";
pub const TOUCH_TOKEN: &str = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2";
/// Other live lasting admin tokens of the organization (active, without an
/// expiry: `Token::is_lasting_admin`): `$1` organization, `$2` the token
/// being changed.
pub const COUNT_OTHER_LASTING_ADMINS: &str = "SELECT COUNT(*) FROM api_tokens WHERE organization_id = $1 \
                                              AND id <> $2 AND role = 'admin' AND status = 'active' \
                                              AND revoked_at IS NULL AND expires_at IS NULL";

pub const INSERT_AUDIT_EVENT: &str = "INSERT INTO audit_events (id, organization_id, occurred_at, action, actor_id, \
                                      actor_label, target_type, target_id, changes, request_id) \
                                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Claims an `Idempotency-Key` for a write: inserts its record, or takes
/// over one created at or before `$7` (expired). No row is affected when the
/// key has a live record; on PostgreSQL that answer waits for a concurrent
/// claim of the same key to commit or roll back. `$4` and `$5` are empty:
/// the response is recorded by `RECORD_IDEMPOTENT_RESPONSE` in the same
/// transaction, once the write is done.
pub const CLAIM_IDEMPOTENCY_KEY: &str = "INSERT INTO idempotency_keys (organization_id, key_hash, fingerprint, \
     status, nonce, sealed_body, created_at) VALUES ($1, $2, $3, 0, $4, $5, $6) \
     ON CONFLICT (organization_id, key_hash) DO UPDATE SET fingerprint = excluded.fingerprint, \
     status = excluded.status, nonce = excluded.nonce, sealed_body = excluded.sealed_body, \
     created_at = excluded.created_at WHERE idempotency_keys.created_at <= $7";
pub const RECORD_IDEMPOTENT_RESPONSE: &str = "UPDATE idempotency_keys SET status = $1, nonce = $2, sealed_body = $3 \
                                              WHERE organization_id = $4 AND key_hash = $5";
/// The record of a key created after `$3`.
pub const SELECT_IDEMPOTENCY_RECORD: &str = "SELECT fingerprint, status, nonce, sealed_body FROM idempotency_keys \
                                             WHERE organization_id = $1 AND key_hash = $2 AND created_at > $3";
/// Deletes at most `$3` records created at or before `$1` (= `$2`), oldest
/// first. The outer condition keeps a record another write renewed meanwhile.
pub const DELETE_EXPIRED_IDEMPOTENCY_RECORDS: &str = "DELETE FROM idempotency_keys WHERE created_at <= $1 \
     AND key_hash IN (SELECT key_hash FROM idempotency_keys WHERE created_at <= $2 ORDER BY created_at LIMIT $3)";

/// A statement built for one request: its text and its parameters.
pub struct Statement {
    pub sql: String,
    pub parameters: Vec<Value>,
}

impl Statement {
    pub(super) fn new(sql: &str) -> Self {
        Self { sql: sql.to_owned(), parameters: Vec::new() }
    }

    /// Appends `sql` followed by the next placeholder, bound to `value`.
    pub(super) fn push_bind(&mut self, sql: &str, value: Value) -> &mut Self {
        self.parameters.push(value);
        self.sql.push_str(sql);
        self.sql.push('$');
        self.sql.push_str(&self.parameters.len().to_string());
        self
    }

    pub(super) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }
}

/// One page of apps, keyset-paginated on the UUIDv7 id, with their
/// credentials unless `CredentialColumns::Skipped` says otherwise.
pub fn apps_page(
    organization_id: Uuid,
    filter: AppFilter,
    page: PageRequest,
    credentials: CredentialColumns,
) -> Statement {
    let select = match credentials {
        CredentialColumns::Read => concat!("SELECT ", app_columns!(), " FROM apps WHERE "),
        CredentialColumns::Skipped => concat!("SELECT ", app_columns_without_credentials!(), " FROM apps WHERE "),
    };
    let mut statement = Statement::new(select);
    statement.push_bind("organization_id = ", uuid(organization_id));
    if let Some(environment) = filter.environment {
        statement.push_bind(" AND environment = ", enum_text(&environment));
    }
    if let Some(status) = filter.status {
        statement.push_bind(" AND status = ", enum_text(&status));
    }
    if let Some(after) = page.after {
        statement.push_bind(" AND id > ", uuid(after));
    }
    statement.push_bind(" ORDER BY id LIMIT ", Value::Int(i64::from(page.limit)));
    statement
}

/// One page of live tokens, keyset-paginated like apps.
pub fn tokens_page(organization_id: Uuid, page: PageRequest) -> Statement {
    let mut statement = Statement::new(concat!(token_select!(), " WHERE t.revoked_at IS NULL"));
    statement.push_bind(" AND t.organization_id = ", uuid(organization_id));
    if let Some(after) = page.after {
        statement.push_bind(" AND t.id > ", uuid(after));
    }
    statement.push_bind(" ORDER BY t.id LIMIT ", Value::Int(i64::from(page.limit)));
    statement
}

/// One page of audit events, newest first.
pub fn audit_page(organization_id: Uuid, filter: AuditFilter, page: PageRequest) -> Statement {
    let mut statement = Statement::new(
        "SELECT id, occurred_at, action, actor_id, actor_label, target_type, target_id, changes, request_id \
         FROM audit_events WHERE",
    );
    statement.push_bind(" organization_id = ", uuid(organization_id));
    let AuditFilter { action, actor_id, target_id, since, until } = filter;
    if let Some(action) = action {
        statement.push_bind(" AND action = ", enum_text(&action));
    }
    if let Some(actor_id) = actor_id {
        statement.push_bind(" AND actor_id = ", uuid(actor_id));
    }
    if let Some(target_id) = target_id {
        statement.push_bind(" AND target_id = ", uuid(target_id));
    }
    if let Some(since) = since {
        statement.push_bind(" AND occurred_at >= ", time(since));
    }
    if let Some(until) = until {
        statement.push_bind(" AND occurred_at < ", time(until));
    }
    if let Some(before) = page.after {
        statement.push_bind(" AND id < ", uuid(before));
    }
    statement.push(" ORDER BY id DESC").push_bind(" LIMIT ", Value::Int(i64::from(page.limit)));
    statement
}

pub fn uuid(id: Uuid) -> Value {
    Value::Uuid(Some(id))
}

pub fn text(value: &str) -> Value {
    Value::Text(Some(value.to_owned()))
}

pub fn time(value: DateTime<Utc>) -> Value {
    Value::Time(Some(value))
}

/// A unit enum as the text its serde name gives, which is what the columns hold.
pub fn enum_text<T: Serialize>(value: &T) -> Value {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => Value::Text(Some(name)),
        _ => unreachable!("stored enums serialise to their name"),
    }
}

pub(super) fn parse_enum<T: DeserializeOwned>(name: String) -> StoreResult<T> {
    serde_json::from_value(serde_json::Value::String(name)).map_err(StoreError::decode)
}

fn json<T: Serialize>(value: &T) -> Value {
    Value::Json(Some(serde_json::to_value(value).expect("stored JSON serialises")))
}

/// Every column of `app`, in `app_columns!` order. Destructured whole, so a
/// new field cannot be forgotten here.
pub fn app_parameters(app: &App) -> Vec<Value> {
    let App {
        id,
        organization_id,
        name,
        description,
        api_key,
        api_secret,
        platform,
        bundle_id,
        environment,
        app_store_url,
        play_store_url,
        website_url,
        authorized_domains,
        data_retention_days,
        timezone,
        features,
        status,
        engagement_platform,
        engagement_credentials,
        email_platform,
        email_credentials,
        webhook_enabled,
        webhook_url,
        webhook_use_query_params,
        context_info,
        url_context,
        cached_user_count,
        cached_event_count,
        cached_last_event,
        stats_last_updated,
        created_at,
        updated_at,
    } = app;
    vec![
        uuid(*id),
        uuid(*organization_id),
        text(name),
        Value::Text(description.clone()),
        text(api_key),
        text(api_secret),
        text(platform),
        Value::Text(bundle_id.clone()),
        enum_text(environment),
        Value::Text(app_store_url.clone()),
        Value::Text(play_store_url.clone()),
        Value::Text(website_url.clone()),
        json(authorized_domains),
        Value::Int32(*data_retention_days),
        text(timezone),
        json(features),
        enum_text(status),
        enum_text(engagement_platform),
        Value::Json(engagement_credentials.clone().map(serde_json::Value::Object)),
        enum_text(email_platform),
        Value::Json(email_credentials.clone().map(serde_json::Value::Object)),
        Value::Bool(*webhook_enabled),
        Value::Text(webhook_url.clone()),
        Value::Bool(*webhook_use_query_params),
        Value::Text(context_info.clone()),
        Value::Text(url_context.clone()),
        Value::Int(*cached_user_count),
        Value::Int(*cached_event_count),
        Value::Time(*cached_last_event),
        Value::Time(*stats_last_updated),
        time(*created_at),
        time(*updated_at),
    ]
}

/// An app from the columns of `app_columns!`, in order.
pub fn app_from_row(row: &impl Row) -> StoreResult<App> {
    Ok(App {
        id: row.uuid(0)?,
        organization_id: row.uuid(1)?,
        name: row.text(2)?,
        description: row.text_opt(3)?,
        api_key: row.text(4)?,
        api_secret: row.text(5)?,
        platform: row.text(6)?,
        bundle_id: row.text_opt(7)?,
        environment: parse_enum(row.text(8)?)?,
        app_store_url: row.text_opt(9)?,
        play_store_url: row.text_opt(10)?,
        website_url: row.text_opt(11)?,
        authorized_domains: row.json(12)?,
        data_retention_days: row.int32(13)?,
        timezone: row.text(14)?,
        features: row.json(15)?,
        status: parse_enum(row.text(16)?)?,
        engagement_platform: parse_enum(row.text(17)?)?,
        engagement_credentials: row.json_opt(18)?,
        email_platform: parse_enum(row.text(19)?)?,
        email_credentials: row.json_opt(20)?,
        webhook_enabled: row.bool(21)?,
        webhook_url: row.text_opt(22)?,
        webhook_use_query_params: row.bool(23)?,
        context_info: row.text_opt(24)?,
        url_context: row.text_opt(25)?,
        cached_user_count: row.int(26)?,
        cached_event_count: row.int(27)?,
        cached_last_event: row.time_opt(28)?,
        stats_last_updated: row.time_opt(29)?,
        created_at: row.time(30)?,
        updated_at: row.time(31)?,
    })
}

pub fn organization_parameters(organization: &Organization) -> Vec<Value> {
    let Organization { id, name, created_at, rate_limit_per_hour } = organization;
    vec![uuid(*id), text(name), Value::Int(*rate_limit_per_hour), time(*created_at)]
}

/// An organization from `id, name, created_at, rate_limit_per_hour`.
pub fn organization_from_row(row: &impl Row) -> StoreResult<Organization> {
    Ok(Organization {
        id: row.uuid(0)?,
        name: row.text(1)?,
        created_at: row.time(2)?,
        rate_limit_per_hour: row.int(3)?,
    })
}

/// A `NewToken`'s parameters for `INSERT_TOKEN`.
pub fn new_token_parameters(token: &NewToken) -> Vec<Value> {
    let NewToken { id, organization_id, label, role, token_hash, masked_token, created_by, created_at, expires_at } =
        token;
    vec![
        uuid(*id),
        uuid(*organization_id),
        text(label),
        enum_text(role),
        text(token_hash),
        text(masked_token),
        time(*created_at),
        Value::Uuid(*created_by),
        Value::Time(*expires_at),
    ]
}

/// A token with its organization, from the columns of `token_select!`.
pub fn grant_from_row(row: &impl Row) -> StoreResult<TokenGrant> {
    let created_by = row.uuid_opt(9)?.zip(row.text_opt(10)?).map(|(id, label)| TokenActor { id, label });
    Ok(TokenGrant {
        organization_id: row.uuid(1)?,
        rate_limit_per_hour: u32::try_from(row.int(11)?).unwrap_or(u32::MAX),
        token: Token {
            id: row.uuid(0)?,
            label: row.text(2)?,
            role: parse_enum(row.text(3)?)?,
            masked_token: row.text(4)?,
            status: parse_enum(row.text(5)?)?,
            created_at: row.time(6)?,
            created_by,
            last_used_at: row.time_opt(7)?,
            expires_at: row.time_opt(8)?,
        },
    })
}

pub fn token_from_row(row: &impl Row) -> StoreResult<Token> {
    grant_from_row(row).map(|grant| grant.token)
}

pub fn audit_event_parameters(organization_id: Uuid, event: &AuditEvent) -> Vec<Value> {
    let AuditEvent { id, occurred_at, action, actor, target, changes, request_id } = event;
    vec![
        uuid(*id),
        uuid(organization_id),
        time(*occurred_at),
        enum_text(action),
        Value::Uuid(actor.as_ref().map(|actor| actor.id)),
        Value::Text(actor.as_ref().map(|actor| actor.label.clone())),
        enum_text(&target.kind),
        uuid(target.id),
        json(changes),
        Value::Text(request_id.clone()),
    ]
}

/// An event from the columns `audit_page` selects.
pub fn audit_event_from_row(row: &impl Row) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        id: row.uuid(0)?,
        occurred_at: row.time(1)?,
        action: parse_enum(row.text(2)?)?,
        actor: row.uuid_opt(3)?.zip(row.text_opt(4)?).map(|(id, label)| TokenActor { id, label }),
        target: AuditTarget { kind: parse_enum(row.text(5)?)?, id: row.uuid(6)? },
        changes: row.json(7)?,
        request_id: row.text_opt(8)?,
    })
}

/// A record from `fingerprint, status, nonce, sealed_body`.
pub fn idempotency_record_from_row(row: &impl Row) -> StoreResult<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        fingerprint: row.bytes(0)?,
        response: SealedResponse {
            // Only statuses the server answered with are recorded.
            status: u16::try_from(row.int32(1)?).unwrap_or(500),
            nonce: row.bytes(2)?,
            sealed_body: row.bytes(3)?,
        },
    })
}

/// A count, as `COUNT(*)` gives it.
pub fn count_from_row(row: &impl Row) -> StoreResult<i64> {
    row.int(0)
}
