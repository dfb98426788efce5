//! An event names its actor as it was when it acted.

use appdeck_client::types;
use appdeck_tests::{api_token_update_from, header_text, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use types::{AuditAction, AuditTargetType};

use super::{
    Filter, Recorded, admin_token, by, event_ids, expected, list_filtered, the_new_event, token_and_client,
    update_app_from,
};

#[tokio::test]
async fn event_keeps_the_label_its_actor_had_when_it_acted() {
    // Arrange
    let app = spawn_app().await;
    let (developer, developer_client) = token_and_client(&app, "laptop", "developer").await;
    let created =
        developer_client.create_app(None, &appdeck_tests::app_request("Shop")).await.unwrap().into_inner().app;
    let relabel = api_token_update_from(json!({"label": "old laptop"}));
    app.client.update_api_token(&developer.token.id, &relabel).await.expect("the admin relabels the developer");

    // Act
    developer_client.update_app(&created.id, &update_app_from(json!({"name": "Shop v2"}))).await.unwrap();

    // Assert
    let events = list_filtered(&app, Filter { actor_id: Some(developer.token.id), ..Default::default() }).await;
    let actors: Vec<_> = events.iter().map(|event| (event.action, Recorded::of(event).actor)).collect();
    let id = developer.token.id;
    assert_eq!(
        actors,
        [
            (AuditAction::AppUpdated, Some((id, "old laptop".to_owned()))),
            (AuditAction::AppCreated, Some((id, "laptop".to_owned()))),
        ]
    );
}

#[tokio::test]
async fn token_relabelling_itself_is_recorded_under_the_label_it_had_when_it_acted() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let seen = event_ids(&app).await;

    // Act
    app.client
        .update_api_token(&admin.id, &api_token_update_from(json!({"label": "boss"})))
        .await
        .expect("the admin relabels itself");

    // Assert
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(
            AuditAction::TokenUpdated,
            Some((admin.id, "admin".to_owned())),
            (AuditTargetType::Token, admin.id),
            &["label"]
        )
    );
    assert_eq!(admin_token(&app).await.label.as_str(), "boss");
}

#[tokio::test]
async fn events_of_a_revoked_token_still_name_it_and_can_be_found_by_its_id() {
    // Arrange
    let app = spawn_app().await;
    let (developer, developer_client) = token_and_client(&app, "laptop", "developer").await;
    let created =
        developer_client.create_app(None, &appdeck_tests::app_request("Shop")).await.unwrap().into_inner().app;
    app.client.revoke_api_token(&developer.token.id).await.expect("the admin revokes the developer");

    // Act
    let events = list_filtered(&app, Filter { actor_id: Some(developer.token.id), ..Default::default() }).await;

    // Assert
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(
        Recorded::of(&events[0]),
        expected(AuditAction::AppCreated, by(&developer.token), (AuditTargetType::App, created.id), &["name"])
    );
}

#[tokio::test]
async fn a_request_id_too_long_to_keep_is_replaced_and_the_event_records_the_one_answered() {
    // Arrange
    let app = spawn_app().await;
    let seen = event_ids(&app).await;
    let long_id = "r".repeat(5000);

    // Act
    let response = app
        .admin_request(Method::POST, "/v1/apps")
        .header("x-request-id", &long_id)
        .json(&json!({"name": "Long id"}))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let answered_with = header_text(&response, "x-request-id");
    assert!(Uuid::parse_str(&answered_with).is_ok(), "a new id is generated: {answered_with}");
    let event = the_new_event(&app, &seen).await;
    assert_eq!(event.request_id.as_deref(), Some(answered_with.as_str()));
}
