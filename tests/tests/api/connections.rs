//! Connections, spoken to over raw TCP: the header-read timeout, the
//! keep-alive idle timeout and the cap on open connections. The drain on
//! SIGTERM, and the cap keeping the server alive under a low file-descriptor
//! limit, are checked on the real binary in `server/tests/binary/serving.rs`.

use std::time::{Duration, Instant};

use appdeck_tests::{TestApp, spawn_app_with};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: appdeck\r\n\r\n";

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://")).await.expect("connect to the server")
}

/// Reads until the server closes the connection; `None` when it is still
/// open after `patience`. Whatever the server sent before closing is discarded.
async fn closed_within(stream: &mut TcpStream, patience: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0_u8; 4096];
    tokio::time::timeout(patience, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

/// Reads one whole response to `GET /healthz` (headers and its
/// `Content-Length` of body) and returns its head.
async fn read_one_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("the server answers")
            .expect("read the answer");
        assert!(read > 0, "the server closed before answering: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&received).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else { continue };
        let length: usize = head
            .lines()
            .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
            .and_then(|value| value.parse().ok())
            .expect("the answer has a Content-Length");
        if body.len() >= length {
            return head.to_owned();
        }
    }
}

#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_read_timeout() {
    // Arrange
    let app = spawn_app_with(|config| config.header_read_timeout_secs = 1).await;
    let mut stream = connect(&app).await;

    // Act
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: appdeck\r\nX-Slow: ").await.unwrap();
    let closed_after = closed_within(&mut stream, Duration::from_secs(5)).await;

    // Assert
    let closed_after = closed_after.expect("the connection is closed, not kept waiting for the rest");
    assert!(closed_after >= Duration::from_millis(900), "closed after {closed_after:?}, before the timeout");
}

#[tokio::test]
async fn a_connection_that_never_sends_is_closed_after_the_header_read_timeout() {
    // Arrange
    let app = spawn_app_with(|config| config.header_read_timeout_secs = 1).await;
    let mut stream = connect(&app).await;

    // Act
    let closed_after = closed_within(&mut stream, Duration::from_secs(5)).await;

    // Assert
    assert!(closed_after.is_some(), "a silent connection is closed");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout() {
    // Arrange
    let app = spawn_app_with(|config| {
        config.keep_alive_timeout_secs = 1;
        config.header_read_timeout_secs = 30;
    })
    .await;
    let mut stream = connect(&app).await;
    stream.write_all(HEALTHZ).await.unwrap();
    assert!(read_one_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    stream.write_all(HEALTHZ).await.unwrap();
    assert!(read_one_response(&mut stream).await.starts_with("HTTP/1.1 200"), "the connection is kept alive");

    // Act
    let closed_after = closed_within(&mut stream, Duration::from_secs(10)).await;

    // Assert
    let closed_after = closed_after.expect("the idle connection is closed long before the header-read timeout");
    assert!(closed_after >= Duration::from_millis(900), "closed after {closed_after:?}, before the timeout");
}

#[tokio::test]
async fn past_the_connection_cap_a_new_connection_waits_for_a_free_slot() {
    // Arrange: every slot taken by a connection that sends nothing.
    let app = spawn_app_with(|config| {
        config.max_connections = 4;
        config.header_read_timeout_secs = 2;
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        let mut stream = connect(&app).await;
        // A full answer proves the server accepted this connection.
        stream.write_all(HEALTHZ).await.unwrap();
        read_one_response(&mut stream).await;
        idle.push(stream);
    }

    // Act
    let started = Instant::now();
    let mut waiting = connect(&app).await;
    waiting.write_all(HEALTHZ).await.unwrap();
    let head = read_one_response(&mut waiting).await;
    let waited = started.elapsed();

    // Assert
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(waited >= Duration::from_millis(500), "answered after {waited:?}: the cap of 4 did not hold");
    drop(idle);
}
