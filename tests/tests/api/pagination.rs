//! Keyset pagination shared by the lists: stable under concurrent inserts,
//! the same `limit` and `cursor` for apps and API tokens, and an empty
//! `cursor` meaning the first page.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{app_request, is_strictly_increasing, limit, spawn_app, typed_cursor};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_apps_pages_see_every_earlier_app_once_in_id_order_while_apps_are_created() {
    // Arrange
    let app = spawn_app().await;
    let mut existing = Vec::new();
    for index in 0..30 {
        existing.push(app.create_app_named(&format!("Existing {index}")).await.id);
    }
    let writer = app.client_with_token(&app.token_with_role(TokenRole::Developer).await);
    let created_count = Arc::new(AtomicUsize::new(0));
    let writer_count = created_count.clone();
    let writing = tokio::spawn(async move {
        let mut ids = Vec::new();
        for index in 0..40 {
            let created = writer.create_app(None, &app_request(&format!("Concurrent {index}"))).await;
            ids.push(created.expect("the concurrent create succeeds").into_inner().app.id);
            writer_count.fetch_add(1, Ordering::SeqCst);
        }
        ids
    });

    // Act
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for page_number in 1.. {
        // Each page is read after at least one more app was created, so
        // inserts land between the pages as well as during them.
        while created_count.load(Ordering::SeqCst) < page_number.min(40) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let page = app
            .client
            .list_apps(cursor.as_deref().map(typed_cursor).as_ref(), None, limit(7), None)
            .await
            .expect("a page is listed")
            .into_inner();
        assert!(page.apps.len() <= 7, "a page holds at most `limit` apps");
        seen.extend(page.apps.iter().map(|listed| listed.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(page_number <= 20, "pagination does not end");
    }
    let concurrent = writing.await.expect("the writer finishes");

    // Assert
    let distinct: HashSet<Uuid> = seen.iter().copied().collect();
    assert_eq!(distinct.len(), seen.len(), "no app is listed twice");
    assert!(is_strictly_increasing(&seen), "the pages are in id order: {seen:?}");
    let earlier_seen: Vec<Uuid> = seen.iter().copied().filter(|id| existing.contains(id)).collect();
    assert_eq!(earlier_seen, existing, "every app that existed before paging is listed once, oldest first");
    let known: HashSet<Uuid> = existing.iter().chain(&concurrent).copied().collect();
    assert!(distinct.is_subset(&known), "only apps that were created are listed");
    let mut all = existing.clone();
    all.extend(&concurrent);
    all.sort();
    let listed = app.client.list_apps(None, None, limit(100), None).await.unwrap().into_inner();
    assert_eq!(listed.apps.iter().map(|listed| listed.id).collect::<Vec<_>>(), all, "a later read sees every app");
}

#[tokio::test]
async fn list_api_tokens_pages_with_limit_and_cursor_like_apps() {
    // Arrange
    let app = spawn_app().await;
    let first_token = app.client.get_current_token().await.unwrap().into_inner().token.id;
    let mut expected = vec![first_token];
    for index in 0..11 {
        expected.push(app.create_api_token(&format!("Token {index}"), "ci").await.token.id);
    }

    // Act
    let mut pages: Vec<Vec<Uuid>> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = app
            .client
            .list_api_tokens(cursor.as_deref().map(typed_cursor).as_ref(), limit(5))
            .await
            .expect("a page")
            .into_inner();
        pages.push(page.tokens.iter().map(|token| token.id).collect());
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages.len() <= 10, "pagination does not end");
    }

    // Assert
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![5, 5, 2]);
    let visited = pages.concat();
    assert_eq!(visited, expected, "every token once, oldest first");
    assert!(is_strictly_increasing(&visited));
}

#[tokio::test]
async fn empty_cursor_asks_for_the_first_page() {
    // Arrange
    let app = spawn_app().await;
    for index in 0..3 {
        app.create_app_named(&format!("App {index}")).await;
        app.create_api_token(&format!("Token {index}"), "developer").await;
    }

    for path in ["/v1/apps", "/v1/api-tokens"] {
        let first_page: Value =
            app.admin_request(Method::GET, &format!("{path}?limit=2")).send().await.unwrap().json().await.unwrap();

        // Act
        let response = app.admin_request(Method::GET, &format!("{path}?limit=2&cursor=")).send().await.unwrap();

        // Assert
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, first_page, "{path}");
        assert!(body["next_cursor"].is_string(), "{path}: a second page follows");
    }
}
