//! The subcommands `org create` and `token create`, and the one line the
//! binary stops with when its configuration is wrong.

use std::process::Command;

use super::{BINARY, Server, database_url, is_token, run};

#[test]
fn org_create_prints_the_first_admin_token_alone_on_stdout() {
    // Arrange
    let directory = tempfile::tempdir().unwrap();

    // Act
    let output = run(&database_url(directory.path()), &["org", "create", "--name", "Acme"]);

    // Assert
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(is_token(stdout.trim_end_matches('\n')), "stdout is the token alone: {stdout:?}");
    assert_eq!(stdout.lines().count(), 1);
}

async fn get_json(base_url: &str, path: &str, token: &str) -> serde_json::Value {
    let response =
        reqwest::Client::new().get(format!("{base_url}{path}")).header("X-API-Key", token).send().await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().await.expect("a JSON body")
}

#[tokio::test]
async fn token_create_prints_a_working_admin_token_alone_on_stdout_and_is_audited() {
    // Arrange: an organization whose id the operator looks up.
    let directory = tempfile::tempdir().unwrap();
    let url = database_url(directory.path());
    let first_admin = String::from_utf8(run(&url, &["org", "create", "--name", "Acme"]).stdout).unwrap();
    let server = Server::start(&url);
    let organization = get_json(&server.base_url, "/v1/organization", first_admin.trim()).await;
    let organization_id = organization["organization"]["id"].as_str().unwrap().to_owned();

    // Act
    let output =
        run(&url, &["token", "create", "--org", &organization_id, "--role", "admin", "--label", "break glass"]);

    // Assert: the token alone on stdout, an admin of that organization, audited as made by the server.
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    let secret = stdout.trim_end_matches('\n');
    assert!(is_token(secret), "stdout is the token alone: {stdout:?}");
    assert!(!String::from_utf8_lossy(&output.stderr).contains(secret), "the secret is not logged");
    let me = get_json(&server.base_url, "/v1/me", secret).await;
    assert_eq!(me["token"]["role"], "admin");
    assert_eq!(me["token"]["label"], "break glass");
    assert_eq!(me["organization"]["id"], organization_id.as_str());
    let events = get_json(&server.base_url, "/v1/audit-events?action=token.created", secret).await;
    let event = &events["events"][0];
    assert_eq!(event["target"]["id"], me["token"]["id"]);
    assert!(event["actor"].is_null(), "made by the server's CLI: {event}");
    server.terminate();
}

#[test]
fn token_create_for_an_unknown_organization_fails_and_prints_nothing() {
    // Arrange
    let directory = tempfile::tempdir().unwrap();
    let url = database_url(directory.path());
    assert!(run(&url, &["migrate"]).status.success());

    // Act
    let unknown = uuid::Uuid::now_v7().to_string();
    let output = run(&url, &["token", "create", "--org", &unknown, "--role", "admin", "--label", "x"]);

    // Assert
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains(&unknown), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn bad_configuration_stops_with_one_line_naming_the_setting() {
    let directory = tempfile::tempdir().unwrap();

    let bad_bind = run(&database_url(directory.path()), &["--bind", "nowhere", "serve"]);
    let stderr = String::from_utf8(bad_bind.stderr).unwrap();
    assert_eq!(bad_bind.status.code(), Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--bind"), "{stderr}");

    let bad_database = Command::new(BINARY)
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", "mysql://localhost/appdeck")
        .output()
        .unwrap();
    let stderr = String::from_utf8(bad_database.stderr).unwrap();
    assert_eq!(bad_database.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn with_redis_down_serve_in_closed_mode_exits_with_a_clear_message() {
    // Arrange: a port nothing listens on.
    let directory = tempfile::tempdir().unwrap();
    let unused_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();

    // Act
    let output = Command::new(BINARY)
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", database_url(directory.path()))
        .env("APPDECK_BIND", "127.0.0.1:0")
        .env("REDIS_URL", format!("redis://127.0.0.1:{unused_port}"))
        .env("APPDECK_REDIS_FAILURE_MODE", "closed")
        .output()
        .expect("the binary runs");

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let last_line = stderr.lines().last().unwrap_or_default();
    assert!(last_line.contains("REDIS_URL") && last_line.contains("closed"), "{stderr}");
}
