//! The per-token hourly request limit. `RateLimiter` is the seam: the
//! in-process limiter here serves one instance; `redis::RedisLimits` stands
//! behind the same trait for several. Beside it, `failed_attempts` limits
//! failed authentications per client address, behind the same two stores.
//!
//! The limit is a GCRA (generic cell rate algorithm), as governor
//! implements it: an allowance of `limit` requests that refills evenly over
//! the hour, so a token never waits for a whole window to reopen.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, RwLock},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use governor::{
    Quota, RateLimiter as Governor,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};
use uuid::Uuid;

mod failed_attempts;
pub mod redis;

pub use failed_attempts::{FailedAuthLimit, FailedAuthLimiter, WINDOW as FAILED_AUTH_WINDOW};

const HOUR: Duration = Duration::from_secs(3600);
/// Tokens tracked by one per-limit table before idle ones are forgotten.
const TRACKED_TOKENS_BEFORE_SWEEP: usize = 100_000;

/// What one request did to a token's allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitDecision {
    pub allowed: bool,
    /// Requests an hour.
    pub limit: u32,
    /// Requests left now.
    pub remaining: u32,
    /// Unix seconds when the full allowance is back.
    pub reset_at: u64,
    /// When refused: how long until one more request is allowed.
    pub retry_after: Duration,
}

impl RateLimitDecision {
    /// What a request is told when the limit could not be counted (fail-open).
    pub fn unlimited(limit: u32) -> Self {
        Self {
            allowed: true,
            limit,
            remaining: limit,
            reset_at: unix_seconds_after(Duration::ZERO),
            retry_after: Duration::ZERO,
        }
    }

    /// Sets `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let pairs = [
            ("x-ratelimit-limit", u64::from(self.limit)),
            ("x-ratelimit-remaining", u64::from(self.remaining)),
            ("x-ratelimit-reset", self.reset_at),
        ];
        for (name, value) in pairs {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}

/// Where `auth::authenticate` leaves a request's rate-limit decision for
/// the request timeout, a layer outside it that may answer in its place.
#[derive(Debug, Clone, Default)]
pub struct CountedRequest(Arc<std::sync::OnceLock<RateLimitDecision>>);

impl CountedRequest {
    pub fn record(&self, decision: RateLimitDecision) {
        self.0.set(decision).ok();
    }

    pub fn decision(&self) -> Option<RateLimitDecision> {
        self.0.get().copied()
    }
}

/// A shared limit store that did not answer, in fail-closed mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitStoreUnavailable;

#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one request of `token_id`, whose organization allows `limit_per_hour`.
    async fn hit(&self, token_id: Uuid, limit_per_hour: u32) -> Result<RateLimitDecision, LimitStoreUnavailable>;
}

type KeyedGovernor = Governor<Uuid, DefaultKeyedStateStore<Uuid>, DefaultClock, StateInformationMiddleware>;

/// Limits in this process's memory: right for one instance.
#[derive(Default)]
pub struct InProcessRateLimiter {
    /// One governor per hourly limit, since a governor has one quota for all its keys.
    by_limit: RwLock<HashMap<u32, Arc<KeyedGovernor>>>,
}

impl InProcessRateLimiter {
    fn governor_for(&self, limit: NonZeroU32) -> Arc<KeyedGovernor> {
        if let Some(governor) = self.by_limit.read().expect("the limiter table is never poisoned").get(&limit.get()) {
            return governor.clone();
        }
        let mut by_limit = self.by_limit.write().expect("the limiter table is never poisoned");
        by_limit
            .entry(limit.get())
            .or_insert_with(|| {
                let quota = Quota::with_period(HOUR / limit.get()).expect("a positive period").allow_burst(limit);
                Arc::new(Governor::dashmap(quota).with_middleware::<StateInformationMiddleware>())
            })
            .clone()
    }
}

#[async_trait]
impl RateLimiter for InProcessRateLimiter {
    async fn hit(&self, token_id: Uuid, limit_per_hour: u32) -> Result<RateLimitDecision, LimitStoreUnavailable> {
        let limit = NonZeroU32::new(limit_per_hour).unwrap_or(NonZeroU32::MIN);
        let governor = self.governor_for(limit);
        let refill_every = HOUR / limit.get();
        let decision = match governor.check_key(&token_id) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                RateLimitDecision {
                    allowed: true,
                    limit: limit.get(),
                    remaining,
                    reset_at: unix_seconds_after(refill_every * (limit.get() - remaining)),
                    retry_after: Duration::ZERO,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(governor.clock().now());
                RateLimitDecision {
                    allowed: false,
                    limit: limit.get(),
                    remaining: 0,
                    reset_at: unix_seconds_after(refill_every * limit.get()),
                    retry_after: wait,
                }
            }
        };
        if governor.len() > TRACKED_TOKENS_BEFORE_SWEEP {
            governor.retain_recent();
        }
        Ok(decision)
    }
}

/// Unix time `delay` from now, rounded up to a whole second.
pub(crate) fn unix_seconds_after(delay: Duration) -> u64 {
    let moment = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + delay;
    moment.as_secs() + u64::from(moment.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_gets_its_limit_then_is_refused_and_others_are_not() {
        let limiter = InProcessRateLimiter::default();
        let (token, other) = (Uuid::now_v7(), Uuid::now_v7());
        for expected_remaining in (0..3).rev() {
            let decision = limiter.hit(token, 3).await.unwrap();
            assert!(decision.allowed);
            assert_eq!((decision.limit, decision.remaining), (3, expected_remaining));
        }
        let refused = limiter.hit(token, 3).await.unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert!(refused.retry_after > Duration::ZERO && refused.retry_after <= Duration::from_secs(1200));
        assert!(limiter.hit(other, 3).await.unwrap().allowed);
    }

    #[tokio::test]
    async fn reset_is_when_the_whole_allowance_is_back() {
        let limiter = InProcessRateLimiter::default();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let decision = limiter.hit(Uuid::now_v7(), 1000).await.unwrap();
        // One request used: back after one refill interval of 3.6 s.
        assert!(decision.reset_at >= now + 3 && decision.reset_at <= now + 5, "{decision:?}");
    }

    #[test]
    fn headers_are_written() {
        let decision =
            RateLimitDecision { allowed: true, limit: 10, remaining: 7, reset_at: 42, retry_after: Duration::ZERO };
        let mut headers = HeaderMap::new();
        decision.write_headers(&mut headers);
        assert_eq!(headers["x-ratelimit-limit"], "10");
        assert_eq!(headers["x-ratelimit-remaining"], "7");
        assert_eq!(headers["x-ratelimit-reset"], "42");
    }
}
