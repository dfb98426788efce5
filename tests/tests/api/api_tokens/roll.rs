//! `POST /v1/api-tokens/{id}/roll`: a new secret for the same token, the
//! old one honoured for the overlap asked and then refused.

use appdeck_client::{Client, types};
use appdeck_server::{auth::hash_token, domain::token::TokenRole};
use appdeck_tests::{TestApp, expect_error, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{get_token, status_and_code};

fn overlap_of(seconds: i64) -> types::RollApiTokenRequest {
    serde_json::from_value(json!({ "previous_expires_in_seconds": seconds })).expect("a roll request")
}

/// Sends a raw JSON roll with the admin token.
async fn roll_json(app: &TestApp, id: Uuid, body: &Value) -> reqwest::Response {
    app.send_json(Method::POST, &format!("/v1/api-tokens/{id}/roll"), body).await
}

/// Whether `client`'s token is let in; panics on anything but 200 or 401.
async fn is_let_in(client: &Client) -> bool {
    match client.get_current_token().await {
        Ok(_) => true,
        Err(error) => {
            assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED), "{error:?}");
            false
        }
    }
}

/// Ends every running overlap, as time passing would.
async fn end_the_overlaps(app: &TestApp) {
    app.database
        .execute(
            "UPDATE api_tokens SET previous_expires_at = '2000-01-01T00:00:00+00:00' \
             WHERE previous_expires_at IS NOT NULL",
        )
        .await;
}

#[tokio::test]
async fn roll_with_a_60_second_overlap_lets_both_secrets_in_then_only_the_new_one() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("deploy pipeline", "developer").await;
    let old_client = app.client_with_token(&created.secret);

    // Act
    let rolled = app.client.roll_api_token(&created.token.id, &overlap_of(60)).await.expect("the admin rolls");

    // Assert: the same token with a new secret, and both secrets work.
    assert_eq!(rolled.status(), StatusCode::OK);
    let rolled = rolled.into_inner();
    assert!(rolled.success);
    assert_ne!(rolled.secret, created.secret);
    assert_eq!(rolled.token.id, created.token.id);
    assert_eq!(rolled.token.label.to_string(), "deploy pipeline");
    assert_eq!(rolled.token.role, types::TokenRole::Developer);
    assert_eq!(rolled.token.created_at, created.token.created_at);
    assert_ne!(rolled.token.masked_token, created.token.masked_token, "the mask shows the new secret");
    assert_eq!(get_token(&app, created.token.id).await.masked_token, rolled.token.masked_token);
    let new_client = app.client_with_token(&rolled.secret);
    let seen_as = new_client.get_current_token().await.expect("the new secret works").into_inner().token;
    assert_eq!(seen_as.id, created.token.id);
    assert!(is_let_in(&old_client).await, "the old secret works during the overlap");

    // Act: the overlap ends.
    end_the_overlaps(&app).await;

    // Assert: only the new secret works.
    assert!(!is_let_in(&old_client).await, "the old secret is refused after the overlap");
    assert!(is_let_in(&new_client).await);
}

#[tokio::test]
async fn roll_without_an_overlap_refuses_the_old_secret_at_once() {
    // Arrange
    let app = spawn_app().await;
    let by_client = app.create_api_token("default overlap", "ci").await;
    let without_body = app.create_api_token("no body", "ci").await;
    let empty_object = app.create_api_token("empty object", "ci").await;

    // Act
    let by_client_rolled = app.client.roll_api_token(&by_client.token.id, &overlap_of(0)).await.unwrap().into_inner();
    let path = format!("/v1/api-tokens/{}/roll", without_body.token.id);
    let without_body_response = app.admin_request(Method::POST, &path).send().await.unwrap();
    let empty_object_response = roll_json(&app, empty_object.token.id, &json!({})).await;

    // Assert
    assert_eq!(without_body_response.status(), StatusCode::OK);
    assert_eq!(empty_object_response.status(), StatusCode::OK);
    let without_body_secret =
        without_body_response.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
    let empty_object_secret =
        empty_object_response.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
    for (old, new) in [
        (&by_client.secret, &by_client_rolled.secret),
        (&without_body.secret, &without_body_secret),
        (&empty_object.secret, &empty_object_secret),
    ] {
        assert!(!is_let_in(&app.client_with_token(old)).await, "the old secret is refused at once");
        assert!(is_let_in(&app.client_with_token(new)).await, "the new secret works");
    }
}

#[tokio::test]
async fn rolling_again_ends_the_earlier_overlap() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("twice", "developer").await;
    let first = app.client.roll_api_token(&created.token.id, &overlap_of(3600)).await.unwrap().into_inner();

    // Act
    let second = app.client.roll_api_token(&created.token.id, &overlap_of(3600)).await.unwrap().into_inner();

    // Assert: the first roll's old secret is gone; the one it gave keeps its overlap.
    assert!(!is_let_in(&app.client_with_token(&created.secret)).await);
    assert!(is_let_in(&app.client_with_token(&first.secret)).await);
    assert!(is_let_in(&app.client_with_token(&second.secret)).await);
}

#[tokio::test]
async fn a_rolled_token_is_revoked_and_disabled_whichever_secret_is_used() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("rolled", "developer").await;
    let rolled = app.client.roll_api_token(&created.token.id, &overlap_of(3600)).await.unwrap().into_inner();
    let (old_client, new_client) = (app.client_with_token(&created.secret), app.client_with_token(&rolled.secret));
    let disable = appdeck_tests::api_token_update_from(json!({ "status": "disabled" }));

    // Act
    app.client.update_api_token(&created.token.id, &disable).await.expect("the admin disables");

    // Assert
    assert_eq!(status_and_code(old_client.get_current_token().await).0, StatusCode::FORBIDDEN);
    assert_eq!(status_and_code(new_client.get_current_token().await).0, StatusCode::FORBIDDEN);

    // Act
    app.client.revoke_api_token(&created.token.id).await.expect("the admin revokes");

    // Assert
    assert!(!is_let_in(&old_client).await, "revocation ends the overlap at once");
    assert!(!is_let_in(&new_client).await);
}

#[tokio::test]
async fn roll_is_audited_as_token_rolled_by_its_actor_without_any_secret() {
    // Arrange
    let app = spawn_app().await;
    let admin = app.client.get_current_token().await.unwrap().into_inner().token;
    let created = app.create_api_token("audited", "ci").await;

    // Act
    let rolled = app.client.roll_api_token(&created.token.id, &overlap_of(60)).await.unwrap().into_inner();

    // Assert
    let events = app.audit_events().await;
    let event =
        events.iter().find(|event| event.action == types::AuditAction::TokenRolled).expect("a token.rolled event");
    assert_eq!(event.actor.as_ref().map(|actor| actor.id), Some(admin.id));
    assert_eq!(event.target.id, created.token.id);
    assert_eq!(event.target.type_, types::AuditTargetType::Token);
    let log = serde_json::to_string(&events).unwrap();
    for secret in [&created.secret, &rolled.secret] {
        assert!(!log.contains(secret.as_str()), "a secret in the audit log");
        assert!(!log.contains(&hash_token(secret)), "a secret's hash in the audit log");
    }
}

#[tokio::test]
async fn roll_by_a_developer_or_ci_token_returns_403() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("target", "ci").await;

    for role in [TokenRole::Developer, TokenRole::Ci] {
        // Act
        let client = app.client_with_token(&app.token_with_role(role).await);
        let result = client.roll_api_token(&created.token.id, &overlap_of(0)).await;

        // Assert
        assert_eq!(status_and_code(result), (StatusCode::FORBIDDEN, "forbidden".to_owned()), "{role:?}");
    }
    assert!(is_let_in(&app.client_with_token(&created.secret)).await, "the token was not rolled");
}

#[tokio::test]
async fn roll_of_a_revoked_unknown_or_other_organizations_token_returns_404() {
    // Arrange
    let app = spawn_app().await;
    let revoked = app.create_api_token("revoked", "ci").await;
    app.client.revoke_api_token(&revoked.token.id).await.expect("the admin revokes");
    let other_admin = app.client_with_token(&app.other_organization_token().await);
    let ours = app.create_api_token("ours", "ci").await;

    // Act
    let on_revoked = status_and_code(app.client.roll_api_token(&revoked.token.id, &overlap_of(0)).await);
    let on_unknown = status_and_code(app.client.roll_api_token(&Uuid::now_v7(), &overlap_of(0)).await);
    let across = status_and_code(other_admin.roll_api_token(&ours.token.id, &overlap_of(0)).await);

    // Assert
    for (status, code) in [on_revoked, on_unknown, across] {
        assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    }
    assert!(is_let_in(&app.client_with_token(&ours.secret)).await, "another organization cannot roll it");
}

#[tokio::test]
async fn roll_with_a_bad_body_returns_400_and_keeps_the_secret() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("kept", "ci").await;
    let bodies = [
        (json!({ "previous_expires_in_seconds": -1 }), "validation_failed"),
        (json!({ "previous_expires_in_seconds": 604_801 }), "validation_failed"),
        (json!({ "previous_expires_in_seconds": "60" }), "validation_failed"),
        (json!({ "previous_expires_in_seconds": 1.5 }), "validation_failed"),
        (json!({ "previous_expires_in_seconds": null }), "validation_failed"),
        (json!({ "label": "renamed" }), "unknown_field"),
    ];

    for (body, code) in bodies {
        // Act
        let response = roll_json(&app, created.token.id, &body).await;

        // Assert
        expect_error(response, StatusCode::BAD_REQUEST, code).await;
    }
    let path = format!("/v1/api-tokens/{}/roll", created.token.id);
    let not_json = app.admin_request(Method::POST, &path).body("previous_expires_in_seconds=60").send().await.unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(is_let_in(&app.client_with_token(&created.secret)).await, "a refused roll changes nothing");
}

#[tokio::test]
async fn roll_accepts_the_longest_overlap_of_7_days() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("a week", "ci").await;

    // Act
    let rolled = app.client.roll_api_token(&created.token.id, &overlap_of(604_800)).await;

    // Assert
    assert_eq!(rolled.expect("7 days is allowed").status(), StatusCode::OK);
    assert!(is_let_in(&app.client_with_token(&created.secret)).await);
}

#[tokio::test]
async fn the_last_admin_rolls_itself_and_stays_the_admin() {
    // Arrange: the organization's only admin token.
    let app = spawn_app().await;
    let admin = app.client.get_current_token().await.unwrap().into_inner().token;

    // Act
    let rolled = app.client.roll_api_token(&admin.id, &overlap_of(0)).await.expect("an admin rolls itself");

    // Assert: the old secret is refused; the new one is still the admin.
    let rolled = rolled.into_inner();
    assert!(!is_let_in(&app.client).await);
    let new_client = app.client_with_token(&rolled.secret);
    let listed = new_client.list_api_tokens(None, None).await.expect("the new secret administers").into_inner();
    assert_eq!(listed.tokens.iter().map(|token| token.id).collect::<Vec<_>>(), [admin.id]);
}
