//! Slows down token guessing: a client address may fail authentication a
//! set number of times in any rolling minute; past that it is refused (429)
//! before its token is even looked at, whatever token it sends. Otherwise a
//! guess that happened to be right would still get through and tell the
//! guesser so.
//!
//! A GCRA limiter such as governor cannot serve here: it answers "may this
//! one pass?" only by spending allowance, while this check has to ask
//! before the attempt (whose outcome is not known yet) and spend only when
//! the attempt fails.

use std::{
    collections::{HashMap, VecDeque},
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use async_trait::async_trait;

use crate::rate_limit::LimitStoreUnavailable;

/// The seam for where failures are counted: this process's memory, or a
/// store shared by every instance (`rate_limit::redis`).
#[async_trait]
pub trait FailedAuthLimit: Send + Sync {
    /// `Some(wait)` while `address` has used up its allowance.
    async fn check(&self, address: IpAddr) -> Result<Option<Duration>, LimitStoreUnavailable>;
    /// Counts a failed authentication from `address`.
    async fn record_failure(&self, address: IpAddr);
}

pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked before the idle ones are forgotten in one sweep.
const TRACKED_ADDRESSES_BEFORE_SWEEP: usize = 10_000;

pub struct FailedAuthLimiter {
    allowance: usize,
    /// The times of each address's failures within the last `WINDOW`, oldest first.
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl FailedAuthLimiter {
    /// Allows `failures_per_minute` failed authentications per address in any rolling minute.
    pub fn new(failures_per_minute: u32) -> Self {
        Self { allowance: failures_per_minute.max(1) as usize, failures: Mutex::default() }
    }
}

#[async_trait]
impl FailedAuthLimit for FailedAuthLimiter {
    async fn check(&self, address: IpAddr) -> Result<Option<Duration>, LimitStoreUnavailable> {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("the failure map is never poisoned");
        let Some(times) = failures.get_mut(&address) else { return Ok(None) };
        forget_old(times, now);
        if times.len() >= self.allowance {
            let oldest = *times.front().expect("a full allowance has a first failure");
            return Ok(Some((oldest + WINDOW).saturating_duration_since(now)));
        }
        if times.is_empty() {
            failures.remove(&address);
        }
        Ok(None)
    }

    async fn record_failure(&self, address: IpAddr) {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("the failure map is never poisoned");
        let times = failures.entry(address).or_default();
        forget_old(times, now);
        times.push_back(now);
        if failures.len() > TRACKED_ADDRESSES_BEFORE_SWEEP {
            failures.retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
        }
    }
}

fn forget_old(times: &mut VecDeque<Instant>, now: Instant) {
    while times.front().is_some_and(|time| now.duration_since(*time) >= WINDOW) {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_address_is_refused_once_its_allowance_is_used_and_others_are_not() {
        let limiter = FailedAuthLimiter::new(3);
        let guesser: IpAddr = "192.0.2.1".parse().unwrap();
        let bystander: IpAddr = "192.0.2.2".parse().unwrap();
        for attempt in 1..=3 {
            assert_eq!(limiter.check(guesser).await, Ok(None), "attempt {attempt} is within the allowance");
            limiter.record_failure(guesser).await;
        }
        let wait = limiter.check(guesser).await.unwrap().expect("the fourth attempt is refused before it is checked");
        assert!(wait > Duration::ZERO && wait <= WINDOW, "{wait:?}");
        assert_eq!(limiter.check(bystander).await, Ok(None));
    }

    #[test]
    fn failures_older_than_the_window_are_forgotten() {
        let mut times = VecDeque::from([Instant::now()]);
        forget_old(&mut times, Instant::now() + WINDOW);
        assert!(times.is_empty());
    }
}
