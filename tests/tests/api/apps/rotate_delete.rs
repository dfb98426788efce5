//! `GET`, `DELETE /v1/apps/{id}` and `POST /v1/apps/{id}/rotate-secret`.

use appdeck_tests::{error_response, is_prefixed_base62, let_the_clock_move, spawn_app};
use reqwest::StatusCode;
use uuid::Uuid;

#[tokio::test]
async fn rotate_app_secret_gives_a_new_secret_and_keeps_the_key() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    // The clock is under test: `updated_at` must move past the create's.
    let_the_clock_move().await;

    // Act
    let response = app.client.rotate_app_secret(&created.id).await.expect("the secret is rotated");

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let rotated = response.into_inner();
    assert!(rotated.success);
    let rotated = rotated.app;
    assert_ne!(rotated.api_secret, created.api_secret);
    assert!(is_prefixed_base62(&rotated.api_secret, "as_", 40), "api_secret {}", rotated.api_secret);
    assert_eq!(rotated.api_key, created.api_key);
    assert_eq!(rotated.id, created.id);
    assert!(rotated.updated_at > created.updated_at, "rotating is a write");
    let stored = app.get_app(created.id).await;
    assert_eq!(stored.api_secret, rotated.api_secret, "the new secret is the stored one");
}

#[tokio::test]
async fn rotate_app_secret_twice_gives_two_different_secrets() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;

    // Act
    let first = app.client.rotate_app_secret(&created.id).await.unwrap().into_inner().app;
    let second = app.client.rotate_app_secret(&created.id).await.unwrap().into_inner().app;

    // Assert
    assert_ne!(first.api_secret, second.api_secret);
    assert_ne!(second.api_secret, created.api_secret);
}

#[tokio::test]
async fn rotate_app_secret_returns_404_for_an_unknown_id() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let result = app.client.rotate_app_secret(&Uuid::now_v7()).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn get_app_returns_404_for_an_unknown_id() {
    // Arrange
    let app = spawn_app().await;
    app.create_app_named("Shop").await;

    // Act
    let result = app.client.get_app(&Uuid::now_v7()).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    assert!(!body.success);
}

#[tokio::test]
async fn delete_app_returns_200_and_then_get_app_returns_404() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;

    // Act
    let response = app.client.delete_app(&created.id).await.expect("the app is deleted");

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.into_inner().success);
    let (status, body) = error_response(app.client.get_app(&created.id).await);
    assert_eq!((status, body.code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn delete_app_twice_returns_404_the_second_time() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    app.client.delete_app(&created.id).await.expect("the first delete succeeds");

    // Act
    let result = app.client.delete_app(&created.id).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn delete_app_removes_it_from_the_list_and_from_every_operation() {
    // Arrange
    let app = spawn_app().await;
    let kept = app.create_app_named("Kept").await;
    let deleted = app.create_app_named("Deleted").await;

    // Act
    app.client.delete_app(&deleted.id).await.expect("the app is deleted");

    // Assert
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();
    let ids: Vec<Uuid> = listed.apps.iter().map(|listed_app| listed_app.id).collect();
    assert_eq!(ids, vec![kept.id]);
    let (status, _) = error_response(app.client.rotate_app_secret(&deleted.id).await);
    assert_eq!(status, StatusCode::NOT_FOUND);
    let changes = appdeck_client::types::UpdateAppRequest { name: Some("Back".parse().unwrap()), ..Default::default() };
    let (status, _) = error_response(app.client.update_app(&deleted.id, &changes).await);
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_app_leaves_the_other_apps_alone() {
    // Arrange
    let app = spawn_app().await;
    let kept = app.create_app_named("Kept").await;
    let deleted = app.create_app_named("Deleted").await;

    // Act
    app.client.delete_app(&deleted.id).await.expect("the app is deleted");

    // Assert
    let stored = app.get_app(kept.id).await;
    assert_eq!(serde_json::to_value(stored).unwrap(), serde_json::to_value(kept).unwrap());
}
