//! `GET /v1/api-tokens`: the live tokens, oldest first, in keyset pages.

use appdeck_client::types;
use appdeck_tests::{expect_error, follow_pages, is_strictly_increasing, limit, spawn_app, typed_cursor};
use reqwest::{Method, StatusCode};
use uuid::Uuid;

use super::{admin_token_object, list_all_tokens, set_status, status_and_code};

#[tokio::test]
async fn list_api_tokens_returns_the_live_tokens_oldest_first() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token_object(&app).await;
    let first = app.create_api_token("first", "ci").await;
    let second = app.create_api_token("second", "developer").await;
    let third = app.create_api_token("third", "admin").await;

    // Act
    let listed = app.client.list_api_tokens(None, None).await.expect("the admin lists tokens").into_inner();

    // Assert
    assert!(listed.success);
    let ids: Vec<Uuid> = listed.tokens.iter().map(|token| token.id).collect();
    assert_eq!(ids, vec![admin.id, first.token.id, second.token.id, third.token.id]);
    let labels: Vec<&str> = listed.tokens.iter().map(|token| token.label.as_str()).collect();
    assert_eq!(labels, ["admin", "first", "second", "third"]);
    assert_eq!(listed.next_cursor, None);
}

#[tokio::test]
async fn list_api_tokens_leaves_out_revoked_tokens_and_keeps_disabled_ones() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token_object(&app).await;
    let revoked = app.create_api_token("revoked", "ci").await;
    let disabled = app.create_api_token("disabled", "ci").await;
    app.client.revoke_api_token(&revoked.token.id).await.expect("the admin revokes");
    app.client.update_api_token(&disabled.token.id, &set_status("disabled")).await.expect("the admin disables");

    // Act
    let listed = app.client.list_api_tokens(None, None).await.unwrap().into_inner();

    // Assert
    let ids: Vec<Uuid> = listed.tokens.iter().map(|token| token.id).collect();
    assert_eq!(ids, vec![admin.id, disabled.token.id]);
    assert_eq!(listed.tokens[1].status, types::TokenStatus::Disabled);
}

#[tokio::test]
async fn list_api_tokens_pages_visit_every_token_exactly_once_in_order() {
    // Arrange
    let app = spawn_app().await;
    let mut ids = vec![admin_token_object(&app).await.id];
    for index in 0..6 {
        ids.push(app.create_api_token(&format!("token {index}"), "ci").await.token.id);
    }

    for page_size in [1, 2, 3, 7, 100] {
        // Act
        let pages = list_all_tokens(&app.client, page_size).await;

        // Assert
        assert_eq!(pages.concat(), ids, "pages of {page_size}");
        assert_eq!(pages.len(), ids.len().div_ceil(page_size as usize).max(1), "pages of {page_size}");
        assert!(pages.iter().all(|page| !page.is_empty()), "no empty page with pages of {page_size}");
    }
}

#[tokio::test]
async fn list_api_tokens_with_limit_2_returns_two_tokens_and_a_cursor() {
    // Arrange
    let app = spawn_app().await;
    app.create_api_token("one", "ci").await;
    app.create_api_token("two", "ci").await;

    // Act
    let page = app.client.list_api_tokens(None, limit(2)).await.unwrap().into_inner();

    // Assert
    assert_eq!(page.tokens.len(), 2);
    let cursor = page.next_cursor.expect("a third token is left");
    let rest = app.client.list_api_tokens(Some(&typed_cursor(&cursor)), limit(2)).await.unwrap().into_inner();
    assert_eq!(rest.tokens.iter().map(|token| token.label.as_str()).collect::<Vec<_>>(), ["two"]);
    assert_eq!(rest.next_cursor, None);
}

#[tokio::test]
async fn list_api_tokens_returns_400_for_a_bad_limit() {
    // Arrange
    let app = spawn_app().await;

    for value in ["0", "-1", "101", "abc", "1.5", ""] {
        // Act
        let response = app.admin_request(Method::GET, &format!("/v1/api-tokens?limit={value}")).send().await.unwrap();

        // Assert
        let message = expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
        assert!(message.contains("limit"), "limit={value}: {message}");
    }
    let (status, code) = status_and_code(app.client.list_api_tokens(None, limit(101)).await);
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_parameter"));
}

#[tokio::test]
async fn list_api_tokens_returns_400_for_a_cursor_it_did_not_make() {
    // Arrange
    let app = spawn_app().await;

    for cursor in ["garbage", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "0190f5c4-7c4e-7b3a-9d7e-1a2b3c4d5e6f"] {
        // Act: the generated client refuses such a cursor before sending it
        assert!(cursor.parse::<types::ListApiTokensCursor>().is_err(), "{cursor}");
        let response = app.admin_request(Method::GET, &format!("/v1/api-tokens?cursor={cursor}")).send().await.unwrap();

        // Assert
        let error = expect_error(response, StatusCode::BAD_REQUEST, "invalid_parameter").await;
        assert!(error.contains("cursor"), "{error}");
    }
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
    let client = &app.client;
    let pages: Vec<Vec<Uuid>> = follow_pages(10, |cursor| async move {
        let page = client
            .list_api_tokens(cursor.as_deref().map(typed_cursor).as_ref(), limit(5))
            .await
            .expect("a page")
            .into_inner();
        (page.tokens.iter().map(|token| token.id).collect(), page.next_cursor)
    })
    .await;

    // Assert
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![5, 5, 2]);
    let visited = pages.concat();
    assert_eq!(visited, expected, "every token once, oldest first");
    assert!(is_strictly_increasing(&visited));
}
