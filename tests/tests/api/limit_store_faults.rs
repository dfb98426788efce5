//! The service while Redis, which holds the shared rate limits, is
//! unreachable: `APPDECK_REDIS_FAILURE_MODE` decides between letting
//! requests through (open) and refusing them with 503 (closed); either way
//! the failure is counted in `/metrics`. Redis is cut off through a proxy,
//! so these need Redis; `cargo xtask test` runs them.

use appdeck_server::rate_limit::redis::FailureMode;
use appdeck_tests::{TestApp, backend, expect_error, proxy::TcpProxy, spawn_app_with};
use reqwest::StatusCode;

async fn spawn_app_behind_a_redis_proxy(failure_mode: FailureMode) -> (TestApp, std::sync::Arc<TcpProxy>) {
    let redis_url = std::env::var("TEST_REDIS_URL").expect("this test needs TEST_REDIS_URL (Redis)");
    let proxy = TcpProxy::start(backend::server_address_or(&redis_url, 6379)).await;
    let proxied_url = backend::reroute(&redis_url, proxy.address);
    let app = spawn_app_with(|config| {
        config.redis_url = Some(proxied_url);
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
