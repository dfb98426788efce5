//! Limits kept in Redis, so that several instances share them: the
//! per-token hourly limit (the same GCRA as the in-process limiter, in one
//! Lua script: one round trip, atomic) and the failed-authentication
//! allowance per client address (a sorted set of failure times). Redis's
//! clock is the one clock all instances read.
//!
//! When Redis cannot be reached, `FailureMode` decides: let requests
//! through (open) or refuse them with 503 (closed). Either way the error is
//! logged and counted in `appdeck_limit_store_errors_total`.

use std::{
    net::IpAddr,
    sync::{Arc, OnceLock, Weak},
    time::Duration,
};

use anyhow::Context;
use async_trait::async_trait;
use redis::{Script, aio::ConnectionManager};
use uuid::Uuid;

use super::{
    FAILED_AUTH_WINDOW, FailedAuthLimit, LimitStoreUnavailable, RateLimitDecision, RateLimiter, unix_seconds_after,
};
use crate::metrics::Metrics;

/// What to do when Redis does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailureMode {
    /// Let the request through, unlimited: availability over strictness.
    Open,
    /// Refuse the request with 503.
    Closed,
}

/// GCRA. KEYS[1]: the token's key. ARGV[1]: emission interval in ms (one
/// hour / limit), ARGV[2]: the limit. Returns {allowed, remaining,
/// ms until the whole allowance is back, ms until one more is allowed}.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local tolerance = interval * (limit - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tolerance then
  return {0, 0, tat - now, tat - now - tolerance}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
local remaining = math.floor((tolerance + interval - (new_tat - now)) / interval)
return {1, remaining, new_tat - now, 0}
";

/// Checks and counts a failed authentication in one step, so simultaneous
/// failures cannot all pass the check before any is counted. KEYS[1]: the
/// address's failures. ARGV[1]: allowance, ARGV[2]: window in ms, ARGV[3]:
/// a unique member for this failure. Returns 0 when the failure was
/// counted, else ms until the address may fail again (nothing counted).
const COUNT_FAILURE: &str = r"
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
";

pub struct RedisLimits {
    /// Set once Redis has answered; until then every call counts as Redis
    /// not answering (see `connect`).
    connection: Arc<OnceLock<ConnectionManager>>,
    /// Namespaces every key, so deployments (or tests) can share a Redis.
    key_prefix: String,
    failure_mode: FailureMode,
    metrics: Arc<Metrics>,
    gcra: Script,
    count_failure: Script,
    failures_per_minute: u32,
}

/// The longest wait between two attempts to reach Redis from the background.
const MOST_BETWEEN_CONNECTION_ATTEMPTS: Duration = Duration::from_secs(30);

impl RedisLimits {
    /// Connects to `redis_url`; the connection manager reconnects by itself
    /// after Redis restarts. When Redis does not answer now: in `open` mode
    /// the server starts anyway, with limits open, and keeps trying in the
    /// background; in `closed` mode it would refuse every request, so this
    /// is an error and the server does not start.
    pub async fn connect(
        redis_url: &str,
        key_prefix: String,
        failure_mode: FailureMode,
        failures_per_minute: u32,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let client = redis::Client::open(redis_url).context("REDIS_URL: not a Redis URL")?;
        let connection = Arc::new(OnceLock::new());
        match reach(&client).await {
            Ok(manager) => {
                connection.set(manager).ok();
            }
            Err(error) if failure_mode == FailureMode::Open => {
                tracing::warn!(%error, "Redis does not answer: serving with rate limits open while connecting in the background");
                metrics.count_limit_store_error();
                tokio::spawn(connect_in_background(client, Arc::downgrade(&connection)));
            }
            Err(error) => {
                return Err(anyhow::Error::new(error).context(
                    "REDIS_URL: cannot connect to Redis, and APPDECK_REDIS_FAILURE_MODE is `closed`, which would \
                     refuse every request (`open` starts without Redis and connects when it can)",
                ));
            }
        }
        Ok(Self {
            connection,
            key_prefix,
            failure_mode,
            metrics,
            gcra: Script::new(GCRA),
            count_failure: Script::new(COUNT_FAILURE),
            failures_per_minute: failures_per_minute.max(1),
        })
    }

    /// Runs a script; `None` when Redis did not answer (logged and counted).
    async fn invoke<T: redis::FromRedisValue>(&self, invocation: redis::ScriptInvocation<'_>) -> Option<T> {
        let Some(connection) = self.connection.get() else {
            tracing::warn!(failure_mode = ?self.failure_mode, "the rate-limit store is not connected yet");
            self.metrics.count_limit_store_error();
            return None;
        };
        match invocation.invoke_async(&mut connection.clone()).await {
            Ok(value) => Some(value),
            Err(error) => {
                tracing::warn!(%error, failure_mode = ?self.failure_mode, "the rate-limit store did not answer");
                self.metrics.count_limit_store_error();
                None
            }
        }
    }

    /// What a request gets when Redis did not answer: `when_open`, or 503.
    fn unanswered<T>(&self, when_open: T) -> Result<T, LimitStoreUnavailable> {
        match self.failure_mode {
            FailureMode::Open => Ok(when_open),
            FailureMode::Closed => Err(LimitStoreUnavailable),
        }
    }

    fn failures_key(&self, address: IpAddr) -> String {
        format!("{}failed-auth:{address}", self.key_prefix)
    }
}

/// One attempt to connect, then the connection manager. The manager's own
/// first connection retries for seconds with back-off, which neither a
/// start nor the background loop (which has its own) should wait for.
async fn reach(client: &redis::Client) -> redis::RedisResult<ConnectionManager> {
    client.get_multiplexed_async_connection().await?;
    client.get_connection_manager().await
}

/// Tries to reach Redis until it answers, waiting longer after each
/// failure; stops when the limits it would serve are dropped.
async fn connect_in_background(client: redis::Client, connection: Weak<OnceLock<ConnectionManager>>) {
    let mut wait = Duration::from_millis(500);
    loop {
        tokio::time::sleep(wait).await;
        let Some(slot) = connection.upgrade() else { return };
        match reach(&client).await {
            Ok(manager) => {
                slot.set(manager).ok();
                tracing::info!("connected to Redis: rate limits are shared again");
                return;
            }
            Err(error) => tracing::warn!(%error, "Redis still does not answer"),
        }
        wait = (wait * 2).min(MOST_BETWEEN_CONNECTION_ATTEMPTS);
    }
}

fn millis(value: i64) -> Duration {
    Duration::from_millis(u64::try_from(value).unwrap_or_default())
}

#[async_trait]
impl RateLimiter for RedisLimits {
    async fn hit(&self, token_id: Uuid, limit_per_hour: u32) -> Result<RateLimitDecision, LimitStoreUnavailable> {
        let limit = limit_per_hour.max(1);
        let interval_ms = (3_600_000 / u64::from(limit)).max(1);
        let mut invocation = self.gcra.key(format!("{}rate:{token_id}", self.key_prefix));
        invocation.arg(interval_ms).arg(limit);
        match self.invoke::<(i64, i64, i64, i64)>(invocation).await {
            Some((allowed, remaining, full_in_ms, retry_in_ms)) => Ok(RateLimitDecision {
                allowed: allowed == 1,
                limit,
                remaining: u32::try_from(remaining).unwrap_or_default(),
                reset_at: unix_seconds_after(millis(full_in_ms)),
                retry_after: millis(retry_in_ms),
            }),
            None => self.unanswered(RateLimitDecision::unlimited(limit)),
        }
    }
}

#[async_trait]
impl FailedAuthLimit for RedisLimits {
    async fn count_failure(&self, address: IpAddr) -> Result<Option<Duration>, LimitStoreUnavailable> {
        let mut invocation = self.count_failure.key(self.failures_key(address));
        invocation
            .arg(self.failures_per_minute)
            .arg(FAILED_AUTH_WINDOW.as_millis() as u64)
            .arg(Uuid::now_v7().to_string());
        match self.invoke::<i64>(invocation).await {
            Some(0) => Ok(None),
            Some(wait_ms) => Ok(Some(millis(wait_ms))),
            None => self.unanswered(None),
        }
    }
}
