//! The layers around every route: gzip compression, CORS (off unless
//! origins are configured), `/metrics`, the request timeout, and the
//! `X-Request-Id` echo.

use std::collections::HashSet;

use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{TestApp, backend::WriteLock, header_number, header_text, read_error, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

const ALLOWED_ORIGIN: &str = "https://app.example.com";

/// The first two bytes of every gzip stream (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A server that allows browser calls from `ALLOWED_ORIGIN` only.
async fn spawn_app_with_cors() -> TestApp {
    spawn_app_with(|config| config.cors_allowed_origins = vec![ALLOWED_ORIGIN.into()]).await
}

/// A CORS preflight for `POST /v1/apps` with a token and a JSON body, from `origin`.
async fn preflight_create_app(app: &TestApp, origin: &str) -> reqwest::Response {
    app.http
        .request(Method::OPTIONS, app.url("/v1/apps"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-api-key,content-type,idempotency-key")
        .send()
        .await
        .expect("the preflight is sent")
}

/// The comma-separated values of header `name`, lower-cased.
fn header_list(response: &reqwest::Response, name: &str) -> Vec<String> {
    header_text(response, name).split(',').map(|item| item.trim().to_ascii_lowercase()).collect()
}

/// The text `/metrics` serves now.
async fn scrape_metrics(app: &TestApp) -> String {
    let response = app.http.get(app.url("/metrics")).send().await.expect("metrics are scraped");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("read the metrics")
}

/// The labels of one sample line, `name{key="value",...} number`, in order.
fn parse_labels(labels: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = labels;
    while let Some((key, after_key)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut characters = after_key.char_indices();
        let mut end = after_key.len();
        while let Some((index, character)) = characters.next() {
            match character {
                '\\' => value.extend(characters.next().map(|(_, escaped)| escaped)),
                '"' => {
                    end = index + 1;
                    break;
                }
                other => value.push(other),
            }
        }
        pairs.push((key.trim_start_matches(',').trim().to_owned(), value));
        rest = &after_key[end..];
    }
    pairs
}

/// The sum of the samples of metric `name` whose labels include every one of
/// `labels`, or `None` when no sample matches. Label order does not matter.
fn metric_sum(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut sum = None;
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let (series_name, series_labels) = match series.split_once('{') {
            Some((series_name, labels)) => (series_name, parse_labels(labels.trim_end_matches('}'))),
            None => (series, Vec::new()),
        };
        let matches = series_name == name
            && labels.iter().all(|(key, expected)| {
                series_labels.iter().any(|(series_key, series_value)| series_key == key && series_value == expected)
            });
        if matches {
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number in `{line}`"));
            *sum.get_or_insert(0.0) += value;
        }
    }
    sum
}

// Compression.

#[tokio::test]
async fn list_is_gzip_compressed_when_the_client_accepts_gzip() {
    // Arrange
    let app = spawn_app().await;
    for index in 0..3 {
        app.create_app_named(&format!("App {index}")).await;
    }

    // Act
    let response = app.admin_request(Method::GET, "/v1/apps").header("accept-encoding", "gzip").send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header_text(&response, "content-encoding"), "gzip");
    assert!(header_text(&response, "content-type").starts_with("application/json"));
    let body = response.bytes().await.unwrap();
    assert!(body.starts_with(&GZIP_MAGIC), "the body is not a gzip stream: {:?}", &body[..body.len().min(16)]);
}

#[tokio::test]
async fn list_is_plain_json_when_the_client_does_not_accept_gzip() {
    // Arrange
    let app = spawn_app().await;
    for index in 0..3 {
        app.create_app_named(&format!("App {index}")).await;
    }

    // Act
    let response = app.admin_request(Method::GET, "/v1/apps").send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header_text(&response, "content-encoding"), "");
    let body: Value = response.json().await.expect("the body is plain JSON");
    assert_eq!(body["apps"].as_array().map(Vec::len), Some(3));
}

// CORS.

#[tokio::test]
async fn cors_is_off_by_default() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.admin_request(Method::GET, "/v1/apps").header("origin", ALLOWED_ORIGIN).send().await.unwrap();
    let preflight = preflight_create_app(&app, ALLOWED_ORIGIN).await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header_text(&response, "access-control-allow-origin"), "");
    assert_eq!(header_text(&preflight, "access-control-allow-origin"), "");
}

#[tokio::test]
async fn cors_preflight_from_an_allowed_origin_is_answered_200() {
    // Arrange
    let app = spawn_app_with_cors().await;

    // Act
    let response = preflight_create_app(&app, ALLOWED_ORIGIN).await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header_text(&response, "access-control-allow-origin"), ALLOWED_ORIGIN);
    let methods = header_list(&response, "access-control-allow-methods");
    assert!(methods.iter().any(|method| method == "post"), "allowed methods: {methods:?}");
    let headers = header_list(&response, "access-control-allow-headers");
    for header in ["x-api-key", "content-type", "idempotency-key"] {
        assert!(headers.iter().any(|allowed| allowed == header), "`{header}` is not allowed: {headers:?}");
    }
}

#[tokio::test]
async fn cors_response_to_an_allowed_origin_exposes_the_request_id_rate_limit_and_replay_headers() {
    // Arrange
    let app = spawn_app_with_cors().await;

    // Act
    let response = app.admin_request(Method::GET, "/v1/apps").header("origin", ALLOWED_ORIGIN).send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header_text(&response, "access-control-allow-origin"), ALLOWED_ORIGIN);
    let exposed = header_list(&response, "access-control-expose-headers");
    let expected =
        ["x-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "idempotent-replayed"];
    for header in expected {
        assert!(exposed.iter().any(|name| name == header), "`{header}` is not exposed: {exposed:?}");
    }
}

#[tokio::test]
async fn cors_does_not_allow_another_origin() {
    // Arrange
    let app = spawn_app_with_cors().await;
    let other_origin = "https://evil.example.com";

    // Act
    let preflight = preflight_create_app(&app, other_origin).await;
    let response = app.admin_request(Method::GET, "/v1/apps").header("origin", other_origin).send().await.unwrap();

    // Assert
    assert_eq!(header_text(&preflight, "access-control-allow-origin"), "");
    assert_eq!(header_text(&response, "access-control-allow-origin"), "");
}

// Metrics.

#[tokio::test]
async fn metrics_are_served_without_a_token_as_openmetrics_text() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = header_text(&response, "content-type");
    assert!(content_type.starts_with("application/openmetrics-text"), "content type `{content_type}`");
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "OpenMetrics text ends with `# EOF`: {text}");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    app.get_app(created.id).await;
    app.get_app(created.id).await;
    let unknown = Uuid::now_v7();
    let missing = app.admin_request(Method::GET, &format!("/v1/apps/{unknown}")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // Act
    let text = scrape_metrics(&app).await;

    // Assert
    let requests = |method: &str, route: &str, status: &str| {
        metric_sum(&text, "appdeck_http_requests_total", &[("method", method), ("route", route), ("status", status)])
    };
    assert_eq!(requests("POST", "/v1/apps", "201"), Some(1.0), "{text}");
    assert_eq!(requests("GET", "/v1/apps/{id}", "200"), Some(2.0), "{text}");
    assert_eq!(requests("GET", "/v1/apps/{id}", "404"), Some(1.0), "{text}");
    for id in [created.id, unknown] {
        assert!(!text.contains(&id.to_string()), "a raw id is a label: {text}");
        assert!(!text.contains(&id.simple().to_string()), "a raw id is a label: {text}");
    }
}

#[tokio::test]
async fn metrics_have_a_latency_histogram_by_route_and_status() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    app.get_app(created.id).await;

    // Act
    let text = scrape_metrics(&app).await;

    // Assert
    let labels = [("method", "GET"), ("route", "/v1/apps/{id}"), ("status", "200")];
    let all_buckets = [labels[0], labels[1], labels[2], ("le", "+Inf")];
    assert_eq!(metric_sum(&text, "appdeck_http_request_duration_seconds_bucket", &all_buckets), Some(1.0), "{text}");
    assert_eq!(metric_sum(&text, "appdeck_http_request_duration_seconds_count", &labels), Some(1.0), "{text}");
    let seconds = metric_sum(&text, "appdeck_http_request_duration_seconds_sum", &labels).expect("a latency sum");
    assert!(seconds >= 0.0, "{text}");
}

#[tokio::test]
async fn metrics_count_requests_refused_for_a_token_over_its_limit() {
    // Arrange
    let app = spawn_app_with(|config| config.rate_limit_per_hour = 2).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(app.admin_request(Method::GET, "/v1/me").send().await.unwrap().status());
    }
    assert_eq!(statuses[2..], [StatusCode::TOO_MANY_REQUESTS; 2]);

    // Act
    let text = scrape_metrics(&app).await;

    // Assert
    assert_eq!(
        metric_sum(&text, "appdeck_rate_limited_requests_total", &[("reason", "TokenLimit")]),
        Some(2.0),
        "{text}"
    );
    let refused = [("method", "GET"), ("route", "/v1/me"), ("status", "429")];
    assert_eq!(metric_sum(&text, "appdeck_http_requests_total", &refused), Some(2.0), "{text}");
}

#[tokio::test]
async fn metrics_report_the_database_pool() {
    // Arrange
    let app = spawn_app().await;
    app.create_app_named("Shop").await;

    // Act
    let text = scrape_metrics(&app).await;

    // Assert
    let connections = metric_sum(&text, "appdeck_db_pool_connections", &[]).expect("the pool size is reported");
    assert!(connections >= 1.0, "the server has used a connection: {text}");
    let idle = metric_sum(&text, "appdeck_db_pool_idle_connections", &[]).expect("idle connections are reported");
    assert!(idle <= connections, "{text}");
}

// Request timeout.

/// Makes every write of apps wait: after a first request (which records
/// the token's `last_used_at`, so authentication needs no write), another
/// connection takes the lock app writes need. The server waits for it
/// longer than a 1 s request timeout.
async fn hold_the_write_lock(app: &TestApp) -> WriteLock {
    app.client.get_current_token().await.expect("the token works");
    app.database.lock_app_writes().await
}

#[tokio::test]
async fn write_that_outlasts_the_request_timeout_returns_503_request_timeout_and_leaves_nothing() {
    // Arrange
    let app = spawn_app_with(|config| config.request_timeout_secs = 1).await;
    let lock = hold_the_write_lock(&app).await;
    let request_id = format!("timeout-{}", Uuid::now_v7());

    // Act
    let response = app
        .admin_request(Method::POST, "/v1/apps")
        .header("x-request-id", &request_id)
        .json(&json!({"name": "Slow"}))
        .send()
        .await
        .unwrap();

    // Assert
    let reply = read_error(response).await;
    assert_eq!((reply.status, reply.code.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "request_timeout"), "{reply:?}");
    assert_eq!(reply.request_id, request_id);
    lock.release().await;
    let listed = app.client.list_apps(None, None, None, None).await.expect("the server still answers");
    assert!(listed.into_inner().apps.is_empty(), "the abandoned create left an app");
    let created = app.create_app_named("After").await;
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();
    assert_eq!(listed.apps.iter().map(|listed| listed.id).collect::<Vec<_>>(), vec![created.id]);
}

#[tokio::test]
async fn authentication_waiting_on_the_database_is_abandoned_at_the_request_timeout() {
    // Arrange: a token never used, so authenticating it records its first
    // use (a write), while another connection holds the write lock.
    let app = spawn_app_with(|config| config.request_timeout_secs = 1).await;
    let never_used = app.token_with_role(TokenRole::Developer).await;
    let lock = app.database.lock_token_writes().await;

    // Act
    let started = std::time::Instant::now();
    let response = app.http.get(app.url("/v1/me")).header("x-api-key", &never_used).send().await.unwrap();
    let waited = started.elapsed();
    let reply = read_error(response).await;
    lock.release().await;

    // Assert
    assert_eq!((reply.status, reply.code.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "request_timeout"), "{reply:?}");
    assert!(waited < std::time::Duration::from_secs(3), "answered after {waited:?}, not at the 1 s timeout");
    app.client_with_token(&never_used).get_current_token().await.expect("the token works once the lock is gone");
}

#[tokio::test]
async fn request_timeout_answer_carries_the_rate_limit_headers_of_the_request_it_counted() {
    // Arrange
    // 20 an hour refills one request every 3 minutes: none comes back during the test.
    let app = spawn_app_with(|config| {
        config.request_timeout_secs = 1;
        config.rate_limit_per_hour = 20;
    })
    .await;
    let lock = hold_the_write_lock(&app).await;

    // Act
    let response = app.create_app_json(&json!({"name": "Slow"})).await;

    // Assert
    let status = response.status();
    let headers = response.headers().clone();
    lock.release().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let next = app.client.list_apps(None, None, None, None).await.expect("the server still answers");
    let next_remaining = header_number(next.headers(), "x-ratelimit-remaining").expect("a 200 has the headers");
    assert_eq!(next_remaining, 17, "the timed-out request was counted");
    assert_eq!(header_number(&headers, "x-ratelimit-limit"), Some(20), "an authenticated 503 lacks X-RateLimit-Limit");
    assert_eq!(
        header_number(&headers, "x-ratelimit-remaining"),
        Some(18),
        "an authenticated 503 lacks X-RateLimit-Remaining"
    );
    assert!(header_number(&headers, "x-ratelimit-reset").is_some(), "an authenticated 503 lacks X-RateLimit-Reset");
}

// Request ids.

#[tokio::test]
async fn request_id_sent_by_the_client_is_echoed_on_success_401_404_and_429() {
    // Arrange
    let app = spawn_app_with(|config| config.rate_limit_per_hour = 3).await;
    let limited_token = app.token_with_role(TokenRole::Developer).await;
    for _ in 0..3 {
        let response = app.http.get(app.url("/v1/me")).header("x-api-key", &limited_token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let cases = [
        ("success", StatusCode::OK, app.admin_request(Method::GET, "/v1/me")),
        ("missing token", StatusCode::UNAUTHORIZED, app.http.get(app.url("/v1/me"))),
        ("unknown app", StatusCode::NOT_FOUND, app.admin_request(Method::GET, &format!("/v1/apps/{}", Uuid::now_v7()))),
        ("unknown route", StatusCode::NOT_FOUND, app.admin_request(Method::GET, "/v1/nothing-here")),
        (
            "rate limited",
            StatusCode::TOO_MANY_REQUESTS,
            app.http.get(app.url("/v1/me")).header("x-api-key", &limited_token),
        ),
    ];

    for (case, expected_status, request) in cases {
        let request_id = format!("test-{}", Uuid::now_v7());

        // Act
        let response = request.header("x-request-id", &request_id).send().await.unwrap();

        // Assert
        assert_eq!(response.status(), expected_status, "{case}");
        assert_eq!(header_text(&response, "x-request-id"), request_id, "{case}");
    }
}

#[tokio::test]
async fn request_ids_longer_than_64_or_not_printable_ascii_are_replaced() {
    // Arrange
    let app = spawn_app().await;
    let longest_kept = "k".repeat(64);
    let cases: [(&str, Vec<u8>, bool); 5] = [
        ("64 characters", longest_kept.clone().into_bytes(), true),
        ("printable with a space", b"retry 2/3 (cli)".to_vec(), true),
        ("65 characters", "k".repeat(65).into_bytes(), false),
        ("500 KB", "k".repeat(500_000).into_bytes(), false),
        ("not ASCII", "caf\u{e9}".as_bytes().to_vec(), false),
    ];

    for (case, sent, kept) in cases {
        // Act
        let sent = reqwest::header::HeaderValue::from_bytes(&sent).expect("a header value");
        let response = app.admin_request(Method::GET, "/v1/me").header("x-request-id", sent.clone()).send().await;

        // Assert
        let response = response.expect("the request is sent");
        let answered = header_text(&response, "x-request-id");
        if kept {
            assert_eq!(answered.as_bytes(), sent.as_bytes(), "{case}");
        } else {
            assert!(Uuid::parse_str(&answered).is_ok(), "{case}: a new id is generated, not `{answered:.80}`");
        }
        assert!(response.status().is_success() || case == "500 KB", "{case}: {}", response.status());
    }
}

#[tokio::test]
async fn metrics_count_unknown_methods_as_other() {
    // Arrange: 200 made-up methods, sent without a token.
    let app = spawn_app().await;
    for index in 0..200 {
        let method = Method::from_bytes(format!("X{}{index}", Uuid::now_v7().simple()).as_bytes()).unwrap();
        let _ = app.http.request(method, app.url("/v1/apps")).send().await.expect("the request is sent");
    }

    // Act
    let text = scrape_metrics(&app).await;

    // Assert
    let methods: HashSet<&str> = text
        .lines()
        .filter(|line| line.starts_with("appdeck_http_requests_total{"))
        .filter_map(|line| line.split("method=\"").nth(1)?.split('"').next())
        .collect();
    assert!(methods.iter().all(|method| ["GET", "other"].contains(method)), "{methods:?}");
    let other = metric_sum(&text, "appdeck_http_requests_total", &[("method", "other")]);
    assert_eq!(other, Some(200.0), "{text}");
}
