//! Each endpoint gets only the types it subscribes to; a disabled endpoint
//! gets nothing, and a deleted one nothing more.

use appdeck_tests::spawn_app_delivering_webhooks_with;
use reqwest::Method;
use serde_json::json;

use super::{Received, Receiver, call, create_app, create_endpoint};

#[tokio::test]
async fn endpoints_get_their_subscribed_types_only_and_nothing_when_disabled_or_deleted() {
    // Arrange: a witness endpoint subscribed to everything tells when the
    // others would have had their deliveries too.
    let app = spawn_app_delivering_webhooks_with(|_| {}).await;
    let [witness, subscribed, disabled, deleted] =
        [Receiver::start().await, Receiver::start().await, Receiver::start().await, Receiver::start().await];
    create_endpoint(&app, &witness.url, None).await;
    create_endpoint(&app, &subscribed.url, Some(&["app.created"])).await;
    let (status, body, _) =
        call(&app, Method::POST, "/v1/webhook-endpoints", Some(json!({"url": disabled.url, "enabled": false}))).await;
    assert_eq!(status, 201, "create a disabled endpoint: {body}");
    let (deleted_id, _) = create_endpoint(&app, &deleted.url, Some(&["app.created"])).await;
    let first_app = create_app(&app, "Before the delete").await.to_string();
    deleted.wait_until("the deleted endpoint's first event", |received| !received.is_empty()).await;
    let (status, body, _) = call(&app, Method::DELETE, &format!("/v1/webhook-endpoints/{deleted_id}"), None).await;
    assert_eq!(status, 200, "delete the endpoint: {body}");

    // Act
    let second_app = create_app(&app, "After the delete").await.to_string();
    app.create_api_token("deploy pipeline", "developer").await;
    let last_app = create_app(&app, "Last").await.to_string();
    let for_app = |id: String| {
        move |received: &[Received]| received.iter().any(|d| d.event()["data"]["target"]["id"] == id.as_str())
    };
    witness.wait_until("the witness's last event", for_app(last_app.clone())).await;
    witness
        .wait_until("the witness's token event", |received| {
            received.iter().any(|delivery| delivery.event_type() == "token.created")
        })
        .await;
    let subscribed_got = subscribed.wait_until("the subscriber's last event", for_app(last_app)).await;

    // Assert
    let types: Vec<String> = subscribed_got.iter().map(Received::event_type).collect();
    assert_eq!(types.len(), 3, "three apps created: {types:?}");
    assert!(types.iter().all(|event_type| event_type == "app.created"), "{types:?}");
    assert!(disabled.received().is_empty(), "a disabled endpoint got {:?}", disabled.received());
    let targets: Vec<String> = deleted
        .received()
        .iter()
        .map(|delivery| delivery.event()["data"]["target"]["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(targets, [first_app], "the deleted endpoint got more (the second app is {second_app})");
}
