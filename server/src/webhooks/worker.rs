//! The delivery worker: a background task that claims due deliveries under
//! a lease, attempts them concurrently, records each attempt with its next
//! step from the schedule, and disables an endpoint that has failed too long.
//!
//! It never stops on a store error: the error is logged once per streak and
//! the claim retried with backoff, so a database that goes away and comes
//! back pauses deliveries and nothing else. A delivery whose attempt could
//! not be recorded keeps its lease until it ends and is then attempted
//! again: delivery is at least once.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use tokio::task::{JoinHandle, JoinSet};

use super::{
    queue::{AttemptRecord, DeliveryQueue, DueDelivery},
    schedule,
    sender::Sender,
};
use crate::store::StoreResult;

/// How the worker paces itself.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// How long a claimed delivery is kept from other workers: longer than
    /// an attempt and its record can take, so that no two workers send it
    /// at once.
    pub lease: Duration,
    /// Most deliveries claimed, and so attempted at once, per round.
    pub batch: u32,
    /// The wait before the next claim when the last found less than a batch.
    pub idle_poll: Duration,
    /// The first wait after a store error, doubled while errors continue, up to `longest_store_wait`.
    pub first_store_wait: Duration,
    pub longest_store_wait: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            batch: 32,
            idle_poll: Duration::from_secs(1),
            first_store_wait: Duration::from_millis(500),
            longest_store_wait: Duration::from_secs(30),
        }
    }
}

#[derive(Clone)]
pub struct DeliveryWorker {
    queue: Arc<dyn DeliveryQueue>,
    sender: Sender,
    settings: WorkerSettings,
}

impl DeliveryWorker {
    /// A lease that could end while an attempt is still being sent or
    /// recorded would let another worker send it at the same moment: the
    /// lease must be more than twice the attempt's timeout.
    pub fn new(queue: Arc<dyn DeliveryQueue>, sender: Sender, settings: WorkerSettings) -> Self {
        assert!(
            settings.lease > sender.timeout() * 2,
            "the delivery lease must be more than twice the attempt timeout"
        );
        Self { queue, sender, settings }
    }

    /// Runs the worker until the handle is aborted. An attempt in flight then
    /// is abandoned, and made again once its lease ends.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(self.run())
    }

    async fn run(self) {
        let mut store_wait: Option<Duration> = None;
        loop {
            match self.deliver_due().await {
                Ok(claimed) => {
                    if store_wait.take().is_some() {
                        tracing::info!("webhook deliveries resumed: the store answers again");
                    }
                    if claimed < self.settings.batch as usize {
                        tokio::time::sleep(self.settings.idle_poll).await;
                    }
                }
                Err(error) => {
                    let wait = match store_wait {
                        None => {
                            tracing::warn!(error = %error, "webhook deliveries paused: the store failed; retrying with backoff");
                            self.settings.first_store_wait
                        }
                        Some(wait) => (wait * 2).min(self.settings.longest_store_wait),
                    };
                    store_wait = Some(wait);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One round: claims what is due and attempts all of it at once.
    /// Answers how many deliveries were claimed, or the first store error.
    async fn deliver_due(&self) -> StoreResult<usize> {
        let due = self.queue.claim_due_deliveries(Utc::now(), self.settings.lease, self.settings.batch).await?;
        let claimed = due.len();
        let mut attempts = JoinSet::new();
        for delivery in due {
            let worker = self.clone();
            attempts.spawn(async move { worker.attempt(delivery).await });
        }
        let mut first_error = None;
        while let Some(joined) = attempts.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    first_error.get_or_insert(error);
                }
                // Its lease ends and the delivery is attempted again.
                Err(panicked) => tracing::error!(error = %panicked, "a webhook attempt panicked"),
            }
        }
        first_error.map_or(Ok(claimed), Err)
    }

    async fn attempt(&self, delivery: DueDelivery) -> StoreResult<()> {
        let attempted_at = Utc::now();
        let outcome = self.sender.send(&delivery, attempted_at).await;
        let next = schedule::next_step(outcome.delivered(), delivery.attempts + 1, delivery.id, attempted_at);
        tracing::debug!(
            delivery_id = %delivery.id,
            endpoint_id = %delivery.endpoint_id,
            status = outcome.status_code,
            error = outcome.error.as_deref(),
            ?next,
            "webhook attempt"
        );
        let record = AttemptRecord {
            delivery_id: delivery.id,
            attempted_at,
            status_code: outcome.status_code,
            latency: outcome.latency,
            error: outcome.error,
            next,
        };
        let Some(failing_since) = self.queue.record_attempt(&record).await? else { return Ok(()) };
        if schedule::should_disable(failing_since, Utc::now()) {
            let reason = format!(
                "every delivery failed since {}, for more than {} days",
                failing_since.to_rfc3339(),
                schedule::DISABLE_AFTER.as_secs() / 86_400
            );
            tracing::warn!(endpoint_id = %delivery.endpoint_id, reason, "webhook endpoint disabled");
            self.queue.disable_failing_endpoint(delivery.endpoint_id, &reason).await?;
        }
        Ok(())
    }
}
