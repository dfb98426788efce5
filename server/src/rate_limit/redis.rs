//! Limits kept in Redis, so that several instances share them: the
//! per-token hourly limit (the same GCRA as the in-process limiter, in one
//! Lua script: one round trip, atomic) and the failed-authentication
//! allowance per client address (a sorted set of failure times). Redis's
//! clock is the one clock all instances read.
//!
//! When Redis cannot be reached, `FailureMode` decides: let requests
//! through (open) or refuse them with 503 (closed). Either way the error is
//! logged and counted in `appdeck_limit_store_errors_total`.

use std::{net::IpAddr, sync::Arc, time::Duration};

use async_trait::async_trait;
use redis::{Script, aio::ConnectionManager};
use uuid::Uuid;

use super::{LimitStoreUnavailable, RateLimitDecision, RateLimiter, unix_seconds_after};
use crate::{
    auth::{FAILED_AUTH_WINDOW, FailedAuthLimit},
    metrics::Metrics,
};

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

/// KEYS[1]: the address's failures. ARGV[1]: allowance, ARGV[2]: window in
/// ms. Returns 0 when the address may try, else ms to wait.
const CHECK_FAILURES: &str = r"
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
";

/// KEYS[1]: the address's failures. ARGV[1]: window in ms, ARGV[2]: a
/// unique member for this failure.
const RECORD_FAILURE: &str = r"
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0
";

pub struct RedisLimits {
    connection: ConnectionManager,
    /// Namespaces every key, so deployments (or tests) can share a Redis.
    key_prefix: String,
    failure_mode: FailureMode,
    metrics: Arc<Metrics>,
    gcra: Script,
    check_failures: Script,
    record_failure: Script,
    failures_per_minute: u32,
}

impl RedisLimits {
    /// Connects to `redis_url`; the connection manager reconnects by itself
    /// after Redis restarts.
    pub async fn connect(
        redis_url: &str,
        key_prefix: String,
        failure_mode: FailureMode,
        failures_per_minute: u32,
        metrics: Arc<Metrics>,
    ) -> redis::RedisResult<Self> {
        let connection = redis::Client::open(redis_url)?.get_connection_manager().await?;
        Ok(Self {
            connection,
            key_prefix,
            failure_mode,
            metrics,
            gcra: Script::new(GCRA),
            check_failures: Script::new(CHECK_FAILURES),
            record_failure: Script::new(RECORD_FAILURE),
            failures_per_minute: failures_per_minute.max(1),
        })
    }

    fn report(&self, error: &redis::RedisError) {
        tracing::warn!(%error, failure_mode = ?self.failure_mode, "the rate-limit store did not answer");
        self.metrics.count_limit_store_error();
    }

    fn failures_key(&self, address: IpAddr) -> String {
        format!("{}failed-auth:{address}", self.key_prefix)
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
        let mut connection = self.connection.clone();
        let result: redis::RedisResult<(i64, i64, i64, i64)> = self
            .gcra
            .key(format!("{}rate:{token_id}", self.key_prefix))
            .arg(interval_ms)
            .arg(limit)
            .invoke_async(&mut connection)
            .await;
        match result {
            Ok((allowed, remaining, full_in_ms, retry_in_ms)) => Ok(RateLimitDecision {
                allowed: allowed == 1,
                limit,
                remaining: u32::try_from(remaining).unwrap_or_default(),
                reset_at: unix_seconds_after(millis(full_in_ms)),
                retry_after: millis(retry_in_ms),
            }),
            Err(error) => {
                self.report(&error);
                match self.failure_mode {
                    FailureMode::Open => Ok(RateLimitDecision::unlimited(limit)),
                    FailureMode::Closed => Err(LimitStoreUnavailable),
                }
            }
        }
    }
}

#[async_trait]
impl FailedAuthLimit for RedisLimits {
    async fn check(&self, address: IpAddr) -> Result<Option<Duration>, LimitStoreUnavailable> {
        let mut connection = self.connection.clone();
        let result: redis::RedisResult<i64> = self
            .check_failures
            .key(self.failures_key(address))
            .arg(self.failures_per_minute)
            .arg(FAILED_AUTH_WINDOW.as_millis() as u64)
            .invoke_async(&mut connection)
            .await;
        match result {
            Ok(0) => Ok(None),
            Ok(wait_ms) => Ok(Some(millis(wait_ms))),
            Err(error) => {
                self.report(&error);
                match self.failure_mode {
                    FailureMode::Open => Ok(None),
                    FailureMode::Closed => Err(LimitStoreUnavailable),
                }
            }
        }
    }

    async fn record_failure(&self, address: IpAddr) {
        let mut connection = self.connection.clone();
        let result: redis::RedisResult<i64> = self
            .record_failure
            .key(self.failures_key(address))
            .arg(FAILED_AUTH_WINDOW.as_millis() as u64)
            .arg(Uuid::now_v7().to_string())
            .invoke_async(&mut connection)
            .await;
        if let Err(error) = result {
            self.report(&error);
        }
    }
}
