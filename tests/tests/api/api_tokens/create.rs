//! `POST /v1/api-tokens`: the token, its secret shown once, its creator.

use appdeck_client::types;
use appdeck_tests::{api_token_request_from, expect_error, is_prefixed_base62, spawn_app};
use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::json;

use super::{admin_token_object, create_token_json, get_token, listed_token_ids};

#[tokio::test]
async fn create_api_token_returns_201_with_the_token_and_its_secret() {
    // Arrange
    let app = spawn_app().await;
    let request = api_token_request_from(json!({"label": "deploy pipeline", "role": "ci"}));
    let before = Utc::now() - TimeDelta::seconds(1);

    // Act
    let response = app.client.create_api_token(None, &request).await.expect("the admin creates a token");

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let created = response.into_inner();
    assert!(created.success);
    assert!(is_prefixed_base62(&created.secret, "apps_", 38), "secret {}", created.secret);
    assert!(appdeck_server::auth::is_well_formed(&created.secret), "the secret passes its checksum");
    let token = created.token;
    assert_eq!(token.label.as_str(), "deploy pipeline");
    assert_eq!(token.role, types::TokenRole::Ci);
    assert_eq!(token.status, types::TokenStatus::Active);
    assert_eq!(token.expires_at, None);
    assert_eq!(token.last_used_at, None, "a new token has not been used");
    assert_eq!(token.id.get_version_num(), 7, "ids are UUIDv7");
    let after = Utc::now() + TimeDelta::seconds(1);
    assert!(before <= token.created_at && token.created_at <= after, "created_at {}", token.created_at);
}

#[tokio::test]
async fn create_api_token_returns_a_masked_form_of_the_secret() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let created = app.create_api_token("masked", "developer").await;

    // Assert
    let secret = &created.secret;
    let masked = &created.token.masked_token;
    assert!(masked.starts_with(&secret[..9]), "{masked} starts like {secret}");
    assert!(masked.contains('…'), "{masked}");
    assert!(masked.ends_with(&secret[secret.len() - 4..]), "{masked} ends like {secret}");
    assert_eq!(*masked, format!("{}…{}", &secret[..9], &secret[secret.len() - 4..]));
}

#[tokio::test]
async fn create_api_token_records_the_admin_token_that_made_it() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token_object(&app).await;

    // Act
    let created = app.create_api_token("made by admin", "admin").await;

    // Assert
    let created_by = created.token.created_by.expect("made by a token");
    assert_eq!((created_by.id, created_by.label.as_str()), (admin.id, "admin"));
    let read_back = get_token(&app, created.token.id).await.created_by.expect("still made by a token");
    assert_eq!(read_back.id, admin.id);
}

#[tokio::test]
async fn first_admin_token_made_by_the_server_has_no_creator() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token_object(&app).await;

    // Act
    let token = get_token(&app, admin.id).await;

    // Assert
    assert_eq!(token.label.as_str(), "admin");
    assert!(token.created_by.is_none(), "created_by {:?}", token.created_by);
}

#[tokio::test]
async fn token_made_by_a_second_admin_names_that_admin_as_its_creator() {
    // Arrange
    let app = spawn_app().await;
    let second_admin = app.create_api_token("second admin", "admin").await;
    let second_client = app.client_with_token(&second_admin.secret);

    // Act
    let request = api_token_request_from(json!({"label": "grandchild", "role": "ci"}));
    let created = second_client.create_api_token(None, &request).await.expect("the second admin creates").into_inner();

    // Assert
    let created_by = created.token.created_by.expect("made by a token");
    assert_eq!((created_by.id, created_by.label.as_str()), (second_admin.token.id, "second admin"));
}

#[tokio::test]
async fn created_secret_authenticates_as_the_new_token() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("developer laptop", "developer").await;

    // Act
    let me = app.client_with_token(&created.secret).get_current_token().await.expect("the new secret works");

    // Assert
    let me = me.into_inner();
    assert_eq!(me.token.id, created.token.id);
    assert_eq!(me.token.label.as_str(), "developer laptop");
    assert_eq!(me.token.role, types::TokenRole::Developer);
    assert_eq!(me.organization.id, app.organization_id);
}

#[tokio::test]
async fn create_api_token_makes_a_different_secret_each_time() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let first = app.create_api_token("first", "ci").await;
    let second = app.create_api_token("second", "ci").await;

    // Assert
    assert_ne!(first.secret, second.secret);
    assert_ne!(first.secret, app.admin_token);
    assert_ne!(first.token.masked_token, second.token.masked_token);
}

#[tokio::test]
async fn create_api_token_returns_400_for_a_read_only_or_unknown_field() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (json!({"label": "x", "role": "ci", "status": "disabled"}), "read_only_field", "status"),
        (json!({"label": "x", "role": "ci", "masked_token": "apps_AbCd…wXyZ"}), "read_only_field", "masked_token"),
        (json!({"label": "x", "role": "ci", "secret": "apps_x"}), "unknown_field", "secret"),
    ];

    for (body, code, field) in cases {
        // Act
        let response = create_token_json(&app, &body).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, code).await;
        assert!(message.contains(field), "{body}: {message}");
    }
    assert_eq!(listed_token_ids(&app).await.len(), 1, "no token was made");
}

#[tokio::test]
async fn create_api_token_returns_400_for_a_missing_or_unknown_role() {
    // Arrange
    let app = spawn_app().await;

    for body in [json!({"label": "x"}), json!({"label": "x", "role": "owner"}), json!({"label": "x", "role": null})] {
        // Act
        let response = create_token_json(&app, &body).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains("role"), "{body}: {message}");
    }
    assert_eq!(listed_token_ids(&app).await.len(), 1, "no token was made");
}
