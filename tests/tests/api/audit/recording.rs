//! One event per successful write: which token, what, which fields, which
//! request.

use appdeck_client::types;
use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{api_token_request_from, api_token_update_from, app_request_from, header_text, spawn_app};
use chrono::{TimeDelta, Utc};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use types::{AuditAction, AuditTargetType};

use super::{
    Recorded, admin_token, assert_no_new_event, assert_recent, by, event_ids, events_since, expected,
    rename_organization, request_id_of, the_new_event, token_and_client, update_app_from,
};

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
