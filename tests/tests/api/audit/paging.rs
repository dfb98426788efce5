//! Newest first, `limit` and `cursor` keyset paging.

use std::collections::HashSet;

use appdeck_client::types;
use appdeck_tests::{expect_error, read_error, spawn_app, typed_cursor};
use reqwest::{Method, StatusCode};
use uuid::Uuid;

use types::AuditAction;

use super::{Filter, ids, list_filtered, list_page, list_pages, one_of_each_action};

#[tokio::test]
async fn events_are_listed_newest_first() {
    // Arrange
    let app = spawn_app().await;
    one_of_each_action(&app).await;

    // Act
    let response = app.client.list_audit_events(None, None, None, None, None, None, None).await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.into_inner();
    assert!(page.success);
    assert_eq!(page.next_cursor, None, "the default page holds all 11 events");
    assert_eq!(page.events.len(), 11, "{:#?}", page.events);
    for pair in page.events.windows(2) {
        assert!(pair[0].id > pair[1].id, "ids decrease: {} then {}", pair[0].id, pair[1].id);
        assert!(pair[0].occurred_at >= pair[1].occurred_at, "times do not increase");
    }
    assert_eq!(page.events.last().unwrap().action, AuditAction::TokenCreated, "the first admin's creation is oldest");
    assert_eq!(page.events[0].action, AuditAction::OrganizationUpdated, "the rename is newest");
}

#[tokio::test]
async fn events_of_writes_made_in_quick_succession_are_listed_in_reverse_write_order() {
    // Arrange
    let app = spawn_app().await;
    let mut created = Vec::new();
    for index in 0..20 {
        created.push(app.create_app_named(&format!("App {index}")).await.id);
    }

    // Act
    let events = list_filtered(&app, Filter { action: Some(AuditAction::AppCreated), ..Default::default() }).await;

    // Assert
    let targets: Vec<Uuid> = events.iter().map(|event| event.target.id).collect();
    created.reverse();
    assert_eq!(targets, created);
}

#[tokio::test]
async fn default_page_holds_50_events_and_names_the_next_page() {
    // Arrange
    let app = spawn_app().await;
    for index in 0..54 {
        app.create_app_named(&format!("App {index}")).await;
    }
    let all = ids(&app.audit_events().await);

    // Act
    let first = app.client.list_audit_events(None, None, None, None, None, None, None).await.unwrap().into_inner();
    let cursor = first.next_cursor.clone().expect("55 events make a second page");
    let second = app
        .client
        .list_audit_events(None, None, Some(&typed_cursor(&cursor)), None, None, None, None)
        .await
        .unwrap()
        .into_inner();

    // Assert
    assert_eq!(all.len(), 55);
    assert_eq!(ids(&first.events), all[..50]);
    assert_eq!(ids(&second.events), all[50..]);
    assert_eq!(second.next_cursor, None);
}

#[tokio::test]
async fn limit_and_cursor_visit_every_event_exactly_once() {
    // Arrange
    let app = spawn_app().await;
    one_of_each_action(&app).await;
    let all = ids(&app.audit_events().await);

    for page_size in [1, 3, 10, 11, 100] {
        // Act
        let pages = list_pages(&app.client, Filter::default(), page_size).await;

        // Assert
        let visited = ids(&pages.concat());
        assert_eq!(visited, all, "pages of {page_size}");
        assert_eq!(visited.iter().collect::<HashSet<_>>().len(), visited.len(), "pages of {page_size} repeat events");
        assert_eq!(pages.len(), all.len().div_ceil(page_size as usize), "pages of {page_size}");
        assert!(pages.iter().all(|page| !page.is_empty()), "pages of {page_size} end with an empty page");
    }
}

#[tokio::test]
async fn events_recorded_while_paging_do_not_shift_the_pages() {
    // Arrange
    let app = spawn_app().await;
    one_of_each_action(&app).await;
    let all = ids(&app.audit_events().await);
    let first = list_page(&app.client, Filter::default(), None, 4).await;
    app.create_app_named("Newer").await;

    // Act
    let second = list_page(&app.client, Filter::default(), first.next_cursor.as_deref(), 4).await;

    // Assert
    assert_eq!(ids(&first.events), all[..4]);
    assert_eq!(ids(&second.events), all[4..8], "a newer event belongs before the first page");
}

#[tokio::test]
async fn cursor_that_the_api_did_not_return_returns_400() {
    // Arrange
    let app = spawn_app().await;

    for cursor in ["not-a-cursor", "zzzz", &Uuid::now_v7().to_string()] {
        // Act: the generated client refuses such a cursor before sending it
        assert!(cursor.parse::<types::ListAuditEventsCursor>().is_err(), "{cursor}");
        let response =
            app.admin_request(Method::GET, &format!("/v1/audit-events?cursor={cursor}")).send().await.unwrap();

        // Assert
        let error = expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
        assert!(error.contains("cursor"), "{error}");
    }
}

#[tokio::test]
async fn empty_cursor_lists_the_first_page() {
    // Arrange
    let app = spawn_app().await;
    one_of_each_action(&app).await;
    let first = list_page(&app.client, Filter::default(), None, 4).await;

    // Act
    let with_empty_cursor = list_page(&app.client, Filter::default(), Some(""), 4).await;

    // Assert
    assert_eq!(ids(&with_empty_cursor.events), ids(&first.events));
    assert_eq!(with_empty_cursor.next_cursor, first.next_cursor);
}

#[tokio::test]
async fn limit_outside_1_to_100_returns_400() {
    // Arrange
    let app = spawn_app().await;

    for query in ["limit=0", "limit=101", "limit=-1", "limit=ten"] {
        // Act
        let response = app.admin_request(Method::GET, &format!("/v1/audit-events?{query}")).send().await.unwrap();

        // Assert
        let reply = read_error(response).await;
        assert_eq!((reply.status, reply.code.as_str()), (StatusCode::BAD_REQUEST, "invalid_parameter"), "{query}");
    }
}
