//! `/v1/webhook-endpoints`: create (the signing secret shown once), list,
//! get, update, delete, rotate-secret; the deliveries each write queues in
//! its own transaction (the outbox), their list and retry; roles, isolation
//! between organizations, validation, `Idempotency-Key`, the audit; and the
//! store's delivery queue (claim under a lease, attempts, disabling).

mod audit;
mod crud;
mod deliveries;
mod isolation;
mod outbox;
mod queue;
mod roles;
mod validation;

use appdeck_client::types;
use appdeck_tests::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// A `CreateWebhookEndpointRequest` for the generated client from its JSON form.
fn endpoint_request(body: Value) -> types::CreateWebhookEndpointRequest {
    serde_json::from_value(body).expect("the JSON is a valid CreateWebhookEndpointRequest")
}

/// An `UpdateWebhookEndpointRequest` for the generated client from its JSON form.
fn endpoint_update(body: Value) -> types::UpdateWebhookEndpointRequest {
    serde_json::from_value(body).expect("the JSON is a valid UpdateWebhookEndpointRequest")
}

/// Creates an endpoint with the admin client; the endpoint as JSON and its secret.
async fn create_endpoint(app: &TestApp, body: Value) -> (Value, String) {
    let created = app
        .client
        .create_webhook_endpoint(None, &endpoint_request(body))
        .await
        .expect("the admin creates the endpoint")
        .into_inner();
    (serde_json::to_value(&created.webhook_endpoint).unwrap(), created.secret)
}

/// An endpoint's id, from its JSON.
fn id_of(endpoint: &Value) -> Uuid {
    endpoint["id"].as_str().and_then(|id| id.parse().ok()).expect("an endpoint has an id")
}

/// The first page of an endpoint's deliveries, as JSON, newest first.
async fn deliveries(app: &TestApp, endpoint_id: Uuid) -> Vec<Value> {
    let page = app
        .client
        .list_webhook_deliveries(&endpoint_id, None, None)
        .await
        .expect("the admin lists the deliveries")
        .into_inner();
    page.deliveries.iter().map(|delivery| serde_json::to_value(delivery).unwrap()).collect()
}

/// Creates an app through the API, which records `app.created`.
async fn create_app(app: &TestApp, name: &str) -> Uuid {
    app.client
        .create_app(None, &appdeck_tests::app_request(name))
        .await
        .expect("the app is created")
        .into_inner()
        .app
        .id
}

/// The status and code of a generated-client call that must fail.
fn status_and_code<T: std::fmt::Debug>(
    result: Result<appdeck_client::ResponseValue<T>, appdeck_client::Error<types::ErrorBody>>,
) -> (StatusCode, String) {
    let (status, body) = appdeck_tests::error_response(result);
    (status, body.code)
}

/// Sends `body` as raw JSON with the admin token: for requests the generated
/// client refuses to build.
async fn send_json(app: &TestApp, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
    app.http
        .request(method, app.url(path))
        .header("X-API-Key", &app.admin_token)
        .json(&body)
        .send()
        .await
        .expect("the request is sent")
}

fn url_only() -> Value {
    json!({"url": "https://hooks.example.com/appdeck"})
}
