//! The service while its database is unreachable (at start too) or ends its
//! connections: 503 with the error body, `/readyz` 503, never 500, and
//! recovery without a restart when the database returns. PostgreSQL is made
//! unreachable through a proxy the test cuts, so these need PostgreSQL;
//! `cargo xtask test` runs them.

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
        config.database_url = backend::reroute(config.database_url.expose(), database_proxy.address).into();
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

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): cargo xtask test runs it"]
async fn serve_starts_while_the_database_is_down_answers_503_and_serves_once_it_is_reached() {
    // Arrange: a migrated database with an organization, reachable only
    // through a proxy that is cut before the server starts.
    let app = appdeck_tests::spawn_app().await;
    let database_proxy = TcpProxy::start(backend::server_address(&app.database.url())).await;
    database_proxy.cut().await;
    let mut config = appdeck_server::config::Config::with_database_url(backend::reroute(
        &app.database.url(),
        database_proxy.address,
    ));
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.db_acquire_timeout_secs = 1;

    // Act
    let store = appdeck_server::startup::open_store_for_serving(&config).await.expect("serve starts");
    let server = appdeck_server::startup::Application::build(&config, store).await.unwrap();
    let base_url = format!("http://{}", server.address());
    tokio::spawn(server.run_until_stopped(std::future::pending()));
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{base_url}{path}")).header("x-api-key", &app.admin_token).send();
    let healthz = get("/healthz").await.unwrap().status();
    let readyz = get("/readyz").await.unwrap().status();
    let request = get("/v1/apps").await.unwrap();

    // Assert: alive, not ready, and a clear 503 while the database is down.
    assert_eq!((healthz, readyz), (StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE));
    expect_error(request, StatusCode::SERVICE_UNAVAILABLE, "database_unavailable").await;

    // Act: the database comes back.
    database_proxy.restore().await;
    let mut reached = false;
    for _ in 0..150 {
        if get("/readyz").await.unwrap().status() == StatusCode::OK {
            reached = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Assert
    assert!(reached, "the server reaches the database without a restart");
    assert_eq!(get("/v1/apps").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): cargo xtask test runs it"]
async fn connections_terminated_by_the_database_are_answered_503_never_500_and_the_server_recovers() {
    // Arrange: the server's connections carry a name of their own, so the
    // test ends only them (other tests and programs share the database).
    let name = format!("appdeck_test_{}", uuid::Uuid::now_v7().simple());
    let app = spawn_app_with(|config| {
        config.database_url = format!("{}&application_name={name}", config.database_url.expose()).into()
    })
    .await;
    let list = || app.admin_request(reqwest::Method::GET, "/v1/apps").send();
    assert_eq!(list().await.unwrap().status(), StatusCode::OK);

    // Act: what an administrator's shutdown or a restart does to each connection (SQLSTATE 57P01).
    let admin_url = std::env::var("TEST_DATABASE_URL").unwrap();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await.unwrap();
    let terminated: Vec<bool> =
        sqlx::query_scalar("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1")
            .bind(&name)
            .fetch_all(&mut admin)
            .await
            .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..50 {
        let status = list().await.unwrap().status();
        statuses.push(status);
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Assert
    assert!(!terminated.is_empty(), "the server's connections were found");
    assert!(statuses.iter().all(|status| *status != StatusCode::INTERNAL_SERVER_ERROR), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&StatusCode::OK), "the server recovers: {statuses:?}");
}
