//! `GET`/`PATCH /v1/organization`: the caller's organization, read by every
//! role, renamed by admins only.

use appdeck_client::types;
use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{assert_forbidden, expect_error, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn rename_to(name: &str) -> types::UpdateOrganizationRequest {
    types::UpdateOrganizationRequest { name: name.parse().unwrap() }
}

#[tokio::test]
async fn get_organization_returns_its_name_and_rate_limit() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.client.get_organization().await.expect("the organization is read");

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_inner();
    assert!(body.success);
    assert_eq!(body.organization.id, app.organization_id);
    assert_eq!(body.organization.name.as_str(), "Test org");
    assert_eq!(body.organization.rate_limit_per_hour, 1000);
}

#[tokio::test]
async fn update_organization_renames_it_with_the_name_trimmed() {
    // Arrange
    let app = spawn_app().await;
    let before = app.client.get_organization().await.unwrap().into_inner().organization;

    // Act
    let response = app.client.update_organization(&rename_to("  Acme Inc.  ")).await.expect("the admin renames");

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let renamed = response.into_inner().organization;
    assert_eq!(renamed.name.as_str(), "Acme Inc.");
    assert_eq!((renamed.id, renamed.created_at, renamed.rate_limit_per_hour), (before.id, before.created_at, 1000));
    let stored = app.client.get_organization().await.unwrap().into_inner().organization;
    assert_eq!(stored.name.as_str(), "Acme Inc.");
    let me = app.client.get_current_token().await.unwrap().into_inner();
    assert_eq!(me.organization.name.as_str(), "Acme Inc.");
}

#[tokio::test]
async fn update_organization_returns_400_when_the_name_is_blank() {
    // Arrange
    let app = spawn_app().await;

    // Act: the generated client refuses a blank name before sending it
    assert!("   ".parse::<types::UpdateOrganizationRequestName>().is_err());
    let response = app.send_json(Method::PATCH, "/v1/organization", &json!({"name": "   "})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("Organization name"), "{message}");
    let stored = app.client.get_organization().await.unwrap().into_inner().organization;
    assert_eq!(stored.name.as_str(), "Test org");
}

#[tokio::test]
async fn update_organization_returns_400_when_the_name_is_longer_than_100_characters() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.send_json(Method::PATCH, "/v1/organization", &json!({"name": "o".repeat(101)})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("Organization name"), "{message}");
}

#[tokio::test]
async fn update_organization_returns_400_when_the_name_is_missing_or_null() {
    // Arrange
    let app = spawn_app().await;

    for body in [json!({}), json!({"name": null}), json!({"name": 7})] {
        // Act
        let response = app.send_json(Method::PATCH, "/v1/organization", &body).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains("name"), "{body}: {message}");
    }
}

#[tokio::test]
async fn update_organization_returns_400_naming_an_unknown_field() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response =
        app.send_json(Method::PATCH, "/v1/organization", &json!({"name": "Acme", "plan": "enterprise"})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "unknown_field").await;
    assert!(message.contains("plan"), "{message}");
    let stored = app.client.get_organization().await.unwrap().into_inner().organization;
    assert_eq!(stored.name.as_str(), "Test org", "a refused rename changes nothing");
}

#[tokio::test]
async fn update_organization_returns_400_naming_a_read_only_field() {
    // Arrange
    let app = spawn_app().await;

    for (field, value) in [("rate_limit_per_hour", json!(1_000_000)), ("id", json!(app.organization_id))] {
        // Act
        let response = app.send_json(Method::PATCH, "/v1/organization", &json!({"name": "Acme", field: value})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "read_only_field").await;
        assert!(message.contains(field), "{field}: {message}");
    }
    let stored = app.client.get_organization().await.unwrap().into_inner().organization;
    assert_eq!((stored.name.as_str(), stored.rate_limit_per_hour), ("Test org", 1000));
}

#[tokio::test]
async fn update_organization_calls_a_field_of_an_app_unknown_not_read_only() {
    // Arrange
    let app = spawn_app().await;

    for field in ["api_key", "platform"] {
        // Act
        let response = app.send_json(Method::PATCH, "/v1/organization", &json!({"name": "Acme", field: "x"})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "unknown_field").await;
        assert!(message.contains(field), "{field}: {message}");
    }
}

#[tokio::test]
async fn developer_and_ci_get_403_when_renaming_the_organization() {
    // Arrange
    let app = spawn_app().await;
    let body = types::UpdateOrganizationRequest { name: "Taken over".parse().unwrap() };

    for role in [TokenRole::Developer, TokenRole::Ci] {
        let client = app.client_with_role(role).await;

        // Act
        let result = client.update_organization(&body).await;

        // Assert
        assert_forbidden(result);
    }
    let organization = app.client.get_organization().await.unwrap().into_inner().organization;
    assert_eq!(organization.name.as_str(), "Test org");
}

#[tokio::test]
async fn every_role_can_read_the_organization_and_itself() {
    // Arrange
    let app = spawn_app().await;
    let roles = [
        (TokenRole::Admin, types::TokenRole::Admin),
        (TokenRole::Developer, types::TokenRole::Developer),
        (TokenRole::Ci, types::TokenRole::Ci),
    ];

    for (role, expected_role) in roles {
        let client = app.client_with_role(role).await;

        // Act
        let organization = client.get_organization().await.expect("every role reads the organization");
        let me = client.get_current_token().await.expect("every role reads /v1/me");

        // Assert
        assert_eq!(organization.into_inner().organization.id, app.organization_id);
        let me = me.into_inner();
        assert_eq!(me.token.role, expected_role);
        assert_eq!(me.organization.id, app.organization_id);
    }
}

#[tokio::test]
async fn another_organization_sees_its_own_organization() {
    // Arrange
    let app = spawn_app().await;
    let other = app.client_with_token(&app.other_organization_token().await);

    // Act
    let organization = other.get_organization().await.unwrap().into_inner().organization;

    // Assert
    assert_ne!(organization.id, app.organization_id);
    assert_eq!(organization.name.as_str(), "Other org");
}
