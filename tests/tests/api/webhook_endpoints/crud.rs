//! The endpoint's own operations, and its secret shown only on create and
//! rotation.

use appdeck_tests::spawn_app;
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::json;

use super::{create_endpoint, endpoint_update, id_of, url_only};

fn assert_is_signing_secret(secret: &str) {
    let key = secret.strip_prefix("whsec_").unwrap_or_else(|| panic!("`{secret}` is not a whsec_ secret"));
    assert_eq!(STANDARD.decode(key).expect("base64 after whsec_").len(), 32, "{secret}");
}

#[tokio::test]
async fn create_with_only_a_url_subscribes_to_every_event_and_shows_the_secret() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (endpoint, secret) = create_endpoint(&app, url_only()).await;

    // Assert
    assert_eq!(endpoint["url"], "https://hooks.example.com/appdeck");
    assert_eq!(endpoint["event_types"], json!(null));
    assert_eq!(endpoint["description"], json!(null));
    assert_eq!(endpoint["enabled"], json!(true));
    assert_eq!(endpoint["disabled_reason"], json!(null));
    assert_is_signing_secret(&secret);
}

#[tokio::test]
async fn the_secret_is_never_shown_by_get_or_list() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint, secret) = create_endpoint(&app, url_only()).await;
    let id = id_of(&endpoint);
    let key = secret.trim_start_matches("whsec_");

    // Act
    let got = app.http.get(app.url(&format!("/v1/webhook-endpoints/{id}"))).header("X-API-Key", &app.admin_token);
    let got = got.send().await.unwrap().text().await.unwrap();
    let listed = app.http.get(app.url("/v1/webhook-endpoints")).header("X-API-Key", &app.admin_token);
    let listed = listed.send().await.unwrap().text().await.unwrap();

    // Assert
    assert!(got.contains(&id.to_string()) && listed.contains(&id.to_string()));
    assert!(!got.contains(key) && !listed.contains(key));
    assert!(!got.contains("secret") && !listed.contains("secret"), "no secret field: {got} {listed}");
}

#[tokio::test]
async fn update_changes_only_the_fields_sent() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint, _) = create_endpoint(&app, json!({"url": "https://a.example.com", "description": "first"})).await;
    let id = id_of(&endpoint);

    // Act
    let changes = endpoint_update(json!({"event_types": ["app.created", "token.rolled"], "enabled": false}));
    let updated = app.client.update_webhook_endpoint(&id, &changes).await.unwrap().into_inner().webhook_endpoint;

    // Assert
    let updated = serde_json::to_value(&updated).unwrap();
    assert_eq!(updated["event_types"], json!(["app.created", "token.rolled"]));
    assert_eq!(updated["enabled"], json!(false));
    assert_eq!((&updated["url"], &updated["description"]), (&endpoint["url"], &endpoint["description"]));
    let got = app.client.get_webhook_endpoint(&id).await.unwrap().into_inner().webhook_endpoint;
    assert_eq!(serde_json::to_value(&got).unwrap(), updated);
}

#[tokio::test]
async fn null_event_types_subscribes_to_every_type_again() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint, _) =
        create_endpoint(&app, json!({"url": "https://a.example.com", "event_types": ["app.created"]})).await;
    let id = id_of(&endpoint);

    // Act: raw JSON, since the generated client leaves a null out
    let path = format!("/v1/webhook-endpoints/{id}");
    let response = super::send_json(&app, reqwest::Method::PATCH, &path, json!({"event_types": null})).await;

    // Assert
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let got = app.client.get_webhook_endpoint(&id).await.unwrap().into_inner().webhook_endpoint;
    assert_eq!(serde_json::to_value(got).unwrap()["event_types"], json!(null));
}

#[tokio::test]
async fn delete_removes_the_endpoint() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint, _) = create_endpoint(&app, url_only()).await;
    let id = id_of(&endpoint);

    // Act
    let deleted = app.client.delete_webhook_endpoint(&id).await.unwrap().into_inner();

    // Assert
    assert!(deleted.success);
    let (status, code) = super::status_and_code(app.client.get_webhook_endpoint(&id).await);
    assert_eq!((status.as_u16(), code.as_str()), (404, "not_found"));
    let listed = app.client.list_webhook_endpoints(None, None).await.unwrap().into_inner();
    assert!(listed.webhook_endpoints.is_empty());
}

#[tokio::test]
async fn rotate_secret_answers_a_new_secret_once() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint, first) = create_endpoint(&app, url_only()).await;
    let id = id_of(&endpoint);

    // Act
    let rotated = app.client.rotate_webhook_endpoint_secret(&id).await.unwrap().into_inner();

    // Assert
    assert_is_signing_secret(&rotated.secret);
    assert_ne!(rotated.secret, first);
    assert_eq!(rotated.webhook_endpoint.id, id);
}

#[tokio::test]
async fn without_the_server_key_create_and_rotate_are_503_and_the_rest_works() {
    // Arrange: a server without APPDECK_WEBHOOK_SECRET_KEY
    let app = appdeck_tests::spawn_app_with(|config| config.webhook_secret_key = None).await;

    // Act
    let created = app.client.create_webhook_endpoint(None, &super::endpoint_request(url_only())).await;
    let rotated = app.client.rotate_webhook_endpoint_secret(&uuid::Uuid::now_v7()).await;

    // Assert
    let expected = (reqwest::StatusCode::SERVICE_UNAVAILABLE, "webhook_secret_key_missing".to_owned());
    assert_eq!(super::status_and_code(created), expected);
    assert_eq!(super::status_and_code(rotated), expected);
    assert!(app.client.list_webhook_endpoints(None, None).await.unwrap().into_inner().webhook_endpoints.is_empty());
    super::create_app(&app, "still works").await;
}

#[tokio::test]
async fn a_retried_create_with_the_same_idempotency_key_replays_the_secret_and_creates_one() {
    // Arrange
    let app = spawn_app().await;
    let key = appdeck_client::types::CreateWebhookEndpointIdempotencyKey::try_from(
        "0b9e3c2e-6c1f-4f3a-9a57-3d1c5e0f8a21".to_owned(),
    )
    .unwrap();
    let request = super::endpoint_request(url_only());

    // Act
    let first = app.client.create_webhook_endpoint(Some(&key), &request).await.unwrap();
    let second = app.client.create_webhook_endpoint(Some(&key), &request).await.unwrap();

    // Assert
    assert_eq!(second.headers().get("idempotent-replayed").map(|value| value.as_bytes()), Some(&b"true"[..]));
    let (first, second) = (first.into_inner(), second.into_inner());
    assert_eq!((first.secret, first.webhook_endpoint.id), (second.secret, second.webhook_endpoint.id));
    let listed = app.client.list_webhook_endpoints(None, None).await.unwrap().into_inner();
    assert_eq!(listed.webhook_endpoints.len(), 1);
}

#[tokio::test]
async fn creating_an_endpoint_past_the_quota_is_409_until_one_is_deleted() {
    // Arrange
    let app = appdeck_tests::spawn_app_with(|config| config.max_webhook_endpoints_per_organization = 1).await;
    let (first, _) = create_endpoint(&app, url_only()).await;

    // Act
    let refused = app.client.create_webhook_endpoint(None, &super::endpoint_request(url_only())).await;
    app.client.delete_webhook_endpoint(&id_of(&first)).await.unwrap();
    let after_delete = app.client.create_webhook_endpoint(None, &super::endpoint_request(url_only())).await;

    // Assert
    assert_eq!(super::status_and_code(refused), (reqwest::StatusCode::CONFLICT, "quota_exceeded".to_owned()));
    assert!(after_delete.is_ok());
}
