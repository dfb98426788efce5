//! `/v1/api-tokens`: create (the secret shown once), list, get, relabel,
//! disable and enable, revoke, roll; labels, expiry, the last active admin,
//! roles, isolation between organizations and `last_used_at`.

mod create;
mod expiry;
mod get;
mod isolation;
mod labels;
mod last_admin;
mod last_used;
mod list;
mod revoke;
mod roles;
mod roll;
mod secrets;
mod status;

use appdeck_client::{Client, types};
use appdeck_tests::{TestApp, api_token_update_from, error_response, follow_pages, limit, typed_cursor};
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

fn relabel(label: &str) -> types::UpdateApiTokenRequest {
    api_token_update_from(json!({ "label": label }))
}

fn set_status(status: &str) -> types::UpdateApiTokenRequest {
    api_token_update_from(json!({ "status": status }))
}

/// The calling admin token as `GET /v1/me` describes it.
async fn admin_token_object(app: &TestApp) -> types::Token {
    app.client.get_current_token().await.expect("the admin token is valid").into_inner().token
}

/// Reads a token with the admin client; panics unless it exists.
async fn get_token(app: &TestApp, id: Uuid) -> types::Token {
    app.client.get_api_token(&id).await.expect("the admin reads the token").into_inner().token
}

/// Every live token of the organization, by following `next_cursor` with pages of `page_size`.
async fn list_all_tokens(client: &Client, page_size: u64) -> Vec<Vec<Uuid>> {
    follow_pages(100, |cursor| async move {
        let page = client
            .list_api_tokens(cursor.as_deref().map(typed_cursor).as_ref(), limit(page_size))
            .await
            .expect("a page is listed")
            .into_inner();
        assert!(page.success);
        assert!(page.tokens.len() <= page_size as usize, "a page holds at most `limit` tokens");
        (page.tokens.iter().map(|token| token.id).collect(), page.next_cursor)
    })
    .await
}

/// The ids of the first page of live tokens, as the admin lists them.
async fn listed_token_ids(app: &TestApp) -> Vec<Uuid> {
    let listed = app.client.list_api_tokens(None, limit(100)).await.expect("the admin lists tokens").into_inner();
    listed.tokens.iter().map(|token| token.id).collect()
}

/// Sends a raw JSON `POST /v1/api-tokens` with the admin token.
async fn create_token_json(app: &TestApp, body: &Value) -> reqwest::Response {
    app.send_json(Method::POST, "/v1/api-tokens", body).await
}

/// Sends a raw JSON `PATCH /v1/api-tokens/{id}` with the admin token.
async fn patch_token_json(app: &TestApp, id: Uuid, body: &Value) -> reqwest::Response {
    app.send_json(Method::PATCH, &format!("/v1/api-tokens/{id}"), body).await
}

/// The status and code of an error the generated client received.
fn status_and_code<T: std::fmt::Debug>(
    result: Result<appdeck_client::ResponseValue<T>, appdeck_client::Error<types::ErrorBody>>,
) -> (StatusCode, String) {
    let (status, body) = error_response(result);
    assert!(!body.success);
    (status, body.code)
}

fn rfc3339(moment: DateTime<Utc>) -> String {
    moment.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
