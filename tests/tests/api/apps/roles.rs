//! The role matrix of API.md for apps: what `admin`, `developer` and `ci`
//! tokens may do with apps, and what a `ci` token may see.

use appdeck_client::types;
use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{TestApp, assert_forbidden, error_response, expect_error, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn rename(name: &str) -> types::UpdateAppRequest {
    types::UpdateAppRequest { name: Some(name.parse().unwrap()), ..Default::default() }
}

/// An app with a platform and credentials on both sides, made by the admin.
async fn create_app_with_credentials(app: &TestApp) -> types::App {
    app.create_app(json!({
        "name": "Shop",
        "engagement_platform": "wonderpush",
        "engagement_credentials": {"access_token": "wp-secret"},
        "email_platform": "brevo",
        "email_credentials": {"api_key": "brevo-secret"}
    }))
    .await
}

#[tokio::test]
async fn developer_can_create_update_rotate_and_delete_apps() {
    // Arrange
    let app = spawn_app().await;
    let developer = app.client_with_role(TokenRole::Developer).await;

    // Act
    let created = developer.create_app(None, &appdeck_tests::app_request("Shop")).await.expect("developer creates");
    let created = created.into_inner().app;
    let updated = developer.update_app(&created.id, &rename("Renamed")).await.expect("developer updates");
    let rotated = developer.rotate_app_secret(&created.id).await.expect("developer rotates");
    let deleted = developer.delete_app(&created.id).await.expect("developer deletes");

    // Assert
    assert_eq!(updated.into_inner().app.name.as_str(), "Renamed");
    assert_ne!(rotated.into_inner().app.api_secret, created.api_secret);
    assert!(deleted.into_inner().success);
    let (status, _) = error_response(app.client.get_app(&created.id).await);
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_can_create_update_rotate_and_delete_apps() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let created = app.client.create_app(None, &appdeck_tests::app_request("Shop")).await.expect("admin creates");
    let created = created.into_inner().app;
    let updated = app.client.update_app(&created.id, &rename("Renamed")).await.expect("admin updates");
    let rotated = app.client.rotate_app_secret(&created.id).await.expect("admin rotates");
    let deleted = app.client.delete_app(&created.id).await.expect("admin deletes");

    // Assert
    assert_eq!(updated.into_inner().app.name.as_str(), "Renamed");
    assert_ne!(rotated.into_inner().app.api_secret, created.api_secret);
    assert!(deleted.into_inner().success);
}

#[tokio::test]
async fn developer_sees_the_secret_and_credentials_in_full() {
    // Arrange
    let app = spawn_app().await;
    let created = create_app_with_credentials(&app).await;
    let developer = app.client_with_role(TokenRole::Developer).await;

    // Act
    let seen = developer.get_app(&created.id).await.unwrap().into_inner().app;

    // Assert
    assert_eq!(serde_json::to_value(seen).unwrap(), serde_json::to_value(created).unwrap());
}

#[tokio::test]
async fn ci_gets_403_when_creating_an_app() {
    // Arrange
    let app = spawn_app().await;
    let ci = app.client_with_role(TokenRole::Ci).await;

    // Act
    let result = ci.create_app(None, &appdeck_tests::app_request("Shop")).await;

    // Assert
    assert_forbidden(result);
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();
    assert!(listed.apps.is_empty(), "the app was not created");
}

#[tokio::test]
async fn ci_gets_403_when_updating_rotating_or_deleting_an_app_and_the_app_is_unchanged() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    let ci = app.client_with_role(TokenRole::Ci).await;

    // Act
    let update_result = ci.update_app(&created.id, &rename("Renamed")).await;
    let rotate_result = ci.rotate_app_secret(&created.id).await;
    let delete_result = ci.delete_app(&created.id).await;

    // Assert
    assert_forbidden(update_result);
    assert_forbidden(rotate_result);
    assert_forbidden(delete_result);
    let stored = app.get_app(created.id).await;
    assert_eq!(serde_json::to_value(stored).unwrap(), serde_json::to_value(created).unwrap());
}

#[tokio::test]
async fn ci_gets_403_before_its_request_body_is_read() {
    // Arrange
    let app = spawn_app().await;
    let ci_token = app.token_with_role(TokenRole::Ci).await;

    // Act
    let response = app
        .http
        .post(app.url("/v1/apps"))
        .header("x-api-key", &ci_token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();

    // Assert
    expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn ci_can_list_and_get_apps() {
    // Arrange
    let app = spawn_app().await;
    let first = app.create_app_named("First").await;
    let second = app.create_app_named("Second").await;
    let ci = app.client_with_role(TokenRole::Ci).await;

    // Act
    let listed = ci.list_apps(None, None, None, None).await.expect("ci lists").into_inner();
    let fetched = ci.get_app(&second.id).await.expect("ci reads").into_inner().app;

    // Assert
    let ids: Vec<_> = listed.apps.iter().map(|listed_app| listed_app.id).collect();
    assert_eq!(ids, vec![first.id, second.id]);
    assert_eq!(fetched.id, second.id);
    assert_eq!(fetched.name.as_str(), "Second");
    assert_eq!(fetched.api_key, second.api_key, "api_key is not a secret");
}

#[tokio::test]
async fn ci_sees_the_secret_masked_and_credentials_null_on_get() {
    // Arrange
    let app = spawn_app().await;
    let created = create_app_with_credentials(&app).await;
    let ci = app.client_with_role(TokenRole::Ci).await;
    let last_four = &created.api_secret[created.api_secret.len() - 4..];

    // Act
    let seen = ci.get_app(&created.id).await.unwrap().into_inner().app;

    // Assert
    assert_eq!(seen.api_secret, format!("as_…{last_four}"));
    assert_eq!(seen.engagement_credentials, None);
    assert_eq!(seen.email_credentials, None);
    assert_eq!(seen.engagement_platform, types::EngagementPlatform::Wonderpush, "platforms stay visible");
    assert_eq!(seen.email_platform, types::EmailPlatform::Brevo);
    let stored = app.get_app(created.id).await;
    assert_eq!(stored.api_secret, created.api_secret, "masking is only in what ci sees");
    assert!(stored.email_credentials.is_some());
}

#[tokio::test]
async fn ci_sees_secrets_masked_in_the_list_too() {
    // Arrange
    let app = spawn_app().await;
    let created = create_app_with_credentials(&app).await;
    let ci = app.client_with_role(TokenRole::Ci).await;

    // Act
    let listed = ci.list_apps(None, None, None, None).await.unwrap().into_inner();

    // Assert
    assert_eq!(listed.apps.len(), 1);
    let seen = &listed.apps[0];
    assert_eq!(seen.api_secret, format!("as_…{}", &created.api_secret[created.api_secret.len() - 4..]));
    assert_eq!(seen.engagement_credentials, None);
    assert_eq!(seen.email_credentials, None);
}

#[tokio::test]
async fn ci_sees_the_secret_masked_in_the_raw_json() {
    // Arrange
    let app = spawn_app().await;
    let created = create_app_with_credentials(&app).await;
    let ci_token = app.token_with_role(TokenRole::Ci).await;

    // Act
    let response =
        app.http.get(app.url(&format!("/v1/apps/{}", created.id))).header("x-api-key", &ci_token).send().await.unwrap();

    // Assert
    let text = response.text().await.unwrap();
    assert!(!text.contains(&created.api_secret), "the full secret leaked to ci");
    assert!(!text.contains("wp-secret") && !text.contains("brevo-secret"), "credentials leaked to ci: {text}");
}

#[tokio::test]
async fn ci_gets_403_on_a_raw_patch_of_an_app() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    let ci_token = app.token_with_role(TokenRole::Ci).await;

    // Act
    let response = app
        .http
        .request(Method::PATCH, app.url(&format!("/v1/apps/{}", created.id)))
        .header("authorization", format!("Bearer {ci_token}"))
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .unwrap();

    // Assert
    expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(app.get_app(created.id).await.name.as_str(), "Shop");
}
