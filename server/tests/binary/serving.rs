//! `serve`: the first start's admin token, the exit on SIGTERM after the
//! requests in flight, and `/healthz` past the file-descriptor limit.

use std::{process::Command, thread, time::Duration};

use super::{BINARY, Server, database_url, get, is_token, run};

#[tokio::test]
async fn first_serve_prints_a_working_admin_token_once_and_sigterm_exits_0() {
    // Arrange
    let directory = tempfile::tempdir().unwrap();

    // Act: the first start, on an empty database, then a second start.
    let first = Server::start(&database_url(directory.path()));
    let printed: Vec<String> = first
        .stderr()
        .split_whitespace()
        .map(|word| word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_').to_owned())
        .filter(|word| is_token(word))
        .collect();
    assert_eq!(printed.len(), 1, "one token is printed: {printed:?}");
    let status_with_printed_token = get(&first.base_url, "/v1/me", &printed[0]).await;
    let (first_exit, _) = first.terminate();
    let second = Server::start(&database_url(directory.path()));
    let second_stderr = second.stderr();
    let (second_exit, _) = second.terminate();

    // Assert
    assert_eq!(status_with_printed_token, reqwest::StatusCode::OK);
    assert!(first_exit.success(), "SIGTERM exits 0: {first_exit:?}");
    assert!(second_exit.success());
    assert!(!second_stderr.contains(&printed[0]), "the token is printed only on the first start");
}

#[tokio::test]
async fn sigterm_finishes_the_requests_in_flight_then_exits_0() {
    // Arrange: a create that waits for a lock the test holds.
    let directory = tempfile::tempdir().unwrap();
    let url = database_url(directory.path());
    let admin = String::from_utf8(run(&url, &["org", "create", "--name", "Acme"]).stdout).unwrap().trim().to_owned();
    let mut server = Server::start(&url);
    assert_eq!(get(&server.base_url, "/v1/me", &admin).await, reqwest::StatusCode::OK);
    let lock = rusqlite::Connection::open(directory.path().join("appdeck.db")).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let in_flight = tokio::spawn({
        let base_url = server.base_url.clone();
        let admin = admin.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{base_url}/v1/apps"))
                .header("X-API-Key", admin)
                .json(&serde_json::json!({"name": "In flight"}))
                .send()
                .await
                .map(|response| response.status())
        }
    });
    server.logged(&["started processing request", "POST", "/v1/apps"], Duration::from_secs(30)).await;

    // Act: SIGTERM while the create waits; the lock is let go only once the
    // server says it is draining.
    server.signal("-TERM");
    server.logged(&["shutting down: finishing requests in flight"], Duration::from_secs(30)).await;
    let unanswered_while_draining = !in_flight.is_finished();
    let still_running = server.child.try_wait().unwrap().is_none();
    lock.execute_batch("ROLLBACK").unwrap();
    let answered = in_flight.await.unwrap();
    let exit = server.child.wait().unwrap();

    // Assert
    assert!(unanswered_while_draining && still_running, "the server waits for the request in flight");
    assert_eq!(answered.unwrap(), reqwest::StatusCode::CREATED);
    assert!(exit.success(), "{exit:?}");
}

/// Waits up to `patience` for the server to exit; `None` while it runs.
fn exit_within(server: &mut Server, patience: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + patience;
    while std::time::Instant::now() < deadline {
        if let Some(status) = server.child.try_wait().expect("the server's status") {
            return Some(status);
        }
        thread::sleep(Duration::from_millis(20));
    }
    None
}

#[tokio::test]
async fn sigterm_with_a_half_sent_request_open_exits_promptly() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Arrange: a connection that was answered once, then sends half a request.
    let directory = tempfile::tempdir().unwrap();
    let mut server = Server::start(&database_url(directory.path()));
    let mut stream = tokio::net::TcpStream::connect(server.base_url.trim_start_matches("http://")).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: appdeck\r\n\r\n").await.unwrap();
    let mut answer = [0_u8; 1024];
    let read = stream.read(&mut answer).await.unwrap();
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer[..read]));
    stream.write_all(b"POST /v1/apps HTTP/1.1\r\nHost: appdeck\r\nContent-Len").await.unwrap();

    // Act
    server.signal("-TERM");
    let exit = exit_within(&mut server, Duration::from_secs(5));

    // Assert
    let exit = exit.expect("the half-sent request does not hold up the drain (deadline 30 s)");
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn healthz_answers_while_more_idle_connections_are_open_than_file_descriptors_allow() {
    // Arrange: 256 file descriptors; a cap of 200 connections leaves the
    // server the rest (database, listener, logs).
    let directory = tempfile::tempdir().unwrap();
    let mut with_low_limit = Command::new("/bin/sh");
    with_low_limit.args(["-c", "ulimit -n 256 && exec \"$0\" \"$@\"", BINARY]);
    let mut server = Server::start_with(
        with_low_limit,
        &database_url(directory.path()),
        &[("APPDECK_MAX_CONNECTIONS", "200"), ("APPDECK_HEADER_READ_TIMEOUT_SECS", "1"), ("RUST_LOG", "info")],
    );
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..600 {
        let connecting = tokio::time::timeout(Duration::from_secs(10), tokio::net::TcpStream::connect(&address));
        idle.push(connecting.await.expect("the server keeps accepting").expect("connect an idle connection"));
    }

    // Act
    let health = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .get(format!("{}/healthz", server.base_url))
        .send()
        .await;

    // Assert
    let still_running = server.child.try_wait().unwrap().is_none();
    drop(idle);
    let status = health.map(|response| response.status());
    assert_eq!(status.ok(), Some(reqwest::StatusCode::OK), "stderr: {}", server.stderr());
    assert!(still_running);
    let (exit, _) = server.terminate();
    assert!(exit.success(), "{exit:?}");
}
