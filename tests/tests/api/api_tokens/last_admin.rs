//! The last active admin without an expiry can be neither revoked nor disabled.

use appdeck_client::types;
use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{api_token_request_from, spawn_app};
use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::json;

use super::{admin_token_object, get_token, listed_token_ids, relabel, rfc3339, set_status, status_and_code};

#[tokio::test]
async fn revoking_the_only_active_admin_token_returns_409_and_it_keeps_working() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token_object(&app).await;
    app.token_with_role(TokenRole::Developer).await;
    app.token_with_role(TokenRole::Ci).await;

    // Act
    let result = app.client.revoke_api_token(&admin.id).await;

    // Assert
    let (status, code) = status_and_code(result);
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"));
    let me = app.client.get_current_token().await.expect("the admin token still works").into_inner();
    assert_eq!(me.token.status, types::TokenStatus::Active);
    assert!(listed_token_ids(&app).await.contains(&admin.id));
}

#[tokio::test]
async fn disabling_the_only_active_admin_token_returns_409_and_it_keeps_working() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token_object(&app).await;
    app.token_with_role(TokenRole::Developer).await;

    // Act
    let result = app.client.update_api_token(&admin.id, &set_status("disabled")).await;

    // Assert
    let (status, code) = status_and_code(result);
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(get_token(&app, admin.id).await.status, types::TokenStatus::Active, "the admin token still works");
}

#[tokio::test]
async fn relabelling_the_only_active_admin_token_is_allowed() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token_object(&app).await;

    // Act
    let updated = app.client.update_api_token(&admin.id, &relabel("root")).await;

    // Assert
    assert_eq!(updated.expect("a relabel keeps the admin active").into_inner().token.label.as_str(), "root");
    let also_active = app.client.update_api_token(&admin.id, &set_status("active")).await;
    assert!(also_active.is_ok(), "setting an active admin active again keeps it active");
}

#[tokio::test]
async fn first_admin_can_be_revoked_once_a_second_admin_exists() {
    // Arrange
    let app = spawn_app().await;
    let first = admin_token_object(&app).await;
    let second = app.create_api_token("second admin", "admin").await;
    let second_client = app.client_with_token(&second.secret);

    // Act
    let revoked = app.client.revoke_api_token(&first.id).await;

    // Assert
    assert!(revoked.expect("another active admin is left").into_inner().success);
    let (status, _) = status_and_code(app.client.get_current_token().await);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the first admin revoked itself");
    let listed = second_client.list_api_tokens(None, None).await.expect("the second admin works").into_inner();
    assert_eq!(listed.tokens.iter().map(|token| token.id).collect::<Vec<_>>(), vec![second.token.id]);
    let (status, code) = status_and_code(second_client.revoke_api_token(&second.token.id).await);
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"), "the second is now the last");
}

#[tokio::test]
async fn first_admin_can_be_disabled_once_a_second_admin_exists() {
    // Arrange
    let app = spawn_app().await;
    let first = admin_token_object(&app).await;
    let second = app.create_api_token("second admin", "admin").await;

    // Act
    let disabled = app.client.update_api_token(&first.id, &set_status("disabled")).await;

    // Assert
    assert_eq!(disabled.expect("another active admin is left").into_inner().token.status, types::TokenStatus::Disabled);
    let second_client = app.client_with_token(&second.secret);
    let (status, code) =
        status_and_code(second_client.update_api_token(&second.token.id, &set_status("disabled")).await);
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"), "the second is now the last");
}

#[tokio::test]
async fn disabled_second_admin_does_not_count_as_active() {
    // Arrange
    let app = spawn_app().await;
    let first = admin_token_object(&app).await;
    let second = app.create_api_token("second admin", "admin").await;
    app.client.update_api_token(&second.token.id, &set_status("disabled")).await.expect("the admin disables");

    // Act
    let revoke = status_and_code(app.client.revoke_api_token(&first.id).await);
    let disable = status_and_code(app.client.update_api_token(&first.id, &set_status("disabled")).await);

    // Assert
    assert_eq!((revoke.0, revoke.1.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!((disable.0, disable.1.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(get_token(&app, first.id).await.status, types::TokenStatus::Active);
    app.client.revoke_api_token(&second.token.id).await.expect("a disabled admin can be revoked");
}

#[tokio::test]
async fn expired_second_admin_does_not_count_as_active() {
    // Arrange
    let app = spawn_app().await;
    let first = admin_token_object(&app).await;
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    app.token_expiring_at(an_hour_ago).await;

    // Act
    let revoke = status_and_code(app.client.revoke_api_token(&first.id).await);
    let disable = status_and_code(app.client.update_api_token(&first.id, &set_status("disabled")).await);

    // Assert
    assert_eq!((revoke.0, revoke.1.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!((disable.0, disable.1.as_str()), (StatusCode::CONFLICT, "conflict"));
    app.client.get_current_token().await.expect("the first admin still works");
}

#[tokio::test]
async fn admins_that_will_expire_do_not_replace_the_last_admin_without_an_expiry() {
    // Arrange: the first admin, and admins that expire in a day and in a year.
    let app = spawn_app().await;
    let first = admin_token_object(&app).await;
    for (label, lifetime) in [("day admin", TimeDelta::days(1)), ("year admin", TimeDelta::days(365))] {
        let expires_at = rfc3339(Utc::now() + lifetime);
        let request = api_token_request_from(json!({"label": label, "role": "admin", "expires_at": expires_at}));
        app.client.create_api_token(None, &request).await.expect("the admin creates");
    }

    // Act
    let revoke = status_and_code(app.client.revoke_api_token(&first.id).await);
    let disable = status_and_code(app.client.update_api_token(&first.id, &set_status("disabled")).await);

    // Assert: they would lapse, leaving no admin at all.
    assert_eq!((revoke.0, revoke.1.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!((disable.0, disable.1.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(get_token(&app, first.id).await.status, types::TokenStatus::Active);
}

#[tokio::test]
async fn an_admin_that_will_expire_can_be_revoked_while_one_without_an_expiry_remains() {
    // Arrange
    let app = spawn_app().await;
    let first = admin_token_object(&app).await;
    let in_a_day = rfc3339(Utc::now() + TimeDelta::days(1));
    let request = api_token_request_from(json!({"label": "temporary admin", "role": "admin", "expires_at": in_a_day}));
    let temporary = app.client.create_api_token(None, &request).await.expect("the admin creates").into_inner();
    app.create_api_token("lasting admin", "admin").await;

    // Act
    let revoked_temporary = app.client.revoke_api_token(&temporary.token.id).await;
    let revoked_first = app.client.revoke_api_token(&first.id).await;

    // Assert
    assert!(revoked_temporary.expect("an expiring admin is not the last lasting one").into_inner().success);
    assert!(revoked_first.expect("another admin without an expiry remains").into_inner().success);
}
