//! Several instances on one PostgreSQL and one Redis behave as one service.
//! These need both servers, so they are ignored by plain `cargo test`;
//! `cargo xtask test` runs them with `TEST_DATABASE_URL` and `TEST_REDIS_URL`.

use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{app_request, error_response, spawn_instances, typed_cursor};
use reqwest::StatusCode;
use std::collections::HashSet;

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: cargo xtask test runs it"]
async fn a_tokens_hourly_limit_holds_across_instances() {
    // Arrange
    let instances = spawn_instances(2, |config| config.rate_limit_per_hour = 4).await;
    let clients = [instances.client(0, &instances.admin_token), instances.client(1, &instances.admin_token)];

    // Act: four requests spread over both instances, then one more on each.
    for index in 0..4 {
        clients[index % 2].get_current_token().await.expect("within the limit");
    }
    let fifth = clients[0].get_current_token().await;
    let sixth = clients[1].get_current_token().await;

    // Assert
    assert_eq!(error_response(fifth).0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_response(sixth).0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: cargo xtask test runs it"]
async fn a_token_revoked_or_disabled_through_one_instance_is_refused_by_the_other_at_once() {
    // Arrange
    let instances = spawn_instances(2, |_| {}).await;
    let admin_on_first = instances.client(0, &instances.admin_token);
    let request = |label: &str| {
        serde_json::from_value(serde_json::json!({"label": label, "role": "developer"})).expect("a valid request")
    };
    let revoked = admin_on_first.create_api_token(None, &request("to revoke")).await.unwrap().into_inner();
    let disabled = admin_on_first.create_api_token(None, &request("to disable")).await.unwrap().into_inner();
    instances.client(1, &revoked.secret).get_current_token().await.expect("works before");
    instances.client(1, &disabled.secret).get_current_token().await.expect("works before");

    // Act
    admin_on_first.revoke_api_token(&revoked.token.id).await.expect("revoke through the first instance");
    let disable = serde_json::from_value(serde_json::json!({"status": "disabled"})).unwrap();
    admin_on_first.update_api_token(&disabled.token.id, &disable).await.expect("disable through the first instance");
    let revoked_on_second = instances.client(1, &revoked.secret).get_current_token().await;
    let disabled_on_second = instances.client(1, &disabled.secret).get_current_token().await;

    // Assert: the very next request, no waiting.
    assert_eq!(error_response(revoked_on_second).0, StatusCode::UNAUTHORIZED);
    assert_eq!(error_response(disabled_on_second).0, StatusCode::FORBIDDEN);
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: cargo xtask test runs it"]
async fn pages_read_through_alternating_instances_have_no_gaps_or_repeats() {
    // Arrange
    let instances = spawn_instances(2, |_| {}).await;
    let token = appdeck_server::provisioning::create_token(
        instances.store.as_ref(),
        instances.organization_id,
        "writer",
        TokenRole::Developer,
    )
    .await
    .unwrap()
    .secret;
    let mut created = Vec::new();
    for index in 0..23 {
        let app =
            instances.client(index % 2, &token).create_app(None, &app_request(&format!("App {index}"))).await.unwrap();
        created.push(app.into_inner().app.id);
    }

    // Act
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0.. {
        let client = instances.client(page % 2, &instances.admin_token);
        let limit = std::num::NonZeroU64::new(5);
        let response = client
            .list_apps(cursor.as_deref().map(typed_cursor).as_ref(), None, limit, None)
            .await
            .unwrap()
            .into_inner();
        seen.extend(response.apps.iter().map(|app| app.id));
        cursor = response.next_cursor;
        if cursor.is_none() {
            break;
        }
    }

    // Assert
    assert_eq!(seen, created, "every app once, in creation order");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: cargo xtask test runs it"]
async fn failed_authentications_count_across_instances() {
    // Arrange
    let instances = spawn_instances(2, |config| config.auth_failures_per_minute = 3).await;
    let guess = || appdeck_server::auth::issue_token().secret;

    // Act: three failures on the first instance.
    for _ in 0..3 {
        let status = instances
            .http
            .get(format!("{}/v1/me", instances.addresses[0]))
            .header("X-API-Key", guess())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let get_me_on_second = |token: String| {
        instances.http.get(format!("{}/v1/me", instances.addresses[1])).header("X-API-Key", token).send()
    };
    let guess_on_second = get_me_on_second(guess()).await.unwrap();
    let valid_on_second = get_me_on_second(instances.admin_token.clone()).await.unwrap();

    // Assert: the second instance refuses the address's next guess, never a valid token.
    assert_eq!(guess_on_second.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(valid_on_second.status(), StatusCode::OK);
}
