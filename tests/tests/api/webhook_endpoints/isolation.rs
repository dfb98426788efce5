//! Another organization's endpoints and deliveries are 404, never its data.

use appdeck_tests::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

use super::{create_app, create_endpoint, deliveries, endpoint_update, id_of, status_and_code, url_only};

#[tokio::test]
async fn another_organizations_endpoint_is_404_on_every_operation() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint, _) = create_endpoint(&app, url_only()).await;
    let id = id_of(&endpoint);
    create_app(&app, "Storefront").await;
    let delivery = deliveries(&app, id).await[0]["id"].as_str().unwrap().parse().unwrap();
    let other = app.client_with_token(&app.other_organization_token().await);

    // Act
    let outcomes = [
        status_and_code(other.get_webhook_endpoint(&id).await),
        status_and_code(other.update_webhook_endpoint(&id, &endpoint_update(json!({"enabled": false}))).await),
        status_and_code(other.delete_webhook_endpoint(&id).await),
        status_and_code(other.rotate_webhook_endpoint_secret(&id).await),
        status_and_code(other.list_webhook_deliveries(&id, None, None).await),
        status_and_code(other.retry_webhook_delivery(&id, &delivery).await),
    ];

    // Assert
    for outcome in outcomes {
        assert_eq!(outcome, (StatusCode::NOT_FOUND, "not_found".to_owned()));
    }
    let listed = other.list_webhook_endpoints(None, None).await.unwrap().into_inner();
    assert!(listed.webhook_endpoints.is_empty());
    let mine = app.client.get_webhook_endpoint(&id).await.unwrap().into_inner().webhook_endpoint;
    assert_eq!(serde_json::to_value(mine).unwrap(), endpoint, "unchanged");
}
