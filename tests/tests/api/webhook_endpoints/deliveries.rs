//! `GET …/deliveries` (newest first) and `POST …/retry`.

use appdeck_tests::spawn_app;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::{create_app, create_endpoint, deliveries, id_of, status_and_code};

#[tokio::test]
async fn deliveries_are_listed_newest_first_across_pages() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint, _) =
        create_endpoint(&app, json!({"url": "https://a.example.com", "event_types": ["app.created"]})).await;
    let id = id_of(&endpoint);
    for index in 0..3 {
        create_app(&app, &format!("app {index}")).await;
    }

    // Act
    let first = app.client.list_webhook_deliveries(&id, None, appdeck_tests::limit(2)).await.unwrap().into_inner();
    let cursor = first.next_cursor.clone().expect("a second page");
    let cursor = appdeck_client::types::ListWebhookDeliveriesCursor::try_from(cursor).unwrap();
    let second =
        app.client.list_webhook_deliveries(&id, Some(&cursor), appdeck_tests::limit(2)).await.unwrap().into_inner();

    // Assert
    assert_eq!((first.deliveries.len(), second.deliveries.len()), (2, 1));
    assert_eq!(second.next_cursor, None);
    let ids: Vec<Uuid> = first.deliveries.iter().chain(&second.deliveries).map(|delivery| delivery.id).collect();
    let mut newest_first = ids.clone();
    newest_first.sort_by(|left, right| right.cmp(left));
    assert_eq!(ids, newest_first);
}

#[tokio::test]
async fn retry_of_a_pending_delivery_is_202_and_it_stays_pending() {
    // Arrange
    let app = spawn_app().await;
    let (endpoint, _) = create_endpoint(&app, super::url_only()).await;
    let id = id_of(&endpoint);
    create_app(&app, "Storefront").await;
    let delivery: Uuid = deliveries(&app, id).await[0]["id"].as_str().unwrap().parse().unwrap();

    // Act
    let retried = app.client.retry_webhook_delivery(&id, &delivery).await.unwrap();

    // Assert
    assert_eq!(retried.status(), StatusCode::ACCEPTED);
    assert_eq!(deliveries(&app, id).await[0]["status"], "pending");
}

#[tokio::test]
async fn retry_of_an_unknown_delivery_or_another_endpoints_is_404() {
    // Arrange
    let app = spawn_app().await;
    let (first, _) = create_endpoint(&app, super::url_only()).await;
    let (second, _) =
        create_endpoint(&app, json!({"url": "https://b.example.com", "event_types": ["app.created"]})).await;
    create_app(&app, "Storefront").await;
    let delivery: Uuid = deliveries(&app, id_of(&second)).await[0]["id"].as_str().unwrap().parse().unwrap();

    // Act
    let unknown = app.client.retry_webhook_delivery(&id_of(&first), &Uuid::now_v7()).await;
    let elsewhere = app.client.retry_webhook_delivery(&id_of(&first), &delivery).await;

    // Assert
    assert_eq!(status_and_code(unknown), (StatusCode::NOT_FOUND, "not_found".to_owned()));
    assert_eq!(status_and_code(elsewhere), (StatusCode::NOT_FOUND, "not_found".to_owned()));
}

#[tokio::test]
async fn an_unknown_endpoints_deliveries_are_404() {
    let app = spawn_app().await;
    let listed = app.client.list_webhook_deliveries(&Uuid::now_v7(), None, None).await;
    assert_eq!(status_and_code(listed), (StatusCode::NOT_FOUND, "not_found".to_owned()));
}
