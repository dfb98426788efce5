//! `POST /v1/apps`: the defaults of API.md's app table, what is stored, and
//! the fields a body may not hold (read-only, unknown, or null where not
//! nullable). The rules of each field are in `create_rules`.

use appdeck_client::types;
use appdeck_tests::{app_request, expect_error, is_prefixed_base62, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn create_app_returns_201_with_the_defaults_of_the_contract() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.client.create_app(None, &app_request("Storefront")).await.expect("the app is created");

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = response.into_inner();
    assert!(body.success);
    let created = body.app;
    assert_eq!(created.name.as_str(), "Storefront");
    assert_eq!(created.organization_id, app.organization_id);
    assert_eq!(created.id.get_version_num(), 7, "ids are UUIDv7");
    assert!(is_prefixed_base62(&created.api_key, "ak_", 32), "api_key {}", created.api_key);
    assert!(is_prefixed_base62(&created.api_secret, "as_", 40), "api_secret {}", created.api_secret);
    assert_eq!(created.platform, "web");
    assert_eq!(created.bundle_id, None);
    assert_eq!(created.url_context, None);
    assert!(created.description.is_none());
    assert_eq!(created.environment, types::Environment::Production);
    assert_eq!(created.status, types::AppStatus::Active);
    assert!(created.app_store_url.is_none() && created.play_store_url.is_none() && created.website_url.is_none());
    assert!(created.authorized_domains.is_empty());
    assert_eq!(created.data_retention_days.get(), 365);
    assert_eq!(created.timezone, "UTC");
    let features = &created.features;
    assert!(!features.push && !features.analytics && !features.audiences && !features.ai_insights);
    assert_eq!(created.engagement_platform, types::EngagementPlatform::None);
    assert_eq!(created.engagement_credentials, None);
    assert_eq!(created.email_platform, types::EmailPlatform::None);
    assert_eq!(created.email_credentials, None);
    assert!(!created.webhook_enabled);
    assert!(created.webhook_url.is_none());
    assert!(!created.webhook_use_query_params);
    assert!(created.context_info.is_none());
    assert_eq!((created.cached_user_count, created.cached_event_count), (0, 0));
    assert_eq!((created.cached_last_event, created.stats_last_updated), (None, None));
    assert_eq!(created.created_at, created.updated_at);
}

#[tokio::test]
async fn create_app_stores_what_get_app_returns() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Storefront").await;

    // Act
    let fetched = app.get_app(created.id).await;

    // Assert
    assert_eq!(serde_json::to_value(&fetched).unwrap(), serde_json::to_value(&created).unwrap());
}

#[tokio::test]
async fn create_app_stores_every_writable_field_it_is_given() {
    // Arrange
    let app = spawn_app().await;
    let body = json!({
        "name": "Storefront",
        "description": "The public web shop",
        "environment": "staging",
        "app_store_url": "https://apps.apple.com/app/id1",
        "play_store_url": "http://play.google.com/store/apps/details?id=shop",
        "website_url": "https://shop.example.com",
        "authorized_domains": ["shop.example.com", "*.shop.example.com"],
        "data_retention_days": 30,
        "timezone": "Europe/Paris",
        "features": {"push": true, "ai_insights": true},
        "status": "inactive",
        "engagement_platform": "wonderpush",
        "engagement_credentials": {"access_token": "wp-token"},
        "email_platform": "brevo",
        "email_credentials": {"api_key": "brevo-key"},
        "webhook_enabled": true,
        "webhook_url": "https://hooks.example.com/appdeck",
        "webhook_use_query_params": true,
        "context_info": "Sells shoes"
    });

    // Act
    let created = app.create_app(body.clone()).await;

    // Assert
    let stored = serde_json::to_value(app.get_app(created.id).await).unwrap();
    for (field, value) in body.as_object().unwrap() {
        if field != "features" {
            assert_eq!(&stored[field], value, "field `{field}`");
        }
    }
    assert_eq!(stored["features"], json!({"push": true, "analytics": false, "audiences": false, "ai_insights": true}));
}

#[tokio::test]
async fn create_app_gives_each_app_its_own_key_and_secret() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let first = app.create_app_named("First").await;
    let second = app.create_app_named("Second").await;

    // Assert
    assert_ne!(first.id, second.id);
    assert_ne!(first.api_key, second.api_key);
    assert_ne!(first.api_secret, second.api_secret);
}

#[tokio::test]
async fn create_app_returns_400_naming_each_read_only_field() {
    // Arrange
    let app = spawn_app().await;
    let read_only_fields = [
        ("id", json!("0190f5c4-7c4e-7b3a-9d7e-1a2b3c4d5e6f")),
        ("organization_id", json!("0190f5c4-7c4e-7b3a-9d7e-1a2b3c4d5e6f")),
        ("api_key", json!("ak_00000000000000000000000000000000")),
        ("api_secret", json!("as_0000000000000000000000000000000000000000")),
        ("platform", json!("ios")),
        ("bundle_id", json!("com.example.shop")),
        ("url_context", json!("scraped")),
        ("cached_user_count", json!(5)),
        ("cached_event_count", json!(5)),
        ("cached_last_event", json!("2024-01-01T00:00:00Z")),
        ("stats_last_updated", json!("2024-01-01T00:00:00Z")),
        ("created_at", json!("2024-01-01T00:00:00Z")),
        ("updated_at", json!("2024-01-01T00:00:00Z")),
    ];

    for (field, value) in read_only_fields {
        // Act
        let response = app.create_app_json(&json!({"name": "Shop", field: value})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "read_only_field").await;
        assert!(message.contains(field), "{field}: {message}");
    }
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();
    assert!(listed.apps.is_empty(), "no refused app was stored");
}

#[tokio::test]
async fn create_app_returns_400_naming_an_unknown_field() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.create_app_json(&json!({"name": "Shop", "colour": "red"})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "unknown_field").await;
    assert!(message.contains("colour"), "{message}");
}

#[tokio::test]
async fn create_app_returns_400_when_a_non_nullable_field_is_null() {
    // Arrange
    let app = spawn_app().await;
    let non_nullable_fields = [
        "name",
        "environment",
        "authorized_domains",
        "data_retention_days",
        "timezone",
        "features",
        "status",
        "engagement_platform",
        "email_platform",
        "webhook_enabled",
        "webhook_use_query_params",
    ];

    for field in non_nullable_fields {
        let mut body = json!({"name": "Shop"});
        body[field] = Value::Null;

        // Act
        let response = app.create_app_json(&body).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains(field), "{field}: {message}");
    }
}

#[tokio::test]
async fn create_app_accepts_null_for_nullable_fields() {
    // Arrange
    let app = spawn_app().await;
    let body = json!({
        "name": "Shop",
        "description": null,
        "app_store_url": null,
        "play_store_url": null,
        "website_url": null,
        "engagement_credentials": null,
        "email_credentials": null,
        "webhook_url": null,
        "context_info": null
    });

    // Act
    let response = app.create_app_json(&body).await;

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    for (field, _) in body.as_object().unwrap().iter().filter(|(field, _)| *field != "name") {
        assert_eq!(created["app"][field], Value::Null, "{field}");
    }
}

#[tokio::test]
async fn create_app_returns_timestamps_as_rfc3339_utc_strings() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.create_app_json(&json!({"name": "Shop"})).await;

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    for field in ["created_at", "updated_at"] {
        let timestamp = body["app"][field].as_str().unwrap_or_else(|| panic!("`{field}` is a string"));
        assert!(timestamp.ends_with('Z'), "`{field}` {timestamp} is not UTC");
        assert_eq!(timestamp.as_bytes()[10], b'T', "`{field}` {timestamp} is not RFC 3339");
    }
    assert_eq!(body["app"]["cached_last_event"], Value::Null);
}

#[tokio::test]
async fn create_app_calls_a_field_of_another_resource_unknown_not_read_only() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.create_app_json(&json!({"name": "Shop", "rate_limit_per_hour": 5})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "unknown_field").await;
    assert!(message.contains("rate_limit_per_hour"), "{message}");
}
