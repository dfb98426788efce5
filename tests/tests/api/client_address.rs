//! Who the failed-authentication limit counts: the client behind a trusted
//! proxy (`APPDECK_TRUSTED_PROXIES`, `APPDECK_FORWARDED_HEADER`), the peer
//! otherwise, and IPv6 clients per /64. The tests' requests all come from
//! 127.0.0.1, which plays the load balancer.

use appdeck_server::{auth::issue_token, client_address::ForwardedHeader};
use appdeck_tests::{TestApp, expect_error, spawn_app_with};
use reqwest::StatusCode;

const LOAD_BALANCER: &str = "127.0.0.1";

async fn spawn_app_behind_a_trusted_proxy(failures_per_minute: u32, header: ForwardedHeader) -> TestApp {
    spawn_app_with(|config| {
        config.auth_failures_per_minute = failures_per_minute;
        config.trusted_proxies = LOAD_BALANCER.parse().expect("a valid network");
        config.forwarded_header = header;
    })
    .await
}

/// `GET /v1/me` with `token`, forwarded for `client` in `header`.
async fn get_me_forwarded(app: &TestApp, header: &str, client: &str, token: &str) -> reqwest::Response {
    app.http
        .get(app.url("/v1/me"))
        .header(header, client)
        .header("x-api-key", token)
        .send()
        .await
        .expect("the request is sent")
}

async fn guess_forwarded_for(app: &TestApp, client: &str) -> StatusCode {
    get_me_forwarded(app, "x-forwarded-for", client, &issue_token().secret).await.status()
}

#[tokio::test]
async fn bad_guesses_behind_a_trusted_proxy_do_not_lock_out_a_valid_admin_token() {
    // Arrange: one client behind the load balancer guesses well past the allowance.
    let app = spawn_app_behind_a_trusted_proxy(20, ForwardedHeader::XForwardedFor).await;
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(guess_forwarded_for(&app, "203.0.113.66").await);
    }
    assert_eq!(statuses[..20], [StatusCode::UNAUTHORIZED; 20]);
    assert_eq!(statuses[20..], [StatusCode::TOO_MANY_REQUESTS; 5]);

    // Act
    let from_another_client = get_me_forwarded(&app, "x-forwarded-for", "203.0.113.10", &app.admin_token).await;
    let from_the_guessers_address = get_me_forwarded(&app, "x-forwarded-for", "203.0.113.66", &app.admin_token).await;
    let unforwarded = app.client.get_current_token().await;

    // Assert
    assert_eq!(from_another_client.status(), StatusCode::OK);
    assert_eq!(from_the_guessers_address.status(), StatusCode::OK, "a valid token is never refused for its address");
    assert_eq!(unforwarded.expect("the load balancer's own address is not locked out").status(), StatusCode::OK);
}

#[tokio::test]
async fn clients_forwarded_by_a_trusted_proxy_are_counted_separately() {
    // Arrange
    let app = spawn_app_behind_a_trusted_proxy(20, ForwardedHeader::XForwardedFor).await;
    for attempt in 1..=20 {
        assert_eq!(guess_forwarded_for(&app, "203.0.113.1").await, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    assert_eq!(guess_forwarded_for(&app, "203.0.113.1").await, StatusCode::TOO_MANY_REQUESTS);

    // Act
    let other_client = guess_forwarded_for(&app, "203.0.113.2").await;
    let spoofed_left_of_the_client = guess_forwarded_for(&app, "198.51.100.7, 203.0.113.1").await;

    // Assert
    assert_eq!(other_client, StatusCode::UNAUTHORIZED, "another client has its own allowance");
    assert_eq!(
        spoofed_left_of_the_client,
        StatusCode::TOO_MANY_REQUESTS,
        "what the client writes left of the address the proxy saw is not read"
    );
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    // Arrange: no trusted proxy, so every request is counted against the peer.
    let app = spawn_app_with(|config| config.auth_failures_per_minute = 3).await;
    for (attempt, client) in ["203.0.113.1", "203.0.113.2", "203.0.113.3"].into_iter().enumerate() {
        assert_eq!(guess_forwarded_for(&app, client).await, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }

    // Act
    let response = get_me_forwarded(&app, "x-forwarded-for", "203.0.113.4", &issue_token().secret).await;

    // Assert
    expect_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn the_forwarded_header_is_read_when_configured() {
    // Arrange
    let app = spawn_app_behind_a_trusted_proxy(2, ForwardedHeader::Forwarded).await;
    let guess = |client: &'static str| {
        let app = &app;
        async move { get_me_forwarded(app, "forwarded", client, &issue_token().secret).await.status() }
    };
    assert_eq!(guess(r#"for="[2001:db8:1:1::5]:4711";proto=https"#).await, StatusCode::UNAUTHORIZED);
    assert_eq!(guess(r#"for="[2001:db8:1:1::5]""#).await, StatusCode::UNAUTHORIZED);

    // Act
    let same_client = guess("for=\"[2001:db8:1:1::5]\"").await;
    let other_client = guess("for=192.0.2.44").await;
    let x_forwarded_for = guess_forwarded_for(&app, "198.51.100.1").await;

    // Assert
    assert_eq!(same_client, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(other_client, StatusCode::UNAUTHORIZED);
    assert_eq!(x_forwarded_for, StatusCode::UNAUTHORIZED, "X-Forwarded-For is not read: the load balancer is counted");
}

#[tokio::test]
async fn ipv6_clients_are_counted_per_64() {
    // Arrange: three failures from three addresses of one /64.
    let app = spawn_app_behind_a_trusted_proxy(3, ForwardedHeader::XForwardedFor).await;
    for client in ["2001:db8:5:6::1", "2001:db8:5:6:aaaa::2", "2001:db8:5:6:ffff:ffff:ffff:ffff"] {
        assert_eq!(guess_forwarded_for(&app, client).await, StatusCode::UNAUTHORIZED, "{client}");
    }

    // Act
    let same_64 = guess_forwarded_for(&app, "2001:db8:5:6:1234::9").await;
    let next_64 = guess_forwarded_for(&app, "2001:db8:5:7::1").await;

    // Assert
    assert_eq!(same_64, StatusCode::TOO_MANY_REQUESTS, "a fresh address in the same /64 is the same client");
    assert_eq!(next_64, StatusCode::UNAUTHORIZED);
}
