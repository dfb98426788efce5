//! `Idempotency-Key` on `POST /v1/apps` and `POST /v1/api-tokens`: replays,
//! reuse with another request, scope, malformed keys, concurrent retries,
//! expiry, and that neither the key nor a token's secret is stored.

use appdeck_server::{
    domain::{
        self,
        app::{App, CreateAppRequest},
    },
    idempotency::IdempotencyKey,
    store::{Created, IdempotentWrite, SealedResponse},
};
use appdeck_tests::{TestApp, expect_error, header_text, spawn_app};
use chrono::TimeDelta;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// A fresh key of the recommended kind.
fn new_key() -> String {
    Uuid::now_v7().to_string()
}

/// Status, `Idempotent-Replayed` header and body text of a response.
async fn read(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let replayed = header_text(&response, "idempotent-replayed");
    (status, replayed, response.text().await.expect("read the body"))
}

async fn app_count(app: &TestApp) -> usize {
    app.client.list_apps(None, None, None, None).await.expect("list the apps").into_inner().apps.len()
}

async fn token_count(app: &TestApp) -> usize {
    app.client.list_api_tokens(None, None).await.expect("list the tokens").into_inner().tokens.len()
}

#[tokio::test]
async fn a_retried_app_create_gets_the_first_response_and_creates_nothing() {
    // Arrange
    let app = spawn_app().await;
    let key = new_key();
    let body = json!({ "name": "Storefront", "features": { "push": true }, "website_url": "https://shop.example.com" });

    // Act: the retry writes the same JSON with other spacing and member order.
    let first = read(app.post_with_key(&app.admin_token, "/v1/apps", Some(&key), &body).await).await;
    let retry = app
        .admin_request(Method::POST, "/v1/apps")
        .header("idempotency-key", &key)
        .header("content-type", "application/json")
        .body(r#"{ "website_url": "https://shop.example.com",  "features": {"push": true}, "name": "Storefront" }"#)
        .send()
        .await
        .expect("the retry is sent");
    let retry = read(retry).await;

    // Assert
    assert_eq!((first.0, first.1.as_str()), (StatusCode::CREATED, ""), "{}", first.2);
    assert_eq!((retry.0, retry.1.as_str()), (StatusCode::CREATED, "true"));
    assert_eq!(retry.2, first.2, "the replay is the first body, byte for byte");
    assert_eq!(app_count(&app).await, 1);
    let created_events = app.audit_events().await.into_iter().filter(|event| event.action.to_string() == "app.created");
    assert_eq!(created_events.count(), 1, "a replay records no audit event");
}

#[tokio::test]
async fn a_retried_token_create_gets_the_same_working_secret_and_creates_one_token() {
    // Arrange
    let app = spawn_app().await;
    let key = new_key();
    let body = json!({ "label": "deploy pipeline", "role": "ci" });

    // Act
    let first = read(app.post_with_key(&app.admin_token, "/v1/api-tokens", Some(&key), &body).await).await;
    let retry = read(app.post_with_key(&app.admin_token, "/v1/api-tokens", Some(&key), &body).await).await;

    // Assert
    assert_eq!((first.0, retry.0), (StatusCode::CREATED, StatusCode::CREATED), "{}", first.2);
    assert_eq!(retry.1, "true");
    assert_eq!(retry.2, first.2);
    let secret = serde_json::from_str::<Value>(&retry.2).unwrap()["secret"].as_str().unwrap().to_owned();
    let me = app.client_with_token(&secret).get_current_token().await.expect("the replayed secret works");
    assert_eq!(me.into_inner().token.label.to_string(), "deploy pipeline");
    assert_eq!(token_count(&app).await, 2, "the first admin token and one new token");
}

#[tokio::test]
async fn the_same_key_with_another_body_is_409_and_creates_nothing() {
    // Arrange
    let app = spawn_app().await;
    let key = new_key();
    let created = app.post_with_key(&app.admin_token, "/v1/apps", Some(&key), &json!({ "name": "One" })).await;
    assert_eq!(created.status(), StatusCode::CREATED);

    // Act
    let reused = app.post_with_key(&app.admin_token, "/v1/apps", Some(&key), &json!({ "name": "Two" })).await;

    // Assert
    let message = expect_error(reused, StatusCode::CONFLICT, "idempotency_key_reused").await;
    assert!(message.contains("Idempotency-Key"), "{message}");
    assert_eq!(app_count(&app).await, 1);
}

#[tokio::test]
async fn the_same_key_for_the_other_operation_is_409() {
    // Arrange
    let app = spawn_app().await;
    let key = new_key();
    let created = app.post_with_key(&app.admin_token, "/v1/apps", Some(&key), &json!({ "name": "One" })).await;
    assert_eq!(created.status(), StatusCode::CREATED);

    // Act
    let body = json!({ "label": "deploy", "role": "ci" });
    let reused = app.post_with_key(&app.admin_token, "/v1/api-tokens", Some(&key), &body).await;

    // Assert
    expect_error(reused, StatusCode::CONFLICT, "idempotency_key_reused").await;
    assert_eq!(token_count(&app).await, 1);
}

#[tokio::test]
async fn another_organization_may_use_the_same_key() {
    // Arrange
    let app = spawn_app().await;
    let other_admin = app.other_organization_token().await;
    let key = new_key();
    let body = json!({ "name": "Storefront" });
    let ours = read(app.post_with_key(&app.admin_token, "/v1/apps", Some(&key), &body).await).await;

    // Act
    let theirs = read(app.post_with_key(&other_admin, "/v1/apps", Some(&key), &body).await).await;

    // Assert
    assert_eq!((theirs.0, theirs.1.as_str()), (StatusCode::CREATED, ""), "a new app, not a replay");
    let id = |text: &str| serde_json::from_str::<Value>(text).unwrap()["app"]["id"].clone();
    assert_ne!(id(&theirs.2), id(&ours.2));
    assert_eq!(app_count(&app).await, 1);
}

#[tokio::test]
async fn malformed_keys_are_400_naming_the_header_and_create_nothing() {
    let app = spawn_app().await;
    let malformed: [&[u8]; 5] =
        [b"0123456789abcde", &[b'k'; 256], "0123456789abcdéf".as_bytes(), b"0123456789 abcdef", b""];
    for key in malformed {
        let response = app
            .admin_request(Method::POST, "/v1/apps")
            .header("idempotency-key", reqwest::header::HeaderValue::from_bytes(key).unwrap())
            .json(&json!({ "name": "Storefront" }))
            .send()
            .await
            .expect("the request is sent");
        let message = expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
        assert!(message.contains("Idempotency-Key"), "{message}");
    }
    assert_eq!(app_count(&app).await, 0);
}

#[tokio::test]
async fn a_refused_request_is_not_recorded_so_its_corrected_retry_is_processed() {
    // Arrange
    let app = spawn_app().await;
    let key = new_key();
    let refused = app.post_with_key(&app.admin_token, "/v1/apps", Some(&key), &json!({ "name": "" })).await;
    expect_error(refused, StatusCode::BAD_REQUEST, "validation_failed").await;

    // Act
    let corrected = read(app.post_with_key(&app.admin_token, "/v1/apps", Some(&key), &json!({ "name": "Ok" })).await);

    // Assert
    let (status, replayed, _) = corrected.await;
    assert_eq!((status, replayed.as_str()), (StatusCode::CREATED, ""));
    assert_eq!(app_count(&app).await, 1);
}

/// Sends `count` identical requests under one key at once, each from a task of its own.
async fn concurrent_posts(app: &TestApp, path: &str, body: Value, count: usize) -> Vec<(StatusCode, String, String)> {
    let key = new_key();
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..count {
        let request = app.http.post(app.url(path)).header("x-api-key", &app.admin_token);
        let request = request.header("idempotency-key", &key).json(&body);
        requests.spawn(async move { read(request.send().await.expect("the request is sent")).await });
    }
    requests.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_of_an_app_create_create_one_app_and_get_the_same_response() {
    let app = spawn_app().await;

    let responses = concurrent_posts(&app, "/v1/apps", json!({ "name": "Storefront" }), 8).await;

    for (status, _, body) in &responses {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert_eq!(*body, responses[0].2, "every retry gets the same body");
    }
    assert_eq!(responses.iter().filter(|(_, replayed, _)| replayed.is_empty()).count(), 1, "one original");
    assert_eq!(app_count(&app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_of_a_token_create_create_one_token() {
    let app = spawn_app().await;

    let responses = concurrent_posts(&app, "/v1/api-tokens", json!({ "label": "deploy", "role": "ci" }), 8).await;

    for (status, _, body) in &responses {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert_eq!(*body, responses[0].2, "every retry gets the same secret");
    }
    assert_eq!(token_count(&app).await, 2);
}

fn sealed_response_value() -> SealedResponse {
    SealedResponse { status: 201, nonce: vec![0; 12], sealed_body: b"sealed".to_vec() }
}

fn sealed_response(_: &App) -> SealedResponse {
    sealed_response_value()
}

/// An app named `name` of the test's organization, made at `now`.
fn new_app(app: &TestApp, name: &str, now: chrono::DateTime<chrono::Utc>) -> App {
    let request: CreateAppRequest = serde_json::from_value(json!({ "name": name })).unwrap();
    App::create(app.organization_id, request, now).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_keyed_writes_in_the_store_write_once_and_the_others_get_the_record() {
    // Arrange: no request reads the record first, so every write claims the key.
    let app = std::sync::Arc::new(spawn_app().await);
    let key_hash = IdempotencyKey::parse(new_key().as_bytes()).unwrap().hash();

    // Act
    let mut writes = tokio::task::JoinSet::new();
    for index in 0..8 {
        let app = app.clone();
        writes.spawn(async move {
            let now = domain::now();
            let created = new_app(&app, &format!("App {index}"), now);
            let write = IdempotentWrite {
                key_hash: key_hash.to_vec(),
                fingerprint: b"request".to_vec(),
                now,
                seal: std::sync::Arc::new(sealed_response),
            };
            app.store
                .insert_app_once(&created, &Default::default(), Default::default(), write)
                .await
                .expect("no write fails")
        });
    }
    let outcomes = writes.join_all().await;

    // Assert
    let new = outcomes.iter().filter(|outcome| matches!(outcome, Created::New(()))).count();
    assert_eq!(new, 1, "{outcomes:?}");
    for outcome in &outcomes {
        if let Created::Earlier(record) = outcome {
            assert_eq!((record.fingerprint.as_slice(), &record.response), (&b"request"[..], &sealed_response_value()));
        }
    }
    assert_eq!(app_count(&app).await, 1);
}

#[tokio::test]
async fn a_key_is_replayed_for_24_hours_then_free_again_and_its_record_deleted() {
    // Arrange: a record made through the API now.
    let app = spawn_app().await;
    let key = new_key();
    let created = app.post_with_key(&app.admin_token, "/v1/apps", Some(&key), &json!({ "name": "One" })).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let key_hash = IdempotencyKey::parse(key.as_bytes()).unwrap().hash();
    let now = domain::now();
    let find = |hours| app.store.find_idempotency_record(app.organization_id, &key_hash, now + TimeDelta::hours(hours));

    // Act and assert: live for 24 hours, ignored after.
    assert!(find(23).await.unwrap().is_some(), "the record is live for 24 hours");
    assert!(find(25).await.unwrap().is_none(), "the record is ignored after 24 hours");

    // Act: a write under the same key 25 hours later.
    let later = now + TimeDelta::hours(25);
    let second = new_app(&app, "Two", later);
    let write = IdempotentWrite {
        key_hash: key_hash.to_vec(),
        fingerprint: b"another request".to_vec(),
        now: later,
        seal: std::sync::Arc::new(sealed_response),
    };
    let outcome = app.store.insert_app_once(&second, &Default::default(), Default::default(), write).await.unwrap();

    // Assert: it wrote, and replaced the expired record.
    assert!(matches!(outcome, Created::New(())), "{outcome:?}");
    let record = app.store.find_idempotency_record(app.organization_id, &key_hash, later).await.unwrap().unwrap();
    assert_eq!(record.fingerprint, b"another request");
    assert_eq!(app.idempotency_rows().await.len(), 1);
}

#[tokio::test]
async fn expired_records_of_other_keys_are_deleted_by_a_later_keyed_write() {
    // Arrange: a record made through the API now.
    let app = spawn_app().await;
    let created = app.post_with_key(&app.admin_token, "/v1/apps", Some(&new_key()), &json!({ "name": "One" })).await;
    assert_eq!(created.status(), StatusCode::CREATED);

    // Act: a write under another key 25 hours later.
    let later = domain::now() + TimeDelta::hours(25);
    let second = new_app(&app, "Two", later);
    let key_hash = IdempotencyKey::parse(new_key().as_bytes()).unwrap().hash();
    let write = IdempotentWrite {
        key_hash: key_hash.to_vec(),
        fingerprint: b"request".to_vec(),
        now: later,
        seal: std::sync::Arc::new(sealed_response),
    };
    app.store.insert_app_once(&second, &Default::default(), Default::default(), write).await.unwrap();

    // Assert
    let rows = app.idempotency_rows().await;
    assert_eq!(rows.iter().map(|(hash, _, _)| hash.clone()).collect::<Vec<_>>(), vec![key_hash.to_vec()]);
}

#[tokio::test]
async fn neither_the_key_nor_the_secret_is_stored() {
    // Arrange
    let app = spawn_app().await;
    let key = new_key();
    let body = json!({ "label": "deploy pipeline", "role": "ci" });

    // Act
    let response = app.post_with_key(&app.admin_token, "/v1/api-tokens", Some(&key), &body).await;
    let created: Value = response.json().await.expect("a JSON body");
    let secret = created["secret"].as_str().expect("the secret").to_owned();

    // Assert: the row holds the key's hash, a nonce and a sealed body.
    let rows = app.idempotency_rows().await;
    assert_eq!(rows.len(), 1);
    let (key_hash, nonce, sealed_body) = &rows[0];
    assert_eq!(*key_hash, IdempotencyKey::parse(key.as_bytes()).unwrap().hash().to_vec());
    assert_eq!(nonce.len(), 12);
    for needle in [key.as_bytes(), secret.as_bytes(), b"apps_", b"deploy pipeline"] {
        assert!(!sealed_body.windows(needle.len()).any(|window| window == needle), "the body is not sealed");
    }
    // Nowhere in the database either, as bytes or as PostgreSQL's hex for bytea.
    for (name, data) in app.database.stored_data().await {
        for needle in [key.clone(), secret.clone()] {
            let hex: String = needle.bytes().map(|byte| format!("{byte:02x}")).collect();
            for form in [needle.as_bytes(), hex.as_bytes()] {
                assert!(!data.windows(form.len()).any(|window| window == form), "`{needle}` is stored in {name}");
            }
        }
    }
}
