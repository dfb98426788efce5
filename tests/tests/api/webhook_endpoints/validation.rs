//! Bodies that break a rule are 400 with a code, and nothing is stored.

use appdeck_tests::{expect_error, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{create_endpoint, id_of, send_json, url_only};

async fn expect_create_refused(body: Value, code: &str) -> String {
    let app = spawn_app().await;
    let response = send_json(&app, Method::POST, "/v1/webhook-endpoints", body).await;
    let message = expect_error(response, StatusCode::BAD_REQUEST, code).await;
    let listed = app.client.list_webhook_endpoints(None, None).await.unwrap().into_inner();
    assert!(listed.webhook_endpoints.is_empty(), "nothing was stored");
    message
}

#[tokio::test]
async fn plain_http_on_a_host_not_allowed_is_refused() {
    let message = expect_create_refused(json!({"url": "http://hooks.example.com/x"}), "insecure_webhook_url").await;
    assert!(message.contains("https"), "{message}");
}

#[tokio::test]
async fn a_url_that_is_not_absolute_http_is_refused() {
    expect_create_refused(json!({"url": "ftp://hooks.example.com/x"}), "validation_failed").await;
    expect_create_refused(json!({"url": "not a url"}), "validation_failed").await;
}

#[tokio::test]
async fn a_missing_url_is_refused() {
    let message = expect_create_refused(json!({"description": "no url"}), "validation_failed").await;
    assert!(message.contains("url"), "{message}");
}

#[tokio::test]
async fn an_unknown_event_type_is_refused() {
    let app = spawn_app().await;
    let response = send_json(
        &app,
        Method::POST,
        "/v1/webhook-endpoints",
        json!({"url": "https://h.example", "event_types": ["app.exploded"]}),
    )
    .await;
    let reply = appdeck_tests::read_error(response).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error.contains("event_types") || reply.error.contains("app.exploded"), "{}", reply.error);
}

#[tokio::test]
async fn empty_or_repeated_event_types_are_refused() {
    expect_create_refused(json!({"url": "https://h.example", "event_types": []}), "validation_failed").await;
    let twice = json!({"url": "https://h.example", "event_types": ["app.created", "app.created"]});
    expect_create_refused(twice, "validation_failed").await;
}

#[tokio::test]
async fn a_description_over_500_characters_is_refused() {
    expect_create_refused(json!({"url": "https://h.example", "description": "x".repeat(501)}), "validation_failed")
        .await;
}

#[tokio::test]
async fn read_only_fields_are_refused() {
    expect_create_refused(json!({"url": "https://h.example", "disabled_reason": "mine"}), "read_only_field").await;
}

#[tokio::test]
async fn an_update_that_breaks_a_rule_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint, _) = create_endpoint(&app, url_only()).await;
    let path = format!("/v1/webhook-endpoints/{}", id_of(&endpoint));

    // Act
    let body = json!({"description": "new", "url": "http://hooks.example.com"});
    let response = send_json(&app, Method::PATCH, &path, body).await;

    // Assert
    expect_error(response, StatusCode::BAD_REQUEST, "insecure_webhook_url").await;
    let got = app.client.get_webhook_endpoint(&id_of(&endpoint)).await.unwrap().into_inner().webhook_endpoint;
    assert_eq!(serde_json::to_value(got).unwrap(), endpoint);
    let response = send_json(&app, Method::PATCH, &path, json!({"url": null})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "url may not be null");
}
