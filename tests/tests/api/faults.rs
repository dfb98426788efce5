//! The service while its database is unreachable: 503 with the error body,
//! `/readyz` 503, and recovery without a restart when the database returns.
//! PostgreSQL is made unreachable through a proxy the test cuts, so it needs
//! PostgreSQL; `cargo xtask test` runs it.

use std::time::Duration;

use appdeck_tests::{backend, expect_error, proxy::TcpProxy, spawn_app_with};
use reqwest::StatusCode;

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): cargo xtask test runs it"]
async fn while_the_database_is_unreachable_the_api_answers_503_and_recovers_when_it_returns() {
    // Arrange: the server reaches PostgreSQL only through the proxy.
    let database_url = std::env::var("TEST_DATABASE_URL").expect("this test needs TEST_DATABASE_URL (PostgreSQL)");
    let database_proxy = TcpProxy::start(backend::server_address(&database_url)).await;
    let app_behind_proxy = spawn_app_with(|config| {
        config.database_url = backend::reroute(&config.database_url, database_proxy.address);
        config.db_acquire_timeout_secs = 1;
    })
    .await;
    let list = || app_behind_proxy.admin_request(reqwest::Method::GET, "/v1/apps").send();
    let ready = || app_behind_proxy.http.get(app_behind_proxy.url("/readyz")).send();
    assert_eq!(list().await.unwrap().status(), StatusCode::OK);

    // Act: cut the database off.
    database_proxy.cut().await;
    let while_down = list().await.unwrap();
    let ready_while_down = ready().await.unwrap().status();
    database_proxy.restore().await;

    // Assert
    expect_error(while_down, StatusCode::SERVICE_UNAVAILABLE, "database_unavailable").await;
    assert_eq!(ready_while_down, StatusCode::SERVICE_UNAVAILABLE);
    let mut recovered = false;
    for _ in 0..50 {
        if list().await.unwrap().status() == StatusCode::OK && ready().await.unwrap().status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the server answers again without a restart");
}
