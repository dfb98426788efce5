//! `GET /v1/apps`: oldest first, `limit` and `cursor` keyset pagination
//! (stable under concurrent inserts, an empty `cursor` meaning the first
//! page, as for API tokens), and the `environment` and `status` filters.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use appdeck_client::types;
use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{
    TestApp, app_request, error_response, expect_error, follow_pages, is_strictly_increasing, limit, spawn_app,
    typed_cursor,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// Creates `count` apps named `App 0`, `App 1`, ... and returns their ids in creation order.
async fn create_apps(app: &TestApp, count: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(count);
    for index in 0..count {
        ids.push(app.create_app_named(&format!("App {index}")).await.id);
    }
    ids
}

/// Follows `next_cursor` from the first page to the last; returns every page's ids.
async fn walk_pages(
    app: &TestApp,
    page_size: u64,
    environment: Option<types::Environment>,
    status: Option<types::AppStatus>,
) -> Vec<Vec<Uuid>> {
    follow_pages(100, |cursor| async move {
        let page = app
            .client
            .list_apps(cursor.as_deref().map(typed_cursor).as_ref(), environment, limit(page_size), status)
            .await
            .expect("a page is listed")
            .into_inner();
        assert!(page.apps.len() <= page_size as usize, "a page holds at most `limit` apps");
        (page.apps.iter().map(|listed| listed.id).collect(), page.next_cursor)
    })
    .await
}

#[tokio::test]
async fn list_apps_returns_an_empty_list_and_no_cursor_when_there_are_no_apps() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.admin_request(Method::GET, "/v1/apps").send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"success": true, "apps": [], "next_cursor": null}));
}

#[tokio::test]
async fn list_apps_returns_apps_oldest_first() {
    // Arrange
    let app = spawn_app().await;
    let ids = create_apps(&app, 12).await;

    // Act
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();

    // Assert
    assert!(listed.success);
    let listed_ids: Vec<Uuid> = listed.apps.iter().map(|listed_app| listed_app.id).collect();
    assert_eq!(listed_ids, ids);
    let names: Vec<&str> = listed.apps.iter().map(|listed_app| listed_app.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"App 0"));
    assert_eq!(listed.next_cursor, None);
}

#[tokio::test]
async fn list_apps_returns_the_full_app_objects() {
    // Arrange
    let app = spawn_app().await;
    let created =
        app.create_app(json!({"name": "Shop", "email_platform": "brevo", "email_credentials": {"k": "v"}})).await;

    // Act
    let listed = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();

    // Assert
    assert_eq!(listed.apps.len(), 1);
    assert_eq!(serde_json::to_value(&listed.apps[0]).unwrap(), serde_json::to_value(&created).unwrap());
}

#[tokio::test]
async fn list_apps_pages_visit_every_app_exactly_once_in_order() {
    // Arrange
    let app = spawn_app().await;
    let ids = create_apps(&app, 7).await;

    // Act
    let pages = walk_pages(&app, 3, None, None).await;

    // Assert
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    let visited: Vec<Uuid> = pages.into_iter().flatten().collect();
    let distinct: HashSet<Uuid> = visited.iter().copied().collect();
    assert_eq!(distinct.len(), visited.len(), "no app is listed twice");
    assert_eq!(visited, ids);
}

#[tokio::test]
async fn list_apps_gives_no_cursor_on_a_full_last_page() {
    // Arrange
    let app = spawn_app().await;
    let ids = create_apps(&app, 4).await;

    // Act
    let pages = walk_pages(&app, 2, None, None).await;

    // Assert
    assert_eq!(pages, vec![ids[..2].to_vec(), ids[2..].to_vec()], "no empty page follows a full last page");
}

#[tokio::test]
async fn list_apps_with_limit_1_returns_one_app_and_a_cursor() {
    // Arrange
    let app = spawn_app().await;
    let ids = create_apps(&app, 2).await;

    // Act
    let first = app.client.list_apps(None, None, limit(1), None).await.unwrap().into_inner();

    // Assert
    assert_eq!(first.apps.iter().map(|listed| listed.id).collect::<Vec<_>>(), vec![ids[0]]);
    let cursor = first.next_cursor.expect("a next page exists");
    let second = app.client.list_apps(Some(&typed_cursor(&cursor)), None, limit(1), None).await.unwrap().into_inner();
    assert_eq!(second.apps.iter().map(|listed| listed.id).collect::<Vec<_>>(), vec![ids[1]]);
    assert_eq!(second.next_cursor, None);
}

#[tokio::test]
async fn list_apps_returns_50_apps_by_default() {
    // Arrange
    let app = spawn_app().await;
    let ids = create_apps(&app, 51).await;

    // Act
    let first = app.client.list_apps(None, None, None, None).await.unwrap().into_inner();

    // Assert
    assert_eq!(first.apps.len(), 50);
    let cursor = first.next_cursor.expect("a 51st app is left");
    let rest = app.client.list_apps(Some(&typed_cursor(&cursor)), None, None, None).await.unwrap().into_inner();
    assert_eq!(rest.apps.iter().map(|listed| listed.id).collect::<Vec<_>>(), vec![ids[50]]);
}

#[tokio::test]
async fn list_apps_accepts_a_limit_of_100() {
    // Arrange
    let app = spawn_app().await;
    let ids = create_apps(&app, 3).await;

    // Act
    let listed = app.client.list_apps(None, None, limit(100), None).await.unwrap().into_inner();

    // Assert
    assert_eq!(listed.apps.len(), ids.len());
    assert_eq!(listed.next_cursor, None);
}

#[tokio::test]
async fn list_apps_returns_400_when_limit_is_101() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let result = app.client.list_apps(None, None, limit(101), None).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::BAD_REQUEST, "invalid_parameter"));
    assert!(body.error.contains("limit"), "{}", body.error);
}

#[tokio::test]
async fn list_apps_returns_400_when_limit_is_out_of_range_or_not_a_number() {
    // Arrange
    let app = spawn_app().await;

    for value in ["0", "-1", "101", "abc", "1.5", ""] {
        // Act
        let response = app.admin_request(Method::GET, &format!("/v1/apps?limit={value}")).send().await.unwrap();

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
        assert!(message.contains("limit"), "limit={value}: {message}");
    }
}

#[tokio::test]
async fn list_apps_returns_400_for_a_cursor_it_did_not_make() {
    // Arrange
    let app = spawn_app().await;
    create_apps(&app, 2).await;

    for cursor in ["garbage", "!!!", "0190f5c4-7c4e-7b3a-9d7e-1a2b3c4d5e6f-extra", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"] {
        // Act: the generated client refuses such a cursor before sending it
        assert!(cursor.parse::<types::ListAppsCursor>().is_err(), "{cursor}");
        let response = app.admin_request(Method::GET, &format!("/v1/apps?cursor={cursor}")).send().await.unwrap();

        // Assert
        let error = expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
        assert!(error.contains("cursor"), "{error}");
    }
}

#[tokio::test]
async fn list_apps_filters_by_environment() {
    // Arrange
    let app = spawn_app().await;
    let production = app.create_app_named("Production").await;
    let staging = app.create_app(json!({"name": "Staging", "environment": "staging"})).await;
    let development = app.create_app(json!({"name": "Development", "environment": "development"})).await;
    let staging_two = app.create_app(json!({"name": "Staging 2", "environment": "staging"})).await;

    // Act
    let listed = app.client.list_apps(None, Some(types::Environment::Staging), None, None).await.unwrap().into_inner();

    // Assert
    let ids: Vec<Uuid> = listed.apps.iter().map(|listed_app| listed_app.id).collect();
    assert_eq!(ids, vec![staging.id, staging_two.id]);
    let production_only = walk_pages(&app, 1, Some(types::Environment::Production), None).await;
    assert_eq!(production_only.concat(), vec![production.id]);
    let development_only = walk_pages(&app, 10, Some(types::Environment::Development), None).await;
    assert_eq!(development_only.concat(), vec![development.id]);
}

#[tokio::test]
async fn list_apps_filters_by_status() {
    // Arrange
    let app = spawn_app().await;
    let active = app.create_app_named("Active").await;
    let inactive = app.create_app(json!({"name": "Inactive", "status": "inactive"})).await;

    // Act
    let listed_inactive =
        app.client.list_apps(None, None, None, Some(types::AppStatus::Inactive)).await.unwrap().into_inner();
    let listed_active =
        app.client.list_apps(None, None, None, Some(types::AppStatus::Active)).await.unwrap().into_inner();

    // Assert
    assert_eq!(listed_inactive.apps.iter().map(|listed| listed.id).collect::<Vec<_>>(), vec![inactive.id]);
    assert_eq!(listed_active.apps.iter().map(|listed| listed.id).collect::<Vec<_>>(), vec![active.id]);
}

#[tokio::test]
async fn list_apps_combines_filters_and_pages_through_the_filtered_apps() {
    // Arrange
    let app = spawn_app().await;
    let mut expected = Vec::new();
    for index in 0..9 {
        let environment = if index % 3 == 0 { "production" } else { "staging" };
        let status = if index % 2 == 0 { "active" } else { "inactive" };
        let created =
            app.create_app(json!({"name": format!("App {index}"), "environment": environment, "status": status})).await;
        if environment == "staging" && status == "active" {
            expected.push(created.id);
        }
    }

    // Act
    let pages = walk_pages(&app, 1, Some(types::Environment::Staging), Some(types::AppStatus::Active)).await;

    // Assert
    assert_eq!(pages.concat(), expected);
}

#[tokio::test]
async fn list_apps_returns_400_for_an_unknown_filter_value() {
    // Arrange
    let app = spawn_app().await;

    for query in ["environment=qa", "status=archived"] {
        // Act
        let response = app.admin_request(Method::GET, &format!("/v1/apps?{query}")).send().await.unwrap();

        // Assert
        expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    }
}

#[tokio::test]
async fn list_apps_does_not_show_deleted_apps_across_pages() {
    // Arrange
    let app = spawn_app().await;
    let ids = create_apps(&app, 5).await;
    let first = app.client.list_apps(None, None, limit(2), None).await.unwrap().into_inner();
    let cursor = first.next_cursor.expect("more pages");
    app.client.delete_app(&ids[2]).await.expect("the app is deleted");

    // Act
    let second = app.client.list_apps(Some(&typed_cursor(&cursor)), None, limit(2), None).await.unwrap().into_inner();

    // Assert
    assert_eq!(second.apps.iter().map(|listed| listed.id).collect::<Vec<_>>(), vec![ids[3], ids[4]]);
    assert_eq!(second.next_cursor, None);
}

/// Runs `sql` on the test database behind the server's back.
async fn execute_behind_the_server(app: &TestApp, sql: &'static str) {
    app.database.execute(sql).await;
}

#[tokio::test]
async fn ci_lists_never_read_credentials_from_the_database() {
    // Arrange: stored credentials that cannot be read as an object, so any
    // list that reads them fails.
    let app = spawn_app().await;
    app.create_app(json!({"name": "Mail", "email_platform": "brevo", "email_credentials": {"api_key": "k"}})).await;
    execute_behind_the_server(&app, r#"UPDATE apps SET email_credentials = '"not an object"'"#).await;
    let ci = app.token_with_role(appdeck_server::domain::token::TokenRole::Ci).await;

    // Act
    let as_ci = app.http.get(app.url("/v1/apps")).header("x-api-key", &ci).send().await.unwrap();
    let as_admin = app.admin_request(Method::GET, "/v1/apps").send().await.unwrap();

    // Assert: the admin's list reads the column and fails; the ci list never touches it.
    assert_eq!(as_admin.status(), StatusCode::INTERNAL_SERVER_ERROR, "the stored credentials are unreadable");
    assert_eq!(as_ci.status(), StatusCode::OK);
    let body: Value = as_ci.json().await.unwrap();
    assert_eq!(body["apps"][0]["name"], "Mail");
    assert_eq!(body["apps"][0]["email_credentials"], Value::Null);
}

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
