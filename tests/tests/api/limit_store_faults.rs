//! The service while Redis, which holds the shared rate limits, is
//! unreachable: `APPDECK_REDIS_FAILURE_MODE` decides between letting
//! requests through (open) and refusing them with 503 (closed); either way
//! the failure is counted in `/metrics`. Redis is cut off through a proxy,
//! so most of these need Redis; `cargo xtask test` runs them. In `open`
//! mode the server also starts while Redis is down, and connects later.

use appdeck_server::rate_limit::redis::FailureMode;
use appdeck_tests::{TestApp, backend, expect_error, header_number, proxy::TcpProxy, spawn_app_with};
use reqwest::StatusCode;

async fn spawn_app_behind_a_redis_proxy(failure_mode: FailureMode) -> (TestApp, std::sync::Arc<TcpProxy>) {
    let redis_url = std::env::var("TEST_REDIS_URL").expect("this test needs TEST_REDIS_URL (Redis)");
    let proxy = TcpProxy::start(backend::server_address_or(&redis_url, 6379)).await;
    let proxied_url = backend::reroute(&redis_url, proxy.address);
    let app = spawn_app_with(|config| {
        config.redis_url = Some(proxied_url.into());
        config.redis_failure_mode = failure_mode;
    })
    .await;
    (app, proxy)
}

async fn limit_store_errors(app: &TestApp) -> f64 {
    let text = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("appdeck_limit_store_errors_total "))
        .and_then(|value| value.trim().parse().ok())
        .expect("the metric is exposed")
}

#[tokio::test]
#[ignore = "needs Redis (TEST_REDIS_URL): cargo xtask test runs it"]
async fn with_redis_unreachable_fail_open_lets_requests_through_and_counts_the_failures() {
    // Arrange
    let (app, proxy) = spawn_app_behind_a_redis_proxy(FailureMode::Open).await;
    app.client.get_current_token().await.expect("works while Redis answers");
    let errors_before = limit_store_errors(&app).await;

    // Act
    proxy.cut().await;
    let while_down = app.admin_request(reqwest::Method::GET, "/v1/apps").send().await.unwrap();
    let errors_after = limit_store_errors(&app).await;
    proxy.restore().await;

    // Assert
    assert_eq!(while_down.status(), StatusCode::OK);
    assert!(errors_after > errors_before, "the failure is counted: {errors_before} -> {errors_after}");
}

#[tokio::test]
#[ignore = "needs Redis (TEST_REDIS_URL): cargo xtask test runs it"]
async fn with_redis_unreachable_fail_closed_answers_503_then_recovers() {
    // Arrange
    let (app, proxy) = spawn_app_behind_a_redis_proxy(FailureMode::Closed).await;
    app.client.get_current_token().await.expect("works while Redis answers");

    // Act
    proxy.cut().await;
    let while_down = app.admin_request(reqwest::Method::GET, "/v1/apps").send().await.unwrap();
    let errors = limit_store_errors(&app).await;
    proxy.restore().await;

    // Assert
    expect_error(while_down, StatusCode::SERVICE_UNAVAILABLE, "rate_limit_unavailable").await;
    assert!(errors >= 1.0);
    let mut recovered = false;
    for _ in 0..50 {
        let status = app.admin_request(reqwest::Method::GET, "/v1/apps").send().await.unwrap().status();
        if status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "the limits work again without a restart once Redis is back");
}

/// A local port nothing listens on.
fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn with_redis_down_at_startup_fail_open_starts_and_serves() {
    // Arrange
    let redis_url = format!("redis://127.0.0.1:{}", unused_port());

    // Act
    let app = spawn_app_with(|config| {
        config.redis_url = Some(redis_url.into());
        config.redis_failure_mode = FailureMode::Open;
    })
    .await;

    // Assert
    let me = app.client.get_current_token().await.expect("requests pass, unlimited, while Redis is down");
    assert_eq!(me.status(), StatusCode::OK);
    assert!(limit_store_errors(&app).await >= 1.0, "the missing Redis is counted");
}

#[tokio::test]
#[ignore = "needs Redis (TEST_REDIS_URL): cargo xtask test runs it"]
async fn with_redis_down_at_startup_fail_open_connects_in_the_background_once_it_is_up() {
    // Arrange: Redis is unreachable when the server starts.
    let redis_url = std::env::var("TEST_REDIS_URL").expect("this test needs TEST_REDIS_URL (Redis)");
    let proxy = TcpProxy::start(backend::server_address_or(&redis_url, 6379)).await;
    proxy.cut().await;
    let proxied_url = backend::reroute(&redis_url, proxy.address);
    let app = spawn_app_with(|config| {
        config.redis_url = Some(proxied_url.into());
        config.redis_failure_mode = FailureMode::Open;
        config.rate_limit_per_hour = 100;
    })
    .await;
    let remaining = |response: &reqwest::Response| header_number(response.headers(), "x-ratelimit-remaining");
    let while_down = app.admin_request(reqwest::Method::GET, "/v1/me").send().await.unwrap();
    assert_eq!(while_down.status(), StatusCode::OK);
    assert_eq!(remaining(&while_down), Some(100), "nothing is counted while Redis is down");

    // Act
    proxy.restore().await;

    // Assert: the background connection is made; requests are counted again.
    let mut counted = false;
    for _ in 0..150 {
        let response = app.admin_request(reqwest::Method::GET, "/v1/me").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        if remaining(&response).is_some_and(|remaining| remaining < 100) {
            counted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(counted, "the server connected to Redis without a restart");
}
