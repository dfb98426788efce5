//! Authentication and authorization: `authenticate`, the middleware in
//! front of every `/v1` route (failed-auth limit, token, rate limit); the
//! extractors handlers declare (`Caller`, `Authorized<P>` for a role,
//! `AuditContext` for writes); and the role matrix.

mod token_format;

pub use token_format::{IssuedToken, TOKEN_PREFIX, hash_token, is_well_formed, issue_token};

use std::{
    marker::PhantomData,
    net::{IpAddr, Ipv6Addr, SocketAddr},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{Extensions, HeaderMap, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::TimeDelta;
use uuid::Uuid;

use crate::{
    client_address::counted_as,
    domain::{
        audit::AuditContext,
        token::{Token, TokenActor, TokenRole, TokenStatus},
    },
    error::ApiError,
    metrics::RateLimitReason,
    rate_limit::{CountedRequest, LimitStoreUnavailable},
    state::AppState,
};

/// `last_used_at` is refreshed at most this often, so reads stay reads.
const LAST_USED_RESOLUTION: TimeDelta = TimeDelta::minutes(1);

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

/// The authenticated token behind a request; any role. Put in the request
/// by `authenticate`, which every `/v1` route is behind.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: Token,
    pub organization_id: Uuid,
    /// The organization's hourly request limit per token.
    pub rate_limit_per_hour: u32,
}

impl Caller {
    pub fn role(&self) -> TokenRole {
        self.token.role
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("{} is not behind auth::authenticate", parts.uri.path())))
    }
}

/// Who a write is recorded against: the calling token (with its label now)
/// and the request's `X-Request-Id`.
impl<S: Send + Sync> FromRequestParts<S> for AuditContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        // By the rule the response and the logs follow, so the event holds
        // the very id the client was answered with.
        let request_id = crate::request_id::of(&parts.headers).map(str::to_owned);
        Ok(AuditContext { actor: Some(TokenActor { id: caller.token.id, label: caller.token.label }), request_id })
    }
}

/// Middleware for every `/v1` route: authenticates the request, counts it
/// against the token's hourly limit, and writes the `X-RateLimit-*`
/// headers on whatever the handler answers.
pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let caller = match identify(request.headers(), request.extensions(), &state).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    tracing::Span::current().record("token_id", tracing::field::display(caller.token.id));
    let decision = match state.rate_limiter.hit(caller.token.id, caller.rate_limit_per_hour).await {
        Ok(decision) => decision,
        Err(LimitStoreUnavailable) => return ApiError::LimitStoreUnavailable.into_response(),
    };
    if let Some(counted) = request.extensions().get::<CountedRequest>() {
        counted.record(decision);
    }
    let mut response = if decision.allowed {
        request.extensions_mut().insert(caller);
        next.run(request).await
    } else {
        state.metrics.count_rate_limited(RateLimitReason::TokenLimit);
        ApiError::RateLimited { retry_after: decision.retry_after, limit: decision.limit }.into_response()
    };
    decision.write_headers(response.headers_mut());
    response
}

/// Who is calling: refuses a missing, malformed, unknown, revoked or
/// expired token (401) and a disabled one (403). A failure past the
/// allowance of the client's address is answered 429 instead of 401.
async fn identify(headers: &HeaderMap, extensions: &Extensions, state: &AppState) -> Result<Caller, ApiError> {
    let presented = presented_token(headers).ok_or(ApiError::Unauthorized(
        "An API token is required: send X-API-Key, Authorization: Token or Authorization: Bearer",
    ))?;
    let result = look_up(presented, state).await;
    if matches!(result, Err(ApiError::Unauthorized(_))) {
        let address = counted_as(state.client_addressing.client_address(peer_address(extensions), headers));
        let refused_for = state
            .failed_auth
            .count_failure(address)
            .await
            .map_err(|LimitStoreUnavailable| ApiError::LimitStoreUnavailable)?;
        if let Some(wait) = refused_for {
            state.metrics.count_rate_limited(RateLimitReason::FailedAuthentication);
            return Err(ApiError::TooManyFailedAuthentications(wait));
        }
    }
    result
}

/// The TCP peer's address; unknown (and so shared) when the server runs
/// without connection info, as in router tests.
fn peer_address(extensions: &Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |ConnectInfo(address)| address.ip())
}

/// Checks the token's format before any database read, then looks up its
/// hash: the database never sees, and nothing ever compares, the token itself.
async fn look_up(presented: &str, state: &AppState) -> Result<Caller, ApiError> {
    if !is_well_formed(presented) {
        return Err(ApiError::Unauthorized("Invalid API token"));
    }
    let now = crate::domain::now();
    let grant = state
        .store
        .find_token_by_hash(&hash_token(presented), now)
        .await?
        .ok_or(ApiError::Unauthorized("Invalid API token"))?;
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
    Ok(Caller { token, organization_id: grant.organization_id, rate_limit_per_hour: grant.rate_limit_per_hour })
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

impl<S: Send + Sync, P: RequiredPermission> FromRequestParts<S> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
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
