//! `expires_at`: in the future or null, and a 401 once it has passed.

use appdeck_tests::{api_token_request_from, error_response, expect_error, spawn_app};
use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{create_token_json, get_token, listed_token_ids, rfc3339, status_and_code};

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
