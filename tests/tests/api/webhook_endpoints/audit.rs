//! Every endpoint write is an audit event, naming fields, never the secret.

use appdeck_tests::spawn_app;
use serde_json::json;

use super::{create_endpoint, endpoint_update, id_of, url_only};

#[tokio::test]
async fn create_update_rotate_and_delete_are_audited() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint, secret) = create_endpoint(&app, url_only()).await;
    let id = id_of(&endpoint);

    // Act
    app.client.update_webhook_endpoint(&id, &endpoint_update(json!({"description": "changed"}))).await.unwrap();
    app.client.rotate_webhook_endpoint_secret(&id).await.unwrap();
    app.client.delete_webhook_endpoint(&id).await.unwrap();

    // Assert: newest first
    let response = app
        .http
        .get(app.url(&format!("/v1/audit-events?target_id={id}")))
        .header("X-API-Key", &app.admin_token)
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(!text.contains(secret.trim_start_matches("whsec_")), "no secret in the audit");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    let events = body["events"].as_array().unwrap();
    let actions: Vec<&str> = events.iter().map(|event| event["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "webhook_endpoint.deleted",
            "webhook_endpoint.secret_rotated",
            "webhook_endpoint.updated",
            "webhook_endpoint.created"
        ]
    );
    assert!(events.iter().all(|event| event["target"]["type"] == "webhook_endpoint"));
    assert_eq!(events[2]["changes"], json!(["description"]));
}

#[tokio::test]
async fn the_audit_filter_takes_the_endpoint_actions() {
    // Arrange
    let app = spawn_app().await;
    create_endpoint(&app, url_only()).await;
    super::create_app(&app, "Storefront").await;

    // Act
    let response = app
        .http
        .get(app.url("/v1/audit-events?action=webhook_endpoint.created"))
        .header("X-API-Key", &app.admin_token)
        .send()
        .await
        .unwrap();

    // Assert
    let body: serde_json::Value = response.json().await.unwrap();
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{body}");
}
