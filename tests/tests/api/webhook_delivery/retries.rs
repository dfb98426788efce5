//! A failed attempt is retried with the same `webhook-id`, and every attempt
//! is listed; `POST …/retry` sends a delivered event again.

use appdeck_tests::spawn_app_delivering_webhooks_with;
use serde_json::Value;

use super::{Received, Receiver, create_app, create_endpoint, deliveries, eventually};

/// Waits until the endpoint's only delivery is `delivered` after `attempts`
/// attempts; returns it.
async fn delivered_after(app: &appdeck_tests::TestApp, endpoint: uuid::Uuid, attempts: usize) -> Value {
    eventually(&format!("a delivery delivered after {attempts} attempts"), || async {
        let listed = deliveries(app, endpoint).await;
        assert_eq!(listed.len(), 1, "one event, one delivery: {listed:?}");
        let delivery = listed.into_iter().next().unwrap();
        let done = delivery["status"] == "delivered" && delivery["attempts"].as_array().unwrap().len() == attempts;
        done.then_some(delivery)
    })
    .await
}

#[tokio::test]
async fn an_event_answered_500_comes_again_with_its_id_and_both_attempts_are_listed() {
    // Arrange
    let app = spawn_app_delivering_webhooks_with(|_| {}).await;
    let receiver = Receiver::answering([500]).await;
    let (endpoint, _) = create_endpoint(&app, &receiver.url, Some(&["app.created"])).await;

    // Act
    create_app(&app, "Storefront").await;
    let received = receiver.wait_until("the event twice", |received| received.len() >= 2).await;
    let delivery = delivered_after(&app, endpoint, 2).await;

    // Assert
    assert_eq!(received.len(), 2, "no third attempt after the 200");
    assert_eq!(received[0].id(), received[1].id(), "a retry carries the same webhook-id");
    assert_eq!(received[0].body, received[1].body, "a retry sends the same event");
    assert_eq!(delivery["event_id"], received[0].id());
    assert_eq!(delivery["attempt_count"], 2);
    assert_eq!(delivery["next_attempt_at"], Value::Null);
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["status_code"], 500, "{delivery}");
    assert!(attempts[0]["latency_ms"].is_u64(), "{delivery}");
    assert!(attempts[0]["error"].as_str().is_some_and(|error| !error.is_empty()), "{delivery}");
    assert_eq!(attempts[1]["status_code"], 200, "{delivery}");
    assert!(attempts[1]["latency_ms"].is_u64(), "{delivery}");
    assert_eq!(attempts[1]["error"], Value::Null, "{delivery}");
}

#[tokio::test]
async fn retrying_a_delivered_delivery_delivers_it_again() {
    // Arrange
    let app = spawn_app_delivering_webhooks_with(|_| {}).await;
    let receiver = Receiver::start().await;
    let (endpoint, _) = create_endpoint(&app, &receiver.url, Some(&["app.created"])).await;
    create_app(&app, "Storefront").await;
    let delivery = delivered_after(&app, endpoint, 1).await;
    let delivery_id = delivery["id"].as_str().unwrap().parse().unwrap();

    // Act
    let retried = app.client.retry_webhook_delivery(&endpoint, &delivery_id).await.expect("the retry is accepted");
    let received = receiver.wait_until("the event again", |received| received.len() >= 2).await;
    let delivery = delivered_after(&app, endpoint, 2).await;

    // Assert
    assert_eq!(retried.status(), reqwest::StatusCode::ACCEPTED);
    let ids: Vec<&str> = received.iter().map(Received::id).collect();
    assert_eq!(ids, [delivery["event_id"].as_str().unwrap(); 2]);
    assert_eq!(delivery["attempts"][1]["status_code"], 200, "{delivery}");
}
