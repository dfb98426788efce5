//! No event holds a secret.

use appdeck_tests::{app_request_from, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use super::{token_and_client, update_app_from};

#[tokio::test]
async fn no_event_holds_a_secret_but_events_name_the_secret_fields() {
    // Arrange
    let app = spawn_app().await;
    let engagement_secret = format!("wp-secret-{}", Uuid::now_v7().simple());
    let email_secret = format!("brevo-secret-{}", Uuid::now_v7().simple());
    let new_email_secret = format!("brevo-rotated-{}", Uuid::now_v7().simple());
    let (developer, developer_client) = token_and_client(&app, "developer laptop", "developer").await;
    let ci = app.create_api_token("pipeline", "ci").await;
    let request = app_request_from(json!({
        "name": "Shop",
        "engagement_platform": "wonderpush",
        "engagement_credentials": {"access_token": engagement_secret},
        "email_platform": "brevo",
        "email_credentials": {"api_key": email_secret}
    }));
    let created = developer_client.create_app(None, &request).await.expect("the developer creates").into_inner().app;
    let changes = update_app_from(json!({"email_credentials": {"api_key": new_email_secret}}));
    developer_client.update_app(&created.id, &changes).await.expect("the developer changes the credentials");
    let rotated =
        developer_client.rotate_app_secret(&created.id).await.expect("the developer rotates").into_inner().app;

    // Act
    let response = app.admin_request(Method::GET, "/v1/audit-events?limit=100").send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let secrets = [
        ("engagement credentials", engagement_secret.as_str()),
        ("email credentials", email_secret.as_str()),
        ("new email credentials", new_email_secret.as_str()),
        ("api_secret before rotation", created.api_secret.as_str()),
        ("api_secret after rotation", rotated.api_secret.as_str()),
        ("admin token", app.admin_token.as_str()),
        ("developer token", developer.secret.as_str()),
        ("ci token", ci.secret.as_str()),
    ];
    for (what, secret) in secrets {
        assert!(!text.contains(secret), "the audit log holds the {what}: {text}");
        let hash = appdeck_server::auth::hash_token(secret);
        assert!(!text.contains(&hash), "the audit log holds the hash of the {what}");
    }
    assert_ne!(created.api_secret, rotated.api_secret);
    for field in ["engagement_credentials", "email_credentials", "api_secret"] {
        assert!(text.contains(&format!("\"{field}\"")), "no event names `{field}`: {text}");
    }
}
