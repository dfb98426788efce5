//! Disable and enable through `PATCH`, and what else `PATCH` accepts or refuses.

use appdeck_client::types;
use appdeck_tests::{api_token_request_from, api_token_update_from, error_response, expect_error, spawn_app};
use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::{get_token, listed_token_ids, patch_token_json, rfc3339, set_status, status_and_code};

#[tokio::test]
async fn disabled_token_gets_403_token_disabled() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("to disable", "developer").await;

    // Act
    let updated = app.client.update_api_token(&created.token.id, &set_status("disabled")).await;

    // Assert
    let updated = updated.expect("the admin disables the token").into_inner();
    assert_eq!(updated.token.status, types::TokenStatus::Disabled);
    assert_eq!(updated.token.label.as_str(), "to disable", "a status change leaves the label alone");
    let (status, body) = error_response(app.client_with_token(&created.secret).get_current_token().await);
    assert_eq!(
        (status, body.code.as_str(), body.error.as_str()),
        (StatusCode::FORBIDDEN, "token_disabled", "API key disabled")
    );
    let response = app.http.get(app.url("/v1/apps")).header("x-api-key", &created.secret).send().await.unwrap();
    let message = expect_error(response, StatusCode::FORBIDDEN, "token_disabled").await;
    assert_eq!(message, "API key disabled");
    assert_eq!(get_token(&app, created.token.id).await.status, types::TokenStatus::Disabled);
}

#[tokio::test]
async fn disabled_admin_token_cannot_manage_tokens() {
    // Arrange
    let app = spawn_app().await;
    let second_admin = app.create_api_token("second admin", "admin").await;
    app.client.update_api_token(&second_admin.token.id, &set_status("disabled")).await.expect("the admin disables");
    let disabled = app.client_with_token(&second_admin.secret);

    // Act
    let result = disabled.create_api_token(None, &api_token_request_from(json!({"label": "x", "role": "admin"}))).await;

    // Assert
    let (status, code) = status_and_code(result);
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "token_disabled"));
    assert_eq!(listed_token_ids(&app).await.len(), 2, "no token was made");
}

#[tokio::test]
async fn token_enabled_again_works_again() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("flapping", "ci").await;
    app.client.update_api_token(&created.token.id, &set_status("disabled")).await.expect("the admin disables");

    // Act
    let updated = app.client.update_api_token(&created.token.id, &set_status("active")).await;

    // Assert
    assert_eq!(updated.expect("the admin enables").into_inner().token.status, types::TokenStatus::Active);
    let me = app.client_with_token(&created.secret).get_current_token().await.expect("the token works again");
    assert_eq!(me.into_inner().token.status, types::TokenStatus::Active);
}

#[tokio::test]
async fn update_api_token_with_an_empty_body_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("unchanged", "ci").await;

    // Act
    let updated = app.client.update_api_token(&created.token.id, &api_token_update_from(json!({}))).await;

    // Assert
    let updated = updated.expect("an empty PATCH is accepted").into_inner().token;
    assert_eq!(serde_json::to_value(&updated).unwrap(), serde_json::to_value(&created.token).unwrap());
}

#[tokio::test]
async fn update_api_token_returns_400_for_a_bad_status() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("kept", "ci").await;

    for status in [json!("revoked"), json!(null), json!(true)] {
        // Act
        let response = patch_token_json(&app, created.token.id, &json!({"status": status})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains("status"), "status {status}: {message}");
    }
    assert_eq!(get_token(&app, created.token.id).await.status, types::TokenStatus::Active);
}

#[tokio::test]
async fn update_api_token_returns_400_read_only_field_for_the_role() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("ci box", "ci").await;

    // Act
    let response = patch_token_json(&app, created.token.id, &json!({"role": "admin"})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "read_only_field").await;
    assert!(message.contains("role"), "{message}");
    assert_eq!(get_token(&app, created.token.id).await.role, types::TokenRole::Ci, "the role is unchanged");
    let (status, _) = status_and_code(app.client_with_token(&created.secret).list_api_tokens(None, None).await);
    assert_eq!(status, StatusCode::FORBIDDEN, "the ci token did not become an admin");
}

#[tokio::test]
async fn update_api_token_returns_400_read_only_field_for_other_fields_it_cannot_change() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("fixed", "ci").await;
    let in_a_day = rfc3339(Utc::now() + TimeDelta::days(1));
    let bodies = [
        ("expires_at", json!({"expires_at": in_a_day})),
        ("masked_token", json!({"masked_token": "apps_AbCd…wXyZ"})),
        ("created_by", json!({"created_by": null})),
        ("id", json!({"id": Uuid::now_v7()})),
        ("last_used_at", json!({"last_used_at": null})),
    ];

    for (field, body) in bodies {
        // Act
        let response = patch_token_json(&app, created.token.id, &body).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "read_only_field").await;
        assert!(message.contains(field), "{body}: {message}");
    }
    let unchanged = get_token(&app, created.token.id).await;
    assert_eq!(serde_json::to_value(&unchanged).unwrap(), serde_json::to_value(&created.token).unwrap());
}

#[tokio::test]
async fn update_api_token_returns_400_unknown_field_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("kept", "ci").await;

    // Act
    let response = patch_token_json(&app, created.token.id, &json!({"label": "changed", "colour": "blue"})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "unknown_field").await;
    assert!(message.contains("colour"), "{message}");
    assert_eq!(get_token(&app, created.token.id).await.label.as_str(), "kept");
}
