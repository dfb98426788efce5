//! What API.md promises about token secrets beyond the endpoints: never
//! stored, never echoed in an error; and failed authentication limited per
//! client address so tokens cannot be guessed. That secrets never reach the
//! logs is checked on the real binary, in `server/tests/binary/logs.rs`.

use appdeck_server::{
    auth::{hash_token, issue_token},
    domain::token::TokenRole,
};
use appdeck_tests::{
    TestApp, error_response, expect_error, get_me_with_header, header_text, read_error, spawn_app, spawn_app_with,
    with_bad_checksum,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The part of a token that its masked form leaves out: finding it proves
/// the token itself is there, not just the masked form.
fn hidden_part(token: &str) -> &str {
    &token["apps_".len() + 4..token.len() - 4]
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|window| window == needle)
}

async fn spawn_app_allowing_failures_per_minute(failures: u32) -> TestApp {
    spawn_app_with(|config| config.auth_failures_per_minute = failures).await
}

/// The `Retry-After` of a 429, in seconds; panics when it is missing or not a number.
fn retry_after_seconds(response: &reqwest::Response) -> u64 {
    let value = header_text(response, "retry-after");
    value.parse().unwrap_or_else(|_| panic!("a 429 has no Retry-After in seconds: `{value}`"))
}

// Storage

#[tokio::test]
async fn full_tokens_are_never_stored_in_the_database() {
    // Arrange
    let app = spawn_app().await;
    let mut secrets = vec![app.admin_token.clone()];
    for (label, role) in [("api admin", "admin"), ("api developer", "developer"), ("api ci", "ci")] {
        secrets.push(app.create_api_token(label, role).await.secret);
    }
    secrets.push(app.token_with_role(TokenRole::Developer).await);
    secrets.push(app.token_with_role(TokenRole::Ci).await);
    let revoked = app.create_api_token("revoked", "ci").await;
    app.client.revoke_api_token(&revoked.token.id).await.expect("the admin revokes");
    secrets.push(revoked.secret);
    for secret in &secrets {
        app.client_with_token(secret).get_current_token().await.ok();
    }

    // Act
    let files = app.database.stored_data().await;

    // Assert
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    assert!(
        names.iter().any(|name| *name == "appdeck.db" || *name == "api_tokens"),
        "the tokens' storage is among what was read: {names:?}"
    );
    let all_bytes: Vec<u8> = files.iter().flat_map(|(_, bytes)| bytes.iter().copied()).collect();
    for secret in &secrets {
        for (name, bytes) in &files {
            assert!(!contains_bytes(bytes, secret.as_bytes()), "a full token is stored in {name}");
            assert!(!contains_bytes(bytes, hidden_part(secret).as_bytes()), "most of a token is stored in {name}");
        }
        let masked = format!("{}…{}", &secret[..9], &secret[secret.len() - 4..]);
        assert!(
            contains_bytes(&all_bytes, masked.as_bytes()),
            "the search finds the masked form {masked} in {names:?}"
        );
        assert!(contains_bytes(&all_bytes, hash_token(secret).as_bytes()), "the token's hash is stored");
    }
}

// Error bodies

#[tokio::test]
async fn unauthorized_errors_never_echo_the_presented_token() {
    // Arrange: 21 failures here, more than the default allowance.
    let app = spawn_app_allowing_failures_per_minute(1000).await;
    let revoked = app.create_api_token("revoked", "ci").await;
    app.client.revoke_api_token(&revoked.token.id).await.expect("the admin revokes");
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let presented = [
        issue_token().secret,
        with_bad_checksum(&app.admin_token),
        format!("{}x", app.admin_token),
        "apps_not-a-token-at-all".to_owned(),
        "hunter2-my-password".to_owned(),
        revoked.secret,
        app.token_expiring_at(an_hour_ago).await,
    ];

    for token in &presented {
        for (name, value) in [
            ("X-API-Key", token.clone()),
            ("Authorization", format!("Bearer {token}")),
            ("Authorization", format!("Token {token}")),
        ] {
            // Act
            let response = get_me_with_header(&app, name, &value).await;

            // Assert
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}: {value}");
            for (header, header_value) in response.headers() {
                let header_value = header_value.to_str().unwrap_or_default();
                assert!(!header_value.contains(token.as_str()), "the {header} header echoes the token");
            }
            let text = response.text().await.unwrap();
            assert!(!text.contains(token.as_str()), "the 401 body echoes the token: {text}");
            let body: Value = serde_json::from_str(&text).expect("the 401 body is JSON");
            assert_eq!(body["code"], "unauthorized", "{text}");
        }
    }
}

#[tokio::test]
async fn forbidden_errors_never_echo_the_presented_token() {
    // Arrange
    let app = spawn_app().await;
    let developer = app.token_with_role(TokenRole::Developer).await;
    let disabled = app.create_api_token("disabled", "ci").await;
    let disable = appdeck_tests::api_token_update_from(json!({"status": "disabled"}));
    app.client.update_api_token(&disabled.token.id, &disable).await.expect("the admin disables");

    for (token, code) in [(&developer, "forbidden"), (&disabled.secret, "token_disabled")] {
        // Act
        let (status, body) = error_response(app.client_with_token(token).list_api_tokens(None, None).await);

        // Assert
        assert_eq!((status, body.code.as_str()), (StatusCode::FORBIDDEN, code));
        assert!(!body.error.contains(token.as_str()), "the 403 echoes the token: {}", body.error);
    }
}

// Failed authentication per client address

#[tokio::test]
async fn failed_authentication_is_answered_429_once_the_allowance_is_used_up() {
    // Arrange
    let app = spawn_app_allowing_failures_per_minute(3).await;
    for attempt in 1..=3 {
        let response = get_me_with_header(&app, "X-API-Key", &issue_token().secret).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "failed attempt {attempt} is within the allowance");
    }

    // Act
    let response = get_me_with_header(&app, "X-API-Key", &issue_token().secret).await;

    // Assert
    let retry_after = header_text(&response, "retry-after");
    let reply = read_error(response).await;
    assert_eq!((reply.status, reply.code.as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{}", reply.error);
    let seconds: u64 = retry_after.parse().unwrap_or_else(|_| panic!("Retry-After is `{retry_after}`"));
    assert!(seconds >= 1, "Retry-After {seconds}");
}

#[tokio::test]
async fn a_valid_token_is_answered_from_an_address_over_its_allowance() {
    // Arrange: more failures than allowed, in every header form.
    let app = spawn_app_allowing_failures_per_minute(3).await;
    let unknown = issue_token().secret;
    let mut statuses = Vec::new();
    for (name, value) in [
        ("X-API-Key", unknown.clone()),
        ("Authorization", format!("Bearer {unknown}")),
        ("Authorization", format!("Token {unknown}")),
        ("X-API-Key", issue_token().secret),
    ] {
        statuses.push(get_me_with_header(&app, name, &value).await.status());
    }
    assert_eq!(statuses, [[StatusCode::UNAUTHORIZED; 3].as_slice(), &[StatusCode::TOO_MANY_REQUESTS]].concat());

    // Act
    let with_the_admin_token = get_me_with_header(&app, "X-API-Key", &app.admin_token).await;
    let another_guess = get_me_with_header(&app, "Authorization", &format!("Bearer {}", issue_token().secret)).await;

    // Assert: others' failures never refuse a valid token; guesses stay refused.
    assert_eq!(with_the_admin_token.status(), StatusCode::OK);
    app.client.list_api_tokens(None, None).await.expect("the admin token works");
    assert!(retry_after_seconds(&another_guess) >= 1);
    let text = another_guess.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).expect("the 429 body is JSON");
    assert_eq!(body["code"], "rate_limited", "{text}");
}

#[tokio::test]
async fn malformed_tokens_count_as_failed_authentication() {
    // Arrange
    let app = spawn_app_allowing_failures_per_minute(3).await;
    for guess in ["guess-1", "apps_guess", &with_bad_checksum(&app.admin_token)] {
        let response = get_me_with_header(&app, "X-API-Key", guess).await;
        expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }

    // Act
    let response = get_me_with_header(&app, "X-API-Key", &issue_token().secret).await;

    // Assert
    expect_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn simultaneous_guesses_from_one_address_get_exactly_the_allowance_of_401s() {
    // Arrange: on Redis too when TEST_REDIS_URL is set.
    let app = spawn_app_allowing_failures_per_minute(20).await;
    let guesses = (0..300).map(|_| {
        let request = app.http.get(app.url("/v1/me")).header("x-api-key", issue_token().secret);
        async move { request.send().await.expect("the request is sent").status() }
    });

    // Act
    let statuses = futures_util::future::join_all(guesses).await;

    // Assert
    let count = |status| statuses.iter().filter(|seen| **seen == status).count();
    assert_eq!(count(StatusCode::UNAUTHORIZED), 20, "{statuses:?}");
    assert_eq!(count(StatusCode::TOO_MANY_REQUESTS), 280, "{statuses:?}");
    app.client.get_current_token().await.expect("the admin token still works");
}

#[tokio::test]
async fn requests_without_a_token_are_not_counted_as_failed_authentication() {
    // Arrange
    let app = spawn_app_allowing_failures_per_minute(3).await;
    for _ in 0..5 {
        let response = app.http.get(app.url("/v1/me")).send().await.unwrap();
        expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }

    // Act
    let me = app.client.get_current_token().await;

    // Assert
    assert_eq!(me.expect("the valid token still works").status(), StatusCode::OK);
}

#[tokio::test]
async fn successful_requests_are_not_counted_as_failed_authentication() {
    // Arrange
    let app = spawn_app_allowing_failures_per_minute(3).await;
    for _ in 0..6 {
        app.client.get_current_token().await.expect("the admin token works");
    }

    // Act
    let response = get_me_with_header(&app, "X-API-Key", &issue_token().secret).await;

    // Assert
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    app.client.list_api_tokens(None, None).await.expect("one failure is within the allowance");
}
