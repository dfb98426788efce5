//! `GET /v1/audit-events`: one event per successful write (which token,
//! what, which fields, which request), none for a refused write, never a
//! secret; filters, newest-first paging, admins only, and organizations
//! that do not see each other's events.

mod actors;
mod filters;
mod isolation;
mod paging;
mod recording;
mod refused_writes;
mod roles;
mod secrets;

use std::collections::HashSet;

use appdeck_client::{Client, ResponseValue, types};
use appdeck_tests::{TestApp, api_token_update_from, follow_pages, let_the_clock_move, limit, typed_cursor};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use uuid::Uuid;

use types::{AuditAction, AuditTargetType};

const EVERY_ACTION: [AuditAction; 8] = [
    AuditAction::AppCreated,
    AuditAction::AppUpdated,
    AuditAction::AppDeleted,
    AuditAction::AppSecretRotated,
    AuditAction::TokenCreated,
    AuditAction::TokenUpdated,
    AuditAction::TokenRevoked,
    AuditAction::OrganizationUpdated,
];

/// What `list_audit_events` filters on; `None` leaves a filter out.
#[derive(Debug, Default, Clone, Copy)]
struct Filter {
    action: Option<AuditAction>,
    actor_id: Option<Uuid>,
    target_id: Option<Uuid>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

/// One page of the events `filter` selects, as `client` lists them.
async fn list_page(
    client: &Client,
    filter: Filter,
    cursor: Option<&str>,
    page_size: u64,
) -> types::AuditEventListResponse {
    client
        .list_audit_events(
            filter.action,
            filter.actor_id.as_ref(),
            cursor.map(typed_cursor).as_ref(),
            limit(page_size),
            filter.since.as_ref(),
            filter.target_id.as_ref(),
            filter.until.as_ref(),
        )
        .await
        .expect("the admin lists audit events")
        .into_inner()
}

/// Every page of the events `filter` selects, by following `next_cursor`
/// with pages of `page_size`.
async fn list_pages(client: &Client, filter: Filter, page_size: u64) -> Vec<Vec<types::AuditEvent>> {
    follow_pages(1000, |cursor| async move {
        let page = list_page(client, filter, cursor.as_deref(), page_size).await;
        assert!(page.success);
        assert!(page.events.len() <= page_size as usize, "a page holds at most `limit` events");
        (page.events, page.next_cursor)
    })
    .await
}

/// Every event `filter` selects, newest first, as the admin lists them.
async fn list_filtered(app: &TestApp, filter: Filter) -> Vec<types::AuditEvent> {
    list_pages(&app.client, filter, 100).await.concat()
}

fn ids(events: &[types::AuditEvent]) -> Vec<Uuid> {
    events.iter().map(|event| event.id).collect()
}

/// The ids of the events in `all` that `keep` accepts, in the order of `all`.
fn ids_where(all: &[types::AuditEvent], keep: impl Fn(&types::AuditEvent) -> bool) -> Vec<Uuid> {
    all.iter().filter(|event| keep(event)).map(|event| event.id).collect()
}

/// The ids of every event the first organization holds so far.
async fn event_ids(app: &TestApp) -> HashSet<Uuid> {
    app.audit_events().await.into_iter().map(|event| event.id).collect()
}

/// The events recorded since `seen` was taken, newest first.
async fn events_since(app: &TestApp, seen: &HashSet<Uuid>) -> Vec<types::AuditEvent> {
    app.audit_events().await.into_iter().filter(|event| !seen.contains(&event.id)).collect()
}

/// The one event recorded since `seen` was taken; panics unless there is exactly one.
async fn the_new_event(app: &TestApp, seen: &HashSet<Uuid>) -> types::AuditEvent {
    let mut new = events_since(app, seen).await;
    assert_eq!(new.len(), 1, "one write records exactly one event: {new:#?}");
    new.remove(0)
}

/// Checks that nothing was recorded since `seen` was taken.
async fn assert_no_new_event(app: &TestApp, seen: &HashSet<Uuid>, write: &str) {
    let new = events_since(app, seen).await;
    assert!(new.is_empty(), "{write} failed but recorded {new:#?}");
}

/// An event without its id, time and request id, in a form `assert_eq!`
/// compares. `changes` is sorted: their order is not part of the contract.
#[derive(Debug, PartialEq)]
struct Recorded {
    action: AuditAction,
    actor: Option<(Uuid, String)>,
    target: (AuditTargetType, Uuid),
    changes: Vec<String>,
}

impl Recorded {
    fn of(event: &types::AuditEvent) -> Self {
        let mut changes = event.changes.clone();
        changes.sort();
        Self {
            action: event.action,
            actor: event.actor.as_ref().map(|actor| (actor.id, actor.label.clone())),
            target: (event.target.type_, event.target.id),
            changes,
        }
    }
}

fn expected(
    action: AuditAction,
    actor: Option<(Uuid, String)>,
    target: (AuditTargetType, Uuid),
    changes: &[&str],
) -> Recorded {
    let mut changes: Vec<String> = changes.iter().map(|change| (*change).to_owned()).collect();
    changes.sort();
    Recorded { action, actor, target, changes }
}

/// The actor an event names for `token`: its id and its label now.
fn by(token: &types::Token) -> Option<(Uuid, String)> {
    Some((token.id, token.label.to_string()))
}

/// The `X-Request-Id` the server answered `response` with.
fn request_id_of<T>(response: &ResponseValue<T>) -> String {
    let request_id = response.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or_default();
    assert!(!request_id.is_empty(), "a response has no X-Request-Id");
    request_id.to_owned()
}

/// The calling admin token of the first organization.
async fn admin_token(app: &TestApp) -> types::Token {
    app.client.get_current_token().await.expect("the admin token is valid").into_inner().token
}

/// A token of `role` made through the API by the admin, and a client using it.
async fn token_and_client(app: &TestApp, label: &str, role: &str) -> (types::CreatedApiTokenResponse, Client) {
    let created = app.create_api_token(label, role).await;
    let client = app.client_with_token(&created.secret);
    (created, client)
}

fn update_app_from(body: serde_json::Value) -> types::UpdateAppRequest {
    serde_json::from_value(body).expect("the JSON is a valid UpdateAppRequest")
}

fn rename_organization(name: &str) -> types::UpdateOrganizationRequest {
    types::UpdateOrganizationRequest { name: name.parse().unwrap() }
}

fn assert_recent(moment: DateTime<Utc>, before: DateTime<Utc>) {
    let after = Utc::now() + TimeDelta::seconds(1);
    assert!(before <= moment && moment <= after, "occurred_at {moment} is not between {before} and {after}");
}

/// What `one_of_each_action` did, to name in assertions.
struct Scenario {
    admin: types::Token,
    developer: types::Token,
    /// Created, updated and rotated by the developer.
    kept_app: Uuid,
    /// Created and deleted by the developer.
    deleted_app: Uuid,
    /// Created, relabelled and revoked by the admin.
    revoked_token: Uuid,
}

/// Makes the organization record every action at least once: the admin
/// makes a developer token, the developer writes apps, the admin manages
/// a ci token and renames the organization. Waits between writes, so each
/// event occurs at its own millisecond.
async fn one_of_each_action(app: &TestApp) -> Scenario {
    let admin = admin_token(app).await;
    let (developer, developer_client) = token_and_client(app, "developer", "developer").await;
    let_the_clock_move().await;
    let kept_app =
        developer_client.create_app(None, &appdeck_tests::app_request("Kept")).await.unwrap().into_inner().app;
    let_the_clock_move().await;
    developer_client.update_app(&kept_app.id, &update_app_from(json!({"name": "Kept v2"}))).await.unwrap();
    let_the_clock_move().await;
    developer_client.rotate_app_secret(&kept_app.id).await.unwrap();
    let_the_clock_move().await;
    let deleted_app =
        developer_client.create_app(None, &appdeck_tests::app_request("Gone")).await.unwrap().into_inner().app;
    let_the_clock_move().await;
    developer_client.delete_app(&deleted_app.id).await.unwrap();
    let_the_clock_move().await;
    let ci = app.create_api_token("pipeline", "ci").await.token;
    let_the_clock_move().await;
    app.client.update_api_token(&ci.id, &api_token_update_from(json!({"label": "old pipeline"}))).await.unwrap();
    let_the_clock_move().await;
    app.client.revoke_api_token(&ci.id).await.unwrap();
    let_the_clock_move().await;
    app.client.update_organization(&rename_organization("Acme")).await.unwrap();
    Scenario {
        admin,
        developer: developer.token,
        kept_app: kept_app.id,
        deleted_app: deleted_app.id,
        revoked_token: ci.id,
    }
}
