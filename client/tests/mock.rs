//! What an integrator's own tests look like with the `mock` feature: code
//! that uses the client, checked against progenitor's typed httpmock mocks
//! instead of a running server. `find_or_create_app` stands for the
//! integrator's code.

use appdeck_client::{AppFilter, Client, ListError, mock::MockServerExt, types};
use futures_util::TryStreamExt;
use httpmock::MockServer;
use serde_json::json;

/// The app named `name`, created when the organization has none.
async fn find_or_create_app(client: &Client, name: &str) -> Result<types::App, ListError> {
    let apps: Vec<types::App> = client.apps_stream(AppFilter::default(), None).try_collect().await?;
    if let Some(found) = apps.into_iter().find(|app| app.name.as_str() == name) {
        return Ok(found);
    }
    let request: types::CreateAppRequest = serde_json::from_value(json!({"name": name})).expect("a valid request");
    Ok(client.create_app(None, &request).await?.into_inner().app)
}

fn app(id: &str, name: &str) -> types::App {
    serde_json::from_value(json!({
        "id": id, "organization_id": "0190f5c4-7c4e-7b3a-9d7e-000000000001", "name": name,
        "description": null, "api_key": "ak_4sXb0PqkW2rT9vLmN8cZ1yHd6fGj3aEo",
        "api_secret": "as_Zr8Kq2mV5tLw9NcX1bHy4dFg7jPs3aUe6oQi0RkT", "platform": "web", "bundle_id": null,
        "environment": "production", "app_store_url": null, "play_store_url": null, "website_url": null,
        "authorized_domains": [], "data_retention_days": 365, "timezone": "UTC",
        "features": {"push": false, "analytics": false, "audiences": false, "ai_insights": false},
        "status": "active", "engagement_platform": "none", "engagement_credentials": null,
        "email_platform": "none", "email_credentials": null, "webhook_enabled": false, "webhook_url": null,
        "webhook_use_query_params": false, "context_info": null, "url_context": null,
        "cached_user_count": 0, "cached_event_count": 0, "cached_last_event": null, "stats_last_updated": null,
        "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z"
    }))
    .expect("a valid app")
}

fn page(apps: Vec<types::App>, next_cursor: Option<&str>) -> types::AppListResponse {
    types::AppListResponse { success: true, apps, next_cursor: next_cursor.map(str::to_owned) }
}

const CURSOR: &str = "0190f5c47c4e7b3a9d7e000000000010";

#[tokio::test]
async fn an_app_on_a_later_page_is_found_and_nothing_is_created() {
    // Arrange: two pages, the app on the second
    let server = MockServer::start_async().await;
    let wanted = app("0190f5c4-7c4e-7b3a-9d7e-000000000011", "Storefront");
    let first = server.list_apps(|when, then| {
        when.into_inner().query_param_missing("cursor");
        then.ok(&page(vec![app("0190f5c4-7c4e-7b3a-9d7e-000000000010", "Backoffice")], Some(CURSOR)));
    });
    let second = server.list_apps(|when, then| {
        when.cursor(&CURSOR.parse::<types::ListAppsCursor>().unwrap());
        then.ok(&page(vec![wanted.clone()], None));
    });
    let create = server.create_app(|_, then| {
        then.created(&types::AppResponse { success: true, app: app("0190f5c4-7c4e-7b3a-9d7e-000000000012", "x") });
    });
    let client = Client::with_token(&server.base_url(), "apps_test").unwrap();

    // Act
    let found = find_or_create_app(&client, "Storefront").await.expect("the app is found");

    // Assert
    assert_eq!(found.id, wanted.id);
    first.assert_async().await;
    second.assert_async().await;
    create.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_missing_app_is_created_with_the_name_asked_for() {
    // Arrange
    let server = MockServer::start_async().await;
    server.list_apps(|_, then| {
        then.ok(&page(vec![], None));
    });
    let created = app("0190f5c4-7c4e-7b3a-9d7e-000000000013", "Storefront");
    let create = server.create_app(|when, then| {
        when.body(&serde_json::from_value(json!({"name": "Storefront"})).unwrap());
        then.created(&types::AppResponse { success: true, app: created.clone() });
    });
    let client = Client::with_token(&server.base_url(), "apps_test").unwrap();

    // Act
    let app = find_or_create_app(&client, "Storefront").await.expect("the app is created");

    // Assert
    assert_eq!(app.id, created.id);
    create.assert_async().await;
}

#[tokio::test]
async fn a_refusal_reaches_the_caller_with_its_error_body() {
    // Arrange
    let server = MockServer::start_async().await;
    server.list_apps(|_, then| {
        then.forbidden(&types::ErrorBody {
            success: false,
            error: "API key disabled".to_owned(),
            code: "token_disabled".to_owned(),
        });
    });
    let client = Client::with_token(&server.base_url(), "apps_test").unwrap();

    // Act
    let error = find_or_create_app(&client, "Storefront").await.expect_err("the list is refused");

    // Assert
    match error {
        appdeck_client::Error::ErrorResponse(response) => {
            assert_eq!(response.status(), 403);
            assert_eq!(response.code, "token_disabled");
        }
        other => panic!("expected the documented 403, got {other:?}"),
    }
}
