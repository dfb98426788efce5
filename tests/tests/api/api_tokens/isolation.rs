//! Organizations do not see each other's tokens.

use appdeck_client::types;
use appdeck_tests::{api_token_request_from, error_response, spawn_app};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::{get_token, relabel, set_status, status_and_code};

#[tokio::test]
async fn another_organization_gets_404_for_our_token() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_api_token("ours", "developer").await;
    let other = app.client_with_token(&app.other_organization_token().await);

    // Act
    let get = status_and_code(other.get_api_token(&ours.token.id).await);
    let patch = status_and_code(other.update_api_token(&ours.token.id, &relabel("stolen")).await);
    let disable = status_and_code(other.update_api_token(&ours.token.id, &set_status("disabled")).await);
    let revoke = status_and_code(other.revoke_api_token(&ours.token.id).await);

    // Assert
    for (status, code) in [get, patch, disable, revoke] {
        assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    }
    let unchanged = get_token(&app, ours.token.id).await;
    assert_eq!((unchanged.label.as_str(), unchanged.status), ("ours", types::TokenStatus::Active));
    app.client_with_token(&ours.secret).get_current_token().await.expect("our token still works");
}

#[tokio::test]
async fn another_organization_gets_the_same_404_as_for_a_token_that_does_not_exist() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_api_token("ours", "ci").await;
    let other = app.client_with_token(&app.other_organization_token().await);

    // Act
    let (ours_status, ours_body) = error_response(other.get_api_token(&ours.token.id).await);
    let (unknown_status, unknown_body) = error_response(other.get_api_token(&Uuid::now_v7()).await);

    // Assert
    assert_eq!(ours_status, unknown_status);
    assert_eq!((ours_body.code, ours_body.error), (unknown_body.code, unknown_body.error));
}

#[tokio::test]
async fn each_organization_lists_only_its_own_tokens() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_api_token("ours", "ci").await;
    let other = app.client_with_token(&app.other_organization_token().await);
    let theirs = other
        .create_api_token(None, &api_token_request_from(json!({"label": "theirs", "role": "ci"})))
        .await
        .expect("the other admin creates")
        .into_inner();

    // Act
    let our_list = app.client.list_api_tokens(None, None).await.unwrap().into_inner();
    let their_list = other.list_api_tokens(None, None).await.unwrap().into_inner();

    // Assert
    let our_labels: Vec<&str> = our_list.tokens.iter().map(|token| token.label.as_str()).collect();
    let their_labels: Vec<&str> = their_list.tokens.iter().map(|token| token.label.as_str()).collect();
    assert_eq!(our_labels, ["admin", "ours"]);
    assert_eq!(their_labels, ["admin", "theirs"]);
    assert!(!their_list.tokens.iter().any(|token| token.id == ours.token.id));
    assert!(!our_list.tokens.iter().any(|token| token.id == theirs.token.id));
}

#[tokio::test]
async fn labels_are_unique_per_organization_only() {
    // Arrange
    let app = spawn_app().await;
    app.create_api_token("deploy pipeline", "ci").await;
    let other = app.client_with_token(&app.other_organization_token().await);

    // Act
    let result =
        other.create_api_token(None, &api_token_request_from(json!({"label": "deploy pipeline", "role": "ci"}))).await;

    // Assert
    assert_eq!(result.expect("another organization may use the same label").status(), StatusCode::CREATED);
}
