//! `/v1/api-tokens`: create (the secret shown once), list, get, relabel,
//! disable and enable, revoke; labels, expiry, the last active admin,
//! roles, isolation between organizations and `last_used_at`.

use std::collections::HashSet;

use appdeck_client::{Client, types};
use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{
    TestApp, api_token_request_from, api_token_update_from, error_response, expect_error, is_prefixed_base62, limit,
    spawn_app, typed_cursor,
};
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

fn relabel(label: &str) -> types::UpdateApiTokenRequest {
    api_token_update_from(json!({ "label": label }))
}

fn set_status(status: &str) -> types::UpdateApiTokenRequest {
    api_token_update_from(json!({ "status": status }))
}

/// The calling admin token as `GET /v1/me` describes it.
async fn admin_token_object(app: &TestApp) -> types::Token {
    app.client.get_current_token().await.expect("the admin token is valid").into_inner().token
}

/// Reads a token with the admin client; panics unless it exists.
async fn get_token(app: &TestApp, id: Uuid) -> types::Token {
    app.client.get_api_token(&id).await.expect("the admin reads the token").into_inner().token
}

/// Every live token of the organization, by following `next_cursor` with pages of `page_size`.
async fn list_all_tokens(client: &Client, page_size: u64) -> Vec<Vec<Uuid>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = client
            .list_api_tokens(cursor.as_deref().map(typed_cursor).as_ref(), limit(page_size))
            .await
            .expect("a page is listed")
            .into_inner();
        assert!(page.success);
        assert!(page.tokens.len() <= page_size as usize, "a page holds at most `limit` tokens");
        pages.push(page.tokens.iter().map(|token| token.id).collect());
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages.len() <= 100, "pagination does not end");
    }
    pages
}

/// The ids of the first page of live tokens, as the admin lists them.
async fn listed_token_ids(app: &TestApp) -> Vec<Uuid> {
    let listed = app.client.list_api_tokens(None, limit(100)).await.expect("the admin lists tokens").into_inner();
    listed.tokens.iter().map(|token| token.id).collect()
}

/// Sends a raw JSON `POST /v1/api-tokens` with the admin token.
async fn create_token_json(app: &TestApp, body: &Value) -> reqwest::Response {
    app.send_json(Method::POST, "/v1/api-tokens", body).await
}

/// Sends a raw JSON `PATCH /v1/api-tokens/{id}` with the admin token.
async fn patch_token_json(app: &TestApp, id: Uuid, body: &Value) -> reqwest::Response {
    app.send_json(Method::PATCH, &format!("/v1/api-tokens/{id}"), body).await
}

/// The status and code of an error the generated client received.
fn status_and_code<T: std::fmt::Debug>(
    result: Result<appdeck_client::ResponseValue<T>, appdeck_client::Error<types::ErrorBody>>,
) -> (StatusCode, String) {
    let (status, body) = error_response(result);
    assert!(!body.success);
    (status, body.code)
}

fn rfc3339(moment: DateTime<Utc>) -> String {
    moment.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

// Create

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

// Labels

#[tokio::test]
async fn create_api_token_trims_the_label() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let created = app.create_api_token("  deploy pipeline \u{3000}", "ci").await;

    // Assert
    assert_eq!(created.token.label.as_str(), "deploy pipeline");
    assert_eq!(get_token(&app, created.token.id).await.label.as_str(), "deploy pipeline");
}

#[tokio::test]
async fn create_api_token_accepts_a_label_of_100_characters() {
    // Arrange
    let app = spawn_app().await;
    let label = "é".repeat(100);

    // Act
    let created = app.create_api_token(&label, "ci").await;

    // Assert
    assert_eq!(created.token.label.as_str(), label);
}

#[tokio::test]
async fn create_api_token_returns_400_for_a_blank_or_too_long_label() {
    // Arrange
    let app = spawn_app().await;

    for label in [String::new(), "   ".to_owned(), "x".repeat(101), format!(" {} ", "é".repeat(101))] {
        // Act
        let response = create_token_json(&app, &json!({"label": label, "role": "ci"})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains("label"), "label {label:?}: {message}");
    }
    assert_eq!(listed_token_ids(&app).await.len(), 1, "no token was made");
}

#[tokio::test]
async fn create_api_token_returns_409_for_a_label_a_live_token_has() {
    // Arrange
    let app = spawn_app().await;
    app.create_api_token("deploy pipeline", "ci").await;

    for label in ["deploy pipeline", "  deploy pipeline  ", "admin"] {
        // Act
        let result =
            app.client.create_api_token(None, &api_token_request_from(json!({"label": label, "role": "ci"}))).await;

        // Assert
        let (status, code) = status_and_code(result);
        assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"), "label {label:?}");
    }
    assert_eq!(listed_token_ids(&app).await.len(), 2, "no token was made");
}

#[tokio::test]
async fn label_of_a_revoked_token_can_be_used_again() {
    // Arrange
    let app = spawn_app().await;
    let first = app.create_api_token("deploy pipeline", "ci").await;
    app.client.revoke_api_token(&first.token.id).await.expect("the admin revokes");

    // Act
    let second = app.create_api_token("deploy pipeline", "ci").await;

    // Assert
    assert_ne!(second.token.id, first.token.id);
    assert_eq!(second.token.label.as_str(), "deploy pipeline");
    let other = app.create_api_token("other", "ci").await;
    let relabelled = app.client.update_api_token(&other.token.id, &relabel("admin 2")).await;
    assert!(relabelled.is_ok(), "a label no live token has is free");
}

#[tokio::test]
async fn update_api_token_relabels_and_trims_the_label() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("old label", "ci").await;

    // Act
    let updated = app.client.update_api_token(&created.token.id, &relabel("  new label ")).await;

    // Assert
    let updated = updated.expect("the admin relabels").into_inner();
    assert!(updated.success);
    assert_eq!(updated.token.label.as_str(), "new label");
    assert_eq!(updated.token.status, types::TokenStatus::Active, "a relabel leaves the status alone");
    assert_eq!(updated.token.masked_token, created.token.masked_token);
    assert_eq!(get_token(&app, created.token.id).await.label.as_str(), "new label");
    let me = app.client_with_token(&created.secret).get_current_token().await.expect("the token still works");
    assert_eq!(me.into_inner().token.label.as_str(), "new label");
}

#[tokio::test]
async fn update_api_token_accepts_the_token_s_own_label() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("same", "ci").await;

    // Act
    let result = app.client.update_api_token(&created.token.id, &relabel("same")).await;

    // Assert
    assert_eq!(result.expect("a token does not conflict with itself").into_inner().token.label.as_str(), "same");
}

#[tokio::test]
async fn update_api_token_returns_409_when_relabelled_to_a_live_token_s_label() {
    // Arrange
    let app = spawn_app().await;
    app.create_api_token("taken", "ci").await;
    let other = app.create_api_token("other", "ci").await;

    for label in ["taken", " taken ", "admin"] {
        // Act
        let result = app.client.update_api_token(&other.token.id, &relabel(label)).await;

        // Assert
        let (status, code) = status_and_code(result);
        assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"), "label {label:?}");
    }
    assert_eq!(get_token(&app, other.token.id).await.label.as_str(), "other", "nothing changed");
}

#[tokio::test]
async fn update_api_token_returns_400_for_a_blank_or_too_long_label() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("kept", "ci").await;

    for label in [json!(""), json!("  "), json!("x".repeat(101)), json!(null), json!(7)] {
        // Act
        let response = patch_token_json(&app, created.token.id, &json!({"label": label})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains("label"), "label {label}: {message}");
    }
    assert_eq!(get_token(&app, created.token.id).await.label.as_str(), "kept", "nothing changed");
}

// Expiry

#[tokio::test]
async fn create_api_token_returns_400_for_an_expiry_in_the_past() {
    // Arrange
    let app = spawn_app().await;
    let an_hour_ago = rfc3339(Utc::now() - TimeDelta::hours(1));
    let request = api_token_request_from(json!({"label": "late", "role": "ci", "expires_at": an_hour_ago}));

    // Act
    let result = app.client.create_api_token(None, &request).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::BAD_REQUEST, "validation_failed"));
    assert!(body.error.contains("expires_at"), "{}", body.error);
    assert_eq!(listed_token_ids(&app).await.len(), 1, "no token was made");
}

#[tokio::test]
async fn create_api_token_returns_400_for_an_expiry_that_is_not_a_timestamp() {
    // Arrange
    let app = spawn_app().await;

    for expires_at in [json!("tomorrow"), json!(1_900_000_000), json!("2030-13-01T00:00:00Z")] {
        // Act
        let body = json!({"label": "x", "role": "ci", "expires_at": expires_at});
        let response = create_token_json(&app, &body).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains("expires_at"), "{expires_at}: {message}");
    }
}

#[tokio::test]
async fn token_created_with_a_future_expiry_shows_it_and_works() {
    // Arrange
    let app = spawn_app().await;
    let in_a_day = Utc::now() + TimeDelta::days(1);
    let request =
        api_token_request_from(json!({"label": "temporary", "role": "developer", "expires_at": rfc3339(in_a_day)}));

    // Act
    let created = app.client.create_api_token(None, &request).await.expect("a future expiry is accepted").into_inner();

    // Assert
    let expires_at = created.token.expires_at.expect("the expiry is shown");
    assert!((expires_at - in_a_day).num_milliseconds().abs() <= 1, "expires_at {expires_at}, asked {in_a_day}");
    assert_eq!(get_token(&app, created.token.id).await.expires_at, Some(expires_at));
    let me = app.client_with_token(&created.secret).get_current_token().await.expect("the token works until then");
    assert_eq!(me.into_inner().token.expires_at, Some(expires_at));
}

#[tokio::test]
async fn create_api_token_with_a_null_expiry_never_expires() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = create_token_json(&app, &json!({"label": "forever", "role": "ci", "expires_at": null})).await;

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token"]["expires_at"], Value::Null);
}

#[tokio::test]
async fn expired_token_gets_401_on_the_token_operations() {
    // Arrange
    let app = spawn_app().await;
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let expired = app.client_with_token(&app.token_expiring_at(an_hour_ago).await);

    // Act
    let result = expired.list_api_tokens(None, None).await;

    // Assert
    let (status, code) = status_and_code(result);
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (status, _) = status_and_code(
        expired.create_api_token(None, &api_token_request_from(json!({"label": "x", "role": "admin"}))).await,
    );
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

// Secrets appear only in the create response

#[tokio::test]
async fn get_list_and_update_never_return_the_secret() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("secretive", "developer").await;
    let path = format!("/v1/api-tokens/{}", created.token.id);

    // Act
    let get = app.admin_request(Method::GET, &path).send().await.unwrap();
    let list = app.admin_request(Method::GET, "/v1/api-tokens").send().await.unwrap();
    let patch = app.send_json(Method::PATCH, &path, &json!({"label": "renamed"})).await;

    // Assert
    let expected_fields: HashSet<&str> =
        ["id", "label", "role", "masked_token", "status", "created_at", "created_by", "last_used_at", "expires_at"]
            .into();
    for (what, response) in [("get", get), ("list", list), ("patch", patch)] {
        assert_eq!(response.status(), StatusCode::OK, "{what}");
        let text = response.text().await.unwrap();
        assert!(!text.contains(&created.secret), "the secret is in the {what} response: {text}");
        assert!(!text.contains(&created.secret[9..created.secret.len() - 4]), "part of the secret is in {what}");
        assert!(!text.contains(&app.admin_token), "the admin secret is in the {what} response");
        let body: Value = serde_json::from_str(&text).unwrap();
        let tokens = match body.get("tokens") {
            Some(tokens) => tokens.as_array().unwrap().clone(),
            None => vec![body["token"].clone()],
        };
        assert!(tokens.iter().any(|token| token["id"] == created.token.id.to_string()), "{what}: {body}");
        for token in tokens {
            let fields: HashSet<&str> = token.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(fields, expected_fields, "the fields of a token in the {what} response");
        }
    }
}

#[tokio::test]
async fn create_response_is_the_only_one_with_the_secret() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = create_token_json(&app, &json!({"label": "once", "role": "ci"})).await;

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let secret = body["secret"].as_str().expect("the create response carries the secret");
    assert_eq!(body["success"], Value::Bool(true));
    assert!(!body["token"].to_string().contains(secret), "the token object itself never holds the secret");
    let me = app.client_with_token(secret).get_current_token().await.unwrap().into_inner();
    assert!(!serde_json::to_string(&me).unwrap().contains(secret), "/v1/me does not echo the secret");
}

// List

#[tokio::test]
async fn list_api_tokens_returns_the_live_tokens_oldest_first() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token_object(&app).await;
    let first = app.create_api_token("first", "ci").await;
    let second = app.create_api_token("second", "developer").await;
    let third = app.create_api_token("third", "admin").await;

    // Act
    let listed = app.client.list_api_tokens(None, None).await.expect("the admin lists tokens").into_inner();

    // Assert
    assert!(listed.success);
    let ids: Vec<Uuid> = listed.tokens.iter().map(|token| token.id).collect();
    assert_eq!(ids, vec![admin.id, first.token.id, second.token.id, third.token.id]);
    let labels: Vec<&str> = listed.tokens.iter().map(|token| token.label.as_str()).collect();
    assert_eq!(labels, ["admin", "first", "second", "third"]);
    assert_eq!(listed.next_cursor, None);
}

#[tokio::test]
async fn list_api_tokens_leaves_out_revoked_tokens_and_keeps_disabled_ones() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token_object(&app).await;
    let revoked = app.create_api_token("revoked", "ci").await;
    let disabled = app.create_api_token("disabled", "ci").await;
    app.client.revoke_api_token(&revoked.token.id).await.expect("the admin revokes");
    app.client.update_api_token(&disabled.token.id, &set_status("disabled")).await.expect("the admin disables");

    // Act
    let listed = app.client.list_api_tokens(None, None).await.unwrap().into_inner();

    // Assert
    let ids: Vec<Uuid> = listed.tokens.iter().map(|token| token.id).collect();
    assert_eq!(ids, vec![admin.id, disabled.token.id]);
    assert_eq!(listed.tokens[1].status, types::TokenStatus::Disabled);
}

#[tokio::test]
async fn list_api_tokens_pages_visit_every_token_exactly_once_in_order() {
    // Arrange
    let app = spawn_app().await;
    let mut ids = vec![admin_token_object(&app).await.id];
    for index in 0..6 {
        ids.push(app.create_api_token(&format!("token {index}"), "ci").await.token.id);
    }

    for page_size in [1, 2, 3, 7, 100] {
        // Act
        let pages = list_all_tokens(&app.client, page_size).await;

        // Assert
        assert_eq!(pages.concat(), ids, "pages of {page_size}");
        assert_eq!(pages.len(), ids.len().div_ceil(page_size as usize).max(1), "pages of {page_size}");
        assert!(pages.iter().all(|page| !page.is_empty()), "no empty page with pages of {page_size}");
    }
}

#[tokio::test]
async fn list_api_tokens_with_limit_2_returns_two_tokens_and_a_cursor() {
    // Arrange
    let app = spawn_app().await;
    app.create_api_token("one", "ci").await;
    app.create_api_token("two", "ci").await;

    // Act
    let page = app.client.list_api_tokens(None, limit(2)).await.unwrap().into_inner();

    // Assert
    assert_eq!(page.tokens.len(), 2);
    let cursor = page.next_cursor.expect("a third token is left");
    let rest = app.client.list_api_tokens(Some(&typed_cursor(&cursor)), limit(2)).await.unwrap().into_inner();
    assert_eq!(rest.tokens.iter().map(|token| token.label.as_str()).collect::<Vec<_>>(), ["two"]);
    assert_eq!(rest.next_cursor, None);
}

#[tokio::test]
async fn list_api_tokens_returns_400_for_a_bad_limit() {
    // Arrange
    let app = spawn_app().await;

    for value in ["0", "-1", "101", "abc", "1.5", ""] {
        // Act
        let response = app.admin_request(Method::GET, &format!("/v1/api-tokens?limit={value}")).send().await.unwrap();

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
        assert!(message.contains("limit"), "limit={value}: {message}");
    }
    let (status, code) = status_and_code(app.client.list_api_tokens(None, limit(101)).await);
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_parameter"));
}

#[tokio::test]
async fn list_api_tokens_returns_400_for_a_cursor_it_did_not_make() {
    // Arrange
    let app = spawn_app().await;

    for cursor in ["garbage", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "0190f5c4-7c4e-7b3a-9d7e-1a2b3c4d5e6f"] {
        // Act: the generated client refuses such a cursor before sending it
        assert!(cursor.parse::<types::ListApiTokensCursor>().is_err(), "{cursor}");
        let response = app.admin_request(Method::GET, &format!("/v1/api-tokens?cursor={cursor}")).send().await.unwrap();

        // Assert
        let error = expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
        assert!(error.contains("cursor"), "{error}");
    }
}

// Get

#[tokio::test]
async fn get_api_token_returns_the_token_as_created() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("read me", "developer").await;

    // Act
    let response = app.client.get_api_token(&created.token.id).await.expect("the admin reads the token");

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let read = response.into_inner();
    assert!(read.success);
    assert_eq!(serde_json::to_value(&read.token).unwrap(), serde_json::to_value(&created.token).unwrap());
}

#[tokio::test]
async fn token_operations_return_404_for_an_unknown_id() {
    // Arrange
    let app = spawn_app().await;
    let unknown = Uuid::now_v7();

    // Act
    let get = status_and_code(app.client.get_api_token(&unknown).await);
    let patch = status_and_code(app.client.update_api_token(&unknown, &relabel("x")).await);
    let revoke = status_and_code(app.client.revoke_api_token(&unknown).await);

    // Assert
    for (status, code) in [get, patch, revoke] {
        assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    }
}

#[tokio::test]
async fn token_id_that_is_not_a_uuid_returns_400_invalid_parameter() {
    // Arrange
    let app = spawn_app().await;

    for method in [Method::GET, Method::DELETE] {
        // Act
        let response = app.admin_request(method.clone(), "/v1/api-tokens/not-a-uuid").send().await.unwrap();

        // Assert
        expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    }
    let response = app.send_json(Method::PATCH, "/v1/api-tokens/not-a-uuid", &json!({"label": "x"})).await;
    expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
}

// Disable and enable

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

// Revoke

#[tokio::test]
async fn revoke_api_token_returns_200_and_the_token_gets_401_at_once() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("short lived", "developer").await;
    let revoked_client = app.client_with_token(&created.secret);
    revoked_client.get_current_token().await.expect("the token works before it is revoked");

    // Act
    let response = app.admin_request(Method::DELETE, &format!("/v1/api-tokens/{}", created.token.id)).send().await;

    // Assert
    let response = response.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"success": true}));
    let (status, code) = status_and_code(revoked_client.get_current_token().await);
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (status, _) = status_and_code(revoked_client.list_apps(None, None, None, None).await);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoke_api_token_through_the_generated_client_returns_success() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("gone", "ci").await;

    // Act
    let revoked = app.client.revoke_api_token(&created.token.id).await.expect("the admin revokes");

    // Assert
    assert_eq!(revoked.status(), StatusCode::OK);
    assert!(revoked.into_inner().success);
    assert!(!listed_token_ids(&app).await.contains(&created.token.id));
}

#[tokio::test]
async fn revoked_token_returns_404_on_get_update_and_revoke() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("revoked", "ci").await;
    app.client.revoke_api_token(&created.token.id).await.expect("the admin revokes");
    let id = created.token.id;

    // Act
    let get = status_and_code(app.client.get_api_token(&id).await);
    let relabel_result = status_and_code(app.client.update_api_token(&id, &relabel("back")).await);
    let enable = status_and_code(app.client.update_api_token(&id, &set_status("active")).await);
    let revoke_again = status_and_code(app.client.revoke_api_token(&id).await);

    // Assert
    for (status, code) in [get, relabel_result, enable, revoke_again] {
        assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    }
    let (status, _) = status_and_code(app.client_with_token(&created.secret).get_current_token().await);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked token cannot be brought back");
}

// The last active admin

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

// Roles

/// Runs the five token operations with `client` against `target`; returns each one's status and code.
async fn every_token_operation(client: &Client, target: Uuid) -> Vec<(&'static str, StatusCode, String)> {
    let create = api_token_request_from(json!({"label": "escalated", "role": "admin"}));
    let outcomes = [
        ("list", status_and_code(client.list_api_tokens(None, None).await)),
        ("create", status_and_code(client.create_api_token(None, &create).await)),
        ("get", status_and_code(client.get_api_token(&target).await)),
        ("update", status_and_code(client.update_api_token(&target, &relabel("hijacked")).await)),
        ("revoke", status_and_code(client.revoke_api_token(&target).await)),
    ];
    outcomes.into_iter().map(|(operation, (status, code))| (operation, status, code)).collect()
}

#[tokio::test]
async fn developer_token_gets_403_on_every_token_operation() {
    // Arrange
    let app = spawn_app().await;
    let target = app.create_api_token("target", "ci").await;
    let developer = app.client_with_token(&app.token_with_role(TokenRole::Developer).await);

    // Act
    let outcomes = every_token_operation(&developer, target.token.id).await;

    // Assert
    for (operation, status, code) in outcomes {
        assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{operation}");
    }
    assert_eq!(get_token(&app, target.token.id).await.label.as_str(), "target", "nothing changed");
    assert_eq!(listed_token_ids(&app).await.len(), 3, "no token was made or revoked");
}

#[tokio::test]
async fn ci_token_gets_403_on_every_token_operation() {
    // Arrange
    let app = spawn_app().await;
    let target = app.create_api_token("target", "developer").await;
    let ci = app.client_with_token(&app.token_with_role(TokenRole::Ci).await);

    // Act
    let outcomes = every_token_operation(&ci, target.token.id).await;

    // Assert
    for (operation, status, code) in outcomes {
        assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{operation}");
    }
    assert_eq!(get_token(&app, target.token.id).await.label.as_str(), "target", "nothing changed");
    assert_eq!(listed_token_ids(&app).await.len(), 3, "no token was made or revoked");
}

#[tokio::test]
async fn non_admin_token_gets_403_even_on_its_own_token() {
    // Arrange
    let app = spawn_app().await;
    let developer = app.create_api_token("developer", "developer").await;
    let client = app.client_with_token(&developer.secret);

    // Act
    let outcomes = every_token_operation(&client, developer.token.id).await;

    // Assert
    for (operation, status, code) in outcomes {
        assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{operation}");
    }
    client.get_current_token().await.expect("the developer token was not revoked");
}

// Isolation

#[tokio::test]
async fn another_organization_gets_404_for_our_token() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_api_token("ours", "developer").await;
    let other = app.client_with_token(&app.other_organization_token().await);

    // Act
    let get = status_and_code(other.get_api_token(&ours.token.id).await);
    let patch = status_and_code(other.update_api_token(&ours.token.id, &relabel("stolen")).await);
    let disable = status_and_code(other.update_api_token(&ours.token.id, &set_status("disabled")).await);
    let revoke = status_and_code(other.revoke_api_token(&ours.token.id).await);

    // Assert
    for (status, code) in [get, patch, disable, revoke] {
        assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    }
    let unchanged = get_token(&app, ours.token.id).await;
    assert_eq!((unchanged.label.as_str(), unchanged.status), ("ours", types::TokenStatus::Active));
    app.client_with_token(&ours.secret).get_current_token().await.expect("our token still works");
}

#[tokio::test]
async fn another_organization_gets_the_same_404_as_for_a_token_that_does_not_exist() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_api_token("ours", "ci").await;
    let other = app.client_with_token(&app.other_organization_token().await);

    // Act
    let (ours_status, ours_body) = error_response(other.get_api_token(&ours.token.id).await);
    let (unknown_status, unknown_body) = error_response(other.get_api_token(&Uuid::now_v7()).await);

    // Assert
    assert_eq!(ours_status, unknown_status);
    assert_eq!((ours_body.code, ours_body.error), (unknown_body.code, unknown_body.error));
}

#[tokio::test]
async fn each_organization_lists_only_its_own_tokens() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_api_token("ours", "ci").await;
    let other = app.client_with_token(&app.other_organization_token().await);
    let theirs = other
        .create_api_token(None, &api_token_request_from(json!({"label": "theirs", "role": "ci"})))
        .await
        .expect("the other admin creates")
        .into_inner();

    // Act
    let our_list = app.client.list_api_tokens(None, None).await.unwrap().into_inner();
    let their_list = other.list_api_tokens(None, None).await.unwrap().into_inner();

    // Assert
    let our_labels: Vec<&str> = our_list.tokens.iter().map(|token| token.label.as_str()).collect();
    let their_labels: Vec<&str> = their_list.tokens.iter().map(|token| token.label.as_str()).collect();
    assert_eq!(our_labels, ["admin", "ours"]);
    assert_eq!(their_labels, ["admin", "theirs"]);
    assert!(!their_list.tokens.iter().any(|token| token.id == ours.token.id));
    assert!(!our_list.tokens.iter().any(|token| token.id == theirs.token.id));
}

#[tokio::test]
async fn labels_are_unique_per_organization_only() {
    // Arrange
    let app = spawn_app().await;
    app.create_api_token("deploy pipeline", "ci").await;
    let other = app.client_with_token(&app.other_organization_token().await);

    // Act
    let result =
        other.create_api_token(None, &api_token_request_from(json!({"label": "deploy pipeline", "role": "ci"}))).await;

    // Assert
    assert_eq!(result.expect("another organization may use the same label").status(), StatusCode::CREATED);
}

// last_used_at

#[tokio::test]
async fn last_used_at_is_null_for_a_token_never_used() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("unused", "ci").await;
    app.client.list_api_tokens(None, None).await.expect("the admin is busy meanwhile");

    // Act
    let token = get_token(&app, created.token.id).await;

    // Assert
    assert_eq!(token.last_used_at, None);
}

#[tokio::test]
async fn last_used_at_is_set_when_the_token_is_used() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("used", "ci").await;
    let before = Utc::now() - TimeDelta::seconds(1);
    app.client_with_token(&created.secret).list_apps(None, None, None, None).await.expect("the ci token reads apps");
    let after = Utc::now() + TimeDelta::seconds(1);

    // Act
    let token = get_token(&app, created.token.id).await;

    // Assert
    let last_used_at = token.last_used_at.expect("the use was recorded");
    assert!(before <= last_used_at && last_used_at <= after, "last_used_at {last_used_at}");
    let listed = app.client.list_api_tokens(None, None).await.unwrap().into_inner();
    let listed_token = listed.tokens.iter().find(|token| token.id == created.token.id).unwrap();
    assert_eq!(listed_token.last_used_at, Some(last_used_at), "the list shows it too");
}

#[tokio::test]
async fn last_used_at_is_refreshed_at_most_once_a_minute() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("busy", "developer").await;
    let client = app.client_with_token(&created.secret);
    client.get_current_token().await.expect("the first use");
    let first_use = get_token(&app, created.token.id).await.last_used_at.expect("the first use was recorded");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    // Act
    client.list_apps(None, None, None, None).await.expect("the second use");
    let me = client.get_current_token().await.expect("the third use").into_inner();

    // Assert
    assert_eq!(get_token(&app, created.token.id).await.last_used_at, Some(first_use));
    assert_eq!(me.token.last_used_at, Some(first_use), "/v1/me shows the same moment");
}
