//! Every audit event queues, in its write's transaction, one pending
//! delivery per enabled endpoint of the organization subscribed to its
//! type. No worker runs in these tests, so deliveries stay pending.

use appdeck_tests::spawn_app;
use serde_json::json;

use super::{create_app, create_endpoint, deliveries, endpoint_update, id_of, url_only};

#[tokio::test]
async fn an_app_write_queues_a_delivery_for_subscribed_enabled_endpoints_only() {
    // Arrange
    let app = spawn_app().await;
    let (everything, _) = create_endpoint(&app, url_only()).await;
    let (apps_only, _) =
        create_endpoint(&app, json!({"url": "https://a.example.com", "event_types": ["app.created"]})).await;
    let (tokens_only, _) =
        create_endpoint(&app, json!({"url": "https://t.example.com", "event_types": ["token.created"]})).await;
    let (disabled, _) = create_endpoint(&app, json!({"url": "https://d.example.com", "enabled": false})).await;

    // Act
    create_app(&app, "Storefront").await;

    // Assert
    for subscribed in [&apps_only, &everything] {
        let queued = deliveries(&app, id_of(subscribed)).await;
        let newest = &queued[0];
        assert_eq!(newest["event_type"], "app.created", "{queued:?}");
        assert_eq!((&newest["status"], &newest["attempt_count"]), (&json!("pending"), &json!(0)));
        assert_eq!(newest["attempts"], json!([]));
        assert!(newest["next_attempt_at"].is_string());
    }
    assert!(deliveries(&app, id_of(&tokens_only)).await.is_empty(), "not subscribed to app.created");
    assert!(deliveries(&app, id_of(&disabled)).await.is_empty(), "disabled");
    let everything_types: Vec<String> = deliveries(&app, id_of(&everything))
        .await
        .iter()
        .map(|delivery| delivery["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        everything_types,
        [
            "app.created",
            "webhook_endpoint.created",
            "webhook_endpoint.created",
            "webhook_endpoint.created",
            "webhook_endpoint.created"
        ],
        "each endpoint's creation is an event too, its own included"
    );
}

#[tokio::test]
async fn a_write_refused_before_its_event_queues_nothing() {
    // Arrange: a quota of one app
    let app = appdeck_tests::spawn_app_with(|config| config.max_apps_per_organization = 1).await;
    let (endpoint, _) =
        create_endpoint(&app, json!({"url": "https://a.example.com", "event_types": ["app.created"]})).await;
    create_app(&app, "first").await;

    // Act
    let refused = app.client.create_app(None, &appdeck_tests::app_request("second")).await;

    // Assert
    assert!(refused.is_err());
    assert_eq!(deliveries(&app, id_of(&endpoint)).await.len(), 1);
}

#[tokio::test]
async fn a_disabled_endpoint_enabled_again_receives_later_events() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint, _) = create_endpoint(
        &app,
        json!({"url": "https://a.example.com", "event_types": ["app.created"], "enabled": false}),
    )
    .await;
    let id = id_of(&endpoint);
    create_app(&app, "while disabled").await;

    // Act
    app.client.update_webhook_endpoint(&id, &endpoint_update(json!({"enabled": true}))).await.unwrap();
    create_app(&app, "while enabled").await;

    // Assert
    assert_eq!(deliveries(&app, id).await.len(), 1);
}
