//! API tokens: the `apps_` format with its checksum, storage by SHA-256 hash,
//! the `Caller` extractor that authenticates a request, and the role matrix.

use std::marker::PhantomData;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header, request::Parts},
};
use chrono::TimeDelta;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    domain::token::{Token, TokenRole, TokenStatus},
    error::ApiError,
    secret::{base62_fixed, is_base62, random_base62},
    state::AppState,
};

pub const TOKEN_PREFIX: &str = "apps_";
const RANDOM_CHARS: usize = 32;
const CHECKSUM_CHARS: usize = 6;
/// `last_used_at` is refreshed at most this often, so reads stay reads.
const LAST_USED_RESOLUTION: TimeDelta = TimeDelta::minutes(1);

/// A freshly made token. `secret` is shown once and then dropped; only
/// `hash` and `masked` are stored.
pub struct IssuedToken {
    pub secret: String,
    pub hash: String,
    pub masked: String,
}

pub fn issue_token() -> IssuedToken {
    let random = random_base62(RANDOM_CHARS);
    let secret = format!("{TOKEN_PREFIX}{random}{}", checksum(&random));
    IssuedToken { hash: hash_token(&secret), masked: mask_token(&secret), secret }
}

/// Base62 CRC32 of the random part, so typos and made-up strings are refused
/// without a database read, and leaked tokens can be recognised by scanners.
fn checksum(random: &str) -> String {
    base62_fixed(u64::from(crc32fast::hash(random.as_bytes())), CHECKSUM_CHARS)
}

/// Whether `candidate` has the prefix, length, alphabet and checksum of a token.
pub fn is_well_formed(candidate: &str) -> bool {
    let Some(body) = candidate.strip_prefix(TOKEN_PREFIX) else { return false };
    if body.len() != RANDOM_CHARS + CHECKSUM_CHARS || !is_base62(body) {
        return false;
    }
    let (random, sum) = body.split_at(RANDOM_CHARS);
    checksum(random) == sum
}

/// Lower-case hex SHA-256: what the database keeps instead of the token.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `apps_AbCd…wXyZ`: enough to recognise a token, far too little to use it.
fn mask_token(token: &str) -> String {
    let head = &token[..TOKEN_PREFIX.len() + 4];
    let tail = &token[token.len() - 4..];
    format!("{head}…{tail}")
}

/// The token a request presents: `X-API-Key`, or `Authorization` with the
/// `Token` or `Bearer` scheme.
fn presented_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get("x-api-key") {
        return value.to_str().ok().map(str::trim);
    }
    let authorization = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credentials) = authorization.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer")).then(|| credentials.trim())
}

/// The authenticated token behind a request; any role.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: Token,
    pub organization_id: Uuid,
}

impl Caller {
    pub fn role(&self) -> TokenRole {
        self.token.role
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = presented_token(&parts.headers).ok_or(ApiError::Unauthorized(
            "An API token is required: send X-API-Key, Authorization: Token or Authorization: Bearer",
        ))?;
        if !is_well_formed(presented) {
            return Err(ApiError::Unauthorized("Invalid API token"));
        }
        let grant = state
            .store
            .find_token_by_hash(&hash_token(presented))
            .await?
            .ok_or(ApiError::Unauthorized("Invalid API token"))?;
        let now = crate::domain::now();
        if grant.token.expires_at.is_some_and(|expires_at| expires_at <= now) {
            return Err(ApiError::Unauthorized("API token has expired"));
        }
        if grant.token.status == TokenStatus::Disabled {
            return Err(ApiError::TokenDisabled);
        }
        let mut token = grant.token;
        let is_stale = token.last_used_at.is_none_or(|last_used| now - last_used >= LAST_USED_RESOLUTION);
        if is_stale {
            state.store.touch_token(token.id, now).await?;
            token.last_used_at = Some(now);
        }
        Ok(Self { token, organization_id: grant.organization_id })
    }
}

/// What an operation needs beyond a valid token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create, update, delete apps and rotate their secrets.
    WriteApps,
    /// Manage tokens and organization settings.
    Administer,
    /// See apps' `api_secret` and platform credentials unmasked.
    ReadSecrets,
}

/// The role matrix of API.md, in one place. Every role may read apps.
pub fn role_allows(role: TokenRole, permission: Permission) -> bool {
    match permission {
        Permission::WriteApps | Permission::ReadSecrets => matches!(role, TokenRole::Admin | TokenRole::Developer),
        Permission::Administer => role == TokenRole::Admin,
    }
}

/// Names a permission at the type level, so a handler declares it in its signature.
pub trait RequiredPermission {
    const PERMISSION: Permission;
}

pub struct WriteApps;
impl RequiredPermission for WriteApps {
    const PERMISSION: Permission = Permission::WriteApps;
}

pub struct Administer;
impl RequiredPermission for Administer {
    const PERMISSION: Permission = Permission::Administer;
}

/// A `Caller` whose role has permission `P`; checked before the body is read.
pub struct Authorized<P> {
    pub caller: Caller,
    permission: PhantomData<P>,
}

impl<P: RequiredPermission> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !role_allows(caller.role(), P::PERMISSION) {
            return Err(ApiError::Forbidden("This token's role may not do this"));
        }
        Ok(Self { caller, permission: PhantomData })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_are_well_formed_and_distinct() {
        let first = issue_token();
        let second = issue_token();
        assert!(is_well_formed(&first.secret), "{}", first.secret);
        assert_eq!(first.secret.len(), TOKEN_PREFIX.len() + RANDOM_CHARS + CHECKSUM_CHARS);
        assert_ne!(first.secret, second.secret);
        assert_eq!(first.hash, hash_token(&first.secret));
        assert_eq!(first.hash.len(), 64);
    }

    #[test]
    fn a_changed_character_breaks_the_checksum() {
        let token = issue_token().secret;
        let mut altered: Vec<char> = token.chars().collect();
        let index = TOKEN_PREFIX.len() + 3;
        altered[index] = if altered[index] == 'a' { 'b' } else { 'a' };
        assert!(!is_well_formed(&altered.into_iter().collect::<String>()));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let token = issue_token().secret;
        assert!(!is_well_formed(""));
        assert!(!is_well_formed(&token[1..]));
        assert!(!is_well_formed(&format!("{token}x")));
        assert!(!is_well_formed(&token.replacen("apps_", "appx_", 1)));
        assert!(!is_well_formed(&format!("apps_{}", "!".repeat(38))));
    }

    #[test]
    fn masked_form_shows_only_the_ends() {
        let issued = issue_token();
        assert!(issued.masked.starts_with(&issued.secret[..9]));
        assert!(issued.masked.ends_with(&issued.secret[issued.secret.len() - 4..]));
        assert_eq!(issued.masked.chars().count(), 14);
    }

    #[test]
    fn all_three_header_forms_are_accepted() {
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", "apps_a".parse().unwrap());
        assert_eq!(presented_token(&headers), Some("apps_a"));
        for value in ["Token apps_b", "Bearer apps_b", "bearer  apps_b"] {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(presented_token(&headers), Some("apps_b"), "{value}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(presented_token(&headers), None);
    }

    #[test]
    fn role_matrix_matches_the_contract() {
        assert!(role_allows(TokenRole::Admin, Permission::WriteApps));
        assert!(role_allows(TokenRole::Developer, Permission::WriteApps));
        assert!(!role_allows(TokenRole::Ci, Permission::WriteApps));
        assert!(role_allows(TokenRole::Admin, Permission::Administer));
        assert!(!role_allows(TokenRole::Developer, Permission::Administer));
        assert!(!role_allows(TokenRole::Ci, Permission::Administer));
        assert!(role_allows(TokenRole::Developer, Permission::ReadSecrets));
        assert!(!role_allows(TokenRole::Ci, Permission::ReadSecrets));
    }
}
