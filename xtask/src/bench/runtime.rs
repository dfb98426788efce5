//! The one tokio runtime the bench's database calls run on, made on first
//! use: the rest of the bench is synchronous, and a runtime per call would
//! start and stop its driver each time.

use std::sync::LazyLock;

use tokio::runtime::{Builder, Runtime};

static RUNTIME: LazyLock<Runtime> =
    LazyLock::new(|| Builder::new_current_thread().enable_all().build().expect("a tokio runtime"));

/// Runs `future` to completion on the bench's runtime.
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    RUNTIME.block_on(future)
}
