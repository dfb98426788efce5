//! `DELETE /v1/api-tokens/{id}`: revoked at once, then gone.

use appdeck_tests::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{listed_token_ids, relabel, set_status, status_and_code};

#[tokio::test]
async fn revoke_api_token_returns_200_and_the_token_gets_401_at_once() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("short lived", "developer").await;
    let revoked_client = app.client_with_token(&created.secret);
    revoked_client.get_current_token().await.expect("the token works before it is revoked");

    // Act
    let response = app.admin_request(Method::DELETE, &format!("/v1/api-tokens/{}", created.token.id)).send().await;

    // Assert
    let response = response.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"success": true}));
    let (status, code) = status_and_code(revoked_client.get_current_token().await);
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (status, _) = status_and_code(revoked_client.list_apps(None, None, None, None).await);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoke_api_token_through_the_generated_client_returns_success() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("gone", "ci").await;

    // Act
    let revoked = app.client.revoke_api_token(&created.token.id).await.expect("the admin revokes");

    // Assert
    assert_eq!(revoked.status(), StatusCode::OK);
    assert!(revoked.into_inner().success);
    assert!(!listed_token_ids(&app).await.contains(&created.token.id));
}

#[tokio::test]
async fn revoked_token_returns_404_on_get_update_and_revoke() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("revoked", "ci").await;
    app.client.revoke_api_token(&created.token.id).await.expect("the admin revokes");
    let id = created.token.id;

    // Act
    let get = status_and_code(app.client.get_api_token(&id).await);
    let relabel_result = status_and_code(app.client.update_api_token(&id, &relabel("back")).await);
    let enable = status_and_code(app.client.update_api_token(&id, &set_status("active")).await);
    let revoke_again = status_and_code(app.client.revoke_api_token(&id).await);

    // Assert
    for (status, code) in [get, relabel_result, enable, revoke_again] {
        assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    }
    let (status, _) = status_and_code(app.client_with_token(&created.secret).get_current_token().await);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked token cannot be brought back");
}
