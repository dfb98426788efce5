//! `PATCH /v1/apps/{id}`: absent fields stay, `null` clears, features merge,
//! `updated_at` moves, and a refused change leaves the app as it was.

use appdeck_client::types;
use appdeck_tests::{TestApp, error_response, expect_error, let_the_clock_move, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// An app with every writable field set.
async fn create_full_app(app: &TestApp) -> types::App {
    app.create_app(json!({
        "name": "Storefront",
        "description": "The public web shop",
        "environment": "staging",
        "app_store_url": "https://apps.apple.com/app/id1",
        "play_store_url": "https://play.google.com/store/apps/details?id=shop",
        "website_url": "https://shop.example.com",
        "authorized_domains": ["shop.example.com"],
        "data_retention_days": 30,
        "timezone": "Europe/Paris",
        "features": {"push": true},
        "engagement_platform": "wonderpush",
        "engagement_credentials": {"access_token": "wp"},
        "email_platform": "brevo",
        "email_credentials": {"api_key": "brevo-key"},
        "webhook_enabled": true,
        "webhook_url": "https://hooks.example.com/appdeck",
        "webhook_use_query_params": true,
        "context_info": "Sells shoes"
    }))
    .await
}

/// The app as JSON, to compare every field at once.
async fn stored_json(app: &TestApp, id: Uuid) -> Value {
    serde_json::to_value(app.get_app(id).await).unwrap()
}

#[tokio::test]
async fn update_app_changes_only_the_fields_it_names() {
    // Arrange
    let app = spawn_app().await;
    let created = create_full_app(&app).await;
    let before = stored_json(&app, created.id).await;
    let changes = types::UpdateAppRequest { name: Some("  Shop v2 ".parse().unwrap()), ..Default::default() };

    // Act
    let response = app.client.update_app(&created.id, &changes).await.expect("the app is updated");

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let updated = response.into_inner();
    assert!(updated.success);
    assert_eq!(updated.app.name.as_str(), "Shop v2");
    let after = stored_json(&app, created.id).await;
    for (field, value) in before.as_object().unwrap() {
        if field != "name" && field != "updated_at" {
            assert_eq!(&after[field], value, "field `{field}` changed");
        }
    }
}

#[tokio::test]
async fn update_app_changes_every_writable_field_it_is_given() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    let changes = json!({
        "name": "Renamed",
        "description": "New description",
        "environment": "development",
        "app_store_url": "https://apps.apple.com/app/id2",
        "play_store_url": "https://play.google.com/store/apps/details?id=new",
        "website_url": "http://new.example.com",
        "authorized_domains": ["New.Example.com"],
        "data_retention_days": 3650,
        "timezone": "Asia/Tokyo",
        "status": "inactive",
        "engagement_platform": "wonderpush",
        "engagement_credentials": {"access_token": "wp"},
        "email_platform": "brevo",
        "email_credentials": {"api_key": "k"},
        "webhook_enabled": true,
        "webhook_url": "https://hooks.example.com/new",
        "webhook_use_query_params": true,
        "context_info": "New context"
    });

    // Act
    let response = app.patch_app_json(created.id, &changes).await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let stored = stored_json(&app, created.id).await;
    for (field, value) in changes.as_object().unwrap() {
        if field != "authorized_domains" {
            assert_eq!(&stored[field], value, "field `{field}`");
        }
    }
    assert_eq!(stored["authorized_domains"], json!(["new.example.com"]));
}

#[tokio::test]
async fn update_app_with_null_clears_nullable_fields() {
    // Arrange
    let app = spawn_app().await;
    let created = create_full_app(&app).await;
    let cleared_fields =
        ["description", "app_store_url", "play_store_url", "website_url", "context_info", "authorized_domains"];
    let mut body = json!({});
    for field in cleared_fields {
        body[field] = Value::Null;
    }

    // Act
    let response = app.patch_app_json(created.id, &body).await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let stored = stored_json(&app, created.id).await;
    for field in cleared_fields.iter().filter(|field| **field != "authorized_domains") {
        assert_eq!(stored[field], Value::Null, "field `{field}` was not cleared");
    }
    assert_eq!(stored["authorized_domains"], json!([]), "a null list clears every domain");
    assert_eq!(stored["name"], json!("Storefront"), "a field that was not named stays");
}

#[tokio::test]
async fn update_app_with_an_empty_list_removes_every_authorized_domain() {
    // Arrange
    let app = spawn_app().await;
    let created =
        app.create_app(json!({"name": "Shop", "authorized_domains": ["a.example.com", "b.example.com"]})).await;
    let changes = types::UpdateAppRequest { authorized_domains: Some(Vec::new()), ..Default::default() };

    // Act
    let updated = app.client.update_app(&created.id, &changes).await.unwrap().into_inner().app;

    // Assert
    assert!(updated.authorized_domains.is_empty());
    assert!(app.get_app(created.id).await.authorized_domains.is_empty());
}

#[tokio::test]
async fn update_app_replaces_authorized_domains_in_lower_case() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app(json!({"name": "Shop", "authorized_domains": ["old.example.com"]})).await;
    let changes = types::UpdateAppRequest {
        authorized_domains: Some(vec!["*.CDN.Example.com".parse().unwrap(), "Shop.example.com".parse().unwrap()]),
        ..Default::default()
    };

    // Act
    let updated = app.client.update_app(&created.id, &changes).await.unwrap().into_inner().app;

    // Assert
    assert_eq!(updated.authorized_domains, vec!["*.cdn.example.com", "shop.example.com"]);
}

#[tokio::test]
async fn update_app_merges_features_and_keeps_the_keys_it_does_not_name() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app(json!({"name": "Shop", "features": {"push": true, "audiences": true}})).await;
    let enable_analytics = types::UpdateAppRequest {
        features: Some(types::AppFeaturesInput { analytics: Some(true), ..Default::default() }),
        ..Default::default()
    };
    let disable_push = types::UpdateAppRequest {
        features: Some(types::AppFeaturesInput { push: Some(false), ..Default::default() }),
        ..Default::default()
    };

    // Act
    let after_first = app.client.update_app(&created.id, &enable_analytics).await.unwrap().into_inner().app;
    let after_second = app.client.update_app(&created.id, &disable_push).await.unwrap().into_inner().app;

    // Assert
    let first = after_first.features;
    assert!(first.push && first.audiences && first.analytics && !first.ai_insights, "{first:?}");
    let second = after_second.features;
    assert!(!second.push && second.audiences && second.analytics && !second.ai_insights, "{second:?}");
}

#[tokio::test]
async fn update_app_moves_updated_at_and_keeps_created_at() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    let_the_clock_move().await;
    let changes = types::UpdateAppRequest { description: Some("Now described".parse().unwrap()), ..Default::default() };

    // Act
    let updated = app.client.update_app(&created.id, &changes).await.unwrap().into_inner().app;

    // Assert
    assert!(updated.updated_at > created.updated_at, "{} is not after {}", updated.updated_at, created.updated_at);
    assert_eq!(updated.created_at, created.created_at);
    assert_eq!(app.get_app(created.id).await.updated_at, updated.updated_at);
}

#[tokio::test]
async fn update_app_returns_400_and_changes_nothing_when_webhook_is_enabled_without_a_url() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    let before = stored_json(&app, created.id).await;
    let changes = types::UpdateAppRequest {
        webhook_enabled: Some(true),
        name: Some("Renamed".parse().unwrap()),
        ..Default::default()
    };

    // Act
    let result = app.client.update_app(&created.id, &changes).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::BAD_REQUEST, "validation_failed"));
    assert!(body.error.contains("webhook_url"), "{}", body.error);
    assert_eq!(stored_json(&app, created.id).await, before);
}

#[tokio::test]
async fn update_app_returns_400_and_changes_nothing_when_the_webhook_url_is_cleared_while_enabled() {
    // Arrange
    let app = spawn_app().await;
    let created = create_full_app(&app).await;
    let before = stored_json(&app, created.id).await;

    // Act
    let response = app.patch_app_json(created.id, &json!({"webhook_url": null, "description": "changed"})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("webhook_url"), "{message}");
    assert_eq!(stored_json(&app, created.id).await, before);
}

#[tokio::test]
async fn update_app_returns_400_and_changes_nothing_when_a_valid_field_comes_with_an_invalid_one() {
    // Arrange
    let app = spawn_app().await;
    let created = create_full_app(&app).await;
    let before = stored_json(&app, created.id).await;
    let bodies = [
        json!({"name": "Renamed", "timezone": "Mars/Olympus_Mons"}),
        json!({"timezone": "Mars/Olympus_Mons", "name": "Renamed"}),
        json!({"description": "changed", "data_retention_days": 0}),
        json!({"data_retention_days": 90, "website_url": "not a url"}),
        json!({"environment": "production", "authorized_domains": ["a.com", "A.com"]}),
        json!({"features": {"analytics": true}, "webhook_url": "http://insecure.example.com"}),
        json!({"status": "inactive", "name": "   "}),
    ];

    for body in bodies {
        // Act
        let response = app.patch_app_json(created.id, &body).await;

        // Assert
        expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(stored_json(&app, created.id).await, before, "{body} changed the app");
    }
}

#[tokio::test]
async fn update_app_returns_400_when_the_platform_is_set_to_none_with_credentials_still_there() {
    // Arrange
    let app = spawn_app().await;
    let created = create_full_app(&app).await;
    let changes = types::UpdateAppRequest { email_platform: Some(types::EmailPlatform::None), ..Default::default() };

    // Act
    let result = app.client.update_app(&created.id, &changes).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::BAD_REQUEST, "validation_failed"));
    assert!(body.error.contains("email_credentials"), "{}", body.error);
    assert_eq!(app.get_app(created.id).await.email_platform, types::EmailPlatform::Brevo);
}

#[tokio::test]
async fn update_app_turns_a_platform_off_when_its_credentials_are_cleared_too() {
    // Arrange
    let app = spawn_app().await;
    let created = create_full_app(&app).await;

    // Act
    let response = app.patch_app_json(created.id, &json!({"email_platform": "none", "email_credentials": null})).await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let stored = app.get_app(created.id).await;
    assert_eq!(stored.email_platform, types::EmailPlatform::None);
    assert_eq!(stored.email_credentials, None);
    assert_eq!(stored.engagement_platform, types::EngagementPlatform::Wonderpush, "the other platform stays");
}

#[tokio::test]
async fn update_app_returns_400_when_credentials_are_cleared_while_the_platform_is_set() {
    // Arrange
    let app = spawn_app().await;
    let created = create_full_app(&app).await;

    // Act
    let response = app.patch_app_json(created.id, &json!({"engagement_credentials": null})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("engagement_credentials"), "{message}");
    let stored = serde_json::to_value(app.get_app(created.id).await).unwrap();
    assert_eq!(stored["engagement_credentials"], json!({"access_token": "wp"}));
}

#[tokio::test]
async fn update_app_replaces_credentials_with_the_new_object() {
    // Arrange
    let app = spawn_app().await;
    let created = create_full_app(&app).await;
    let mut credentials = serde_json::Map::new();
    credentials.insert("api_key".to_owned(), json!("rotated-key"));
    let changes: types::UpdateAppRequest =
        serde_json::from_value(json!({"email_credentials": credentials.clone()})).expect("a valid update");

    // Act
    let updated = app.client.update_app(&created.id, &changes).await.unwrap().into_inner().app;

    // Assert
    assert_eq!(updated.email_credentials, Some(credentials.clone()));
    assert_eq!(app.get_app(created.id).await.email_credentials, Some(credentials));
}

#[tokio::test]
async fn update_app_returns_400_when_a_non_nullable_field_is_null() {
    // Arrange
    let app = spawn_app().await;
    let created = create_full_app(&app).await;
    let before = stored_json(&app, created.id).await;
    let non_nullable_fields = [
        "name",
        "environment",
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
        // Act
        let response = app.patch_app_json(created.id, &json!({ field: null })).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains(field), "{field}: {message}");
    }
    assert_eq!(stored_json(&app, created.id).await, before);
}

#[tokio::test]
async fn update_app_returns_400_when_a_feature_is_null() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app(json!({"name": "Shop", "features": {"push": true}})).await;

    // Act
    let response = app.patch_app_json(created.id, &json!({"features": {"push": null}})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("push"), "{message}");
    assert!(app.get_app(created.id).await.features.push);
}

#[tokio::test]
async fn update_app_returns_400_naming_a_read_only_field_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    let before = stored_json(&app, created.id).await;

    for field in ["api_key", "api_secret", "id", "organization_id", "platform", "created_at", "cached_user_count"] {
        // Act
        let response = app.patch_app_json(created.id, &json!({"name": "Renamed", field: before[field]})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "read_only_field").await;
        assert!(message.contains(field), "{field}: {message}");
    }
    assert_eq!(stored_json(&app, created.id).await, before);
}

#[tokio::test]
async fn update_app_returns_400_naming_an_unknown_field_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    let before = stored_json(&app, created.id).await;

    // Act
    let response = app.patch_app_json(created.id, &json!({"name": "Renamed", "colour": "red"})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "unknown_field").await;
    assert!(message.contains("colour"), "{message}");
    assert_eq!(stored_json(&app, created.id).await, before);
}

#[tokio::test]
async fn update_app_returns_400_when_the_name_is_blank() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;

    // Act: the generated client refuses a blank name before sending it
    assert!(" ".parse::<types::UpdateAppRequestName>().is_err());
    let response = app.patch_app_json(created.id, &json!({"name": " "})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(message, "App name is required and must be 1-100 characters, not only white space");
    assert_eq!(app.get_app(created.id).await.name.as_str(), "Shop");
}

#[tokio::test]
async fn update_app_with_an_empty_body_keeps_every_field() {
    // Arrange
    let app = spawn_app().await;
    let created = create_full_app(&app).await;
    let before = stored_json(&app, created.id).await;

    // Act
    let result = app.client.update_app(&created.id, &types::UpdateAppRequest::default()).await;

    // Assert
    assert_eq!(result.expect("an empty change is accepted").status(), StatusCode::OK);
    let mut after = stored_json(&app, created.id).await;
    after["updated_at"] = before["updated_at"].clone();
    assert_eq!(after, before);
}

#[tokio::test]
async fn update_app_returns_404_for_an_unknown_id() {
    // Arrange
    let app = spawn_app().await;
    let changes = types::UpdateAppRequest { name: Some("Renamed".parse().unwrap()), ..Default::default() };

    // Act
    let result = app.client.update_app(&Uuid::now_v7(), &changes).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
}
