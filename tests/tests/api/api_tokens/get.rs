//! `GET /v1/api-tokens/{id}`, and the 404 and 400 every token operation shares.

use appdeck_tests::{expect_error, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use super::{relabel, status_and_code};

#[tokio::test]
async fn get_api_token_returns_the_token_as_created() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("read me", "developer").await;

    // Act
    let response = app.client.get_api_token(&created.token.id).await.expect("the admin reads the token");

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let read = response.into_inner();
    assert!(read.success);
    assert_eq!(serde_json::to_value(&read.token).unwrap(), serde_json::to_value(&created.token).unwrap());
}

#[tokio::test]
async fn token_operations_return_404_for_an_unknown_id() {
    // Arrange
    let app = spawn_app().await;
    let unknown = Uuid::now_v7();

    // Act
    let get = status_and_code(app.client.get_api_token(&unknown).await);
    let patch = status_and_code(app.client.update_api_token(&unknown, &relabel("x")).await);
    let revoke = status_and_code(app.client.revoke_api_token(&unknown).await);

    // Assert
    for (status, code) in [get, patch, revoke] {
        assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    }
}

#[tokio::test]
async fn token_id_that_is_not_a_uuid_returns_400_invalid_parameter() {
    // Arrange
    let app = spawn_app().await;

    for method in [Method::GET, Method::DELETE] {
        // Act
        let response = app.admin_request(method.clone(), "/v1/api-tokens/not-a-uuid").send().await.unwrap();

        // Assert
        expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    }
    let response = app.send_json(Method::PATCH, "/v1/api-tokens/not-a-uuid", &json!({"label": "x"})).await;
    expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
}
