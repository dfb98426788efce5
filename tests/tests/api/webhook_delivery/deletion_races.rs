//! An endpoint deleted while other writes queue events for it and the
//! worker is delivering to it. On PostgreSQL a write that had read the
//! endpoint as a subscriber failed on its delivery's foreign key once the
//! delete committed (a 500 for an unrelated app create), and a delete
//! deadlocked with the attempt being recorded for its last delivery.

use std::sync::Arc;

use appdeck_tests::spawn_app_delivering_webhooks_with;
use reqwest::Method;
use tokio::task::JoinSet;

use super::{Receiver, call, create_app, create_endpoint};

/// How many endpoints are deleted, each in the middle of other writes.
const ROUNDS: usize = 8;
/// App creates racing each delete.
const WRITES_PER_DELETE: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_racing_an_endpoint_delete_all_succeed() {
    // Arrange: a witness keeps deliveries flowing to an endpoint that stays.
    let app = Arc::new(spawn_app_delivering_webhooks_with(|_| {}).await);
    let witness = Receiver::start().await;
    create_endpoint(&app, &witness.url, None).await;

    for round in 0..ROUNDS {
        let doomed = Receiver::start().await;
        let (doomed_id, _) = create_endpoint(&app, &doomed.url, None).await;
        create_app(&app, &format!("Round {round}")).await;
        doomed.wait_until("the doomed endpoint's first event", |received| !received.is_empty()).await;

        // Act: creates that queue events for the endpoint, and its delete
        let mut writes = JoinSet::new();
        for write in 0..WRITES_PER_DELETE {
            let app = app.clone();
            writes.spawn(async move { create_app(&app, &format!("Round {round} write {write}")).await });
        }
        let (status, body, _) = call(&app, Method::DELETE, &format!("/v1/webhook-endpoints/{doomed_id}"), None).await;

        // Assert: `create_app` itself asserts its 201
        assert_eq!(status, 200, "round {round}: delete the endpoint: {body}");
        while let Some(write) = writes.join_next().await {
            write.expect("an app create racing the delete succeeds");
        }
    }
}
