//! Signed webhooks: events from the audit log delivered to each
//! organization's endpoints, per Standard Webhooks.

pub mod queue;
