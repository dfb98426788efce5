//! ci masking, one table over every answer that carries an app: a `ci`
//! token sees `api_secret` masked and credentials `null` wherever it may
//! read an app, is refused wherever it may not, and the other roles see the
//! secrets whole. The CLI's output is checked against the same rule in
//! `cli/tests/cli.rs`.

use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{TestApp, is_prefixed_base62, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every way an answer carries an app. The webhook payloads join this
/// table when they exist: each carries an app to a receiver.
#[derive(Clone, Copy, Debug)]
enum AppAnswer {
    Get,
    List,
    Create,
    Update,
    Rotate,
    IdempotentReplay,
}

const EVERY_ANSWER: [AppAnswer; 6] = [
    AppAnswer::Get,
    AppAnswer::List,
    AppAnswer::Create,
    AppAnswer::Update,
    AppAnswer::Rotate,
    AppAnswer::IdempotentReplay,
];

const ENGAGEMENT_SECRET: &str = "wp-secret";
const EMAIL_SECRET: &str = "brevo-secret";

fn app_with_credentials(name: &str) -> Value {
    json!({
        "name": name,
        "engagement_platform": "wonderpush",
        "engagement_credentials": {"access_token": ENGAGEMENT_SECRET},
        "email_platform": "brevo",
        "email_credentials": {"api_key": EMAIL_SECRET}
    })
}

/// What a role should get: the app as stored, masked, or a refusal.
#[derive(Debug, PartialEq)]
enum Expected {
    Whole,
    Masked,
    Refused,
}

fn expected(role: TokenRole, answer: AppAnswer) -> Expected {
    match (role, answer) {
        (TokenRole::Ci, AppAnswer::Get | AppAnswer::List) => Expected::Masked,
        (TokenRole::Ci, _) => Expected::Refused,
        _ => Expected::Whole,
    }
}

/// Asks for `answer` with `token` about `target` (an app with credentials);
/// returns the status, the raw body, and the app in it, if any.
async fn ask(app: &TestApp, answer: AppAnswer, token: &str, target: &str) -> (StatusCode, String, Option<Value>) {
    let request = |method: Method, path: &str| app.http.request(method, app.url(path)).header("x-api-key", token);
    let response = match answer {
        AppAnswer::Get => request(Method::GET, &format!("/v1/apps/{target}")).send().await,
        AppAnswer::List => request(Method::GET, "/v1/apps").send().await,
        AppAnswer::Create => request(Method::POST, "/v1/apps").json(&app_with_credentials("Created")).send().await,
        AppAnswer::Update => {
            request(Method::PATCH, &format!("/v1/apps/{target}")).json(&json!({"name": "Renamed"})).send().await
        }
        AppAnswer::Rotate => request(Method::POST, &format!("/v1/apps/{target}/rotate-secret")).send().await,
        AppAnswer::IdempotentReplay => {
            let key = uuid::Uuid::now_v7().to_string();
            let body = app_with_credentials("Replayed");
            let first = app.post_with_key(token, "/v1/apps", Some(&key), &body).await;
            let first_status = first.status();
            let replay = app.post_with_key(token, "/v1/apps", Some(&key), &body).await;
            if first_status.is_success() {
                assert_eq!(appdeck_tests::header_text(&replay, "idempotent-replayed"), "true", "a replay");
            }
            Ok(replay)
        }
    };
    let response = response.expect("the request is sent");
    let status = response.status();
    let text = response.text().await.expect("the body is read");
    let body: Value = serde_json::from_str(&text).expect("a JSON body");
    let carried = match answer {
        AppAnswer::List => body["apps"].as_array().and_then(|apps| apps.iter().find(|item| item["id"] == target)),
        _ => body.get("app"),
    };
    (status, text, carried.cloned())
}

#[tokio::test]
async fn every_answer_with_an_app_masks_its_secrets_for_ci_and_only_for_ci() {
    // Arrange: one app with secrets per case, so that a rotation in one case
    // changes no other's.
    let app = spawn_app().await;
    let mut cases = Vec::new();
    for role in [TokenRole::Admin, TokenRole::Developer, TokenRole::Ci] {
        let token = if role == TokenRole::Admin { app.admin_token.clone() } else { app.token_with_role(role).await };
        for answer in EVERY_ANSWER {
            cases.push((role, answer, token.clone(), app.create_app(app_with_credentials("Target")).await));
        }
    }

    // Act
    let mut failures = Vec::new();
    for (role, answer, token, target) in &cases {
        let (status, text, carried) = ask(&app, *answer, token, &target.id.to_string()).await;
        let stored = app.get_app(target.id).await;

        // Assert: collected, so that one run names every case that fails.
        let expected = expected(*role, *answer);
        let secret = carried.as_ref().and_then(|carried| carried["api_secret"].as_str()).unwrap_or_default();
        let credentials = carried
            .as_ref()
            .map(|carried| (carried["engagement_credentials"].clone(), carried["email_credentials"].clone()));
        let leaks =
            [stored.api_secret.as_str(), ENGAGEMENT_SECRET, EMAIL_SECRET].into_iter().any(|whole| text.contains(whole));
        let as_expected = match expected {
            Expected::Refused => status == StatusCode::FORBIDDEN && carried.is_none() && !leaks,
            Expected::Masked => {
                let last_four = &stored.api_secret[stored.api_secret.len() - 4..];
                status.is_success()
                    && secret == format!("as_…{last_four}")
                    && credentials == Some((Value::Null, Value::Null))
                    && !leaks
            }
            Expected::Whole => {
                let whole_credentials = (json!({"access_token": ENGAGEMENT_SECRET}), json!({"api_key": EMAIL_SECRET}));
                status.is_success() && is_prefixed_base62(secret, "as_", 40) && credentials == Some(whole_credentials)
            }
        };
        if !as_expected {
            let shown: String = text.chars().take(600).collect();
            failures.push(format!("{role:?} {answer:?}: expected {expected:?}, got {status}: {shown}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
