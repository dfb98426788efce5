//! The delivery worker over an in-memory `DeliveryQueue` that keeps leases
//! as the store does, against a receiver on loopback.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::watch;
use uuid::Uuid;

use super::{
    queue::{AttemptRecord, DeliveryQueue, DueDelivery, NextStep},
    sender::Sender,
    test_receiver::{Reply, TestReceiver},
    worker::{DeliveryWorker, WorkerSettings},
};
use crate::store::{StorageFault, StoreError, StoreResult};

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

struct Row {
    delivery: DueDelivery,
    due_at: DateTime<Utc>,
    leased_until: Option<DateTime<Utc>>,
    done: bool,
}

/// Deliveries in memory, claimed under a lease like the store's. A retry is
/// due at once (the schedule's waits are its own tests' concern), and the
/// store can be made to fail.
#[derive(Default)]
struct FakeQueue {
    rows: Mutex<Vec<Row>>,
    attempts: Mutex<Vec<AttemptRecord>>,
    disabled: Mutex<Vec<(Uuid, String)>>,
    failing_since: Mutex<Option<DateTime<Utc>>>,
    store_down: Mutex<bool>,
    claims_tried: Mutex<usize>,
    /// Bumped on every call, for `wait_until`.
    calls: watch::Sender<usize>,
}

impl FakeQueue {
    fn with_deliveries(urls: &[&str]) -> Arc<Self> {
        let queue = Arc::new(Self::default());
        for url in urls {
            queue.add(url);
        }
        queue
    }

    fn add(&self, url: &str) -> DueDelivery {
        let delivery = DueDelivery {
            id: Uuid::now_v7(),
            event_id: Uuid::now_v7(),
            endpoint_id: Uuid::now_v7(),
            organization_id: Uuid::now_v7(),
            url: url.to_owned(),
            signing_secret: Ok(SECRET.to_owned()),
            payload: format!(r#"{{"type":"app.created","n":{}}}"#, self.rows.lock().unwrap().len()),
            attempts: 0,
            created_at: Utc::now(),
        };
        let row = Row { delivery: delivery.clone(), due_at: Utc::now(), leased_until: None, done: false };
        self.rows.lock().unwrap().push(row);
        delivery
    }

    fn attempts(&self) -> Vec<AttemptRecord> {
        self.attempts.lock().unwrap().clone()
    }

    async fn wait_for_attempts(&self, count: usize) {
        self.wait_until(&format!("{count} attempts"), |queue| queue.attempts.lock().unwrap().len() >= count).await;
    }

    /// Waits (10 s at most) until the worker's calls have made `condition` true.
    async fn wait_until(&self, what: &str, condition: impl Fn(&Self) -> bool) {
        let mut calls = self.calls.subscribe();
        tokio::time::timeout(Duration::from_secs(10), calls.wait_for(|_| condition(self)))
            .await
            .unwrap_or_else(|_| panic!("{what} within 10 s; attempts: {:?}", self.attempts()))
            .unwrap();
    }

    fn check_store(&self) -> StoreResult<()> {
        self.calls.send_modify(|calls| *calls += 1);
        if *self.store_down.lock().unwrap() { Err(StoreError::Fault(StorageFault::Unavailable)) } else { Ok(()) }
    }
}

#[async_trait]
impl DeliveryQueue for FakeQueue {
    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        *self.claims_tried.lock().unwrap() += 1;
        self.check_store()?;
        let mut rows = self.rows.lock().unwrap();
        let claimable = rows
            .iter_mut()
            .filter(|row| !row.done && row.due_at <= now && row.leased_until.is_none_or(|until| until <= now))
            .take(limit as usize);
        let mut claimed = Vec::new();
        for row in claimable {
            row.leased_until = Some(now + chrono::Duration::from_std(lease).unwrap());
            claimed.push(row.delivery.clone());
        }
        Ok(claimed)
    }

    async fn record_attempt(&self, attempt: &AttemptRecord) -> StoreResult<Option<DateTime<Utc>>> {
        self.check_store()?;
        let mut rows = self.rows.lock().unwrap();
        let row = rows.iter_mut().find(|row| row.delivery.id == attempt.delivery_id).unwrap();
        row.leased_until = None;
        row.delivery.attempts += 1;
        row.done = !matches!(attempt.next, NextStep::RetryAt(_));
        self.attempts.lock().unwrap().push(attempt.clone());
        self.calls.send_modify(|calls| *calls += 1);
        let failing_since = *self.failing_since.lock().unwrap();
        Ok(if attempt.next == NextStep::Delivered { None } else { Some(failing_since.unwrap_or(attempt.attempted_at)) })
    }

    async fn disable_failing_endpoint(&self, endpoint_id: Uuid, reason: &str) -> StoreResult<()> {
        self.check_store()?;
        self.disabled.lock().unwrap().push((endpoint_id, reason.to_owned()));
        self.calls.send_modify(|calls| *calls += 1);
        Ok(())
    }
}

fn settings() -> WorkerSettings {
    WorkerSettings {
        idle_poll: Duration::from_millis(10),
        first_store_wait: Duration::from_millis(10),
        longest_store_wait: Duration::from_millis(50),
        ..WorkerSettings::default()
    }
}

fn worker(queue: &Arc<FakeQueue>, allowed: &str) -> DeliveryWorker {
    worker_with(queue, allowed, settings())
}

fn worker_with(queue: &Arc<FakeQueue>, allowed: &str, settings: WorkerSettings) -> DeliveryWorker {
    let sender = Sender::with_timeout(allowed.parse().unwrap(), Duration::from_millis(300)).unwrap();
    DeliveryWorker::new(queue.clone(), sender, settings)
}

/// Aborts the worker when the test ends, passed or not.
struct Running(tokio::task::JoinHandle<()>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn start(worker: DeliveryWorker) -> Running {
    Running(worker.spawn())
}

#[tokio::test]
async fn a_delivery_answered_200_is_delivered_once() {
    let receiver = TestReceiver::start([]).await;
    let queue = FakeQueue::with_deliveries(&[&receiver.url()]);

    let _worker = start(worker(&queue, "127.0.0.0/8"));
    queue.wait_for_attempts(1).await;

    let [attempt] = queue.attempts().try_into().unwrap();
    assert_eq!((attempt.status_code, attempt.error, attempt.next), (Some(200), None, NextStep::Delivered));
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_500_then_a_200_is_retried_with_the_same_webhook_id() {
    let receiver = TestReceiver::start([Reply::Status(500)]).await;
    let queue = FakeQueue::with_deliveries(&[&receiver.url()]);

    let _worker = start(worker(&queue, "127.0.0.0/8"));
    queue.wait_for_attempts(2).await;

    let [failed, delivered] = queue.attempts().try_into().unwrap();
    assert_eq!((failed.status_code, failed.error.as_deref()), (Some(500), Some("the receiver answered 500")));
    assert!(matches!(failed.next, NextStep::RetryAt(at) if at > failed.attempted_at + chrono::Duration::seconds(4)));
    assert_eq!((delivered.status_code, delivered.next), (Some(200), NextStep::Delivered));
    let ids: Vec<_> = receiver.received().iter().map(|received| received.headers["webhook-id"].clone()).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1], "receivers drop duplicates by webhook-id");
}

#[tokio::test]
async fn a_redirect_is_recorded_as_failed_and_not_followed() {
    let receiver = TestReceiver::start([Reply::Redirect]).await;
    let queue = FakeQueue::with_deliveries(&[&receiver.url()]);

    let _worker = start(worker(&queue, "127.0.0.0/8"));
    queue.wait_for_attempts(1).await;

    let attempt = &queue.attempts()[0];
    assert_eq!(attempt.status_code, Some(302));
    assert!(matches!(attempt.next, NextStep::RetryAt(_)));
    assert!(receiver.received().iter().all(|received| received.path == "/hooks/appdeck"));
}

#[tokio::test]
async fn a_hung_receiver_times_out_and_is_retried() {
    let receiver = TestReceiver::start([Reply::Hang]).await;
    let queue = FakeQueue::with_deliveries(&[&receiver.url()]);

    let _worker = start(worker(&queue, "127.0.0.0/8"));
    queue.wait_for_attempts(2).await;

    let [timed_out, delivered] = queue.attempts().try_into().unwrap();
    assert_eq!((timed_out.status_code, timed_out.error.as_deref()), (None, Some("no answer within 0.3 s")));
    assert!(timed_out.latency < Duration::from_secs(5), "{:?}", timed_out.latency);
    assert_eq!(delivered.next, NextStep::Delivered);
}

#[tokio::test]
async fn a_private_target_is_refused_unless_allowed() {
    let receiver = TestReceiver::start([]).await;
    let queue = FakeQueue::with_deliveries(&[&receiver.url()]);

    let refusing = start(worker(&queue, ""));
    queue.wait_for_attempts(1).await;
    drop(refusing);

    let refused = &queue.attempts()[0];
    assert_eq!(refused.error.as_deref(), Some("refused: 127.0.0.1 is a loopback address"));
    assert!(matches!(refused.next, NextStep::RetryAt(_)), "a refusal is a failed attempt, retried on schedule");
    assert!(receiver.received().is_empty());

    let allowed_attempts = queue.attempts().len() + 1;
    let _allowing = start(worker(&queue, "127.0.0.1"));
    queue.wait_for_attempts(allowed_attempts).await;
    assert_eq!(queue.attempts().last().unwrap().next, NextStep::Delivered);
}

#[tokio::test]
async fn two_workers_over_one_queue_never_send_one_delivery_at_once() {
    let receiver = TestReceiver::start(vec![Reply::SlowOk(Duration::from_millis(50)); 40]).await;
    let url = receiver.url();
    let queue = FakeQueue::with_deliveries(&[url.as_str(); 40]);

    // Small batches, so that both workers claim round after round.
    let small_batches = WorkerSettings { batch: 4, ..settings() };
    let _first = start(worker_with(&queue, "127.0.0.0/8", small_batches.clone()));
    let _second = start(worker_with(&queue, "127.0.0.0/8", small_batches));
    queue.wait_for_attempts(40).await;

    assert!(!receiver.saw_one_delivery_twice_at_once());
    let mut ids: Vec<_> = receiver.received().iter().map(|received| received.headers["webhook-id"].clone()).collect();
    assert_eq!(ids.len(), 40);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "each delivery sent once when nothing fails");
}

#[tokio::test]
async fn the_worker_waits_out_a_store_that_is_down_and_resumes() {
    let receiver = TestReceiver::start([]).await;
    let queue = FakeQueue::with_deliveries(&[]);
    *queue.store_down.lock().unwrap() = true;

    let worker = start(worker(&queue, "127.0.0.0/8"));
    queue.add(&receiver.url());
    queue.wait_until("three claims refused", |queue| *queue.claims_tried.lock().unwrap() >= 3).await;
    assert!(!worker.0.is_finished(), "a store error never stops the worker");
    assert!(receiver.received().is_empty());
    *queue.store_down.lock().unwrap() = false;
    queue.wait_for_attempts(1).await;

    assert_eq!(queue.attempts()[0].next, NextStep::Delivered);
}

#[tokio::test]
async fn an_endpoint_failing_for_more_than_five_days_is_disabled() {
    let receiver = TestReceiver::start([Reply::Status(503)]).await;
    let queue = FakeQueue::with_deliveries(&[&receiver.url()]);
    let endpoint_id = queue.rows.lock().unwrap()[0].delivery.endpoint_id;
    *queue.failing_since.lock().unwrap() = Some(Utc::now() - chrono::Duration::days(6));

    let _worker = start(worker(&queue, "127.0.0.0/8"));
    queue.wait_until("the endpoint disabled", |queue| !queue.disabled.lock().unwrap().is_empty()).await;

    let [(disabled, reason)] = queue.disabled.lock().unwrap().clone().try_into().unwrap();
    assert_eq!(disabled, endpoint_id);
    assert!(reason.contains("more than 5 days"), "{reason}");
}

#[tokio::test]
async fn the_application_runs_the_worker_while_it_serves() {
    let receiver = TestReceiver::start([]).await;
    let queue = FakeQueue::with_deliveries(&[&receiver.url()]);
    let directory = tempfile::tempdir().unwrap();
    let mut config =
        crate::config::Config::with_database_url(format!("sqlite://{}", directory.path().join("a.db").display()));
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.webhook_allowed_hosts = "127.0.0.1".parse().unwrap();
    let store = crate::startup::open_store(&config).await.unwrap();
    let application =
        crate::startup::Application::build(&config, store).await.unwrap().deliver_webhooks_from(queue.clone()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();

    let serving = tokio::spawn(application.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    queue.wait_for_attempts(1).await;
    stop.send(()).unwrap();

    tokio::time::timeout(Duration::from_secs(10), serving).await.expect("stopped").unwrap().unwrap();
    assert_eq!(queue.attempts()[0].next, NextStep::Delivered);
}
