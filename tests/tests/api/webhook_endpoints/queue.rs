//! The store's `DeliveryQueue`, as the delivery worker uses it: claims under
//! a lease, attempts recorded, failing endpoints disabled. On both backends.

use std::time::Duration;

use appdeck_server::{
    domain::audit::AuditContext,
    webhook_secrets::{SigningSecret, WebhookSecretKey},
    webhooks::queue::{AttemptRecord, NextStep},
};
use appdeck_tests::{TestApp, spawn_app};
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{create_app, create_endpoint, deliveries, id_of};

const LEASE: Duration = Duration::from_secs(30);

/// An endpoint subscribed to `app.created` and one app created: one due delivery.
async fn one_due_delivery(app: &TestApp) -> (Uuid, String) {
    let body = json!({"url": "https://a.example.com", "event_types": ["app.created"]});
    let (endpoint, secret) = create_endpoint(app, body).await;
    create_app(app, "Storefront").await;
    (id_of(&endpoint), secret)
}

fn attempt(delivery_id: Uuid, status_code: Option<u16>, next: NextStep) -> AttemptRecord {
    AttemptRecord {
        delivery_id,
        attempted_at: appdeck_server::domain::now(),
        status_code,
        latency: Duration::from_millis(42),
        error: (next != NextStep::Delivered).then(|| "the receiver answered 500".to_owned()),
        next,
    }
}

#[tokio::test]
async fn a_claim_leases_the_due_delivery_with_its_payload_and_secret_and_skips_it_while_leased() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint_id, secret) = one_due_delivery(&app).await;
    let now = Utc::now();

    // Act
    let claimed = app.store.claim_due_deliveries(now, LEASE, 10).await.unwrap();
    let again = app.store.claim_due_deliveries(now + TimeDelta::seconds(29), LEASE, 10).await.unwrap();

    // Assert
    assert_eq!(claimed.len(), 1);
    let delivery = &claimed[0];
    assert_eq!((delivery.endpoint_id, delivery.attempts), (endpoint_id, 0));
    assert_eq!(delivery.url, "https://a.example.com");
    assert_eq!(delivery.signing_secret.as_deref(), Ok(secret.as_str()));
    let payload: Value = serde_json::from_str(&delivery.payload).unwrap();
    assert_eq!(payload["type"], "app.created");
    assert_eq!(payload["id"], delivery.event_id.to_string());
    assert_eq!(payload["data"]["target"]["name"], "Storefront");
    assert_eq!(payload["data"]["target"]["type"], "app");
    assert!(again.is_empty(), "a leased delivery is not claimed twice");
}

#[tokio::test]
async fn an_expired_lease_is_claimable_again() {
    // Arrange
    let app = spawn_app().await;
    one_due_delivery(&app).await;
    let now = Utc::now();
    let first = app.store.claim_due_deliveries(now, LEASE, 10).await.unwrap();

    // Act
    let after_the_lease = app.store.claim_due_deliveries(now + TimeDelta::seconds(31), LEASE, 10).await.unwrap();

    // Assert
    assert_eq!(after_the_lease.len(), 1);
    assert_eq!(after_the_lease[0].id, first[0].id);
}

#[tokio::test]
async fn record_attempt_moves_the_delivery_and_answers_since_when_the_endpoint_fails() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint_id, _) = one_due_delivery(&app).await;
    let claimed = app.store.claim_due_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    let delivery_id = claimed[0].id;
    let retry_at = appdeck_server::domain::now() + TimeDelta::minutes(5);

    // Act
    let first_failure = attempt(delivery_id, Some(500), NextStep::RetryAt(retry_at));
    let failing_since = app.store.record_attempt(&first_failure).await.unwrap();
    let still_failing = app.store.record_attempt(&attempt(delivery_id, None, NextStep::RetryAt(retry_at))).await;
    let listed = deliveries(&app, endpoint_id).await;
    let not_due = app.store.claim_due_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    let delivered = app.store.record_attempt(&attempt(delivery_id, Some(204), NextStep::Delivered)).await.unwrap();

    // Assert
    assert_eq!(failing_since, Some(first_failure.attempted_at));
    assert_eq!(still_failing.unwrap(), Some(first_failure.attempted_at), "the first failure's time is kept");
    assert_eq!((&listed[0]["status"], &listed[0]["attempt_count"]), (&json!("pending"), &json!(2)));
    assert_eq!(listed[0]["attempts"][0]["status_code"], 500);
    assert_eq!(listed[0]["attempts"][0]["latency_ms"], 42);
    assert_eq!(listed[0]["attempts"][1]["status_code"], Value::Null, "no response came");
    assert!(not_due.is_empty(), "not due before its retry time");
    assert_eq!(delivered, None);
    let listed = deliveries(&app, endpoint_id).await;
    assert_eq!((&listed[0]["status"], &listed[0]["next_attempt_at"]), (&json!("delivered"), &Value::Null));
    assert_eq!(listed[0]["attempts"][2]["error"], Value::Null);
}

#[tokio::test]
async fn a_delivery_given_up_is_failed_until_retried() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint_id, _) = one_due_delivery(&app).await;
    let delivery_id = app.store.claim_due_deliveries(Utc::now(), LEASE, 10).await.unwrap()[0].id;
    app.store.record_attempt(&attempt(delivery_id, Some(500), NextStep::GaveUp)).await.unwrap();
    assert_eq!(deliveries(&app, endpoint_id).await[0]["status"], "failed");
    assert!(app.store.claim_due_deliveries(Utc::now(), LEASE, 10).await.unwrap().is_empty());

    // Act
    app.client.retry_webhook_delivery(&endpoint_id, &delivery_id).await.unwrap();

    // Assert
    assert_eq!(deliveries(&app, endpoint_id).await[0]["status"], "pending");
    let claimed = app.store.claim_due_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    assert_eq!((claimed.len(), claimed[0].attempts), (1, 1));
}

#[tokio::test]
async fn disabling_a_failing_endpoint_records_the_event_and_tells_the_other_endpoints() {
    // Arrange
    let app = spawn_app().await;
    let (failing, _) = one_due_delivery(&app).await;
    let (watcher, _) =
        create_endpoint(&app, json!({"url": "https://w.example.com", "event_types": ["webhook_endpoint.disabled"]}))
            .await;

    // Act
    app.store.disable_failing_endpoint(failing, "failing for 5 days").await.unwrap();

    // Assert
    let endpoint = app.client.get_webhook_endpoint(&failing).await.unwrap().into_inner().webhook_endpoint;
    let endpoint = serde_json::to_value(endpoint).unwrap();
    assert_eq!((&endpoint["enabled"], &endpoint["disabled_reason"]), (&json!(false), &json!("failing for 5 days")));
    let told = deliveries(&app, id_of(&watcher)).await;
    assert_eq!(told[0]["event_type"], "webhook_endpoint.disabled");
    let audit: Value = app
        .http
        .get(app.url("/v1/audit-events?action=webhook_endpoint.disabled"))
        .header("X-API-Key", &app.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event = &audit["events"][0];
    assert_eq!((&event["actor"], &event["target"]["id"]), (&Value::Null, &json!(failing.to_string())));
    assert!(
        app.store
            .claim_due_deliveries(Utc::now(), LEASE, 10)
            .await
            .unwrap()
            .iter()
            .all(|due| due.endpoint_id != failing)
    );
}

#[tokio::test]
async fn a_token_event_carries_the_mask_and_the_maker_never_the_secret() {
    // Arrange
    let app = spawn_app().await;
    create_endpoint(&app, json!({"url": "https://a.example.com", "event_types": ["token.created"]})).await;

    // Act
    let created = app.create_api_token("deploy", "ci").await;

    // Assert
    let claimed = app.store.claim_due_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    let payload: Value = serde_json::from_str(&claimed[0].payload).unwrap();
    let target = &payload["data"]["target"];
    assert_eq!(target["masked_token"], created.token.masked_token.as_str());
    assert_eq!(target["role"], "ci");
    assert_eq!(target["label"], "deploy");
    assert!(target["created_by"]["id"].is_string());
    assert!(!claimed[0].payload.contains(&created.secret));
    assert!(payload["data"]["actor"]["label"].is_string());
    assert!(payload["data"]["request_id"].is_string());
}

#[tokio::test]
async fn under_a_changed_server_key_the_secret_cannot_be_read_until_rotated() {
    // Arrange: the same database, opened by a server with another key
    let app = spawn_app().await;
    let (endpoint_id, _) = one_due_delivery(&app).await;
    let mut config = appdeck_server::config::Config::with_database_url(app.database.url());
    config.webhook_secret_key = Some(WebhookSecretKey::from_bytes([9; 32]));
    let changed = appdeck_server::store::connect(config.database_url.expose(), config.store_settings()).unwrap();
    let now = Utc::now();

    // Act
    let unreadable = changed.claim_due_deliveries(now, LEASE, 10).await.unwrap();
    let rotated = SigningSecret::generate();
    let context = AuditContext::default();
    changed.rotate_webhook_endpoint_secret(app.organization_id, endpoint_id, &rotated, now, &context).await.unwrap();
    let repaired = changed.claim_due_deliveries(now + TimeDelta::seconds(31), LEASE, 10).await.unwrap();

    // Assert
    let error = unreadable[0].signing_secret.clone().unwrap_err();
    assert!(error.contains("APPDECK_WEBHOOK_SECRET_KEY") && error.contains("rotate"), "{error}");
    assert_eq!(repaired[0].signing_secret.as_deref(), Ok(rotated.expose()));
}
