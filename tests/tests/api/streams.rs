//! `Client::apps_stream` and `Client::api_tokens_stream`: every item of a
//! list, in order, whatever the page size, without touching a cursor.

use std::num::NonZeroU64;

use appdeck_client::{AppFilter, types};
use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{TestApp, app_request_from, spawn_app};
use futures_util::{StreamExt, TryStreamExt};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

fn page_size(size: u64) -> Option<NonZeroU64> {
    NonZeroU64::new(size)
}

/// Creates apps named `app-0`… alternating production and staging; returns their ids in order.
async fn create_apps(app: &TestApp, count: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(count);
    for index in 0..count {
        let environment = if index % 2 == 0 { "production" } else { "staging" };
        let request = app_request_from(json!({"name": format!("app-{index}"), "environment": environment}));
        ids.push(app.client.create_app(None, &request).await.expect("the app is created").into_inner().app.id);
    }
    ids
}

#[tokio::test]
async fn apps_stream_yields_every_app_in_order_across_pages() {
    // Arrange
    let app = spawn_app().await;
    let ids = create_apps(&app, 7).await;

    // Act: pages of 2, so four fetches, the last one short
    let streamed: Vec<types::App> =
        app.client.apps_stream(AppFilter::default(), page_size(2)).try_collect().await.expect("every page is read");

    // Assert
    assert_eq!(streamed.iter().map(|listed| listed.id).collect::<Vec<_>>(), ids);
}

#[tokio::test]
async fn apps_stream_applies_the_filter_on_every_page() {
    // Arrange
    let app = spawn_app().await;
    let ids = create_apps(&app, 7).await;
    let filter = AppFilter { environment: Some(types::Environment::Staging), status: None };

    // Act
    let streamed: Vec<types::App> = app.client.apps_stream(filter, page_size(1)).try_collect().await.unwrap();

    // Assert
    let staging: Vec<Uuid> = ids.iter().skip(1).step_by(2).copied().collect();
    assert_eq!(streamed.iter().map(|listed| listed.id).collect::<Vec<_>>(), staging);
}

#[tokio::test]
async fn apps_stream_of_an_empty_list_ends_at_once() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let streamed: Vec<types::App> = app.client.apps_stream(AppFilter::default(), None).try_collect().await.unwrap();

    // Assert
    assert!(streamed.is_empty());
}

#[tokio::test]
async fn apps_stream_can_stop_early_without_reading_the_rest() {
    // Arrange
    let app = spawn_app().await;
    let ids = create_apps(&app, 5).await;

    // Act
    let first_three: Vec<types::App> =
        app.client.apps_stream(AppFilter::default(), page_size(2)).take(3).try_collect().await.unwrap();

    // Assert
    assert_eq!(first_three.iter().map(|listed| listed.id).collect::<Vec<_>>(), ids[..3]);
}

#[tokio::test]
async fn api_tokens_stream_yields_every_token_once() {
    // Arrange
    let app = spawn_app().await;
    for index in 0..4 {
        app.create_api_token(&format!("deploy {index}"), "ci").await;
    }
    let listed = app.client.list_api_tokens(None, page_size(100)).await.unwrap().into_inner().tokens;

    // Act
    let streamed: Vec<types::Token> = app.client.api_tokens_stream(page_size(1)).try_collect().await.unwrap();

    // Assert: the admin token and the four made here
    assert_eq!(streamed.len(), 5);
    assert_eq!(
        streamed.iter().map(|token| token.id).collect::<Vec<_>>(),
        listed.iter().map(|token| token.id).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_refused_page_is_yielded_as_the_error_and_ends_the_stream() {
    // Arrange: a developer may not list tokens
    let app = spawn_app().await;
    let developer = app.client_with_token(&app.token_with_role(TokenRole::Developer).await);

    // Act
    let items: Vec<_> = developer.api_tokens_stream(None).collect().await;

    // Assert
    assert_eq!(items.len(), 1);
    let error = items.into_iter().next().unwrap().expect_err("the page is refused");
    assert_eq!(error.status(), Some(StatusCode::FORBIDDEN));
}
