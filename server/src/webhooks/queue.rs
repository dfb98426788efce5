//! The seam between the delivery worker and the store: the worker claims due
//! deliveries under a lease and records each attempt; the store owns the rows.
//!
//! A delivery is one event to one endpoint. Its row is written in the
//! transaction of the write that caused the event (the audit log is the
//! outbox), so no event is lost and none exists for a write that rolled back.
//!
//! The trait and its types are defined in `store::delivery_queue`, so that
//! the store implements them without a module cycle (`webhooks` names the
//! store); this is where the worker reaches them.

pub use crate::store::delivery_queue::{AttemptRecord, DeliveryQueue, DueDelivery, NextStep};
