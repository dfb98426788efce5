//! Only admin tokens reach webhook endpoints and their deliveries.

use appdeck_client::Client;
use appdeck_server::domain::token::TokenRole;
use appdeck_tests::spawn_app;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::{create_endpoint, endpoint_request, endpoint_update, id_of, status_and_code, url_only};

/// Runs every endpoint operation with `client` against `target`; each one's status and code.
async fn every_operation(client: &Client, target: Uuid) -> Vec<(&'static str, StatusCode, String)> {
    let delivery = Uuid::now_v7();
    let outcomes = [
        ("list", status_and_code(client.list_webhook_endpoints(None, None).await)),
        ("create", status_and_code(client.create_webhook_endpoint(None, &endpoint_request(url_only())).await)),
        ("get", status_and_code(client.get_webhook_endpoint(&target).await)),
        ("update", status_and_code(client.update_webhook_endpoint(&target, &endpoint_update(json!({}))).await)),
        ("delete", status_and_code(client.delete_webhook_endpoint(&target).await)),
        ("rotate", status_and_code(client.rotate_webhook_endpoint_secret(&target).await)),
        ("deliveries", status_and_code(client.list_webhook_deliveries(&target, None, None).await)),
        ("retry", status_and_code(client.retry_webhook_delivery(&target, &delivery).await)),
    ];
    outcomes.into_iter().map(|(operation, (status, code))| (operation, status, code)).collect()
}

#[tokio::test]
async fn developer_and_ci_tokens_get_403_on_every_operation() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint, _) = create_endpoint(&app, url_only()).await;
    let target = id_of(&endpoint);

    for role in [TokenRole::Developer, TokenRole::Ci] {
        // Act
        let outcomes = every_operation(&app.client_with_role(role).await, target).await;

        // Assert
        for (operation, status, code) in outcomes {
            assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{role:?} {operation}");
        }
    }
    let listed = app.client.list_webhook_endpoints(None, None).await.unwrap().into_inner().webhook_endpoints;
    assert_eq!(listed.len(), 1, "nothing was created or deleted");
    assert_eq!(serde_json::to_value(&listed[0]).unwrap(), endpoint, "nothing changed");
}
