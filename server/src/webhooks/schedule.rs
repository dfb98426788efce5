//! When a failed delivery is tried again, and when an endpoint that keeps
//! failing is disabled. Pure functions of the attempt count and the time.
//!
//! The waits are Svix's (the Standard Webhooks authors'): after the first
//! attempt 5 s, then 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, each within
//! ±10% so that retries of one outage do not all land at once. Eight
//! attempts over about 27 hours, then the delivery is given up.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::queue::NextStep;

/// The wait after each failed attempt: `RETRY_WAITS[0]` after the first.
pub const RETRY_WAITS: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// A wait is stretched or shortened by up to this share of itself.
const JITTER_PERCENT: i64 = 10;

/// An endpoint that has failed, with no success in between, for longer
/// than this is disabled. A constant rather than a setting: the retries
/// alone span more than a day, and an admin can re-enable an endpoint.
pub const DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);

/// What follows an attempt made at `now`, the `attempts_made`-th (counting
/// it) of its delivery. The jitter comes from the delivery's id, so one
/// delivery's schedule is the same on every instance and in every test run.
pub fn next_step(delivered: bool, attempts_made: u32, delivery_id: Uuid, now: DateTime<Utc>) -> NextStep {
    if delivered {
        return NextStep::Delivered;
    }
    let Some(wait) = attempts_made.checked_sub(1).and_then(|index| RETRY_WAITS.get(index as usize)) else {
        return NextStep::GaveUp;
    };
    let wait = chrono::Duration::from_std(*wait).expect("a retry wait fits chrono's range");
    NextStep::RetryAt(now + wait + jitter(wait, delivery_id, attempts_made))
}

/// Whether an endpoint failing since `failing_since` should be disabled at `now`.
pub fn should_disable(failing_since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now.signed_duration_since(failing_since).to_std().is_ok_and(|failing_for| failing_for > DISABLE_AFTER)
}

fn jitter(wait: chrono::Duration, delivery_id: Uuid, attempts_made: u32) -> chrono::Duration {
    // The id's random bits (the low half of a UUIDv7), mixed with the
    // attempt so that each retry of one delivery moves differently.
    let seed = (delivery_id.as_u128() as u64) ^ u64::from(attempts_made).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let span = wait.num_milliseconds() * JITTER_PERCENT / 100;
    if span == 0 {
        return chrono::Duration::zero();
    }
    let offset = (seed % (2 * span as u64 + 1)) as i64 - span;
    chrono::Duration::milliseconds(offset)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn a_success_is_delivered_whatever_the_count() {
        assert_eq!(next_step(true, 1, Uuid::now_v7(), at(0)), NextStep::Delivered);
        assert_eq!(next_step(true, 8, Uuid::now_v7(), at(0)), NextStep::Delivered);
    }

    #[test]
    fn each_failure_waits_its_step_within_ten_percent_then_the_delivery_is_given_up() {
        for _ in 0..200 {
            let delivery_id = Uuid::now_v7();
            for (index, wait) in RETRY_WAITS.iter().enumerate() {
                let NextStep::RetryAt(retry_at) = next_step(false, index as u32 + 1, delivery_id, at(0)) else {
                    panic!("attempt {} is retried", index + 1);
                };
                let waited = (retry_at - at(0)).to_std().unwrap();
                assert!(waited >= wait.mul_f64(0.9) && waited <= wait.mul_f64(1.1), "{waited:?} for {wait:?}");
            }
            assert_eq!(next_step(false, 8, delivery_id, at(0)), NextStep::GaveUp);
        }
    }

    #[test]
    fn the_schedule_spans_about_a_day() {
        let total: Duration = RETRY_WAITS.iter().sum();
        assert_eq!(total, Duration::from_secs(27 * 3600 + 35 * 60 + 5));
    }

    #[test]
    fn one_delivery_gets_one_schedule_and_others_spread_around_it() {
        let delivery_id = Uuid::now_v7();
        assert_eq!(next_step(false, 3, delivery_id, at(0)), next_step(false, 3, delivery_id, at(0)));
        let retries: std::collections::HashSet<DateTime<Utc>> = (0..50)
            .filter_map(|_| match next_step(false, 3, Uuid::now_v7(), at(0)) {
                NextStep::RetryAt(retry_at) => Some(retry_at),
                _ => None,
            })
            .collect();
        assert!(retries.len() > 40, "jitter spreads retries: {} distinct of 50", retries.len());
    }

    #[test]
    fn an_endpoint_is_disabled_only_after_failing_for_more_than_five_days() {
        let five_days = 5 * 24 * 3600;
        assert!(!should_disable(at(0), at(five_days)));
        assert!(should_disable(at(0), at(five_days + 1)));
        assert!(!should_disable(at(10), at(0)), "a clock that went back disables nothing");
    }
}
