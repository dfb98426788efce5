//! A server that does not allow loopback never connects to it: the attempt
//! is recorded as refused.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use appdeck_tests::spawn_app_delivering_webhooks_with;

use super::{create_app, create_endpoint, deliveries, eventually};

#[tokio::test]
async fn a_delivery_to_loopback_is_refused_without_connecting_when_loopback_is_not_allowed() {
    // Arrange: a listener that counts every connection, TLS or not.
    let app = spawn_app_delivering_webhooks_with(|config| config.webhook_allowed_hosts = Default::default()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the listener");
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let (endpoint, _) = create_endpoint(&app, &format!("https://127.0.0.1:{port}/hooks"), Some(&["app.created"])).await;

    // Act
    create_app(&app, "Storefront").await;
    let attempt = eventually("the refused attempt", || async {
        let listed = deliveries(&app, endpoint).await;
        listed.first().and_then(|delivery| delivery["attempts"].get(0).cloned())
    })
    .await;

    // Assert
    assert_eq!(connections.load(Ordering::SeqCst), 0, "the server connected to loopback");
    assert_eq!(attempt["status_code"], serde_json::Value::Null, "{attempt}");
    let error = attempt["error"].as_str().expect("the attempt's error");
    assert!(error.contains("refused"), "{error}");
    assert_eq!(deliveries(&app, endpoint).await[0]["status"], "pending", "a refused attempt is retried later");
}
