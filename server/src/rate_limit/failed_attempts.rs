//! Slows down token guessing: a client address may fail authentication a
//! set number of times in any rolling minute; past that, each further
//! failure is answered 429 instead of 401 and is not counted.
//!
//! The token is always looked up first. A valid token is therefore never
//! refused because others at its address failed: behind a proxy or a NAT,
//! one guesser would otherwise lock every client out. What the limit bounds
//! is the guesser's cost to the server (an address over its allowance
//! costs one indexed read per attempt, the token lookup) and what a guess
//! teaches; a token's 190 random bits are what keep it from being guessed.
//!
//! Checking the allowance and counting the failure are one atomic step, so
//! simultaneous guesses cannot all pass a check before any is counted.
//!
//! A GCRA limiter such as governor cannot serve here: it answers "may this
//! one pass?" only by spending allowance, while this limit must spend only
//! when an attempt has failed.

use std::{
    collections::{HashMap, VecDeque},
    hash::{BuildHasher, RandomState},
    net::IpAddr,
    sync::{Arc, Mutex, Weak},
    time::{Duration, Instant},
};

use async_trait::async_trait;

use super::LimitStoreUnavailable;

/// The seam for where failures are counted: this process's memory, or a
/// store shared by every instance (`redis`).
#[async_trait]
pub trait FailedAuthLimit: Send + Sync {
    /// In one atomic step: counts a failed authentication of `address` when
    /// it is within its allowance (`None`: answer 401), or else reports how
    /// long until it is (`Some(wait)`: answer 429; nothing is counted).
    async fn count_failure(&self, address: IpAddr) -> Result<Option<Duration>, LimitStoreUnavailable>;
}

pub const WINDOW: Duration = Duration::from_secs(60);
/// Independent locks, so that failures from different addresses rarely wait on each other.
const SHARDS: usize = 16;
/// The most addresses tracked at once. When a shard is full, a failure from
/// an address it does not hold is answered 429 until a sweep frees room:
/// memory stays bounded, and valid tokens are not affected.
const TRACKED_ADDRESSES: usize = 100_000;
/// How often addresses whose failures have all left the window are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Failures of each address within the last `WINDOW`, oldest first.
type Shard = HashMap<IpAddr, VecDeque<Instant>>;

pub struct FailedAuthLimiter {
    allowance: usize,
    shards: [Mutex<Shard>; SHARDS],
    hasher: RandomState,
}

impl FailedAuthLimiter {
    /// Allows `failures_per_minute` failed authentications per address in any
    /// rolling minute. Not swept: see `start`.
    fn new(failures_per_minute: u32) -> Self {
        Self {
            allowance: failures_per_minute.max(1) as usize,
            shards: std::array::from_fn(|_| Mutex::default()),
            hasher: RandomState::new(),
        }
    }

    /// Allows `failures_per_minute` failed authentications per address in any
    /// rolling minute; swept every `SWEEP_EVERY` by a background task, which
    /// ends when the limiter is dropped.
    pub fn start(failures_per_minute: u32) -> Arc<Self> {
        let limiter = Arc::new(Self::new(failures_per_minute));
        let weak: Weak<Self> = Arc::downgrade(&limiter);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(SWEEP_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(limiter) = weak.upgrade() else { return };
                limiter.sweep(Instant::now());
            }
        });
        limiter
    }

    fn shard(&self, address: IpAddr) -> &Mutex<Shard> {
        let index = (self.hasher.hash_one(address) % SHARDS as u64) as usize;
        &self.shards[index]
    }

    fn count_failure_at(&self, address: IpAddr, now: Instant) -> Option<Duration> {
        let mut shard = self.shard(address).lock().expect("a failure shard is never poisoned");
        if !shard.contains_key(&address) && shard.len() >= TRACKED_ADDRESSES / SHARDS {
            return Some(SWEEP_EVERY);
        }
        let times = shard.entry(address).or_default();
        forget_old(times, now);
        if times.len() >= self.allowance {
            let oldest = *times.front().expect("a full allowance has a first failure");
            return Some((oldest + WINDOW).saturating_duration_since(now).max(Duration::from_millis(1)));
        }
        times.push_back(now);
        None
    }

    /// Forgets addresses with no failure left in the window, one shard at a time.
    fn sweep(&self, now: Instant) {
        for shard in &self.shards {
            shard.lock().expect("a failure shard is never poisoned").retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
        }
    }

    #[cfg(test)]
    fn tracked_addresses(&self) -> usize {
        self.shards.iter().map(|shard| shard.lock().expect("a failure shard is never poisoned").len()).sum()
    }
}

#[async_trait]
impl FailedAuthLimit for FailedAuthLimiter {
    async fn count_failure(&self, address: IpAddr) -> Result<Option<Duration>, LimitStoreUnavailable> {
        Ok(self.count_failure_at(address, Instant::now()))
    }
}

fn forget_old(times: &mut VecDeque<Instant>, now: Instant) {
    while times.front().is_some_and(|time| now.duration_since(*time) >= WINDOW) {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[tokio::test]
    async fn an_address_is_refused_once_its_allowance_is_used_and_others_are_not() {
        let limiter = FailedAuthLimiter::new(3);
        let guesser: IpAddr = "192.0.2.1".parse().unwrap();
        let bystander: IpAddr = "192.0.2.2".parse().unwrap();
        for attempt in 1..=3 {
            assert_eq!(limiter.count_failure(guesser).await, Ok(None), "failure {attempt} is within the allowance");
        }
        let wait = limiter.count_failure(guesser).await.unwrap().expect("the fourth failure is refused");
        assert!(wait > Duration::ZERO && wait <= WINDOW, "{wait:?}");
        assert_eq!(limiter.count_failure(bystander).await, Ok(None));
    }

    #[test]
    fn failures_leave_the_window_and_the_sweep_forgets_their_address() {
        let limiter = FailedAuthLimiter::new(1);
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        let start = Instant::now();
        assert_eq!(limiter.count_failure_at(address, start), None);
        assert!(limiter.count_failure_at(address, start + WINDOW / 2).is_some(), "refused within the window");
        limiter.sweep(start + WINDOW / 2);
        assert_eq!(limiter.tracked_addresses(), 1, "a failure in the window is kept");
        limiter.sweep(start + WINDOW);
        assert_eq!(limiter.tracked_addresses(), 0);
        assert_eq!(limiter.count_failure_at(address, start + WINDOW), None, "allowed again after the window");
    }

    #[test]
    fn a_full_table_refuses_new_addresses_until_swept() {
        let limiter = FailedAuthLimiter::new(5);
        let start = Instant::now();
        let mut refused = 0;
        for index in 0..(TRACKED_ADDRESSES + SHARDS * 10) as u32 {
            let address = IpAddr::V4(Ipv4Addr::from_bits(index));
            refused += usize::from(limiter.count_failure_at(address, start).is_some());
        }
        assert!(limiter.tracked_addresses() <= TRACKED_ADDRESSES);
        assert!(refused >= SHARDS * 10, "the addresses past the bound are refused: {refused}");
        limiter.sweep(start + WINDOW);
        assert_eq!(limiter.tracked_addresses(), 0);
        assert_eq!(limiter.count_failure_at(IpAddr::V4(Ipv4Addr::BROADCAST), start + WINDOW), None);
    }

    #[tokio::test]
    async fn the_background_sweep_ends_with_the_limiter() {
        let limiter = FailedAuthLimiter::start(3);
        let weak = Arc::downgrade(&limiter);
        drop(limiter);
        assert!(weak.upgrade().is_none(), "the sweeping task does not keep the limiter alive");
    }
}
