//! Signed webhooks: events from the audit log delivered to each
//! organization's endpoints, per Standard Webhooks.

pub mod allowed_hosts;
pub mod queue;
pub mod schedule;
pub mod sender;
pub mod signature;
pub mod ssrf_guard;
#[cfg(test)]
mod test_receiver;
pub mod worker;
#[cfg(test)]
mod worker_tests;
