//! Labels: trimmed, at most 100 characters, unique among live tokens.

use appdeck_client::types;
use appdeck_tests::{api_token_request_from, expect_error, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

use super::{create_token_json, get_token, listed_token_ids, patch_token_json, relabel, status_and_code};

#[tokio::test]
async fn create_api_token_trims_the_label() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let created = app.create_api_token("  deploy pipeline \u{3000}", "ci").await;

    // Assert
    assert_eq!(created.token.label.as_str(), "deploy pipeline");
    assert_eq!(get_token(&app, created.token.id).await.label.as_str(), "deploy pipeline");
}

#[tokio::test]
async fn create_api_token_accepts_a_label_of_100_characters() {
    // Arrange
    let app = spawn_app().await;
    let label = "é".repeat(100);

    // Act
    let created = app.create_api_token(&label, "ci").await;

    // Assert
    assert_eq!(created.token.label.as_str(), label);
}

#[tokio::test]
async fn create_api_token_returns_400_for_a_blank_or_too_long_label() {
    // Arrange
    let app = spawn_app().await;

    for label in [String::new(), "   ".to_owned(), "x".repeat(101), format!(" {} ", "é".repeat(101))] {
        // Act
        let response = create_token_json(&app, &json!({"label": label, "role": "ci"})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains("label"), "label {label:?}: {message}");
    }
    assert_eq!(listed_token_ids(&app).await.len(), 1, "no token was made");
}

#[tokio::test]
async fn create_api_token_returns_409_for_a_label_a_live_token_has() {
    // Arrange
    let app = spawn_app().await;
    app.create_api_token("deploy pipeline", "ci").await;

    for label in ["deploy pipeline", "  deploy pipeline  ", "admin"] {
        // Act
        let result =
            app.client.create_api_token(None, &api_token_request_from(json!({"label": label, "role": "ci"}))).await;

        // Assert
        let (status, code) = status_and_code(result);
        assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"), "label {label:?}");
    }
    assert_eq!(listed_token_ids(&app).await.len(), 2, "no token was made");
}

#[tokio::test]
async fn label_of_a_revoked_token_can_be_used_again() {
    // Arrange
    let app = spawn_app().await;
    let first = app.create_api_token("deploy pipeline", "ci").await;
    app.client.revoke_api_token(&first.token.id).await.expect("the admin revokes");

    // Act
    let second = app.create_api_token("deploy pipeline", "ci").await;

    // Assert
    assert_ne!(second.token.id, first.token.id);
    assert_eq!(second.token.label.as_str(), "deploy pipeline");
    let other = app.create_api_token("other", "ci").await;
    let relabelled = app.client.update_api_token(&other.token.id, &relabel("admin 2")).await;
    assert!(relabelled.is_ok(), "a label no live token has is free");
}

#[tokio::test]
async fn update_api_token_relabels_and_trims_the_label() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("old label", "ci").await;

    // Act
    let updated = app.client.update_api_token(&created.token.id, &relabel("  new label ")).await;

    // Assert
    let updated = updated.expect("the admin relabels").into_inner();
    assert!(updated.success);
    assert_eq!(updated.token.label.as_str(), "new label");
    assert_eq!(updated.token.status, types::TokenStatus::Active, "a relabel leaves the status alone");
    assert_eq!(updated.token.masked_token, created.token.masked_token);
    assert_eq!(get_token(&app, created.token.id).await.label.as_str(), "new label");
    let me = app.client_with_token(&created.secret).get_current_token().await.expect("the token still works");
    assert_eq!(me.into_inner().token.label.as_str(), "new label");
}

#[tokio::test]
async fn update_api_token_accepts_the_token_s_own_label() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("same", "ci").await;

    // Act
    let result = app.client.update_api_token(&created.token.id, &relabel("same")).await;

    // Assert
    assert_eq!(result.expect("a token does not conflict with itself").into_inner().token.label.as_str(), "same");
}

#[tokio::test]
async fn update_api_token_returns_409_when_relabelled_to_a_live_token_s_label() {
    // Arrange
    let app = spawn_app().await;
    app.create_api_token("taken", "ci").await;
    let other = app.create_api_token("other", "ci").await;

    for label in ["taken", " taken ", "admin"] {
        // Act
        let result = app.client.update_api_token(&other.token.id, &relabel(label)).await;

        // Assert
        let (status, code) = status_and_code(result);
        assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"), "label {label:?}");
    }
    assert_eq!(get_token(&app, other.token.id).await.label.as_str(), "other", "nothing changed");
}

#[tokio::test]
async fn update_api_token_returns_400_for_a_blank_or_too_long_label() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("kept", "ci").await;

    for label in [json!(""), json!("  "), json!("x".repeat(101)), json!(null), json!(7)] {
        // Act
        let response = patch_token_json(&app, created.token.id, &json!({"label": label})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains("label"), "label {label}: {message}");
    }
    assert_eq!(get_token(&app, created.token.id).await.label.as_str(), "kept", "nothing changed");
}
