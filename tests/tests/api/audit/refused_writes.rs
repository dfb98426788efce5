//! A refused write records nothing, and a write whose event cannot be
//! recorded is not kept either.

use appdeck_client::types;
use appdeck_tests::{
    all_audit_events, api_token_request_from, api_token_update_from, error_response, expect_error, spawn_app,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{admin_token, assert_no_new_event, event_ids, ids, rename_organization, token_and_client, update_app_from};

#[tokio::test]
async fn update_app_that_breaks_a_rule_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    let seen = event_ids(&app).await;

    // Act
    let response = app.patch_app_json(created.id, &json!({"name": "Renamed", "webhook_enabled": true})).await;

    // Assert
    expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_no_new_event(&app, &seen, "a PATCH that breaks a rule").await;
}

#[tokio::test]
async fn create_api_token_with_a_taken_label_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    app.create_api_token("laptop", "developer").await;
    let seen = event_ids(&app).await;

    // Act
    let result =
        app.client.create_api_token(None, &api_token_request_from(json!({"label": "laptop", "role": "ci"}))).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::CONFLICT, "conflict"), "{}", body.error);
    assert_no_new_event(&app, &seen, "a create with a taken label").await;
}

#[tokio::test]
async fn relabelling_a_token_to_a_taken_label_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    app.create_api_token("laptop", "developer").await;
    let other = app.create_api_token("desktop", "developer").await.token;
    let seen = event_ids(&app).await;

    // Act
    let result = app.client.update_api_token(&other.id, &api_token_update_from(json!({"label": "laptop"}))).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::CONFLICT, "conflict"), "{}", body.error);
    assert_no_new_event(&app, &seen, "a relabel to a taken label").await;
}

#[tokio::test]
async fn revoking_the_last_active_admin_token_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let seen = event_ids(&app).await;

    // Act
    let result = app.client.revoke_api_token(&admin.id).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::CONFLICT, "conflict"), "{}", body.error);
    assert_no_new_event(&app, &seen, "revoking the last active admin").await;
}

#[tokio::test]
async fn disabling_the_last_active_admin_token_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let seen = event_ids(&app).await;

    // Act
    let result = app.client.update_api_token(&admin.id, &api_token_update_from(json!({"status": "disabled"}))).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::CONFLICT, "conflict"), "{}", body.error);
    assert_no_new_event(&app, &seen, "disabling the last active admin").await;
}

#[tokio::test]
async fn ci_token_creating_an_app_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    let (_, ci_client) = token_and_client(&app, "pipeline", "ci").await;
    let seen = event_ids(&app).await;

    // Act
    let result = ci_client.create_app(None, &appdeck_tests::app_request("Shop")).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{}", body.error);
    assert_no_new_event(&app, &seen, "a ci token's create").await;
}

#[tokio::test]
async fn ci_token_changing_an_app_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    let (_, ci_client) = token_and_client(&app, "pipeline", "ci").await;
    let created = app.create_app_named("Shop").await;
    let seen = event_ids(&app).await;

    // Act
    let update_result = ci_client.update_app(&created.id, &update_app_from(json!({"name": "Renamed"}))).await;
    let rotate_result = ci_client.rotate_app_secret(&created.id).await;
    let delete_result = ci_client.delete_app(&created.id).await;

    // Assert
    for (write, (status, body)) in [
        ("update", error_response(update_result)),
        ("rotate", error_response(rotate_result)),
        ("delete", error_response(delete_result)),
    ] {
        assert_eq!((status, body.code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{write}: {}", body.error);
    }
    assert_no_new_event(&app, &seen, "a ci token's app writes").await;
}

#[tokio::test]
async fn developer_token_managing_tokens_or_the_organization_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    let (developer, developer_client) = token_and_client(&app, "developer laptop", "developer").await;
    let seen = event_ids(&app).await;

    // Act
    let create_result = developer_client
        .create_api_token(None, &api_token_request_from(json!({"label": "mine", "role": "admin"})))
        .await;
    let relabel_result = developer_client
        .update_api_token(&developer.token.id, &api_token_update_from(json!({"label": "renamed"})))
        .await;
    let revoke_result = developer_client.revoke_api_token(&developer.token.id).await;
    let rename_result = developer_client.update_organization(&rename_organization("Mine")).await;

    // Assert
    for (write, (status, body)) in [
        ("create a token", error_response(create_result)),
        ("relabel a token", error_response(relabel_result)),
        ("revoke a token", error_response(revoke_result)),
        ("rename the organization", error_response(rename_result)),
    ] {
        assert_eq!((status, body.code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{write}: {}", body.error);
    }
    assert_no_new_event(&app, &seen, "a developer's administration").await;
}

#[tokio::test]
async fn writes_on_what_does_not_exist_record_no_event() {
    // Arrange
    let app = spawn_app().await;
    let deleted = app.create_app_named("Gone").await;
    app.client.delete_app(&deleted.id).await.expect("the admin deletes the app");
    let revoked = app.create_api_token("gone", "developer").await.token;
    app.client.revoke_api_token(&revoked.id).await.expect("the admin revokes the token");
    let seen = event_ids(&app).await;

    // Act
    let update_result = app.client.update_app(&deleted.id, &update_app_from(json!({"name": "Back"}))).await;
    let rotate_result = app.client.rotate_app_secret(&deleted.id).await;
    let delete_result = app.client.delete_app(&deleted.id).await;
    let relabel_result =
        app.client.update_api_token(&revoked.id, &api_token_update_from(json!({"label": "back"}))).await;
    let revoke_result = app.client.revoke_api_token(&revoked.id).await;

    // Assert
    for (write, (status, body)) in [
        ("update a deleted app", error_response(update_result)),
        ("rotate a deleted app", error_response(rotate_result)),
        ("delete a deleted app", error_response(delete_result)),
        ("relabel a revoked token", error_response(relabel_result)),
        ("revoke a revoked token", error_response(revoke_result)),
    ] {
        assert_eq!((status, body.code.as_str()), (StatusCode::NOT_FOUND, "not_found"), "{write}: {}", body.error);
    }
    assert_no_new_event(&app, &seen, "a write on what does not exist").await;
}

#[tokio::test]
async fn writes_on_another_organizations_app_record_no_event_in_either_organization() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_app_named("Ours").await;
    let other = app.client_with_token(&app.other_organization_token().await);
    let seen = event_ids(&app).await;
    let their_events_before = ids(&all_audit_events(&other).await);

    // Act
    let update_result = other.update_app(&ours.id, &update_app_from(json!({"name": "Taken"}))).await;
    let rotate_result = other.rotate_app_secret(&ours.id).await;
    let delete_result = other.delete_app(&ours.id).await;

    // Assert
    for (write, (status, body)) in [
        ("update", error_response(update_result)),
        ("rotate", error_response(rotate_result)),
        ("delete", error_response(delete_result)),
    ] {
        assert_eq!((status, body.code.as_str()), (StatusCode::NOT_FOUND, "not_found"), "{write}: {}", body.error);
    }
    assert_no_new_event(&app, &seen, "another organization's write on our app").await;
    assert_eq!(ids(&all_audit_events(&other).await), their_events_before);
}

#[tokio::test]
async fn write_whose_event_cannot_be_recorded_is_not_kept_either() {
    // Arrange
    let app = spawn_app().await;
    let kept = app.create_app_named("Shop").await;
    let to_delete = app.create_app_named("Doomed").await;
    let (laptop, laptop_client) = token_and_client(&app, "laptop", "developer").await;
    let apps_before = app.client.list_apps(None, None, None, None).await.unwrap().into_inner().apps;
    let tokens_before = app.client.list_api_tokens(None, None).await.unwrap().into_inner().tokens;
    let events_before = ids(&app.audit_events().await);
    app.refuse_audit_events().await;

    // Act
    let results = [
        ("create an app", app.create_app_json(&json!({"name": "New"})).await),
        ("update an app", app.patch_app_json(kept.id, &json!({"name": "Renamed"})).await),
        (
            "rotate a secret",
            app.admin_request(Method::POST, &format!("/v1/apps/{}/rotate-secret", kept.id)).send().await.unwrap(),
        ),
        (
            "delete an app",
            app.admin_request(Method::DELETE, &format!("/v1/apps/{}", to_delete.id)).send().await.unwrap(),
        ),
        ("create a token", app.send_json(Method::POST, "/v1/api-tokens", &json!({"label": "new", "role": "ci"})).await),
        (
            "relabel a token",
            app.send_json(Method::PATCH, &format!("/v1/api-tokens/{}", laptop.token.id), &json!({"label": "desktop"}))
                .await,
        ),
        (
            "revoke a token",
            app.admin_request(Method::DELETE, &format!("/v1/api-tokens/{}", laptop.token.id)).send().await.unwrap(),
        ),
        ("rename the organization", app.send_json(Method::PATCH, "/v1/organization", &json!({"name": "Acme"})).await),
    ];

    // Assert
    for (write, response) in results {
        assert!(response.status().is_server_error(), "{write} answered {}", response.status());
    }
    let apps_after = app.client.list_apps(None, None, None, None).await.unwrap().into_inner().apps;
    assert_eq!(serde_json::to_value(apps_after).unwrap(), serde_json::to_value(apps_before).unwrap());
    let tokens_after = app.client.list_api_tokens(None, None).await.unwrap().into_inner().tokens;
    let labels =
        |tokens: &[types::Token]| tokens.iter().map(|token| (token.id, token.label.to_string())).collect::<Vec<_>>();
    assert_eq!(labels(&tokens_after), labels(&tokens_before));
    laptop_client.get_current_token().await.expect("the token that was not revoked still works");
    let organization = app.client.get_organization().await.unwrap().into_inner().organization;
    assert_eq!(organization.name.as_str(), "Test org");
    assert_eq!(ids(&app.audit_events().await), events_before);
}
