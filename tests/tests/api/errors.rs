//! The error body on every path: routing, body parsing, content type, size
//! limit, path parameters, and the `X-Request-Id` header on every response.

use appdeck_tests::{expect_error, header_text, read_error, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The default body limit of API.md: 1 MiB.
const BODY_LIMIT_BYTES: usize = 1024 * 1024;

#[tokio::test]
async fn malformed_json_returns_400_invalid_json() {
    // Arrange
    let app = spawn_app().await;

    for body in ["{", "{\"name\": }", "name=Shop", "{\"name\": \"Shop\"} trailing", ""] {
        // Act
        let response = app
            .admin_request(Method::POST, "/v1/apps")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();

        // Assert
        expect_error(response, StatusCode::BAD_REQUEST, "invalid_json").await;
    }
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();
    assert!(listed.apps.is_empty());
}

#[tokio::test]
async fn malformed_json_in_a_patch_returns_400_invalid_json() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;

    // Act
    let response = app
        .admin_request(Method::PATCH, &format!("/v1/apps/{}", created.id))
        .header("content-type", "application/json")
        .body("{\"name\": \"Renamed\"")
        .send()
        .await
        .unwrap();

    // Assert
    expect_error(response, StatusCode::BAD_REQUEST, "invalid_json").await;
    assert_eq!(app.get_app(created.id).await.name.as_str(), "Shop");
}

#[tokio::test]
async fn json_that_is_not_an_object_returns_400() {
    // Arrange
    let app = spawn_app().await;

    for body in ["[]", "\"Shop\"", "null", "42"] {
        // Act
        let response = app
            .admin_request(Method::POST, "/v1/apps")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();

        // Assert
        let reply = read_error(response).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {}", reply.error);
    }
}

#[tokio::test]
async fn missing_token_returns_401_with_the_error_body() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.http.get(app.url("/v1/apps")).send().await.unwrap();

    // Assert
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn role_not_allowed_returns_403_with_the_error_body() {
    // Arrange
    let app = spawn_app().await;
    let ci_token = app.token_with_role(appdeck_server::domain::token::TokenRole::Ci).await;

    // Act
    let response =
        app.http.post(app.url("/v1/apps")).header("x-api-key", ci_token).json(&json!({"name": "Shop"})).send().await;

    // Assert
    expect_error(response.unwrap(), StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn unknown_route_returns_404_not_found() {
    // Arrange
    let app = spawn_app().await;

    for path in
        ["/v1/nothing-here", "/nothing-here", "/v1/apps/0190f5c4-7c4e-7b3a-9d7e-1a2b3c4d5e6f/unknown", "/v2/apps"]
    {
        // Act
        let response = app.admin_request(Method::GET, path).send().await.unwrap();

        // Assert
        expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
}

#[tokio::test]
async fn unknown_route_returns_404_even_without_a_token() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.http.get(app.url("/v1/nothing-here")).send().await.unwrap();

    // Assert
    expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn unknown_app_returns_404_with_the_error_body() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.admin_request(Method::GET, &format!("/v1/apps/{}", uuid::Uuid::now_v7())).send().await.unwrap();

    // Assert
    let message = expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
    assert!(message.contains("App"), "{message}");
}

#[tokio::test]
async fn app_id_that_is_not_a_uuid_returns_400_invalid_parameter() {
    // Arrange
    let app = spawn_app().await;
    let requests = [
        (Method::GET, "/v1/apps/not-a-uuid"),
        (Method::PATCH, "/v1/apps/not-a-uuid"),
        (Method::DELETE, "/v1/apps/12345"),
        (Method::POST, "/v1/apps/not-a-uuid/rotate-secret"),
    ];

    for (method, path) in requests {
        // Act
        let response = app.admin_request(method.clone(), path).json(&json!({"name": "x"})).send().await.unwrap();

        // Assert
        expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    }
}

#[tokio::test]
async fn wrong_method_returns_405_method_not_allowed() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    let requests = [
        (Method::PUT, "/v1/apps".to_owned()),
        (Method::DELETE, "/v1/apps".to_owned()),
        (Method::POST, format!("/v1/apps/{}", created.id)),
        (Method::PUT, format!("/v1/apps/{}", created.id)),
        (Method::GET, format!("/v1/apps/{}/rotate-secret", created.id)),
        (Method::DELETE, "/v1/organization".to_owned()),
        (Method::POST, "/v1/me".to_owned()),
    ];

    for (method, path) in requests {
        // Act
        let response = app.admin_request(method.clone(), &path).json(&json!({"name": "x"})).send().await.unwrap();

        // Assert
        let reply = read_error(response).await;
        assert_eq!(
            (reply.status, reply.code.as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            "{method} {path}"
        );
    }
    assert_eq!(app.get_app(created.id).await.name.as_str(), "Shop");
}

#[tokio::test]
async fn body_over_1_mib_returns_413_payload_too_large() {
    // Arrange
    let app = spawn_app().await;
    let body = json!({"name": "Shop", "description": "d".repeat(BODY_LIMIT_BYTES)}).to_string();
    assert!(body.len() > BODY_LIMIT_BYTES);

    // Act
    let response = app
        .admin_request(Method::POST, "/v1/apps")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the server answers instead of dropping the connection");

    // Assert
    expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();
    assert!(listed.apps.is_empty());
}

#[tokio::test]
async fn body_just_under_1_mib_is_read_and_validated() {
    // Arrange
    let app = spawn_app().await;
    let padding = "d".repeat(BODY_LIMIT_BYTES - 100);
    let body = json!({"name": "Shop", "description": padding}).to_string();
    assert!(body.len() <= BODY_LIMIT_BYTES);

    // Act
    let response = app
        .admin_request(Method::POST, "/v1/apps")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();

    // Assert
    let message = expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(message.contains("description"), "the body was parsed, then refused by the rule: {message}");
}

#[tokio::test]
async fn body_without_json_content_type_returns_415() {
    // Arrange
    let app = spawn_app().await;
    let body = json!({"name": "Shop"}).to_string();

    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("application/jsonx")]
    {
        let mut request = app.admin_request(Method::POST, "/v1/apps").body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }

        // Act
        let response = request.send().await.unwrap();

        // Assert
        let reply = read_error(response).await;
        assert_eq!(
            (reply.status, reply.code.as_str()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            "content type {content_type:?}"
        );
    }
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();
    assert!(listed.apps.is_empty());
}

#[tokio::test]
async fn patch_without_json_content_type_returns_415() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;

    // Act
    let response = app
        .admin_request(Method::PATCH, &format!("/v1/apps/{}", created.id))
        .header("content-type", "text/plain")
        .body(json!({"name": "Renamed"}).to_string())
        .send()
        .await
        .unwrap();

    // Assert
    expect_error(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    assert_eq!(app.get_app(created.id).await.name.as_str(), "Shop");
}

#[tokio::test]
async fn json_content_type_with_a_charset_is_accepted() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .admin_request(Method::POST, "/v1/apps")
        .header("content-type", "application/json; charset=utf-8")
        .body(json!({"name": "Shop"}).to_string())
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn success_responses_are_json_with_success_true() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.admin_request(Method::GET, "/v1/organization").send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header_text(&response, "content-type").starts_with("application/json"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["success"], json!(true));
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    // Arrange
    let app = spawn_app().await;
    let requests = [
        app.admin_request(Method::GET, "/v1/me"),
        app.admin_request(Method::GET, "/v1/apps"),
        app.http.get(app.url("/v1/apps")),
        app.admin_request(Method::GET, "/v1/nothing-here"),
        app.admin_request(Method::PUT, "/v1/apps"),
        app.http.get(app.url("/healthz")),
        app.http.get(app.url("/openapi.yaml")),
    ];
    let mut seen = std::collections::HashSet::new();

    for request in requests {
        // Act
        let response = request.send().await.unwrap();

        // Assert
        let request_id = header_text(&response, "x-request-id");
        assert!(!request_id.is_empty(), "{} has no X-Request-Id", response.url());
        assert!(seen.insert(request_id), "request ids repeat");
    }
}

#[tokio::test]
async fn request_id_sent_by_the_client_is_echoed() {
    // Arrange
    let app = spawn_app().await;
    let requests = [
        ("ok", app.admin_request(Method::GET, "/v1/me")),
        ("unauthorized", app.http.get(app.url("/v1/me"))),
        ("not found", app.admin_request(Method::GET, "/v1/nothing-here")),
        ("bad request", app.admin_request(Method::GET, "/v1/apps?limit=0")),
    ];

    for (case, request) in requests {
        let request_id = format!("test-{}", uuid::Uuid::now_v7());

        // Act
        let response = request.header("x-request-id", &request_id).send().await.unwrap();

        // Assert
        assert_eq!(header_text(&response, "x-request-id"), request_id, "{case}");
    }
}

#[tokio::test]
async fn generated_client_responses_carry_a_request_id() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.client.get_organization().await.unwrap();

    // Assert
    let request_id = response.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or_default();
    assert!(!request_id.is_empty());
}

#[tokio::test]
async fn wrong_method_answer_lists_the_allowed_methods() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.admin_request(Method::PUT, "/v1/apps").json(&json!({"name": "x"})).send().await.unwrap();

    // Assert
    let allow = header_text(&response, "allow");
    let allowed: std::collections::BTreeSet<&str> = allow.split(',').map(str::trim).collect();
    assert!(allowed.contains("GET") && allowed.contains("POST"), "Allow: {allow}");
    assert!(!allowed.contains("PUT"), "Allow: {allow}");
    expect_error(response, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn wrong_method_outside_v1_returns_405_with_the_error_body() {
    // Arrange
    let app = spawn_app().await;

    for path in ["/healthz", "/openapi.yaml", "/openapi.json"] {
        // Act
        let response = app.http.post(app.url(path)).send().await.unwrap();

        // Assert
        expect_error(response, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    }
}

#[tokio::test]
async fn deeply_nested_json_returns_400_instead_of_crashing() {
    // Arrange
    let app = spawn_app().await;
    let depth = 10_000;
    let body = format!(
        r#"{{"name": "Shop", "email_platform": "brevo", "email_credentials": {{"a": {}{}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );

    // Act
    let response = app
        .admin_request(Method::POST, "/v1/apps")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();

    // Assert
    expect_error(response, StatusCode::BAD_REQUEST, "invalid_json").await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "the server still answers");
}
