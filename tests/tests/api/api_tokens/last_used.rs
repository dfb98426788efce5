//! `last_used_at`: null until used, then refreshed at most once a minute.

use appdeck_tests::{let_the_clock_move, spawn_app};
use chrono::{TimeDelta, Utc};

use super::get_token;

#[tokio::test]
async fn last_used_at_is_null_for_a_token_never_used() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("unused", "ci").await;
    app.client.list_api_tokens(None, None).await.expect("the admin is busy meanwhile");

    // Act
    let token = get_token(&app, created.token.id).await;

    // Assert
    assert_eq!(token.last_used_at, None);
}

#[tokio::test]
async fn last_used_at_is_set_when_the_token_is_used() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("used", "ci").await;
    let before = Utc::now() - TimeDelta::seconds(1);
    app.client_with_token(&created.secret).list_apps(None, None, None, None).await.expect("the ci token reads apps");
    let after = Utc::now() + TimeDelta::seconds(1);

    // Act
    let token = get_token(&app, created.token.id).await;

    // Assert
    let last_used_at = token.last_used_at.expect("the use was recorded");
    assert!(before <= last_used_at && last_used_at <= after, "last_used_at {last_used_at}");
    let listed = app.client.list_api_tokens(None, None).await.unwrap().into_inner();
    let listed_token = listed.tokens.iter().find(|token| token.id == created.token.id).unwrap();
    assert_eq!(listed_token.last_used_at, Some(last_used_at), "the list shows it too");
}

#[tokio::test]
async fn last_used_at_is_refreshed_at_most_once_a_minute() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_api_token("busy", "developer").await;
    let client = app.client_with_token(&created.secret);
    client.get_current_token().await.expect("the first use");
    let first_use = get_token(&app, created.token.id).await.last_used_at.expect("the first use was recorded");
    // The clock is under test: a later use has a later time, yet is not recorded.
    let_the_clock_move().await;

    // Act
    client.list_apps(None, None, None, None).await.expect("the second use");
    let me = client.get_current_token().await.expect("the third use").into_inner();

    // Assert
    assert_eq!(get_token(&app, created.token.id).await.last_used_at, Some(first_use));
    assert_eq!(me.token.last_used_at, Some(first_use), "/v1/me shows the same moment");
}
