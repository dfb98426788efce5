//! Secrets appear only in the create response.

use std::collections::HashSet;

use appdeck_tests::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::create_token_json;

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
