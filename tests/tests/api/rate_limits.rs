//! The per-token hourly limit: the `X-RateLimit-*` headers on every answer
//! after authentication, 429 `rate_limited` with `Retry-After` over the
//! limit, one allowance per token, and the limit taken from the organization.

use std::time::{SystemTime, UNIX_EPOCH};

use appdeck_server::{auth::issue_token, domain::token::TokenRole};
use appdeck_tests::{TestApp, app_request, error_response, expect_error, header_number, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::json;
use uuid::Uuid;

const RATE_LIMIT_HEADERS: [&str; 3] = ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"];

/// The three `X-RateLimit-*` headers of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RateLimitHeaders {
    limit: u64,
    remaining: u64,
    reset: u64,
}

/// Reads the `X-RateLimit-*` headers; panics when one is missing or not a number.
fn rate_limit_headers(headers: &HeaderMap) -> RateLimitHeaders {
    let read = |name: &str| {
        header_number(headers, name).unwrap_or_else(|| panic!("no numeric `{name}` header in {headers:?}"))
    };
    RateLimitHeaders {
        limit: read("x-ratelimit-limit"),
        remaining: read("x-ratelimit-remaining"),
        reset: read("x-ratelimit-reset"),
    }
}

/// Whole Unix seconds now, rounded down.
fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970").as_secs()
}

/// `X-RateLimit-Reset` names a moment after the request was sent and at
/// most an hour after it was answered (`sent_at` and `answered_at` are Unix
/// seconds, the latter taken after the answer arrived).
fn assert_reset_is_within_the_next_hour(reset: u64, sent_at: u64, answered_at: u64) {
    assert!(reset > sent_at, "X-RateLimit-Reset {reset} is not after the request was sent at {sent_at}");
    assert!(
        reset <= answered_at + 1 + 3600,
        "X-RateLimit-Reset {reset} is more than an hour after the answer at {answered_at}"
    );
}

/// Sends `request`; returns the response with the Unix seconds before sending.
async fn send_timed(request: reqwest::RequestBuilder) -> (u64, reqwest::Response) {
    let sent_at = unix_now();
    let response = request.send().await.expect("the request is sent");
    (sent_at, response)
}

/// A plain request to `path` authenticated with `token` as `X-API-Key`.
fn request_with_token(app: &TestApp, token: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.http.request(method, app.url(path)).header("x-api-key", token)
}

/// Uses up the allowance of `token` with `limit` reads of `/v1/me`.
async fn exhaust(app: &TestApp, token: &str, limit: u64) {
    for _ in 0..limit {
        let response = request_with_token(app, token, Method::GET, "/v1/me").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "a request within the limit is served");
    }
}

#[tokio::test]
async fn authenticated_response_carries_the_default_limit_of_1000_with_999_remaining() {
    // Arrange
    let app = spawn_app().await;
    let sent_at = unix_now();

    // Act
    let response = app.client.list_apps(None, None, None, None).await.expect("the apps are listed");

    // Assert
    let headers = rate_limit_headers(response.headers());
    assert_eq!((headers.limit, headers.remaining), (1000, 999));
    assert_reset_is_within_the_next_hour(headers.reset, sent_at, unix_now());
}

#[tokio::test]
async fn rate_limit_remaining_goes_down_by_one_per_request_on_successes_and_handler_errors() {
    // Arrange
    // 20 an hour refills one request every 3 minutes: none comes back during the test.
    let app = spawn_app_with(|config| config.rate_limit_per_hour = 20).await;
    let unknown_app = format!("/v1/apps/{}", Uuid::now_v7());
    let requests = [
        ("list", StatusCode::OK, app.admin_request(Method::GET, "/v1/apps")),
        ("create", StatusCode::CREATED, app.admin_request(Method::POST, "/v1/apps").json(&json!({"name": "Shop"}))),
        ("unknown app", StatusCode::NOT_FOUND, app.admin_request(Method::GET, &unknown_app)),
        ("blank name", StatusCode::BAD_REQUEST, app.admin_request(Method::POST, "/v1/apps").json(&json!({"name": ""}))),
        (
            "malformed body",
            StatusCode::BAD_REQUEST,
            app.admin_request(Method::POST, "/v1/apps").header("content-type", "application/json").body("{"),
        ),
        ("id not a uuid", StatusCode::BAD_REQUEST, app.admin_request(Method::GET, "/v1/apps/not-a-uuid")),
        (
            "wrong content type",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            app.admin_request(Method::POST, "/v1/apps").body("x"),
        ),
    ];

    for (expected_remaining, (case, expected_status, request)) in (13..20).rev().zip(requests) {
        // Act
        let (sent_at, response) = send_timed(request).await;

        // Assert
        assert_eq!(response.status(), expected_status, "{case}");
        let headers = rate_limit_headers(response.headers());
        assert_eq!((headers.limit, headers.remaining), (20, expected_remaining), "{case}");
        assert_reset_is_within_the_next_hour(headers.reset, sent_at, unix_now());
    }
}

#[tokio::test]
async fn forbidden_role_answer_carries_the_rate_limit_headers_of_its_token() {
    // Arrange
    let app = spawn_app().await;
    let ci_token = app.token_with_role(TokenRole::Ci).await;

    // Act
    let (sent_at, response) =
        send_timed(request_with_token(&app, &ci_token, Method::POST, "/v1/apps").json(&json!({"name": "Shop"}))).await;

    // Assert
    let headers = rate_limit_headers(response.headers());
    assert_eq!((headers.limit, headers.remaining), (1000, 999), "the ci token's own allowance");
    assert_reset_is_within_the_next_hour(headers.reset, sent_at, unix_now());
    expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn failed_authentication_401_carries_no_rate_limit_headers() {
    // Arrange
    let app = spawn_app().await;
    let unknown_token = issue_token().secret;
    let requests = [
        ("missing token", app.http.get(app.url("/v1/apps"))),
        ("malformed token", app.http.get(app.url("/v1/apps")).header("x-api-key", "apps_nope")),
        ("unknown token", app.http.get(app.url("/v1/apps")).header("x-api-key", &unknown_token)),
        (
            "unknown bearer token",
            app.http.post(app.url("/v1/apps")).bearer_auth(&unknown_token).json(&json!({"name": "Shop"})),
        ),
    ];

    for (case, request) in requests {
        // Act
        let response = request.send().await.unwrap();

        // Assert
        for name in RATE_LIMIT_HEADERS {
            assert!(response.headers().get(name).is_none(), "{case}: a 401 carries `{name}`");
        }
        expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn request_over_the_limit_returns_429_rate_limited_with_retry_after() {
    // Arrange
    let app = spawn_app_with(|config| config.rate_limit_per_hour = 3).await;
    exhaust(&app, &app.admin_token, 3).await;

    // Act
    let (sent_at, response) = send_timed(app.admin_request(Method::GET, "/v1/apps")).await;

    // Assert
    let retry_after = header_number(response.headers(), "retry-after").expect("a 429 has a numeric Retry-After");
    assert!((1..=3600).contains(&retry_after), "Retry-After: {retry_after}");
    let headers = rate_limit_headers(response.headers());
    assert_eq!((headers.limit, headers.remaining), (3, 0));
    assert_reset_is_within_the_next_hour(headers.reset, sent_at, unix_now());
    let message = expect_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert!(message.contains('3'), "the message names the limit: {message}");
}

#[tokio::test]
async fn token_stays_limited_on_every_operation_once_over_its_limit() {
    // Arrange
    let app = spawn_app_with(|config| config.rate_limit_per_hour = 3).await;
    exhaust(&app, &app.admin_token, 3).await;
    let requests = [
        app.admin_request(Method::GET, "/v1/me"),
        app.admin_request(Method::GET, "/v1/organization"),
        app.admin_request(Method::GET, "/v1/api-tokens"),
        app.admin_request(Method::POST, "/v1/apps").json(&json!({"name": "Shop"})),
    ];

    for request in requests {
        // Act
        let response = request.send().await.unwrap();

        // Assert
        let url = response.url().clone();
        assert_eq!(header_number(response.headers(), "x-ratelimit-remaining"), Some(0), "{url}");
        let reply = appdeck_tests::read_error(response).await;
        assert_eq!((reply.status, reply.code.as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{url}");
    }
}

#[tokio::test]
async fn rate_limit_is_per_token_so_another_token_of_the_organization_is_still_served() {
    // Arrange
    let app = spawn_app_with(|config| config.rate_limit_per_hour = 3).await;
    let developer_token = app.token_with_role(TokenRole::Developer).await;
    exhaust(&app, &app.admin_token, 3).await;
    let refused = app.admin_request(Method::GET, "/v1/apps").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);

    // Act
    let response = request_with_token(&app, &developer_token, Method::GET, "/v1/apps").send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let headers = rate_limit_headers(response.headers());
    assert_eq!((headers.limit, headers.remaining), (3, 2));
}

#[tokio::test]
async fn request_refused_with_429_does_nothing() {
    // Arrange
    let app = spawn_app_with(|config| config.rate_limit_per_hour = 3).await;
    let developer_token = app.token_with_role(TokenRole::Developer).await;
    for index in 0..3 {
        let response = request_with_token(&app, &developer_token, Method::POST, "/v1/apps")
            .json(&json!({"name": format!("App {index}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    // Act
    let response = request_with_token(&app, &developer_token, Method::POST, "/v1/apps")
        .json(&json!({"name": "Refused"}))
        .send()
        .await
        .unwrap();

    // Assert
    expect_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let listed = app.client.list_apps(None, None, None, None).await.expect("the admin token is not limited");
    let names: Vec<String> = listed.into_inner().apps.into_iter().map(|listed| listed.name.to_string()).collect();
    assert_eq!(names, vec!["App 0", "App 1", "App 2"], "the refused create made no app");
}

#[tokio::test]
async fn x_ratelimit_limit_is_the_organization_rate_limit_per_hour() {
    // Arrange
    let app = spawn_app_with(|config| config.rate_limit_per_hour = 250).await;

    // Act
    let response = app.client.get_organization().await.expect("the organization is read");

    // Assert
    let headers = rate_limit_headers(response.headers());
    let organization = response.into_inner().organization;
    assert_eq!(organization.rate_limit_per_hour, 250);
    assert_eq!(i64::try_from(headers.limit).unwrap(), organization.rate_limit_per_hour);
    assert_eq!(headers.remaining, 249);
}

#[tokio::test]
async fn default_organization_limit_is_the_one_in_the_headers() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.client.get_organization().await.expect("the organization is read");

    // Assert
    let headers = rate_limit_headers(response.headers());
    assert_eq!(headers.limit, 1000);
    assert_eq!(response.into_inner().organization.rate_limit_per_hour, 1000);
}

#[tokio::test]
async fn generated_client_surfaces_429_as_an_error_response() {
    // Arrange
    let app = spawn_app_with(|config| config.rate_limit_per_hour = 1).await;
    app.client.get_current_token().await.expect("the first request is served");

    // Act
    let result = app.client.create_app(None, &app_request("Shop")).await;

    // Assert
    match result {
        Err(appdeck_client::Error::ErrorResponse(response)) => {
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
            assert!(header_number(response.headers(), "retry-after").is_some_and(|seconds| seconds >= 1));
            assert_eq!(header_number(response.headers(), "x-ratelimit-remaining"), Some(0));
            let body = response.into_inner();
            assert!(!body.success);
            assert_eq!(body.code, "rate_limited");
        }
        other => panic!("expected a documented 429 error response, got {other:?}"),
    }
    let (status, body) = error_response(app.client.list_apps(None, None, None, None).await);
    assert_eq!((status, body.code.as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
}
