//! Per-organization quotas of apps and live tokens: a create past one is a
//! 409 `quota_exceeded`, and room comes back when an app or token goes.

use appdeck_tests::spawn_app_with;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn creating_an_app_past_the_quota_returns_409_quota_exceeded_until_one_is_deleted() {
    // Arrange
    let app = spawn_app_with(|config| config.max_apps_per_organization = 2).await;
    let first = app.create_app(json!({"name": "one"})).await;
    app.create_app(json!({"name": "two"})).await;

    // Act
    let refused = app.create_app_json(&json!({"name": "three"})).await;
    app.client.delete_app(&first.id).await.expect("the admin deletes");
    let after_delete = app.create_app_json(&json!({"name": "three"})).await;

    // Assert
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "quota_exceeded", "{body}");
    assert!(body["error"].as_str().unwrap().contains('2'), "{body}");
    assert_eq!(after_delete.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn creating_a_token_past_the_quota_returns_409_and_revoked_tokens_do_not_count() {
    // Arrange: the first admin token is one of the two.
    let app = spawn_app_with(|config| config.max_tokens_per_organization = 2).await;
    let second = app.create_api_token("second", "ci").await;

    // Act
    let refused = app.send_json(Method::POST, "/v1/api-tokens", &json!({"label": "third", "role": "ci"})).await;
    app.client.revoke_api_token(&second.token.id).await.expect("the admin revokes");
    let after_revoke = app.send_json(Method::POST, "/v1/api-tokens", &json!({"label": "third", "role": "ci"})).await;

    // Assert
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(refused.json::<Value>().await.unwrap()["code"], "quota_exceeded");
    assert_eq!(after_revoke.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_quota_of_zero_means_no_limit() {
    // Arrange
    let app = spawn_app_with(|config| config.max_apps_per_organization = 0).await;

    // Act and assert
    for index in 0..3 {
        let response = app.create_app_json(&json!({"name": format!("app {index}")})).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_never_take_an_organization_past_its_quota() {
    // Arrange: room for 3 apps and 3 tokens (the first admin token is one), and 20 creates of each at once.
    let app = std::sync::Arc::new(
        spawn_app_with(|config| {
            config.max_apps_per_organization = 3;
            config.max_tokens_per_organization = 3;
        })
        .await,
    );

    // Act
    let mut creates = tokio::task::JoinSet::new();
    for index in 0..20 {
        let for_app = app.clone();
        creates.spawn(async move {
            let body = json!({"name": format!("App {index}")});
            for_app.admin_request(Method::POST, "/v1/apps").json(&body).send().await.unwrap().status()
        });
        let for_token = app.clone();
        creates.spawn(async move {
            let body = json!({"label": format!("Token {index}"), "role": "ci"});
            for_token.admin_request(Method::POST, "/v1/api-tokens").json(&body).send().await.unwrap().status()
        });
    }
    let statuses = creates.join_all().await;

    // Assert: exactly the room there was, and every other create refused with 409.
    let created = statuses.iter().filter(|status| **status == StatusCode::CREATED).count();
    let refused = statuses.iter().filter(|status| **status == StatusCode::CONFLICT).count();
    assert_eq!((created, refused), (3 + 2, 40 - 5), "{statuses:?}");
    let apps: Value = app.admin_request(Method::GET, "/v1/apps?limit=100").send().await.unwrap().json().await.unwrap();
    assert_eq!(apps["apps"].as_array().unwrap().len(), 3);
    let tokens: Value =
        app.admin_request(Method::GET, "/v1/api-tokens?limit=100").send().await.unwrap().json().await.unwrap();
    assert_eq!(tokens["tokens"].as_array().unwrap().len(), 3, "{tokens}");
}
