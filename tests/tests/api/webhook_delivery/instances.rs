//! Two instances on one PostgreSQL, each running the delivery worker, send
//! every event once. Ignored by plain `cargo test`, like `instances.rs`;
//! `cargo xtask test` runs it with `TEST_DATABASE_URL` and `TEST_REDIS_URL`.

use std::collections::HashSet;

use appdeck_server::webhook_secrets::WebhookSecretKey;
use appdeck_tests::{app_request, spawn_instances};
use serde_json::{Value, json};

use super::{Received, Receiver, assert_signed, eventually};

const WRITES: usize = 50;

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: cargo xtask test runs it"]
async fn writes_spread_over_two_instances_are_each_delivered_exactly_once() {
    // Arrange
    let instances = spawn_instances(2, |config| {
        config.webhook_allowed_hosts = "127.0.0.1".parse().expect("a valid allowed host");
        config.webhook_secret_key = Some(WebhookSecretKey::from_bytes(*b"appdeck tests webhook secret key"));
        config.rate_limit_per_hour = 10_000;
    })
    .await;
    let receiver = Receiver::start().await;
    let endpoints = format!("{}/v1/webhook-endpoints", instances.addresses[0]);
    let created: Value = instances
        .http
        .post(&endpoints)
        .header("x-api-key", &instances.admin_token)
        .json(&json!({"url": receiver.url, "event_types": ["app.created"]}))
        .send()
        .await
        .expect("create the endpoint")
        .json()
        .await
        .expect("a JSON answer");
    let secret = created["secret"].as_str().expect("the endpoint's secret").to_owned();
    let endpoint_id = created["webhook_endpoint"]["id"].as_str().expect("the endpoint's id").to_owned();

    // Act
    let mut apps = HashSet::new();
    for index in 0..WRITES {
        let client = instances.client(index % 2, &instances.admin_token);
        let app = client.create_app(None, &app_request(&format!("App {index}"))).await.expect("create an app");
        apps.insert(app.into_inner().app.id.to_string());
    }
    receiver
        .wait_until("every event", |received| received.iter().map(Received::id).collect::<HashSet<_>>().len() >= WRITES)
        .await;
    let deliveries_url = format!("{endpoints}/{endpoint_id}/deliveries?limit=100");
    eventually("every delivery recorded as delivered", || async {
        let page: Value = instances
            .http
            .get(&deliveries_url)
            .header("x-api-key", &instances.admin_token)
            .send()
            .await
            .expect("list the deliveries")
            .json()
            .await
            .expect("a JSON answer");
        let listed = page["deliveries"].as_array().expect("a list of deliveries").clone();
        (listed.len() == WRITES && listed.iter().all(|delivery| delivery["status"] == "delivered")).then_some(())
    })
    .await;

    // Assert
    let received = receiver.received();
    let ids: HashSet<&str> = received.iter().map(Received::id).collect();
    assert_eq!((received.len(), ids.len()), (WRITES, WRITES), "each event once, none twice");
    let targets: HashSet<String> = received
        .iter()
        .map(|delivery| delivery.event()["data"]["target"]["id"].as_str().expect("a target id").to_owned())
        .collect();
    assert_eq!(targets, apps, "every app's event, none missing");
    received.iter().for_each(|delivery| assert_signed(delivery, &secret));
}
