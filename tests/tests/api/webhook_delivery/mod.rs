//! Webhooks end to end: the real server's worker delivering the API's
//! events to a receiver on loopback, signed, retried, never to an internal
//! address unless allowed, and once across instances.

mod deletion_races;
mod events;
mod instances;
mod retries;
mod routing;
mod ssrf;

use std::{
    collections::VecDeque,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use appdeck_server::webhooks::signature::SigningKey;
use appdeck_tests::TestApp;
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde_json::{Value, json};
use uuid::Uuid;

/// How long a test waits for what it expects before failing: generous, as
/// the machine running the tests may be loaded.
const DEADLINE: Duration = Duration::from_secs(45);

/// One delivery as the receiver got it.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
    }

    fn id(&self) -> &str {
        self.header("webhook-id")
    }

    fn event(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a delivery's body is JSON")
    }

    fn event_type(&self) -> String {
        self.event()["type"].as_str().unwrap_or_default().to_owned()
    }
}

#[derive(Default)]
struct Recorded {
    script: Mutex<VecDeque<u16>>,
    received: Mutex<Vec<Received>>,
}

/// A webhook receiver on 127.0.0.1 that records every request and answers
/// the statuses scripted for it in order, then 200.
struct Receiver {
    url: String,
    recorded: Arc<Recorded>,
}

impl Receiver {
    async fn start() -> Self {
        Self::answering([]).await
    }

    async fn answering(script: impl IntoIterator<Item = u16>) -> Self {
        let recorded = Arc::new(Recorded { script: Mutex::new(script.into_iter().collect()), ..Default::default() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
        let url = format!("http://{}/hooks", listener.local_addr().expect("the receiver's address"));
        let router = Router::new().fallback(receive).with_state(recorded.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, recorded }
    }

    fn received(&self) -> Vec<Received> {
        self.recorded.received.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received; returns it then.
    async fn wait_until(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        eventually(what, || async {
            let received = self.received();
            done(&received).then_some(received)
        })
        .await
    }

    /// Waits for a delivery of each of `types`; returns everything received.
    async fn wait_for_types(&self, types: &[&str]) -> Vec<Received> {
        self.wait_until(&format!("deliveries of {types:?}"), |received| {
            types.iter().all(|wanted| received.iter().any(|delivery| delivery.event_type() == *wanted))
        })
        .await
    }
}

async fn receive(State(recorded): State<Arc<Recorded>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    recorded.received.lock().unwrap().push(Received { headers, body });
    let status = recorded.script.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).expect("a scripted status is valid")
}

/// Polls `check` until it gives a value, failing after `DEADLINE`.
async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, check: impl Fn() -> F) -> T {
    let started = tokio::time::Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < DEADLINE, "gave up waiting for {what} after {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Checks the three Standard Webhooks headers and the signature over the
/// body with `secret`, recomputed with the server's signing key.
fn assert_signed(delivery: &Received, secret: &str) {
    let id = delivery.id();
    let timestamp: i64 = delivery.header("webhook-timestamp").parse().expect("webhook-timestamp is a number");
    let signature = delivery.header("webhook-signature");
    assert!(!id.is_empty(), "no webhook-id: {:?}", delivery.headers);
    let expected = SigningKey::from_secret(secret).expect("a whsec_ secret").sign(id, timestamp, &delivery.body);
    assert_eq!(signature, expected, "the signature of {id} does not match its body");
    let age = chrono::Utc::now().timestamp() - timestamp;
    assert!((-5..300).contains(&age), "webhook-timestamp {timestamp} is not now");
}

/// A JSON request with the admin token; the answer's status, body and
/// `X-Request-Id`.
async fn call(app: &TestApp, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value, String) {
    let mut request = app.admin_request(method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the request is sent");
    let status = response.status().as_u16();
    let request_id = appdeck_tests::header_text(&response, "x-request-id");
    let text = response.text().await.expect("read the answer");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("a JSON answer") };
    (status, body, request_id)
}

/// Creates an endpoint delivering to `url`; its id and `whsec_` secret.
async fn create_endpoint(app: &TestApp, url: &str, event_types: Option<&[&str]>) -> (Uuid, String) {
    let (status, body, _) = call(
        app,
        reqwest::Method::POST,
        "/v1/webhook-endpoints",
        Some(json!({"url": url, "event_types": event_types})),
    )
    .await;
    assert_eq!(status, 201, "create the endpoint: {body}");
    let id = body["webhook_endpoint"]["id"].as_str().and_then(|id| id.parse().ok()).expect("an endpoint id");
    (id, body["secret"].as_str().expect("the secret, shown once").to_owned())
}

/// The first page of an endpoint's deliveries, newest first, as JSON.
async fn deliveries(app: &TestApp, endpoint_id: Uuid) -> Vec<Value> {
    let (status, body, _) =
        call(app, reqwest::Method::GET, &format!("/v1/webhook-endpoints/{endpoint_id}/deliveries?limit=100"), None)
            .await;
    assert_eq!(status, 200, "list the deliveries: {body}");
    body["deliveries"].as_array().expect("a list of deliveries").clone()
}

/// Creates an app named `name` through the API; its id.
async fn create_app(app: &TestApp, name: &str) -> Uuid {
    app.create_app_named(name).await.id
}
