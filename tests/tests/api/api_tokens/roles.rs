//! Only admins manage tokens, their own included.

use appdeck_client::Client;
use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{api_token_request_from, spawn_app};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::{get_token, listed_token_ids, relabel, status_and_code};

/// Runs the five token operations with `client` against `target`; returns each one's status and code.
async fn every_token_operation(client: &Client, target: Uuid) -> Vec<(&'static str, StatusCode, String)> {
    let create = api_token_request_from(json!({"label": "escalated", "role": "admin"}));
    let outcomes = [
        ("list", status_and_code(client.list_api_tokens(None, None).await)),
        ("create", status_and_code(client.create_api_token(None, &create).await)),
        ("get", status_and_code(client.get_api_token(&target).await)),
        ("update", status_and_code(client.update_api_token(&target, &relabel("hijacked")).await)),
        ("revoke", status_and_code(client.revoke_api_token(&target).await)),
    ];
    outcomes.into_iter().map(|(operation, (status, code))| (operation, status, code)).collect()
}

#[tokio::test]
async fn developer_token_gets_403_on_every_token_operation() {
    // Arrange
    let app = spawn_app().await;
    let target = app.create_api_token("target", "ci").await;
    let developer = app.client_with_token(&app.token_with_role(TokenRole::Developer).await);

    // Act
    let outcomes = every_token_operation(&developer, target.token.id).await;

    // Assert
    for (operation, status, code) in outcomes {
        assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{operation}");
    }
    assert_eq!(get_token(&app, target.token.id).await.label.as_str(), "target", "nothing changed");
    assert_eq!(listed_token_ids(&app).await.len(), 3, "no token was made or revoked");
}

#[tokio::test]
async fn ci_token_gets_403_on_every_token_operation() {
    // Arrange
    let app = spawn_app().await;
    let target = app.create_api_token("target", "developer").await;
    let ci = app.client_with_token(&app.token_with_role(TokenRole::Ci).await);

    // Act
    let outcomes = every_token_operation(&ci, target.token.id).await;

    // Assert
    for (operation, status, code) in outcomes {
        assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{operation}");
    }
    assert_eq!(get_token(&app, target.token.id).await.label.as_str(), "target", "nothing changed");
    assert_eq!(listed_token_ids(&app).await.len(), 3, "no token was made or revoked");
}

#[tokio::test]
async fn non_admin_token_gets_403_even_on_its_own_token() {
    // Arrange
    let app = spawn_app().await;
    let developer = app.create_api_token("developer", "developer").await;
    let client = app.client_with_token(&developer.secret);

    // Act
    let outcomes = every_token_operation(&client, developer.token.id).await;

    // Assert
    for (operation, status, code) in outcomes {
        assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{operation}");
    }
    client.get_current_token().await.expect("the developer token was not revoked");
}
