//! `GET /v1/audit-events`: one event per successful write (which token,
//! what, which fields, which request), none for a refused write, never a
//! secret; filters, newest-first paging, admins only, and organizations
//! that do not see each other's events.

use std::collections::HashSet;

use appdeck_client::{Client, ResponseValue, types};
use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{
    TestApp, all_audit_events, api_token_request_from, api_token_update_from, app_request_from, error_response,
    expect_error, header_text, let_the_clock_move, limit, read_error, spawn_app, typed_cursor,
};
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::{Method, StatusCode};
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
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = list_page(client, filter, cursor.as_deref(), page_size).await;
        assert!(page.success);
        assert!(page.events.len() <= page_size as usize, "a page holds at most `limit` events");
        pages.push(page.events);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages.len() <= 1000, "pagination does not end");
    }
    pages
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

// One event per write.

#[tokio::test]
async fn first_admin_token_made_by_the_server_is_recorded_with_no_actor_and_no_request_id() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;

    // Act
    let events = app.audit_events().await;

    // Assert
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(
        Recorded::of(event),
        expected(AuditAction::TokenCreated, None, (AuditTargetType::Token, admin.id), &["label", "role"])
    );
    assert_eq!(event.request_id, None);
    assert_eq!(event.id.get_version_num(), 7, "ids are UUIDv7");
}

#[tokio::test]
async fn token_made_by_the_server_itself_is_recorded_with_no_actor_and_no_request_id() {
    // Arrange
    let app = spawn_app().await;
    let seen = event_ids(&app).await;

    // Act
    let secret = app.token_with_role(TokenRole::Ci).await;

    // Assert
    let token = app.client_with_token(&secret).get_current_token().await.unwrap().into_inner().token;
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(AuditAction::TokenCreated, None, (AuditTargetType::Token, token.id), &["label", "role"])
    );
    assert_eq!(event.request_id, None);
}

#[tokio::test]
async fn reads_record_no_event() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    let token = app.create_api_token("laptop", "developer").await.token;
    let seen = event_ids(&app).await;

    // Act
    app.client.get_current_token().await.expect("the admin reads itself");
    app.client.get_organization().await.expect("the admin reads the organization");
    app.client.list_apps(None, None, None, None).await.expect("the admin lists apps");
    app.client.get_app(&created.id).await.expect("the admin reads the app");
    app.client.list_api_tokens(None, None).await.expect("the admin lists tokens");
    app.client.get_api_token(&token.id).await.expect("the admin reads the token");
    app.client.list_audit_events(None, None, None, None, None, None, None).await.expect("the admin lists events");

    // Assert
    assert_no_new_event(&app, &seen, "reading").await;
}

#[tokio::test]
async fn create_app_records_app_created_by_the_developer_naming_the_fields_it_set() {
    // Arrange
    let app = spawn_app().await;
    let (developer, developer_client) = token_and_client(&app, "developer laptop", "developer").await;
    let seen = event_ids(&app).await;
    let request = app_request_from(json!({"name": "Shop", "features": {"push": true}}));
    let before = Utc::now() - TimeDelta::seconds(1);

    // Act
    let response = developer_client.create_app(None, &request).await.expect("the developer creates the app");

    // Assert
    let request_id = request_id_of(&response);
    let created = response.into_inner().app;
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(
            AuditAction::AppCreated,
            by(&developer.token),
            (AuditTargetType::App, created.id),
            &["name", "features"]
        )
    );
    assert_eq!(event.request_id, Some(request_id));
    assert_recent(event.occurred_at, before);
}

#[tokio::test]
async fn create_app_lists_every_field_it_set_apart_from_the_defaults() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let seen = event_ids(&app).await;

    // Act
    let created = app
        .create_app(json!({
            "name": "Shop",
            "description": "The web shop",
            "environment": "staging",
            "website_url": "https://shop.example.com",
            "email_platform": "brevo",
            "email_credentials": {"api_key": "brevo-key"}
        }))
        .await;

    // Assert
    let event = the_new_event(&app, &seen).await;
    let fields = ["name", "description", "environment", "website_url", "email_platform", "email_credentials"];
    assert_eq!(
        Recorded::of(&event),
        expected(AuditAction::AppCreated, by(&admin), (AuditTargetType::App, created.id), &fields)
    );
}

#[tokio::test]
async fn update_app_records_only_the_fields_that_really_changed() {
    // Arrange
    let app = spawn_app().await;
    let (developer, developer_client) = token_and_client(&app, "developer laptop", "developer").await;
    let created = app.create_app(json!({"name": "Shop", "description": "d", "features": {"push": true}})).await;
    let seen = event_ids(&app).await;
    let changes = update_app_from(json!({
        "name": "Shop v2",
        "description": "d",
        "features": {"push": true},
        "timezone": "UTC"
    }));

    // Act
    let response = developer_client.update_app(&created.id, &changes).await.expect("the developer updates the app");

    // Assert
    let request_id = request_id_of(&response);
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(AuditAction::AppUpdated, by(&developer.token), (AuditTargetType::App, created.id), &["name"])
    );
    assert_eq!(event.request_id, Some(request_id));
}

#[tokio::test]
async fn update_app_does_not_list_a_field_that_normalizes_to_its_current_value() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let created = app.create_app(json!({"name": "Shop", "authorized_domains": ["shop.example.com"]})).await;
    let seen = event_ids(&app).await;
    let changes = update_app_from(json!({
        "name": "  Shop  ",
        "authorized_domains": ["SHOP.Example.com"],
        "environment": "development"
    }));

    // Act
    app.client.update_app(&created.id, &changes).await.expect("the admin updates the app");

    // Assert
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(AuditAction::AppUpdated, by(&admin), (AuditTargetType::App, created.id), &["environment"])
    );
}

#[tokio::test]
async fn update_app_lists_the_credentials_it_changed_and_the_features_it_flipped() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let created = app
        .create_app(json!({"name": "Shop", "email_platform": "brevo", "email_credentials": {"api_key": "one"}}))
        .await;
    let seen = event_ids(&app).await;
    let changes = update_app_from(json!({"email_credentials": {"api_key": "two"}, "features": {"analytics": true}}));

    // Act
    app.client.update_app(&created.id, &changes).await.expect("the admin updates the app");

    // Assert
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(
            AuditAction::AppUpdated,
            by(&admin),
            (AuditTargetType::App, created.id),
            &["email_credentials", "features"]
        )
    );
}

#[tokio::test]
async fn update_app_that_changes_nothing_records_an_event_with_no_changed_field() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let created = app.create_app(json!({"name": "Shop", "features": {"push": true}})).await;
    let seen = event_ids(&app).await;
    let changes = update_app_from(json!({"name": "Shop", "features": {"push": true}}));

    // Act
    app.client.update_app(&created.id, &changes).await.expect("the admin updates the app");

    // Assert
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(AuditAction::AppUpdated, by(&admin), (AuditTargetType::App, created.id), &[])
    );
}

#[tokio::test]
async fn rotate_app_secret_records_app_secret_rotated_with_api_secret_changed() {
    // Arrange
    let app = spawn_app().await;
    let (developer, developer_client) = token_and_client(&app, "developer laptop", "developer").await;
    let created = app.create_app_named("Shop").await;
    let seen = event_ids(&app).await;

    // Act
    let response = developer_client.rotate_app_secret(&created.id).await.expect("the developer rotates the secret");

    // Assert
    let request_id = request_id_of(&response);
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(
            AuditAction::AppSecretRotated,
            by(&developer.token),
            (AuditTargetType::App, created.id),
            &["api_secret"]
        )
    );
    assert_eq!(event.request_id, Some(request_id));
}

#[tokio::test]
async fn delete_app_records_app_deleted() {
    // Arrange
    let app = spawn_app().await;
    let (developer, developer_client) = token_and_client(&app, "developer laptop", "developer").await;
    let created = app.create_app_named("Shop").await;
    let seen = event_ids(&app).await;

    // Act
    let response = developer_client.delete_app(&created.id).await.expect("the developer deletes the app");

    // Assert
    let request_id = request_id_of(&response);
    let event = the_new_event(&app, &seen).await;
    assert_eq!(event.action, AuditAction::AppDeleted);
    assert_eq!(Recorded::of(&event).actor, by(&developer.token));
    assert_eq!((event.target.type_, event.target.id), (AuditTargetType::App, created.id));
    assert_eq!(event.request_id, Some(request_id));
}

#[tokio::test]
async fn create_api_token_records_token_created_by_the_admin() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let seen = event_ids(&app).await;
    let request = api_token_request_from(json!({"label": "deploy pipeline", "role": "ci"}));

    // Act
    let response = app.client.create_api_token(None, &request).await.expect("the admin creates the token");

    // Assert
    let request_id = request_id_of(&response);
    let created = response.into_inner().token;
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(AuditAction::TokenCreated, by(&admin), (AuditTargetType::Token, created.id), &["label", "role"])
    );
    assert_eq!(event.request_id, Some(request_id));
}

#[tokio::test]
async fn create_api_token_with_an_expiry_lists_expires_at_among_its_changes() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let seen = event_ids(&app).await;
    let expires_at = (Utc::now() + TimeDelta::days(1)).to_rfc3339();
    let request = api_token_request_from(json!({"label": "temporary", "role": "developer", "expires_at": expires_at}));

    // Act
    let created = app.client.create_api_token(None, &request).await.expect("the admin creates the token").into_inner();

    // Assert
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(
            AuditAction::TokenCreated,
            by(&admin),
            (AuditTargetType::Token, created.token.id),
            &["label", "role", "expires_at"]
        )
    );
}

#[tokio::test]
async fn update_api_token_records_token_updated_with_the_label_it_changed() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let created = app.create_api_token("laptop", "developer").await.token;
    let seen = event_ids(&app).await;

    // Act
    let response = app
        .client
        .update_api_token(&created.id, &api_token_update_from(json!({"label": "old laptop"})))
        .await
        .expect("the admin relabels the token");

    // Assert
    let request_id = request_id_of(&response);
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(AuditAction::TokenUpdated, by(&admin), (AuditTargetType::Token, created.id), &["label"])
    );
    assert_eq!(event.request_id, Some(request_id));
}

#[tokio::test]
async fn update_api_token_records_token_updated_with_the_status_it_changed() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let created = app.create_api_token("laptop", "developer").await.token;
    let seen = event_ids(&app).await;

    // Act
    app.client
        .update_api_token(&created.id, &api_token_update_from(json!({"status": "disabled"})))
        .await
        .expect("the admin disables the token");
    let disabled = events_since(&app, &seen).await;
    app.client
        .update_api_token(&created.id, &api_token_update_from(json!({"status": "active", "label": "laptop 2"})))
        .await
        .expect("the admin enables and relabels the token");

    // Assert
    assert_eq!(disabled.len(), 1, "{disabled:#?}");
    assert_eq!(
        Recorded::of(&disabled[0]),
        expected(AuditAction::TokenUpdated, by(&admin), (AuditTargetType::Token, created.id), &["status"])
    );
    let events = events_since(&app, &seen).await;
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(
        Recorded::of(&events[0]),
        expected(AuditAction::TokenUpdated, by(&admin), (AuditTargetType::Token, created.id), &["label", "status"])
    );
}

#[tokio::test]
async fn revoke_api_token_records_token_revoked() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let created = app.create_api_token("laptop", "developer").await.token;
    let seen = event_ids(&app).await;

    // Act
    let response = app.client.revoke_api_token(&created.id).await.expect("the admin revokes the token");

    // Assert
    let request_id = request_id_of(&response);
    let event = the_new_event(&app, &seen).await;
    assert_eq!(event.action, AuditAction::TokenRevoked);
    assert_eq!(Recorded::of(&event).actor, by(&admin));
    assert_eq!((event.target.type_, event.target.id), (AuditTargetType::Token, created.id));
    assert_eq!(event.request_id, Some(request_id));
}

#[tokio::test]
async fn update_organization_records_organization_updated_with_its_name() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let seen = event_ids(&app).await;

    // Act
    let response = app.client.update_organization(&rename_organization("Acme")).await.expect("the admin renames");

    // Assert
    let request_id = request_id_of(&response);
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(
            AuditAction::OrganizationUpdated,
            by(&admin),
            (AuditTargetType::Organization, app.organization_id),
            &["name"]
        )
    );
    assert_eq!(event.request_id, Some(request_id));
}

#[tokio::test]
async fn write_sent_with_its_own_x_request_id_is_recorded_with_that_id() {
    // Arrange
    let app = spawn_app().await;
    let developer = app.create_api_token("developer laptop", "developer").await;
    let created = app.create_app_named("Shop").await;
    let writes = [
        (
            AuditAction::AppCreated,
            app.http.post(app.url("/v1/apps")).header("x-api-key", &developer.secret).json(&json!({"name": "Raw"})),
        ),
        (
            AuditAction::AppSecretRotated,
            app.http
                .post(app.url(&format!("/v1/apps/{}/rotate-secret", created.id)))
                .header("x-api-key", &developer.secret),
        ),
        (
            AuditAction::OrganizationUpdated,
            app.admin_request(Method::PATCH, "/v1/organization").json(&json!({"name": "Acme"})),
        ),
        (
            AuditAction::TokenUpdated,
            app.admin_request(Method::PATCH, &format!("/v1/api-tokens/{}", developer.token.id))
                .json(&json!({"label": "desktop"})),
        ),
    ];

    for (action, request) in writes {
        let seen = event_ids(&app).await;
        let request_id = format!("audit-{}", Uuid::now_v7());

        // Act
        let response = request.header("x-request-id", &request_id).send().await.expect("the request is sent");

        // Assert
        assert!(response.status().is_success(), "{action}: {}", response.status());
        assert_eq!(header_text(&response, "x-request-id"), request_id, "{action}");
        let event = the_new_event(&app, &seen).await;
        assert_eq!(event.action, action);
        assert_eq!(event.request_id.as_deref(), Some(request_id.as_str()), "{action}");
    }
}

#[tokio::test]
async fn concurrent_writes_each_record_their_own_event_with_their_own_request_id() {
    // Arrange
    let app = spawn_app().await;
    let developer = app.create_api_token("developer laptop", "developer").await;
    let seen = event_ids(&app).await;
    let mut writes = tokio::task::JoinSet::new();

    // Act
    for index in 0..10 {
        let request_id = format!("concurrent-{index}-{}", Uuid::now_v7());
        let request = app
            .http
            .post(app.url("/v1/apps"))
            .header("x-api-key", &developer.secret)
            .header("x-request-id", &request_id)
            .json(&json!({"name": format!("App {index}")}));
        writes.spawn(async move {
            let response = request.send().await.expect("the request is sent");
            assert_eq!(response.status(), StatusCode::CREATED, "{request_id}");
            let body: serde_json::Value = response.json().await.expect("a JSON body");
            let app_id: Uuid = body["app"]["id"].as_str().and_then(|id| id.parse().ok()).expect("the app's id");
            (request_id, app_id)
        });
    }
    let mut sent: Vec<(String, Uuid)> = writes.join_all().await;

    // Assert
    let mut recorded: Vec<(String, Uuid)> = events_since(&app, &seen)
        .await
        .into_iter()
        .map(|event| {
            assert_eq!(event.action, AuditAction::AppCreated);
            assert_eq!(Recorded::of(&event).actor, by(&developer.token));
            (event.request_id.expect("a request id"), event.target.id)
        })
        .collect();
    sent.sort();
    recorded.sort();
    assert_eq!(recorded, sent);
}

// A refused write records nothing.

#[tokio::test]
async fn update_app_that_breaks_a_rule_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    let created = app.create_app_named("Shop").await;
    let seen = event_ids(&app).await;

    // Act
    let response = app.patch_app_json(created.id, &json!({"name": "Renamed", "webhook_enabled": true})).await;

    // Assert
    expect_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_no_new_event(&app, &seen, "a PATCH that breaks a rule").await;
}

#[tokio::test]
async fn create_api_token_with_a_taken_label_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    app.create_api_token("laptop", "developer").await;
    let seen = event_ids(&app).await;

    // Act
    let result =
        app.client.create_api_token(None, &api_token_request_from(json!({"label": "laptop", "role": "ci"}))).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::CONFLICT, "conflict"), "{}", body.error);
    assert_no_new_event(&app, &seen, "a create with a taken label").await;
}

#[tokio::test]
async fn relabelling_a_token_to_a_taken_label_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    app.create_api_token("laptop", "developer").await;
    let other = app.create_api_token("desktop", "developer").await.token;
    let seen = event_ids(&app).await;

    // Act
    let result = app.client.update_api_token(&other.id, &api_token_update_from(json!({"label": "laptop"}))).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::CONFLICT, "conflict"), "{}", body.error);
    assert_no_new_event(&app, &seen, "a relabel to a taken label").await;
}

#[tokio::test]
async fn revoking_the_last_active_admin_token_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let seen = event_ids(&app).await;

    // Act
    let result = app.client.revoke_api_token(&admin.id).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::CONFLICT, "conflict"), "{}", body.error);
    assert_no_new_event(&app, &seen, "revoking the last active admin").await;
}

#[tokio::test]
async fn disabling_the_last_active_admin_token_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let seen = event_ids(&app).await;

    // Act
    let result = app.client.update_api_token(&admin.id, &api_token_update_from(json!({"status": "disabled"}))).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::CONFLICT, "conflict"), "{}", body.error);
    assert_no_new_event(&app, &seen, "disabling the last active admin").await;
}

#[tokio::test]
async fn ci_token_creating_an_app_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    let (_, ci_client) = token_and_client(&app, "pipeline", "ci").await;
    let seen = event_ids(&app).await;

    // Act
    let result = ci_client.create_app(None, &appdeck_tests::app_request("Shop")).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{}", body.error);
    assert_no_new_event(&app, &seen, "a ci token's create").await;
}

#[tokio::test]
async fn ci_token_changing_an_app_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    let (_, ci_client) = token_and_client(&app, "pipeline", "ci").await;
    let created = app.create_app_named("Shop").await;
    let seen = event_ids(&app).await;

    // Act
    let update_result = ci_client.update_app(&created.id, &update_app_from(json!({"name": "Renamed"}))).await;
    let rotate_result = ci_client.rotate_app_secret(&created.id).await;
    let delete_result = ci_client.delete_app(&created.id).await;

    // Assert
    for (write, (status, body)) in [
        ("update", error_response(update_result)),
        ("rotate", error_response(rotate_result)),
        ("delete", error_response(delete_result)),
    ] {
        assert_eq!((status, body.code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{write}: {}", body.error);
    }
    assert_no_new_event(&app, &seen, "a ci token's app writes").await;
}

#[tokio::test]
async fn developer_token_managing_tokens_or_the_organization_records_no_event() {
    // Arrange
    let app = spawn_app().await;
    let (developer, developer_client) = token_and_client(&app, "developer laptop", "developer").await;
    let seen = event_ids(&app).await;

    // Act
    let create_result = developer_client
        .create_api_token(None, &api_token_request_from(json!({"label": "mine", "role": "admin"})))
        .await;
    let relabel_result = developer_client
        .update_api_token(&developer.token.id, &api_token_update_from(json!({"label": "renamed"})))
        .await;
    let revoke_result = developer_client.revoke_api_token(&developer.token.id).await;
    let rename_result = developer_client.update_organization(&rename_organization("Mine")).await;

    // Assert
    for (write, (status, body)) in [
        ("create a token", error_response(create_result)),
        ("relabel a token", error_response(relabel_result)),
        ("revoke a token", error_response(revoke_result)),
        ("rename the organization", error_response(rename_result)),
    ] {
        assert_eq!((status, body.code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{write}: {}", body.error);
    }
    assert_no_new_event(&app, &seen, "a developer's administration").await;
}

#[tokio::test]
async fn writes_on_what_does_not_exist_record_no_event() {
    // Arrange
    let app = spawn_app().await;
    let deleted = app.create_app_named("Gone").await;
    app.client.delete_app(&deleted.id).await.expect("the admin deletes the app");
    let revoked = app.create_api_token("gone", "developer").await.token;
    app.client.revoke_api_token(&revoked.id).await.expect("the admin revokes the token");
    let seen = event_ids(&app).await;

    // Act
    let update_result = app.client.update_app(&deleted.id, &update_app_from(json!({"name": "Back"}))).await;
    let rotate_result = app.client.rotate_app_secret(&deleted.id).await;
    let delete_result = app.client.delete_app(&deleted.id).await;
    let relabel_result =
        app.client.update_api_token(&revoked.id, &api_token_update_from(json!({"label": "back"}))).await;
    let revoke_result = app.client.revoke_api_token(&revoked.id).await;

    // Assert
    for (write, (status, body)) in [
        ("update a deleted app", error_response(update_result)),
        ("rotate a deleted app", error_response(rotate_result)),
        ("delete a deleted app", error_response(delete_result)),
        ("relabel a revoked token", error_response(relabel_result)),
        ("revoke a revoked token", error_response(revoke_result)),
    ] {
        assert_eq!((status, body.code.as_str()), (StatusCode::NOT_FOUND, "not_found"), "{write}: {}", body.error);
    }
    assert_no_new_event(&app, &seen, "a write on what does not exist").await;
}

#[tokio::test]
async fn writes_on_another_organizations_app_record_no_event_in_either_organization() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_app_named("Ours").await;
    let other = app.client_with_token(&app.other_organization_token().await);
    let seen = event_ids(&app).await;
    let their_events_before = ids(&all_audit_events(&other).await);

    // Act
    let update_result = other.update_app(&ours.id, &update_app_from(json!({"name": "Taken"}))).await;
    let rotate_result = other.rotate_app_secret(&ours.id).await;
    let delete_result = other.delete_app(&ours.id).await;

    // Assert
    for (write, (status, body)) in [
        ("update", error_response(update_result)),
        ("rotate", error_response(rotate_result)),
        ("delete", error_response(delete_result)),
    ] {
        assert_eq!((status, body.code.as_str()), (StatusCode::NOT_FOUND, "not_found"), "{write}: {}", body.error);
    }
    assert_no_new_event(&app, &seen, "another organization's write on our app").await;
    assert_eq!(ids(&all_audit_events(&other).await), their_events_before);
}

#[tokio::test]
async fn write_whose_event_cannot_be_recorded_is_not_kept_either() {
    // Arrange
    let app = spawn_app().await;
    let kept = app.create_app_named("Shop").await;
    let to_delete = app.create_app_named("Doomed").await;
    let (laptop, laptop_client) = token_and_client(&app, "laptop", "developer").await;
    let apps_before = app.client.list_apps(None, None, None, None).await.unwrap().into_inner().apps;
    let tokens_before = app.client.list_api_tokens(None, None).await.unwrap().into_inner().tokens;
    let events_before = ids(&app.audit_events().await);
    app.refuse_audit_events().await;

    // Act
    let results = [
        ("create an app", app.create_app_json(&json!({"name": "New"})).await),
        ("update an app", app.patch_app_json(kept.id, &json!({"name": "Renamed"})).await),
        (
            "rotate a secret",
            app.admin_request(Method::POST, &format!("/v1/apps/{}/rotate-secret", kept.id)).send().await.unwrap(),
        ),
        (
            "delete an app",
            app.admin_request(Method::DELETE, &format!("/v1/apps/{}", to_delete.id)).send().await.unwrap(),
        ),
        ("create a token", app.send_json(Method::POST, "/v1/api-tokens", &json!({"label": "new", "role": "ci"})).await),
        (
            "relabel a token",
            app.send_json(Method::PATCH, &format!("/v1/api-tokens/{}", laptop.token.id), &json!({"label": "desktop"}))
                .await,
        ),
        (
            "revoke a token",
            app.admin_request(Method::DELETE, &format!("/v1/api-tokens/{}", laptop.token.id)).send().await.unwrap(),
        ),
        ("rename the organization", app.send_json(Method::PATCH, "/v1/organization", &json!({"name": "Acme"})).await),
    ];

    // Assert
    for (write, response) in results {
        assert!(response.status().is_server_error(), "{write} answered {}", response.status());
    }
    let apps_after = app.client.list_apps(None, None, None, None).await.unwrap().into_inner().apps;
    assert_eq!(serde_json::to_value(apps_after).unwrap(), serde_json::to_value(apps_before).unwrap());
    let tokens_after = app.client.list_api_tokens(None, None).await.unwrap().into_inner().tokens;
    let labels =
        |tokens: &[types::Token]| tokens.iter().map(|token| (token.id, token.label.to_string())).collect::<Vec<_>>();
    assert_eq!(labels(&tokens_after), labels(&tokens_before));
    laptop_client.get_current_token().await.expect("the token that was not revoked still works");
    let organization = app.client.get_organization().await.unwrap().into_inner().organization;
    assert_eq!(organization.name.as_str(), "Test org");
    assert_eq!(ids(&app.audit_events().await), events_before);
}

// No secret in any event.

#[tokio::test]
async fn no_event_holds_a_secret_but_events_name_the_secret_fields() {
    // Arrange
    let app = spawn_app().await;
    let engagement_secret = format!("wp-secret-{}", Uuid::now_v7().simple());
    let email_secret = format!("brevo-secret-{}", Uuid::now_v7().simple());
    let new_email_secret = format!("brevo-rotated-{}", Uuid::now_v7().simple());
    let (developer, developer_client) = token_and_client(&app, "developer laptop", "developer").await;
    let ci = app.create_api_token("pipeline", "ci").await;
    let request = app_request_from(json!({
        "name": "Shop",
        "engagement_platform": "wonderpush",
        "engagement_credentials": {"access_token": engagement_secret},
        "email_platform": "brevo",
        "email_credentials": {"api_key": email_secret}
    }));
    let created = developer_client.create_app(None, &request).await.expect("the developer creates").into_inner().app;
    let changes = update_app_from(json!({"email_credentials": {"api_key": new_email_secret}}));
    developer_client.update_app(&created.id, &changes).await.expect("the developer changes the credentials");
    let rotated =
        developer_client.rotate_app_secret(&created.id).await.expect("the developer rotates").into_inner().app;

    // Act
    let response = app.admin_request(Method::GET, "/v1/audit-events?limit=100").send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let secrets = [
        ("engagement credentials", engagement_secret.as_str()),
        ("email credentials", email_secret.as_str()),
        ("new email credentials", new_email_secret.as_str()),
        ("api_secret before rotation", created.api_secret.as_str()),
        ("api_secret after rotation", rotated.api_secret.as_str()),
        ("admin token", app.admin_token.as_str()),
        ("developer token", developer.secret.as_str()),
        ("ci token", ci.secret.as_str()),
    ];
    for (what, secret) in secrets {
        assert!(!text.contains(secret), "the audit log holds the {what}: {text}");
        let hash = appdeck_server::auth::hash_token(secret);
        assert!(!text.contains(&hash), "the audit log holds the hash of the {what}");
    }
    assert_ne!(created.api_secret, rotated.api_secret);
    for field in ["engagement_credentials", "email_credentials", "api_secret"] {
        assert!(text.contains(&format!("\"{field}\"")), "no event names `{field}`: {text}");
    }
}

// Filters.

#[tokio::test]
async fn action_filter_returns_exactly_the_events_of_that_action() {
    // Arrange
    let app = spawn_app().await;
    one_of_each_action(&app).await;
    let all = app.audit_events().await;

    for action in EVERY_ACTION {
        // Act
        let filtered = list_filtered(&app, Filter { action: Some(action), ..Default::default() }).await;

        // Assert
        assert!(!filtered.is_empty(), "the scenario records {action}");
        assert_eq!(ids(&filtered), ids_where(&all, |event| event.action == action), "{action}");
    }
}

#[tokio::test]
async fn actor_id_filter_returns_exactly_the_events_made_by_that_token() {
    // Arrange
    let app = spawn_app().await;
    let scenario = one_of_each_action(&app).await;
    let all = app.audit_events().await;
    let made_by =
        |token: Uuid| ids_where(&all, move |event| event.actor.as_ref().is_some_and(|actor| actor.id == token));

    // Act
    let developer = list_filtered(&app, Filter { actor_id: Some(scenario.developer.id), ..Default::default() }).await;
    let admin = list_filtered(&app, Filter { actor_id: Some(scenario.admin.id), ..Default::default() }).await;
    let nobody = list_filtered(&app, Filter { actor_id: Some(Uuid::now_v7()), ..Default::default() }).await;

    // Assert
    let developer_actions: Vec<_> = developer.iter().rev().map(|event| event.action).collect();
    assert_eq!(
        developer_actions,
        [
            AuditAction::AppCreated,
            AuditAction::AppUpdated,
            AuditAction::AppSecretRotated,
            AuditAction::AppCreated,
            AuditAction::AppDeleted
        ]
    );
    assert_eq!(ids(&developer), made_by(scenario.developer.id));
    assert_eq!(ids(&admin), made_by(scenario.admin.id));
    assert_eq!(admin.len(), 5, "the admin made the developer token, the ci token thrice, and renamed: {admin:#?}");
    assert!(nobody.is_empty(), "{nobody:#?}");
}

#[tokio::test]
async fn target_id_filter_returns_the_whole_history_of_an_app_even_after_its_deletion() {
    // Arrange
    let app = spawn_app().await;
    let scenario = one_of_each_action(&app).await;

    // Act
    let kept = list_filtered(&app, Filter { target_id: Some(scenario.kept_app), ..Default::default() }).await;
    let deleted = list_filtered(&app, Filter { target_id: Some(scenario.deleted_app), ..Default::default() }).await;
    let token = list_filtered(&app, Filter { target_id: Some(scenario.revoked_token), ..Default::default() }).await;
    let organization = list_filtered(&app, Filter { target_id: Some(app.organization_id), ..Default::default() }).await;

    // Assert
    let actions = |events: &[types::AuditEvent]| events.iter().map(|event| event.action).collect::<Vec<_>>();
    assert_eq!(actions(&kept), [AuditAction::AppSecretRotated, AuditAction::AppUpdated, AuditAction::AppCreated]);
    assert_eq!(actions(&deleted), [AuditAction::AppDeleted, AuditAction::AppCreated]);
    assert_eq!(actions(&token), [AuditAction::TokenRevoked, AuditAction::TokenUpdated, AuditAction::TokenCreated]);
    assert_eq!(actions(&organization), [AuditAction::OrganizationUpdated]);
    for event in kept.iter().chain(&deleted) {
        assert_eq!(event.target.type_, AuditTargetType::App);
    }
}

#[tokio::test]
async fn since_includes_events_at_that_time_and_until_excludes_them() {
    // Arrange
    let app = spawn_app().await;
    for name in ["First", "Second", "Third", "Fourth"] {
        let_the_clock_move().await;
        app.create_app_named(name).await;
    }
    let all = app.audit_events().await;
    let middle = all[2].clone();
    let moment = middle.occurred_at;

    // Act
    let since = list_filtered(&app, Filter { since: Some(moment), ..Default::default() }).await;
    let until = list_filtered(&app, Filter { until: Some(moment), ..Default::default() }).await;
    let empty_window =
        list_filtered(&app, Filter { since: Some(moment), until: Some(moment), ..Default::default() }).await;
    let one_millisecond =
        Filter { since: Some(moment), until: Some(moment + TimeDelta::milliseconds(1)), ..Default::default() };
    let window = list_filtered(&app, one_millisecond).await;

    // Assert
    assert_eq!(ids(&since), ids_where(&all, |event| event.occurred_at >= moment));
    assert_eq!(ids(&until), ids_where(&all, |event| event.occurred_at < moment));
    assert!(ids(&since).contains(&middle.id), "`since` is inclusive");
    assert!(!ids(&until).contains(&middle.id), "`until` is exclusive");
    assert_eq!((since.len(), until.len()), (3, 2), "each write occurred at its own millisecond");
    assert!(empty_window.is_empty(), "{empty_window:#?}");
    assert_eq!(ids(&window), [middle.id]);
}

#[tokio::test]
async fn since_and_until_compare_times_finer_than_a_millisecond() {
    // Arrange
    let app = spawn_app().await;
    for name in ["First", "Second", "Third"] {
        let_the_clock_move().await;
        app.create_app_named(name).await;
    }
    let all = app.audit_events().await;
    let middle = all[1].clone();
    let just_after = middle.occurred_at + TimeDelta::microseconds(1);
    let just_before = middle.occurred_at - TimeDelta::microseconds(1);

    // Act
    let since_just_after = list_filtered(&app, Filter { since: Some(just_after), ..Default::default() }).await;
    let until_just_after = list_filtered(&app, Filter { until: Some(just_after), ..Default::default() }).await;
    let since_just_before = list_filtered(&app, Filter { since: Some(just_before), ..Default::default() }).await;
    let until_just_before = list_filtered(&app, Filter { until: Some(just_before), ..Default::default() }).await;

    // Assert
    assert_eq!(ids(&since_just_after), ids_where(&all, |event| event.occurred_at >= just_after));
    assert_eq!(ids(&until_just_after), ids_where(&all, |event| event.occurred_at < just_after));
    assert_eq!(ids(&since_just_before), ids_where(&all, |event| event.occurred_at >= just_before));
    assert_eq!(ids(&until_just_before), ids_where(&all, |event| event.occurred_at < just_before));
    assert!(!ids(&since_just_after).contains(&middle.id));
    assert!(ids(&until_just_after).contains(&middle.id));
    assert!(ids(&since_just_before).contains(&middle.id));
    assert!(!ids(&until_just_before).contains(&middle.id));
}

#[tokio::test]
async fn filters_combine_and_every_listed_event_matches_all_of_them() {
    // Arrange
    let app = spawn_app().await;
    let scenario = one_of_each_action(&app).await;
    let all = app.audit_events().await;
    let developer = Some(scenario.developer.id);
    let created_by_developer =
        Filter { action: Some(AuditAction::AppCreated), actor_id: developer, ..Default::default() };
    let oldest_creation = all
        .iter()
        .rev()
        .find(|event| event.action == AuditAction::AppCreated)
        .expect("the scenario creates apps")
        .occurred_at;

    // Act
    let both = list_filtered(&app, created_by_developer).await;
    let about_the_deleted_app =
        list_filtered(&app, Filter { target_id: Some(scenario.deleted_app), ..created_by_developer }).await;
    let by_the_admin_about_the_app = list_filtered(
        &app,
        Filter { target_id: Some(scenario.kept_app), actor_id: Some(scenario.admin.id), ..Default::default() },
    )
    .await;
    let after_the_first_creation = list_filtered(
        &app,
        Filter { since: Some(oldest_creation + TimeDelta::milliseconds(1)), ..created_by_developer },
    )
    .await;
    let before_the_first_creation =
        list_filtered(&app, Filter { until: Some(oldest_creation), ..created_by_developer }).await;
    let window = Filter {
        actor_id: developer,
        since: Some(oldest_creation),
        until: Some(oldest_creation + TimeDelta::milliseconds(1)),
        ..Default::default()
    };
    let in_the_window = list_filtered(&app, window).await;

    // Assert
    let developer_creations = ids_where(&all, |event| {
        event.action == AuditAction::AppCreated && event.actor.as_ref().map(|actor| actor.id) == developer
    });
    assert_eq!(developer_creations.len(), 2);
    assert_eq!(ids(&both), developer_creations);
    assert_eq!(about_the_deleted_app.len(), 1, "{about_the_deleted_app:#?}");
    assert_eq!(Recorded::of(&about_the_deleted_app[0]).target, (AuditTargetType::App, scenario.deleted_app));
    assert!(by_the_admin_about_the_app.is_empty(), "{by_the_admin_about_the_app:#?}");
    assert_eq!(ids(&after_the_first_creation), developer_creations[..1]);
    assert!(before_the_first_creation.is_empty(), "{before_the_first_creation:#?}");
    assert_eq!(ids(&in_the_window), developer_creations[1..]);
}

#[tokio::test]
async fn filters_keep_applying_on_every_page() {
    // Arrange
    let app = spawn_app().await;
    let scenario = one_of_each_action(&app).await;
    let all = app.audit_events().await;
    let by_developer = Filter { actor_id: Some(scenario.developer.id), ..Default::default() };

    // Act
    let pages = list_pages(&app.client, by_developer, 2).await;

    // Assert
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    let developer_id = scenario.developer.id;
    assert_eq!(
        ids(&pages.concat()),
        ids_where(&all, |event| event.actor.as_ref().is_some_and(|actor| actor.id == developer_id))
    );
}

#[tokio::test]
async fn filters_that_do_not_parse_return_400_invalid_parameter() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        ("an unknown action", "action=app.exploded"),
        ("an action in another case", "action=APP.CREATED"),
        ("an actor_id that is not a UUID", "actor_id=admin"),
        ("a target_id that is not a UUID", "target_id=12345"),
        ("a since that is not a date", "since=yesterday"),
        ("an until that is not a date", "until=2024-13-45T99:00:00Z"),
        ("a since without a time zone", "since=2024-01-01T00:00:00"),
    ];

    for (case, query) in cases {
        // Act
        let response = app.admin_request(Method::GET, &format!("/v1/audit-events?{query}")).send().await.unwrap();

        // Assert
        let reply = read_error(response).await;
        assert_eq!((reply.status, reply.code.as_str()), (StatusCode::BAD_REQUEST, "invalid_parameter"), "{case}");
    }
}

// Paging.

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

// Roles.

#[tokio::test]
async fn developer_token_gets_403_listing_audit_events() {
    // Arrange
    let app = spawn_app().await;
    let (_, developer_client) = token_and_client(&app, "developer laptop", "developer").await;

    // Act
    let result = developer_client.list_audit_events(None, None, None, None, None, None, None).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{}", body.error);
}

#[tokio::test]
async fn ci_token_gets_403_listing_audit_events() {
    // Arrange
    let app = spawn_app().await;
    let (_, ci_client) = token_and_client(&app, "pipeline", "ci").await;

    // Act
    let result = ci_client.list_audit_events(None, None, None, None, None, None, None).await;

    // Assert
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{}", body.error);
}

#[tokio::test]
async fn request_without_a_token_gets_401_listing_audit_events() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.http.get(app.url("/v1/audit-events")).send().await.unwrap();

    // Assert
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn second_admin_token_sees_the_same_events_as_the_first() {
    // Arrange
    let app = spawn_app().await;
    let (_, second_admin) = token_and_client(&app, "second admin", "admin").await;
    one_of_each_action(&app).await;

    // Act
    let seen_by_second = all_audit_events(&second_admin).await;

    // Assert
    assert_eq!(ids(&seen_by_second), ids(&app.audit_events().await));
}

// Isolation.

#[tokio::test]
async fn another_organization_sees_only_its_own_events() {
    // Arrange
    let app = spawn_app().await;
    one_of_each_action(&app).await;
    let other = app.client_with_token(&app.other_organization_token().await);
    let their_admin = other.get_current_token().await.unwrap().into_inner().token;

    // Act
    let theirs = all_audit_events(&other).await;

    // Assert
    assert_eq!(theirs.len(), 1, "{theirs:#?}");
    assert_eq!(
        Recorded::of(&theirs[0]),
        expected(AuditAction::TokenCreated, None, (AuditTargetType::Token, their_admin.id), &["label", "role"])
    );
    assert_eq!(theirs[0].request_id, None);
}

#[tokio::test]
async fn our_events_stay_out_of_another_organizations_list_and_theirs_out_of_ours() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_app_named("Ours").await;
    let our_admin = admin_token(&app).await;
    let other = app.client_with_token(&app.other_organization_token().await);
    let their_admin = other.get_current_token().await.unwrap().into_inner().token;
    let theirs = other.create_app(None, &appdeck_tests::app_request("Theirs")).await.unwrap().into_inner().app;
    let our_events = ids(&app.audit_events().await);

    // Act
    let their_events = all_audit_events(&other).await;
    let by_our_app = Filter { target_id: Some(ours.id), ..Default::default() };
    let by_our_admin = Filter { actor_id: Some(our_admin.id), ..Default::default() };
    let their_view_of_our_app = list_pages(&other, by_our_app, 100).await.concat();
    let their_view_of_our_admin = list_pages(&other, by_our_admin, 100).await.concat();
    let our_view_of_their_app = list_filtered(&app, Filter { target_id: Some(theirs.id), ..Default::default() }).await;

    // Assert
    let their_actions: Vec<_> = their_events.iter().map(Recorded::of).collect();
    assert_eq!(
        their_actions,
        [
            expected(AuditAction::AppCreated, by(&their_admin), (AuditTargetType::App, theirs.id), &["name"]),
            expected(AuditAction::TokenCreated, None, (AuditTargetType::Token, their_admin.id), &["label", "role"]),
        ]
    );
    assert!(their_events.iter().all(|event| !our_events.contains(&event.id)));
    assert!(their_view_of_our_app.is_empty(), "{their_view_of_our_app:#?}");
    assert!(their_view_of_our_admin.is_empty(), "{their_view_of_our_admin:#?}");
    assert!(our_view_of_their_app.is_empty(), "{our_view_of_their_app:#?}");
}

// The actor as it was.

#[tokio::test]
async fn event_keeps_the_label_its_actor_had_when_it_acted() {
    // Arrange
    let app = spawn_app().await;
    let (developer, developer_client) = token_and_client(&app, "laptop", "developer").await;
    let created =
        developer_client.create_app(None, &appdeck_tests::app_request("Shop")).await.unwrap().into_inner().app;
    let relabel = api_token_update_from(json!({"label": "old laptop"}));
    app.client.update_api_token(&developer.token.id, &relabel).await.expect("the admin relabels the developer");

    // Act
    developer_client.update_app(&created.id, &update_app_from(json!({"name": "Shop v2"}))).await.unwrap();

    // Assert
    let events = list_filtered(&app, Filter { actor_id: Some(developer.token.id), ..Default::default() }).await;
    let actors: Vec<_> = events.iter().map(|event| (event.action, Recorded::of(event).actor)).collect();
    let id = developer.token.id;
    assert_eq!(
        actors,
        [
            (AuditAction::AppUpdated, Some((id, "old laptop".to_owned()))),
            (AuditAction::AppCreated, Some((id, "laptop".to_owned()))),
        ]
    );
}

#[tokio::test]
async fn token_relabelling_itself_is_recorded_under_the_label_it_had_when_it_acted() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let seen = event_ids(&app).await;

    // Act
    app.client
        .update_api_token(&admin.id, &api_token_update_from(json!({"label": "boss"})))
        .await
        .expect("the admin relabels itself");

    // Assert
    let event = the_new_event(&app, &seen).await;
    assert_eq!(
        Recorded::of(&event),
        expected(
            AuditAction::TokenUpdated,
            Some((admin.id, "admin".to_owned())),
            (AuditTargetType::Token, admin.id),
            &["label"]
        )
    );
    assert_eq!(admin_token(&app).await.label.as_str(), "boss");
}

#[tokio::test]
async fn events_of_a_revoked_token_still_name_it_and_can_be_found_by_its_id() {
    // Arrange
    let app = spawn_app().await;
    let (developer, developer_client) = token_and_client(&app, "laptop", "developer").await;
    let created =
        developer_client.create_app(None, &appdeck_tests::app_request("Shop")).await.unwrap().into_inner().app;
    app.client.revoke_api_token(&developer.token.id).await.expect("the admin revokes the developer");

    // Act
    let events = list_filtered(&app, Filter { actor_id: Some(developer.token.id), ..Default::default() }).await;

    // Assert
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(
        Recorded::of(&events[0]),
        expected(AuditAction::AppCreated, by(&developer.token), (AuditTargetType::App, created.id), &["name"])
    );
}

#[tokio::test]
async fn a_request_id_too_long_to_keep_is_replaced_and_the_event_records_the_one_answered() {
    // Arrange
    let app = spawn_app().await;
    let seen = event_ids(&app).await;
    let long_id = "r".repeat(5000);

    // Act
    let response = app
        .admin_request(Method::POST, "/v1/apps")
        .header("x-request-id", &long_id)
        .json(&json!({"name": "Long id"}))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let answered_with = header_text(&response, "x-request-id");
    assert!(Uuid::parse_str(&answered_with).is_ok(), "a new id is generated: {answered_with}");
    let event = the_new_event(&app, &seen).await;
    assert_eq!(event.request_id.as_deref(), Some(answered_with.as_str()));
}
