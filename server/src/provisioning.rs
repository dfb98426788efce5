//! Making organizations and tokens: the one place a token's secret is born.
//! Used by the API, the server's CLI, the first start on an empty database,
//! and tests.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    auth::issue_token,
    domain::{
        self, ValidationError,
        audit::AuditContext,
        organization::{Organization, validate_organization_name},
        quota::Quotas,
        token::{NewToken, RollApiTokenRequest, Token, TokenRole, TokenRoll, validate_expiry, validate_label},
    },
    store::{Store, StoreResult},
};

/// A token together with its secret, which exists only in this value.
pub struct TokenWithSecret {
    pub token: Token,
    pub secret: String,
}

/// Creates an organization and its first admin token, labelled `admin`;
/// the server itself is the audit actor.
pub async fn create_organization(
    store: &dyn Store,
    name: &str,
    rate_limit_per_hour: i64,
) -> StoreResult<(Organization, TokenWithSecret)> {
    let organization = Organization {
        id: Uuid::now_v7(),
        name: validate_organization_name(name)?,
        created_at: domain::now(),
        rate_limit_per_hour,
    };
    let (new_token, secret) = new_token(organization.id, "admin", TokenRole::Admin, None, None)?;
    let token = store.create_organization(&organization, &new_token, &AuditContext::default()).await?;
    Ok((organization, TokenWithSecret { token, secret }))
}

/// Creates a token of `role` in an organization, made by the server itself.
pub async fn create_token(
    store: &dyn Store,
    organization_id: Uuid,
    label: &str,
    role: TokenRole,
) -> StoreResult<TokenWithSecret> {
    let (new_token, secret) = new_token(organization_id, label, role, None, None)?;
    let token = store.create_token(&new_token, &AuditContext::default(), Quotas::default()).await?;
    Ok(TokenWithSecret { token, secret })
}

/// Creates a token for an operator with access to the database (the
/// break-glass `token create`), in an organization that must exist. Like
/// every token made by the server itself, its audit event has no actor;
/// the operator's own trail is the server's log line.
pub async fn create_token_for_operator(
    store: &dyn Store,
    organization_id: Uuid,
    label: &str,
    role: TokenRole,
) -> anyhow::Result<TokenWithSecret> {
    if store.get_organization(organization_id).await?.is_none() {
        anyhow::bail!("no organization has the id {organization_id}");
    }
    Ok(create_token(store, organization_id, label, role).await?)
}

/// A token ready to insert, and its secret. `created_by` is the token that
/// asked for it, `None` when the server itself made it.
pub fn new_token(
    organization_id: Uuid,
    label: &str,
    role: TokenRole,
    created_by: Option<Uuid>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(NewToken, String), ValidationError> {
    let issued = issue_token();
    let now = domain::now();
    let new_token = NewToken {
        id: Uuid::now_v7(),
        organization_id,
        label: validate_label(label)?,
        role,
        token_hash: issued.hash,
        masked_token: issued.masked,
        created_by,
        created_at: now,
        expires_at: validate_expiry(expires_at, now)?,
    };
    Ok((new_token, issued.secret))
}

/// A new secret for an existing token, and what the store writes for it;
/// the old secret keeps working for the overlap the request asks.
pub fn roll_token(request: &RollApiTokenRequest) -> Result<(TokenRoll, String), ValidationError> {
    let overlap = request.overlap()?;
    let issued = issue_token();
    let roll = TokenRoll {
        token_hash: issued.hash,
        masked_token: issued.masked,
        previous_expires_at: overlap.map(|overlap| domain::now() + overlap),
    };
    Ok((roll, issued.secret))
}
