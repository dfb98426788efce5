//! Slows down token guessing: a client address that fails authentication
//! too often is refused (429) for a while, whatever token it sends next —
//! otherwise a guess that happened to be right would still get through and
//! tell the guesser so.

use std::{
    collections::HashMap,
    net::IpAddr,
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

/// Addresses with recorded failures kept before forgetting the idle ones.
const TRACKED_ADDRESSES_BEFORE_CLEANUP: usize = 10_000;

pub struct FailedAuthLimiter {
    /// Allows `per_minute` failures per address, in a burst or spread out.
    failures: DefaultKeyedRateLimiter<IpAddr>,
    /// Addresses over their allowance, and until when they are refused.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

impl FailedAuthLimiter {
    pub fn new(failures_per_minute: NonZeroU32) -> Self {
        Self { failures: RateLimiter::dashmap(Quota::per_minute(failures_per_minute)), blocked: Mutex::default() }
    }

    /// `Err(wait)` while `address` is refused.
    pub fn check(&self, address: IpAddr) -> Result<(), Duration> {
        let mut blocked = self.blocked.lock().expect("the blocked-address map is never poisoned");
        match blocked.get(&address) {
            Some(until) => match until.checked_duration_since(Instant::now()) {
                Some(wait) if !wait.is_zero() => Err(wait),
                _ => {
                    blocked.remove(&address);
                    Ok(())
                }
            },
            None => Ok(()),
        }
    }

    /// Counts a failed authentication from `address`; past the allowance the
    /// address is refused until the allowance has room again.
    pub fn record_failure(&self, address: IpAddr) {
        if let Err(not_until) = self.failures.check_key(&address) {
            let wait = not_until.wait_time_from(self.failures.clock().now());
            let mut blocked = self.blocked.lock().expect("the blocked-address map is never poisoned");
            blocked.insert(address, Instant::now() + wait);
            blocked.retain(|_, until| *until > Instant::now());
        }
        if self.failures.len() > TRACKED_ADDRESSES_BEFORE_CLEANUP {
            self.failures.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_allowance_and_others_are_not() {
        let limiter = FailedAuthLimiter::new(NonZeroU32::new(3).unwrap());
        let guesser: IpAddr = "192.0.2.1".parse().unwrap();
        let bystander: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(guesser).is_ok());
            limiter.record_failure(guesser);
        }
        assert!(limiter.check(guesser).is_ok(), "three failures are within the allowance");
        limiter.record_failure(guesser);
        let wait = limiter.check(guesser).expect_err("the fourth failure blocks the address");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limiter.check(bystander).is_ok());
    }
}
