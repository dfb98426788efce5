//! Paging through a list as the generated client does it.

use std::num::NonZeroU64;

use uuid::Uuid;

/// `value` as the `limit` parameter of the generated client's list calls.
pub fn limit(value: u64) -> Option<NonZeroU64> {
    Some(NonZeroU64::new(value).expect("a non-zero limit"))
}

/// Whether every id is greater than the one before it.
pub fn is_strictly_increasing(ids: &[Uuid]) -> bool {
    ids.windows(2).all(|pair| pair[0] < pair[1])
}
