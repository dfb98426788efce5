//! The `appdeck` binary against a live server: what a person or a CI job
//! sees on stdout, stderr and in the exit code.

use std::process::{Command, Output};

use appdeck_tests::{TestApp, app_request, spawn_app};
use serde_json::Value;

/// Runs `appdeck args…` against `app`, the token given by environment as a CI job would.
async fn appdeck(app: &TestApp, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_appdeck"));
    command.args(args).env("APPDECK_URL", &app.address).env("APPDECK_TOKEN", &app.admin_token);
    tokio::task::spawn_blocking(move || command.output().expect("appdeck runs")).await.unwrap()
}

fn stdout_json(output: &Output) -> Value {
    assert!(output.status.success(), "appdeck failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

fn stderr_text(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[tokio::test]
async fn apps_list_follows_cursors_to_the_last_page() {
    // Arrange: five apps, listed two per page
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for index in 0..5 {
        let created =
            app.client.create_app(None, &app_request(&format!("app {index}"))).await.unwrap().into_inner().app;
        ids.push(created.id.to_string());
    }

    // Act
    let output = appdeck(&app, &["apps", "list", "--limit", "2"]).await;

    // Assert: one JSON array with every app, in order
    let listed = stdout_json(&output);
    let listed_ids: Vec<&str> = listed.as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap()).collect();
    assert_eq!(listed_ids, ids);
}

#[tokio::test]
async fn apps_create_sends_the_flags_and_prints_the_app() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let output = appdeck(&app, &["apps", "create", "--name", "Storefront", "--environment", "staging"]).await;

    // Assert
    let body = stdout_json(&output);
    assert_eq!(body["app"]["name"], "Storefront");
    assert_eq!(body["app"]["environment"], "staging");
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner().apps;
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn format_table_prints_a_header_and_a_row_per_item() {
    // Arrange
    let app = spawn_app().await;
    app.client.create_app(None, &app_request("Storefront")).await.unwrap();
    app.client.create_app(None, &app_request("Backoffice")).await.unwrap();

    // Act
    let output = appdeck(&app, &["apps", "list", "--format", "table"]).await;

    // Assert
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("ID") && lines[0].contains("NAME") && lines[0].contains("ENVIRONMENT"), "{text}");
    assert!(lines[1].contains("Storefront") && lines[2].contains("Backoffice"), "{text}");
}

#[tokio::test]
async fn a_ci_token_sees_secrets_masked_in_every_output_that_shows_an_app() {
    // Arrange: the same rule as the answers' table in tests/tests/api/apps/masking.rs.
    let app = spawn_app().await;
    let created = app
        .create_app(serde_json::json!({
            "name": "Shop",
            "engagement_platform": "wonderpush",
            "engagement_credentials": {"access_token": "wp-secret"}
        }))
        .await;
    let ci_token = app.create_api_token("ci job", "ci").await.secret;
    let id = created.id.to_string();
    let masked = format!("as_…{}", &created.api_secret[created.api_secret.len() - 4..]);

    // Act
    let mut outputs = Vec::new();
    let get = ["apps", "get", "--id", &id];
    for args in [&get[..], &["apps", "list"], &["apps", "list", "--format", "table"]] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_appdeck"));
        command.args(args).env("APPDECK_URL", &app.address).env("APPDECK_TOKEN", &ci_token);
        outputs.push((args, tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()));
    }

    // Assert
    for (args, output) in &outputs {
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{args:?}: {}", stderr_text(output));
        assert!(!text.contains(&created.api_secret) && !text.contains("wp-secret"), "{args:?} leaks: {text}");
    }
    let got = stdout_json(&outputs[0].1);
    let listed = stdout_json(&outputs[1].1);
    assert_eq!((got["app"]["api_secret"].as_str(), listed[0]["api_secret"].as_str()), (Some(&*masked), Some(&*masked)));
    assert_eq!(
        (&got["app"]["engagement_credentials"], &listed[0]["engagement_credentials"]),
        (&Value::Null, &Value::Null)
    );
}

#[tokio::test]
async fn api_tokens_create_prints_the_secret_once_and_it_works() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let output = appdeck(&app, &["api-tokens", "create", "--label", "deploy", "--role", "ci"]).await;

    // Assert: the secret is in the output, once, and authenticates
    let body = stdout_json(&output);
    let secret = body["secret"].as_str().expect("the secret is printed");
    assert_eq!(String::from_utf8_lossy(&output.stdout).matches(secret).count(), 1);
    let me = app.client_with_token(secret).get_current_token().await.expect("the new token works").into_inner();
    assert_eq!(me.token.label.as_str(), "deploy");
}

#[tokio::test]
async fn api_tokens_roll_prints_the_new_secret_and_the_old_one_works_for_the_overlap() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("deploy", "ci").await;
    let id = created.token.id.to_string();

    // Act
    let output = appdeck(&app, &["api-tokens", "roll", "--id", &id, "--previous-expires-in-seconds", "60"]).await;

    // Assert
    let body = stdout_json(&output);
    let secret = body["secret"].as_str().expect("the new secret is printed");
    assert_ne!(secret, created.secret);
    let me = app.client_with_token(secret).get_current_token().await.expect("the new secret works").into_inner();
    assert_eq!(me.token.id, created.token.id);
    app.client_with_token(&created.secret).get_current_token().await.expect("the old secret works for the overlap");
}

#[tokio::test]
async fn an_api_error_is_one_line_on_stderr_and_a_failing_exit() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let output = appdeck(&app, &["apps", "get", "--id", "0190f5c4-7c4e-7b3a-9d7e-1a2b3c4d5e6f"]).await;

    // Assert
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(stderr_text(&output), "error: 404 not_found: App not found\n");
}

#[tokio::test]
async fn a_missing_token_is_said_before_any_request() {
    // Arrange
    let app = spawn_app().await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_appdeck"));
    command.args(["--url", &app.address, "me", "get"]).env_remove("APPDECK_TOKEN");

    // Act
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();

    // Assert
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr_text(&output), "error: no API token: pass --token or set APPDECK_TOKEN\n");
}

#[tokio::test]
async fn flags_win_over_the_environment() {
    // Arrange: the environment names a server that is not there
    let app = spawn_app().await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_appdeck"));
    command
        .args(["--url", &app.address, "--token", &app.admin_token, "organization", "get"])
        .env("APPDECK_URL", "http://127.0.0.1:1")
        .env("APPDECK_TOKEN", "apps_not_a_token");

    // Act
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();

    // Assert
    assert_eq!(stdout_json(&output)["organization"]["id"], app.organization_id.to_string());
}

#[tokio::test]
async fn a_refused_value_is_a_usage_error_before_any_request() {
    // Arrange
    let app = spawn_app().await;

    // Act: the spec's pattern refuses a blank name, so the generated flag does
    let output = appdeck(&app, &["apps", "create", "--name", "   "]).await;

    // Assert
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_text(&output).contains("--name"), "{}", stderr_text(&output));
    assert!(app.client.list_apps(None, None, None, None).await.unwrap().into_inner().apps.is_empty());
}

#[tokio::test]
async fn webhook_endpoints_create_prints_the_secret_and_deliveries_lists_the_queued_event() {
    // Arrange
    let app = spawn_app().await;
    let output = appdeck(
        &app,
        &[
            "webhook-endpoints",
            "create",
            "--endpoint-url",
            "https://hooks.example.com/appdeck",
            "--description",
            "deploys",
        ],
    )
    .await;
    let created = stdout_json(&output);
    let secret = created["secret"].as_str().expect("the secret is printed");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let id = created["webhook_endpoint"]["id"].as_str().unwrap().to_owned();
    app.client.create_app(None, &app_request("Storefront")).await.unwrap();

    // Act
    let listed = stdout_json(&appdeck(&app, &["webhook-endpoints", "list"]).await);
    let deliveries = stdout_json(&appdeck(&app, &["webhook-endpoints", "deliveries", "--id", &id]).await);
    let delivery_id = deliveries[0]["id"].as_str().unwrap().to_owned();
    let retried = appdeck(&app, &["webhook-endpoints", "retry", "--id", &id, "--delivery-id", &delivery_id]).await;

    // Assert
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(secret), "a list never shows the secret");
    assert_eq!(deliveries[0]["event_type"], "app.created");
    assert_eq!(deliveries[0]["status"], "pending");
    assert!(retried.status.success(), "{}", stderr_text(&retried));
}

#[tokio::test]
async fn webhook_endpoints_update_and_rotate_secret_change_the_endpoint() {
    // Arrange
    let app = spawn_app().await;
    let created =
        stdout_json(&appdeck(&app, &["webhook-endpoints", "create", "--endpoint-url", "https://a.example.com"]).await);
    let id = created["webhook_endpoint"]["id"].as_str().unwrap().to_owned();

    // Act
    let updated =
        stdout_json(&appdeck(&app, &["webhook-endpoints", "update", "--id", &id, "--enabled", "false"]).await);
    let rotated = stdout_json(&appdeck(&app, &["webhook-endpoints", "rotate-secret", "--id", &id]).await);
    let deleted = appdeck(&app, &["webhook-endpoints", "delete", "--id", &id]).await;

    // Assert
    assert_eq!(updated["webhook_endpoint"]["enabled"], false);
    assert_ne!(rotated["secret"], created["secret"]);
    assert!(deleted.status.success(), "{}", stderr_text(&deleted));
    let listed = app.client.list_webhook_endpoints(None, None).await.unwrap().into_inner();
    assert!(listed.webhook_endpoints.is_empty());
}
