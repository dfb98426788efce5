//! Waiting for the server's clock, whose timestamps have millisecond precision.

use std::time::Duration;

/// Waiting a little guarantees that a write made after the wait is
/// timestamped later than one made before it.
pub async fn let_the_clock_move() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}
