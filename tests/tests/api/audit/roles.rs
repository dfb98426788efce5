//! Only admins list the audit events.

use appdeck_tests::{all_audit_events, error_response, expect_error, spawn_app};
use reqwest::StatusCode;

use super::{ids, one_of_each_action, token_and_client};

#[tokio::test]
async fn developer_token_gets_403_listing_audit_events() {
    // Arrange
    let app = spawn_app().await;
    let (_, developer_client) = token_and_client(&app, "developer laptop", "developer").await;

    // Act
    let result = developer_client.list_audit_events(None, None, None, None, None, None, None).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{}", body.error);
}

#[tokio::test]
async fn ci_token_gets_403_listing_audit_events() {
    // Arrange
    let app = spawn_app().await;
    let (_, ci_client) = token_and_client(&app, "pipeline", "ci").await;

    // Act
    let result = ci_client.list_audit_events(None, None, None, None, None, None, None).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{}", body.error);
}

#[tokio::test]
async fn request_without_a_token_gets_401_listing_audit_events() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.http.get(app.url("/v1/audit-events")).send().await.unwrap();

    // Assert
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn second_admin_token_sees_the_same_events_as_the_first() {
    // Arrange
    let app = spawn_app().await;
    let (_, second_admin) = token_and_client(&app, "second admin", "admin").await;
    one_of_each_action(&app).await;

    // Act
    let seen_by_second = all_audit_events(&second_admin).await;

    // Assert
    assert_eq!(ids(&seen_by_second), ids(&app.audit_events().await));
}
