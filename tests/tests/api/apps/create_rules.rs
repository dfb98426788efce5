//! `POST /v1/apps`: every rule a new app's fields must pass, each refused
//! with a 400 that names the field.

use appdeck_client::types;
use appdeck_tests::{app_request, error_response, expect_error, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A name of `length` characters.
fn name_of_length(length: usize) -> String {
    "n".repeat(length)
}

/// An absolute https URL of exactly `length` characters.
fn url_of_length(length: usize) -> String {
    let prefix = "https://example.com/";
    format!("{prefix}{}", "a".repeat(length - prefix.len()))
}

#[tokio::test]
async fn create_app_trims_the_name() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let created = app.create_app_named("  Storefront \u{a0}").await;

    // Assert
    assert_eq!(created.name.as_str(), "Storefront");
}

#[tokio::test]
async fn create_app_returns_400_when_name_is_blank() {
    // Arrange
    let app = spawn_app().await;

    // Act: the generated client refuses a blank name before sending it
    assert!("   ".parse::<types::CreateAppRequestName>().is_err());
    let response = app.create_app_json(&json!({"name": "   "})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(message, "App name is required and must be 1-100 characters, not only white space");
}

#[tokio::test]
async fn create_app_returns_400_when_name_is_longer_than_100_characters() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.create_app_json(&json!({"name": name_of_length(101)})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(message, "App name is required and must be 1-100 characters, not only white space");
}

#[tokio::test]
async fn create_app_stores_the_name_trimmed_and_counts_the_length_sent() {
    // Arrange: the spec's `maxLength` counts what is sent, white space too
    let app = spawn_app().await;
    let name = name_of_length(98);

    // Act
    let response = app.create_app_json(&json!({"name": format!(" {name} ")})).await;
    let too_long = app.create_app_json(&json!({"name": format!("  {name}  ")})).await;

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["app"]["name"], json!(name));
    expect_error(too_long, StatusCode::BAD_REQUEST, "validation_failed").await;
}

#[tokio::test]
async fn create_app_counts_name_length_in_characters_not_bytes() {
    // Arrange
    let app = spawn_app().await;
    let name = "é".repeat(100);

    // Act
    let created = app.create_app_named(&name).await;

    // Assert
    assert_eq!(created.name.as_str(), name);
}

#[tokio::test]
async fn create_app_returns_400_naming_name_when_it_is_missing() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.create_app_json(&json!({"description": "no name"})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("name"), "{message}");
}

#[tokio::test]
async fn create_app_returns_400_naming_name_when_it_is_not_a_string() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.create_app_json(&json!({"name": 42})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("name"), "{message}");
}

#[tokio::test]
async fn create_app_accepts_a_description_of_1000_characters() {
    // Arrange
    let app = spawn_app().await;
    let description = "d".repeat(1000);

    // Act
    let created = app.create_app(json!({"name": "Shop", "description": description})).await;

    // Assert
    assert_eq!(created.description.as_deref().map(String::as_str), Some(description.as_str()));
}

#[tokio::test]
async fn create_app_returns_400_when_description_is_longer_than_1000_characters() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.create_app_json(&json!({"name": "Shop", "description": "d".repeat(1001)})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("description"), "{message}");
}

#[tokio::test]
async fn create_app_returns_400_when_context_info_is_longer_than_5000_characters() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.create_app_json(&json!({"name": "Shop", "context_info": "c".repeat(5001)})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("context_info"), "{message}");
}

#[tokio::test]
async fn create_app_returns_400_naming_the_url_field_when_a_url_is_not_absolute_http() {
    // Arrange
    let app = spawn_app().await;
    let bad_urls = ["ftp://example.com/app", "example.com", "/relative/path", "https://", "https://exa mple.com"];

    for field in ["app_store_url", "play_store_url", "website_url"] {
        for bad_url in bad_urls {
            // Act
            let response = app.create_app_json(&json!({"name": "Shop", field: bad_url})).await;

            // Assert
            let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
            assert!(message.contains(field), "{field} = {bad_url}: {message}");
        }
    }
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();
    assert!(listed.apps.is_empty(), "no refused app was stored");
}

#[tokio::test]
async fn create_app_accepts_http_and_https_urls_of_2048_characters() {
    // Arrange
    let app = spawn_app().await;
    let long_url = url_of_length(2048);

    // Act
    let created = app
        .create_app(json!({
            "name": "Shop",
            "app_store_url": "http://apps.example.com/shop",
            "play_store_url": "https://play.example.com/shop",
            "website_url": long_url,
        }))
        .await;

    // Assert
    let stored = serde_json::to_value(&created).unwrap();
    assert_eq!(stored["app_store_url"], json!("http://apps.example.com/shop"));
    assert_eq!(stored["play_store_url"], json!("https://play.example.com/shop"));
    assert_eq!(stored["website_url"], json!(long_url));
}

#[tokio::test]
async fn create_app_returns_400_when_a_url_is_longer_than_2048_characters() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.create_app_json(&json!({"name": "Shop", "website_url": url_of_length(2049)})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("website_url"), "{message}");
}

#[tokio::test]
async fn create_app_returns_400_when_webhook_url_is_not_https() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .create_app_json(&json!({"name": "Shop", "webhook_enabled": true, "webhook_url": "http://hooks.example.com"}))
        .await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("webhook_url"), "{message}");
}

#[tokio::test]
async fn create_app_returns_400_when_webhook_is_enabled_without_a_url() {
    // Arrange
    let app = spawn_app().await;
    let mut request = app_request("Shop");
    request.webhook_enabled = Some(true);

    // Act
    let result = app.client.create_app(None, &request).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::BAD_REQUEST, "validation_failed"));
    assert!(body.error.contains("webhook_url"), "{}", body.error);
}

#[tokio::test]
async fn create_app_accepts_an_enabled_webhook_with_an_https_url() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let created = app
        .create_app(json!({"name": "Shop", "webhook_enabled": true, "webhook_url": "https://hooks.example.com/in"}))
        .await;

    // Assert
    assert!(created.webhook_enabled);
    assert_eq!(created.webhook_url.as_deref().map(String::as_str), Some("https://hooks.example.com/in"));
}

#[tokio::test]
async fn create_app_stores_authorized_domains_in_lower_case() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let created = app
        .create_app(
            json!({"name": "Shop", "authorized_domains": ["Shop.Example.COM", "*.CDN.example.com", "localhost"]}),
        )
        .await;

    // Assert
    assert_eq!(created.authorized_domains, vec!["shop.example.com", "*.cdn.example.com", "localhost"]);
}

#[tokio::test]
async fn create_app_returns_400_when_authorized_domains_repeat_a_host_in_another_case() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .create_app_json(&json!({"name": "Shop", "authorized_domains": ["shop.example.com", "SHOP.example.com"]}))
        .await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("authorized_domains"), "{message}");
}

#[tokio::test]
async fn create_app_returns_400_when_an_authorized_domain_is_not_a_host_name() {
    // Arrange
    let app = spawn_app().await;
    let bad_domains = ["https://shop.example.com", "shop example.com", "-shop.example.com", "*.", "*", "a..com", ""];

    for bad_domain in bad_domains {
        // Act
        let response = app.create_app_json(&json!({"name": "Shop", "authorized_domains": [bad_domain]})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains("authorized_domains"), "`{bad_domain}`: {message}");
    }
}

#[tokio::test]
async fn create_app_accepts_100_authorized_domains_and_refuses_101() {
    // Arrange
    let app = spawn_app().await;
    let hundred: Vec<String> = (0..100).map(|index| format!("h{index}.example.com")).collect();
    let mut hundred_and_one = hundred.clone();
    hundred_and_one.push("one-more.example.com".to_owned());

    // Act
    let accepted = app.create_app(json!({"name": "Hundred", "authorized_domains": hundred})).await;
    let refused = app.create_app_json(&json!({"name": "Too many", "authorized_domains": hundred_and_one})).await;

    // Assert
    assert_eq!(accepted.authorized_domains, hundred);
    let message = expect_error(refused, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("authorized_domains"), "{message}");
}

#[tokio::test]
async fn create_app_accepts_data_retention_days_from_1_to_3650() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let shortest = app.create_app(json!({"name": "Short", "data_retention_days": 1})).await;
    let longest = app.create_app(json!({"name": "Long", "data_retention_days": 3650})).await;

    // Assert
    assert_eq!(shortest.data_retention_days.get(), 1);
    assert_eq!(longest.data_retention_days.get(), 3650);
}

#[tokio::test]
async fn create_app_returns_400_when_data_retention_days_is_out_of_range() {
    // Arrange
    let app = spawn_app().await;

    for days in [json!(0), json!(-1), json!(3651), json!(10_000_000_000_i64)] {
        // Act
        let response = app.create_app_json(&json!({"name": "Shop", "data_retention_days": days})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains("data_retention_days"), "{days}: {message}");
    }
}

#[tokio::test]
async fn create_app_returns_400_when_data_retention_days_is_not_an_integer() {
    // Arrange
    let app = spawn_app().await;

    for days in [json!("30"), json!(30.5), json!(true)] {
        // Act
        let response = app.create_app_json(&json!({"name": "Shop", "data_retention_days": days})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains("data_retention_days"), "{days}: {message}");
    }
}

#[tokio::test]
async fn create_app_accepts_an_iana_timezone() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let created = app.create_app(json!({"name": "Shop", "timezone": "America/Argentina/Buenos_Aires"})).await;

    // Assert
    assert_eq!(created.timezone, "America/Argentina/Buenos_Aires");
}

#[tokio::test]
async fn create_app_returns_400_when_timezone_is_not_an_iana_name() {
    // Arrange
    let app = spawn_app().await;

    for timezone in ["Mars/Olympus_Mons", "", "+02:00"] {
        // Act
        let mut request = app_request("Shop");
        request.timezone = Some(timezone.to_owned());
        let result = app.client.create_app(None, &request).await;

        // Assert
        let (status, body) = error_response(result);
        assert_eq!((status, body.code.as_str()), (StatusCode::BAD_REQUEST, "validation_failed"), "`{timezone}`");
        assert!(body.error.contains("timezone"), "`{timezone}`: {}", body.error);
    }
}

#[tokio::test]
async fn create_app_leaves_features_it_does_not_name_false() {
    // Arrange
    let app = spawn_app().await;
    let mut request = app_request("Shop");
    request.features = Some(types::AppFeaturesInput { analytics: Some(true), ..Default::default() });

    // Act
    let created = app.client.create_app(None, &request).await.unwrap().into_inner().app;

    // Assert
    let features = created.features;
    assert!(features.analytics);
    assert!(!features.push && !features.audiences && !features.ai_insights);
}

#[tokio::test]
async fn create_app_returns_400_naming_an_unknown_feature() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.create_app_json(&json!({"name": "Shop", "features": {"push": true, "teleport": true}})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "unknown_field").await;
    assert!(message.contains("teleport"), "{message}");
}

#[tokio::test]
async fn create_app_returns_400_naming_the_field_of_a_bad_enum_value() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        ("environment", "qa"),
        ("status", "archived"),
        ("engagement_platform", "onesignal"),
        ("email_platform", "mailchimp"),
        ("environment", "Production"),
    ];

    for (field, value) in cases {
        // Act
        let response = app.create_app_json(&json!({"name": "Shop", field: value})).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains(field), "{field} = {value}: {message}");
    }
}

#[tokio::test]
async fn create_app_accepts_every_environment_and_status() {
    // Arrange
    let app = spawn_app().await;
    let environments = [types::Environment::Production, types::Environment::Staging, types::Environment::Development];

    for environment in environments {
        for status in [types::AppStatus::Active, types::AppStatus::Inactive] {
            let mut request = app_request("Shop");
            request.environment = Some(environment);
            request.status = Some(status);

            // Act
            let created = app.client.create_app(None, &request).await.unwrap().into_inner().app;

            // Assert
            assert_eq!((created.environment, created.status), (environment, status));
        }
    }
}

#[tokio::test]
async fn create_app_returns_400_when_a_platform_has_no_credentials() {
    // Arrange
    let app = spawn_app().await;
    let mut engagement = app_request("Shop");
    engagement.engagement_platform = Some(types::EngagementPlatform::Wonderpush);
    let mut email = app_request("Shop");
    email.email_platform = Some(types::EmailPlatform::Brevo);

    // Act
    let engagement_result = app.client.create_app(None, &engagement).await;
    let email_result = app.client.create_app(None, &email).await;

    // Assert
    let (status, body) = error_response(engagement_result);
    assert_eq!((status, body.code.as_str()), (StatusCode::BAD_REQUEST, "validation_failed"));
    assert!(body.error.contains("engagement_credentials"), "{}", body.error);
    let (status, body) = error_response(email_result);
    assert_eq!((status, body.code.as_str()), (StatusCode::BAD_REQUEST, "validation_failed"));
    assert!(body.error.contains("email_credentials"), "{}", body.error);
}

#[tokio::test]
async fn create_app_returns_400_when_a_platform_has_empty_or_null_credentials() {
    // Arrange
    let app = spawn_app().await;
    let bodies = [
        (
            "engagement_credentials",
            json!({"name": "a", "engagement_platform": "wonderpush", "engagement_credentials": {}}),
        ),
        (
            "engagement_credentials",
            json!({"name": "a", "engagement_platform": "wonderpush", "engagement_credentials": null}),
        ),
        ("email_credentials", json!({"name": "a", "email_platform": "brevo", "email_credentials": {}})),
        ("email_credentials", json!({"name": "a", "email_platform": "brevo", "email_credentials": null})),
    ];

    for (field, body) in bodies {
        // Act
        let response = app.create_app_json(&body).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains(field), "{body}: {message}");
    }
}

#[tokio::test]
async fn create_app_returns_400_when_credentials_are_not_an_object() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response =
        app.create_app_json(&json!({"name": "a", "email_platform": "brevo", "email_credentials": "brevo-key"})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("email_credentials"), "{message}");
}

#[tokio::test]
async fn create_app_returns_400_when_credentials_are_given_for_platform_none() {
    // Arrange
    let app = spawn_app().await;
    let bodies = [
        ("engagement_credentials", json!({"name": "a", "engagement_credentials": {"token": "t"}})),
        ("email_credentials", json!({"name": "a", "email_platform": "none", "email_credentials": {"key": "k"}})),
    ];

    for (field, body) in bodies {
        // Act
        let response = app.create_app_json(&body).await;

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(message.contains(field), "{body}: {message}");
    }
}

#[tokio::test]
async fn create_app_stores_credentials_when_the_platform_is_set() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let created = app
        .create_app(json!({
            "name": "Shop",
            "engagement_platform": "wonderpush",
            "engagement_credentials": {"access_token": "wp", "region": "eu"},
            "email_platform": "brevo",
            "email_credentials": {"api_key": "brevo-key"}
        }))
        .await;

    // Assert
    let stored = serde_json::to_value(app.get_app(created.id).await).unwrap();
    assert_eq!(stored["engagement_platform"], json!("wonderpush"));
    assert_eq!(stored["engagement_credentials"], json!({"access_token": "wp", "region": "eu"}));
    assert_eq!(stored["email_platform"], json!("brevo"));
    assert_eq!(stored["email_credentials"], json!({"api_key": "brevo-key"}));
}

#[tokio::test]
async fn create_app_returns_400_when_a_url_has_a_port_out_of_range() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.create_app_json(&json!({"name": "Shop", "website_url": "https://example.com:99999/"})).await;

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("website_url"), "{message}");
}
