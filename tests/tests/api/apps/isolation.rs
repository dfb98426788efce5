//! Organizations do not see each other: another organization's app is a 404,
//! never a 403, so its existence is not revealed.

use appdeck_client::types;
use appdeck_tests::{error_response, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

fn assert_not_found<T: std::fmt::Debug>(
    result: Result<appdeck_client::ResponseValue<T>, appdeck_client::Error<types::ErrorBody>>,
) {
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::NOT_FOUND, "not_found"), "{}", body.error);
}

#[tokio::test]
async fn another_organization_gets_404_when_reading_our_app() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_app_named("Ours").await;
    let other = app.client_with_token(&app.other_organization_token().await);

    // Act
    let result = other.get_app(&ours.id).await;

    // Assert
    assert_not_found(result);
}

#[tokio::test]
async fn another_organization_gets_the_same_404_as_for_an_app_that_does_not_exist() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_app_named("Ours").await;
    let other = app.client_with_token(&app.other_organization_token().await);

    // Act
    let (ours_status, ours_body) = error_response(other.get_app(&ours.id).await);
    let (missing_status, missing_body) = error_response(other.get_app(&uuid::Uuid::now_v7()).await);

    // Assert
    assert_eq!((ours_status, ours_body.code, ours_body.error), (missing_status, missing_body.code, missing_body.error));
}

#[tokio::test]
async fn another_organization_gets_404_when_changing_our_app_and_nothing_changes() {
    // Arrange
    let app = spawn_app().await;
    let ours =
        app.create_app(json!({"name": "Ours", "email_platform": "brevo", "email_credentials": {"api_key": "k"}})).await;
    let other = app.client_with_token(&app.other_organization_token().await);
    let changes = types::UpdateAppRequest { name: Some("Taken".parse().unwrap()), ..Default::default() };

    // Act
    let update_result = other.update_app(&ours.id, &changes).await;
    let rotate_result = other.rotate_app_secret(&ours.id).await;
    let delete_result = other.delete_app(&ours.id).await;

    // Assert
    assert_not_found(update_result);
    assert_not_found(rotate_result);
    assert_not_found(delete_result);
    let stored = app.get_app(ours.id).await;
    assert_eq!(serde_json::to_value(stored).unwrap(), serde_json::to_value(ours).unwrap());
}

#[tokio::test]
async fn each_organization_lists_only_its_own_apps() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_app_named("Ours").await;
    let other = app.client_with_token(&app.other_organization_token().await);
    let theirs = other.create_app(None, &appdeck_tests::app_request("Theirs")).await.unwrap().into_inner().app;

    // Act
    let our_list = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();
    let their_list = other.list_apps(None, None, None, None).await.unwrap().into_inner();

    // Assert
    assert_eq!(our_list.apps.iter().map(|listed| listed.id).collect::<Vec<_>>(), vec![ours.id]);
    assert_eq!(their_list.apps.iter().map(|listed| listed.id).collect::<Vec<_>>(), vec![theirs.id]);
    assert_ne!(theirs.organization_id, app.organization_id);
}

#[tokio::test]
async fn another_organization_gets_no_next_page_from_our_newer_apps() {
    // Arrange
    let app = spawn_app().await;
    let other = app.client_with_token(&app.other_organization_token().await);
    let theirs = other.create_app(None, &appdeck_tests::app_request("Theirs")).await.unwrap().into_inner().app;
    let ours = app.create_app_named("Ours").await;

    // Act
    let first_page =
        other.list_apps(None, None, Some(std::num::NonZeroU64::new(1).unwrap()), None).await.unwrap().into_inner();

    // Assert
    let their_ids: Vec<_> = first_page.apps.iter().map(|listed| listed.id).collect();
    assert_eq!(their_ids, vec![theirs.id]);
    assert_eq!(first_page.next_cursor, None, "our newer app does not make a next page for them");
    assert!(!their_ids.contains(&ours.id));
}
