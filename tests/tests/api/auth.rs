//! Authentication: the three header forms, and the 401s for a token that is
//! missing, malformed, fails its checksum, or is well-formed but unknown.

use appdeck_client::{Client, types};
use appdeck_server::auth::issue_token;
use appdeck_tests::{TestApp, error_response, expect_error, get_me_with_header, spawn_app, with_bad_checksum};
use reqwest::StatusCode;
use serde_json::Value;

async fn assert_me_is_the_admin(response: reqwest::Response, app: &TestApp) {
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], Value::Bool(true));
    assert_eq!(body["token"]["role"], "admin");
    assert_eq!(body["organization"]["id"], app.organization_id.to_string());
}

#[tokio::test]
async fn x_api_key_header_authenticates_through_the_generated_client() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let me = app.client.get_current_token().await.expect("the token is accepted").into_inner();

    // Assert
    assert_eq!(me.token.role, types::TokenRole::Admin);
    assert_eq!(me.organization.id, app.organization_id);
}

#[tokio::test]
async fn x_api_key_header_authenticates_a_plain_request() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = get_me_with_header(&app, "X-API-Key", &app.admin_token).await;

    // Assert
    assert_me_is_the_admin(response, &app).await;
}

#[tokio::test]
async fn authorization_token_header_authenticates() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = get_me_with_header(&app, "Authorization", &format!("Token {}", app.admin_token)).await;

    // Assert
    assert_me_is_the_admin(response, &app).await;
}

#[tokio::test]
async fn authorization_bearer_header_authenticates() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = get_me_with_header(&app, "Authorization", &format!("Bearer {}", app.admin_token)).await;

    // Assert
    assert_me_is_the_admin(response, &app).await;
}

#[tokio::test]
async fn authorization_bearer_header_authenticates_writes_too() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .http
        .post(app.url("/v1/apps"))
        .header("Authorization", format!("Bearer {}", app.admin_token))
        .json(&serde_json::json!({"name": "Shop"}))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();
    assert_eq!(listed.apps.len(), 1);
}

#[tokio::test]
async fn missing_token_returns_401_through_the_generated_client() {
    // Arrange
    let app = spawn_app().await;
    let anonymous = Client::new(&app.address);

    // Act
    let result = anonymous.get_current_token().await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    assert!(!body.success);
}

#[tokio::test]
async fn missing_token_returns_401_on_every_v1_operation() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    let app_path = format!("/v1/apps/{}", created.id);
    let requests = [
        app.http.get(app.url("/v1/me")),
        app.http.get(app.url("/v1/organization")),
        app.http.patch(app.url("/v1/organization")).json(&serde_json::json!({"name": "x"})),
        app.http.get(app.url("/v1/apps")),
        app.http.post(app.url("/v1/apps")).json(&serde_json::json!({"name": "x"})),
        app.http.get(app.url(&app_path)),
        app.http.patch(app.url(&app_path)).json(&serde_json::json!({"name": "x"})),
        app.http.delete(app.url(&app_path)),
        app.http.post(app.url(&format!("{app_path}/rotate-secret"))),
    ];

    for request in requests {
        // Act
        let response = request.send().await.unwrap();

        // Assert
        let url = response.url().clone();
        let reply = appdeck_tests::read_error(response).await;
        assert_eq!((reply.status, reply.code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"), "{url}");
    }
    assert_eq!(app.get_app(created.id).await.name.as_str(), "Shop");
}

#[tokio::test]
async fn malformed_token_returns_401() {
    // Arrange
    let app = spawn_app().await;
    let malformed = [
        "not-a-token".to_owned(),
        "apps_".to_owned(),
        app.admin_token[..app.admin_token.len() - 1].to_owned(),
        format!("{}x", app.admin_token),
        app.admin_token.replacen("apps_", "appx_", 1),
        format!("apps_{}", "!".repeat(38)),
    ];

    for token in malformed {
        // Act
        let response = get_me_with_header(&app, "X-API-Key", &token).await;

        // Assert
        expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn token_with_a_bad_checksum_returns_401() {
    // Arrange
    let app = spawn_app().await;
    let altered = with_bad_checksum(&app.admin_token);
    let client = app.client_with_token(&altered);

    // Act
    let result = client.get_current_token().await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"));
}

#[tokio::test]
async fn well_formed_but_unknown_token_returns_401() {
    // Arrange
    let app = spawn_app().await;
    let unknown = issue_token().secret;
    let client = app.client_with_token(&unknown);

    // Act
    let result = client.list_apps(None, None, None, None).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"));
}

#[tokio::test]
async fn unknown_token_returns_401_in_the_authorization_forms_too() {
    // Arrange
    let app = spawn_app().await;
    let unknown = issue_token().secret;

    for value in [format!("Token {unknown}"), format!("Bearer {unknown}")] {
        // Act
        let response = get_me_with_header(&app, "Authorization", &value).await;

        // Assert
        expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn authorization_header_with_another_scheme_returns_401() {
    // Arrange
    let app = spawn_app().await;
    let values =
        [format!("Basic {}", app.admin_token), app.admin_token.clone(), "Bearer".to_owned(), "Bearer ".to_owned()];

    for value in values {
        // Act
        let response = get_me_with_header(&app, "Authorization", &value).await;

        // Assert
        expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn me_describes_the_calling_token_without_its_secret() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.admin_request(reqwest::Method::GET, "/v1/me").send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(!text.contains(&app.admin_token), "the token's secret is in /v1/me");
    let body: Value = serde_json::from_str(&text).unwrap();
    let token = &body["token"];
    assert_eq!(token["label"], "admin");
    assert_eq!(token["status"], "active");
    assert_eq!(token["created_by"], Value::Null, "made by the server, not by a token");
    assert!(token["last_used_at"].is_string(), "the call itself is a use: {token}");
    let masked = token["masked_token"].as_str().unwrap();
    let expected_masked = format!("{}…{}", &app.admin_token[..9], &app.admin_token[app.admin_token.len() - 4..]);
    assert_eq!(masked, expected_masked);
    assert_eq!(body["organization"]["name"], "Test org");
}

#[tokio::test]
async fn expired_token_returns_401() {
    // Arrange
    let app = spawn_app().await;
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let expired = app.token_expiring_at(an_hour_ago).await;

    // Act
    let result = app.client_with_token(&expired).get_current_token().await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"));
}

#[tokio::test]
async fn token_that_expires_later_is_accepted_and_shows_its_expiry() {
    // Arrange
    let app = spawn_app().await;
    let in_an_hour = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    let token = app.token_expiring_at(in_an_hour).await;

    // Act
    let me = app.client_with_token(&token).get_current_token().await.expect("the token is still valid");

    // Assert
    let expires_at = me.into_inner().token.expires_at.expect("the expiry is shown");
    let expected = in_an_hour.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((expires_at.timestamp() - expected).abs() <= 1, "expires_at {expires_at}");
}

#[tokio::test]
async fn empty_x_api_key_returns_401() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = get_me_with_header(&app, "X-API-Key", "").await;

    // Assert
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
}
