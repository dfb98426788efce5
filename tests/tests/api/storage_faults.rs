//! Faults of the embedded database, on SQLite whatever the environment
//! asks for: a full disk, another process holding the write lock. Each is
//! answered 503 with its own code, and the next write after it passes
//! succeeds without a restart. (A database file removed or made read-only
//! under the running server is tested on the binary, in
//! `server/tests/binary/storage_faults.rs`, where its log line can be read.)

use appdeck_tests::{TestApp, expect_error, spawn_sqlite_app_with};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A create with about 6 KB of text, so a small database fills in a few dozen.
fn large_app(name: &str) -> serde_json::Value {
    json!({"name": name, "description": "d".repeat(1000), "context_info": "c".repeat(5000)})
}

async fn create(app: &TestApp, body: &serde_json::Value) -> reqwest::Response {
    app.admin_request(Method::POST, "/v1/apps").json(body).send().await.unwrap()
}

async fn listed_names(app: &TestApp) -> Vec<String> {
    let page: serde_json::Value =
        app.admin_request(Method::GET, "/v1/apps?limit=100").send().await.unwrap().json().await.unwrap();
    page["apps"].as_array().unwrap().iter().map(|listed| listed["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_full_disk_answers_503_storage_full_keeps_nothing_half_written_and_the_first_write_after_space_returns_succeeds()
 {
    // Arrange: a database that may not grow past 80 pages of 4 KiB.
    let app = spawn_sqlite_app_with(|config| config.sqlite_max_page_count = Some(80)).await;

    // Act: create until the disk is full.
    let mut created = Vec::new();
    let full = loop {
        let name = format!("App {}", created.len());
        let response = create(&app, &large_app(&name)).await;
        if response.status() != StatusCode::CREATED {
            break response;
        }
        created.push(name);
        assert!(created.len() < 200, "the database never filled");
    };

    // Assert: a clear 503, and every app answered 201 is there with its event, and nothing else.
    expect_error(full, StatusCode::SERVICE_UNAVAILABLE, "storage_full").await;
    assert!(!created.is_empty());
    assert_eq!(listed_names(&app).await, created, "only the answered creates are stored");
    let events = app.audit_events().await;
    let app_events = events.iter().filter(|event| event.action.to_string() == "app.created").count();
    assert_eq!(app_events, created.len(), "one event per stored app, none for the refused one");

    // Act: space returns (apps are deleted), then the same create again.
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner().apps;
    for stale in &listed[..3] {
        app.client.delete_app(&stale.id).await.expect("a delete frees space");
    }
    let after = create(&app, &large_app("After the disk was full")).await;

    // Assert
    assert_eq!(after.status(), StatusCode::CREATED, "the first write after space returns succeeds");
}

#[tokio::test]
async fn while_another_process_holds_the_write_lock_writes_answer_503_database_busy_reads_work_and_writes_recover() {
    // Arrange: a first request records the token's use, so reads need no write.
    let app = spawn_sqlite_app_with(|_| {}).await;
    let before = app.create_app_named("Before the lock").await;
    app.client.get_current_token().await.unwrap();
    let lock = app.database.lock_app_writes().await;

    // Act
    let write = create(&app, &json!({"name": "While locked"})).await;
    let read = app.client.get_app(&before.id).await;
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    lock.release().await;

    // Assert: writes wait the busy timeout, then 503; reads never wait.
    expect_error(write, StatusCode::SERVICE_UNAVAILABLE, "database_busy").await;
    assert_eq!(read.expect("reads work while the lock is held").into_inner().app.name.as_str(), "Before the lock");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "/readyz sees that writes cannot commit");
    assert_eq!(create(&app, &json!({"name": "After the lock"})).await.status(), StatusCode::CREATED);
    assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(listed_names(&app).await, ["Before the lock", "After the lock"]);
}
