//! The database file removed or made read-only under a running server:
//! 503 with a log line, never a panic, and recovery once it is writable.

use std::process::Command;

use super::{Server, database_url, get, run};

#[tokio::test]
async fn a_database_file_removed_under_the_server_answers_503_with_a_log_line_and_never_panics() {
    // Arrange
    let directory = tempfile::tempdir().unwrap();
    let url = database_url(directory.path());
    let admin = String::from_utf8(run(&url, &["org", "create", "--name", "Acme"]).stdout).unwrap().trim().to_owned();
    let server = Server::start(&url);
    let create = |name: &str| {
        reqwest::Client::new()
            .post(format!("{}/v1/apps", server.base_url))
            .header("X-API-Key", &admin)
            .json(&serde_json::json!({ "name": name }))
            .send()
    };
    assert_eq!(create("Before").await.unwrap().status(), reqwest::StatusCode::CREATED);

    // Act
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(directory.path().join(format!("appdeck.db{suffix}")));
    }
    let after = create("After").await.unwrap();
    let ready = reqwest::get(format!("{}/readyz", server.base_url)).await.unwrap().status();

    // Assert
    assert_eq!(after.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = after.json().await.unwrap();
    assert_eq!(body["code"], "database_unavailable", "{body}");
    assert_eq!(ready, reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let (exit, stderr) = server.terminate();
    // The writer notices the file is gone; a thread that has no read
    // connection yet fails to open one. Either says so.
    let logged = ["the database file was removed or replaced", "the SQLite database cannot be used"];
    assert!(logged.iter().any(|line| stderr.contains(line)), "no log line says why:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(exit.success(), "{exit:?}");
}

/// Makes files immutable (`chattr +i`), which stops writes even by root,
/// unlike file modes; gives them back when dropped, pass or fail.
struct Immutable(Vec<std::path::PathBuf>);

impl Immutable {
    fn set(paths: Vec<std::path::PathBuf>) -> Self {
        for path in &paths {
            let status = Command::new("chattr").arg("+i").arg(path).status().expect("chattr runs");
            assert!(status.success(), "chattr +i {}: this test needs CAP_LINUX_IMMUTABLE", path.display());
        }
        Self(paths)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = Command::new("chattr").arg("-i").arg(path).status();
        }
    }
}

#[tokio::test]
async fn a_database_file_made_read_only_under_the_server_answers_503_with_a_log_line_and_recovers() {
    // Arrange
    let directory = tempfile::tempdir().unwrap();
    let url = database_url(directory.path());
    let admin = String::from_utf8(run(&url, &["org", "create", "--name", "Acme"]).stdout).unwrap().trim().to_owned();
    let server = Server::start(&url);
    let create = |name: &str| {
        reqwest::Client::new()
            .post(format!("{}/v1/apps", server.base_url))
            .header("X-API-Key", &admin)
            .json(&serde_json::json!({ "name": name }))
            .send()
    };
    assert_eq!(create("Before").await.unwrap().status(), reqwest::StatusCode::CREATED);

    // Act: the database and its log become unwritable, then writable again.
    let files = ["appdeck.db", "appdeck.db-wal"].map(|name| directory.path().join(name));
    let read_only = Immutable::set(files.to_vec());
    let refused = create("While read-only").await.unwrap();
    let read = get(&server.base_url, "/v1/apps", &admin).await;
    drop(read_only);
    let after = create("After").await.unwrap().status();

    // Assert
    assert_eq!(refused.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "database_unavailable", "{body}");
    assert_eq!(read, reqwest::StatusCode::OK, "reads work while writes cannot");
    assert_eq!(after, reqwest::StatusCode::CREATED, "writes recover without a restart");
    let (exit, stderr) = server.terminate();
    assert!(stderr.contains("the SQLite database cannot be used"), "no log line says why:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(exit.success(), "{exit:?}");
}
