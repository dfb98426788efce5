//! The logs: no secret even at trace level, and every line written before
//! the exit reaches stderr.

use std::sync::atomic::Ordering;

use super::{Server, database_url, get, run};

#[tokio::test]
async fn secrets_never_reach_the_logs_even_at_trace_level() {
    // Arrange: an organization made by the CLI, so `serve` prints no token.
    let directory = tempfile::tempdir().unwrap();
    let created = run(&database_url(directory.path()), &["org", "create", "--name", "Acme"]);
    let admin = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let server = Server::start(&database_url(directory.path()));
    let http = reqwest::Client::new();
    let unknown = appdeck_server::auth::issue_token().secret;

    // Act: succeed and fail in every way a token can.
    let response = http
        .post(format!("{}/v1/api-tokens", server.base_url))
        .header("X-API-Key", &admin)
        .json(&serde_json::json!({"label": "ci", "role": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let body: serde_json::Value = response.json().await.unwrap();
    let created_secret = body["secret"].as_str().unwrap().to_owned();
    let token_id = body["token"]["id"].as_str().unwrap().to_owned();
    let statuses = [
        get(&server.base_url, "/v1/me", &admin).await,
        get(&server.base_url, "/v1/apps", &created_secret).await,
        get(&server.base_url, "/v1/api-tokens", &created_secret).await,
        get(&server.base_url, "/v1/me", &unknown).await,
        get(&server.base_url, "/v1/me", &format!("{admin}x")).await,
    ];
    let revoked = http
        .delete(format!("{}/v1/api-tokens/{token_id}", server.base_url))
        .header("Authorization", format!("Bearer {admin}"))
        .send()
        .await
        .unwrap()
        .status();
    let after_revoke = get(&server.base_url, "/v1/me", &created_secret).await;
    let (exit, logs) = server.terminate();

    // Assert
    use reqwest::StatusCode;
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED]
    );
    assert_eq!((revoked, after_revoke), (StatusCode::OK, StatusCode::UNAUTHORIZED));
    assert!(exit.success());
    assert!(logs.contains("/v1/api-tokens"), "the logs hold the requests");
    let request_lines: Vec<&str> = logs.lines().filter(|line| line.contains(r#""name":"request""#)).collect();
    assert!(!request_lines.is_empty(), "events inside request spans are logged");
    for line in &request_lines {
        assert!(line.contains(r#""request_id":""#), "a line of a request without its id: {line}");
    }
    assert!(
        request_lines.iter().any(|line| line.contains(r#""token_id":""#) && line.contains(r#""status":200"#)),
        "the closing line of an authenticated request names the token and the status"
    );
    for secret in [&admin, &created_secret, &unknown] {
        assert!(!logs.contains(secret.as_str()), "a token reached the logs");
        assert!(!logs.contains(&secret[5..37]), "a token's random part reached the logs");
    }
}

#[tokio::test]
async fn log_lines_written_just_before_sigterm_reach_stderr() {
    // About 400 bytes a line: well past the pipe, well within the log buffer.
    const REQUESTS: usize = 600;
    // Arrange: the default level, where every request writes a line.
    let directory = tempfile::tempdir().unwrap();
    let url = database_url(directory.path());
    let admin = String::from_utf8(run(&url, &["org", "create", "--name", "Acme"]).stdout).unwrap().trim().to_owned();
    let server = Server::start_logging(&url, "info");
    let client = reqwest::Client::new();

    // Act: requests while stderr is not read, so that the pipe fills (64 KiB)
    // and the later lines wait in the server's log buffer; SIGTERM as soon as
    // the last request is answered; then stderr is read again.
    server.reading_paused.store(true, Ordering::Relaxed);
    let mut request_ids = Vec::new();
    for _ in 0..REQUESTS {
        let response = client
            .get(format!("{}/v1/me", server.base_url))
            .header("X-API-Key", &admin)
            .send()
            .await
            .expect("the server answers");
        let request_id = response.headers().get("x-request-id").expect("every answer has a request id");
        request_ids.push(request_id.to_str().unwrap().to_owned());
    }
    let (exit, stderr) = server.terminate();

    // Assert
    assert!(exit.success(), "{exit:?}");
    let answered_lines: Vec<&str> =
        stderr.lines().filter(|line| line.contains("finished processing request")).collect();
    let missing: Vec<&String> =
        request_ids.iter().filter(|id| !answered_lines.iter().any(|line| line.contains(id.as_str()))).collect();
    assert!(missing.is_empty(), "{} of {REQUESTS} request lines missing, e.g. {:?}", missing.len(), missing.first());
    assert!(stderr.contains("shutting down: finishing requests in flight"), "{stderr}");
    assert!(!stderr.contains("log lines dropped"), "the buffer had room for every line");
}
