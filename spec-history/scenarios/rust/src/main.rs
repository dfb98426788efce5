//! The compatibility scenario in Rust: what an integrator's code written
//! against the oldest released spec's client does, run against the current
//! server. Each step prints `step ID ok` or `step ID failed: REASON`, and the
//! steps after a failed one still run, so that `cargo xtask compat` can
//! judge every step against the acknowledged breaking changes. progenitor's
//! types refuse unknown enum values and missing required fields, so every
//! decoded response is decoded strictly.
//!
//! usage: appdeck-compat-scenario BASE_URL TOKEN

use std::{future::Future, process::ExitCode};

use appdeck_compat_scenario::{Client, types};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, token] = arguments.as_slice() else {
        eprintln!("usage: appdeck-compat-scenario BASE_URL TOKEN");
        return ExitCode::from(2);
    };
    let client = match client(base_url, token) {
        Ok(client) => client,
        Err(reason) => {
            eprintln!("{reason}");
            return ExitCode::FAILURE;
        }
    };

    report("identity", identity(&client).await);
    report("organization-get", organization_get(&client).await);
    report("organization-update", organization_update(&client).await);
    let apps = report("app-create", app_create(&client).await);
    after("app-get", apps.as_ref(), |(first, _)| app_get(&client, first)).await;
    after("app-list-cursors", apps.as_ref(), |(first, second)| app_list_cursors(&client, first, second)).await;
    after("app-update", apps.as_ref(), |(first, _)| app_update(&client, first)).await;
    after("app-rotate-secret", apps.as_ref(), |(first, _)| app_rotate_secret(&client, first)).await;
    report("error-body", error_body(&client).await);
    after("app-delete", apps.as_ref(), |(first, _)| app_delete(&client, first)).await;
    ExitCode::SUCCESS
}

fn client(base_url: &str, token: &str) -> Result<Client, String> {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = reqwest::header::HeaderValue::from_str(token).map_err(|error| format!("token: {error}"))?;
    headers.insert("X-API-Key", value);
    let http = reqwest::Client::builder().default_headers(headers).build().map_err(|error| error.to_string())?;
    Ok(Client::new_with_client(base_url, http))
}

fn report<T>(id: &str, outcome: Result<T, String>) -> Option<T> {
    match outcome {
        Ok(value) => {
            println!("step {id} ok");
            Some(value)
        }
        Err(reason) => {
            println!("step {id} failed: {}", reason.replace('\n', " "));
            None
        }
    }
}

/// A step that needs what an earlier one made; it fails when that one did.
async fn after<'a, T, F, Step>(id: &str, earlier: Option<&'a T>, step: F)
where
    F: FnOnce(&'a T) -> Step,
    Step: Future<Output = Result<(), String>>,
{
    let outcome = match earlier {
        Some(value) => step(value).await,
        None => Err("the step it needs failed".to_owned()),
    };
    report(id, outcome);
}

/// Why a call failed; for a response the client cannot decode, serde's
/// error without the body, which holds the app's secrets.
fn reason(error: progenitor_client::Error<types::ErrorBody>) -> String {
    match error {
        progenitor_client::Error::InvalidResponsePayload(_, decode) => format!("invalid response payload: {decode}"),
        other => other.to_string(),
    }
}

fn check(condition: bool, message: &str) -> Result<(), String> {
    if condition { Ok(()) } else { Err(message.to_owned()) }
}

fn request<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(body).map_err(|error| format!("the old client's request type refuses it: {error}"))
}

async fn identity(client: &Client) -> Result<(), String> {
    let me = client.get_current_token().await.map_err(reason)?.into_inner();
    check(me.success && me.token.role == types::TokenRole::Admin, "the token is an admin token")?;
    check(me.token.status == types::TokenStatus::Active, "the token is active")
}

async fn organization_get(client: &Client) -> Result<(), String> {
    let organization = client.get_organization().await.map_err(reason)?.into_inner();
    check(organization.success && organization.organization.rate_limit_per_hour > 0, "the organization's fields")
}

async fn organization_update(client: &Client) -> Result<(), String> {
    let body: types::UpdateOrganizationRequest = request(json!({"name": "Compatibility Inc."}))?;
    let updated = client.update_organization(&body).await.map_err(reason)?.into_inner();
    check(updated.organization.name.as_str() == "Compatibility Inc.", "the new name")
}

async fn app_create(client: &Client) -> Result<(types::App, types::App), String> {
    let body: types::CreateAppRequest =
        request(json!({"name": "Rust app", "environment": "staging", "features": {"push": true}}))?;
    let first = client.create_app(&body).await.map_err(reason)?;
    check(first.status() == 201, "201 Created")?;
    let first = first.into_inner().app;
    check(first.environment == types::Environment::Staging && first.features.push, "the created app's fields")?;
    check(first.status == types::AppStatus::Active && first.api_key.starts_with("ak_"), "the server's defaults")?;
    let body: types::CreateAppRequest = request(json!({"name": "Second Rust app"}))?;
    let second = client.create_app(&body).await.map_err(reason)?.into_inner().app;
    Ok((first, second))
}

async fn app_get(client: &Client, app: &types::App) -> Result<(), String> {
    let got = client.get_app(&app.id).await.map_err(reason)?.into_inner().app;
    check(got.id == app.id && got.name == app.name, "the same app")
}

async fn app_list_cursors(client: &Client, first: &types::App, second: &types::App) -> Result<(), String> {
    let limit = std::num::NonZeroU64::MIN;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = client.list_apps(cursor.as_deref(), None, Some(limit), None).await.map_err(reason)?.into_inner();
        pages += 1;
        seen.extend(page.apps.iter().map(|listed| listed.id));
        match page.next_cursor {
            Some(next) if pages < 10 => cursor = Some(next),
            Some(_) => return Err("more pages than apps".to_owned()),
            None => break,
        }
    }
    check(seen == [first.id, second.id], "both apps, oldest first, one per page")
}

async fn app_update(client: &Client, app: &types::App) -> Result<(), String> {
    let body: types::UpdateAppRequest = request(
        json!({"description": "Typed", "webhook_enabled": true, "webhook_url": "https://hooks.example.com/appdeck"}),
    )?;
    let updated = client.update_app(&app.id, &body).await.map_err(reason)?.into_inner().app;
    check(
        updated.description.as_deref().map(String::as_str) == Some("Typed") && updated.webhook_enabled,
        "the updated fields",
    )
}

async fn app_rotate_secret(client: &Client, app: &types::App) -> Result<(), String> {
    let rotated = client.rotate_app_secret(&app.id).await.map_err(reason)?.into_inner().app;
    check(rotated.api_secret != app.api_secret, "a new secret")
}

async fn error_body(client: &Client) -> Result<(), String> {
    let body: types::CreateAppRequest = request(json!({"name": " "}))?;
    match client.create_app(&body).await {
        Err(progenitor_client::Error::ErrorResponse(refused)) => {
            check(refused.status() == 400, "400")?;
            check(!refused.success && refused.code == "validation_failed", "the error body")
        }
        Ok(created) => Err(format!("a blank name was accepted ({})", created.status())),
        Err(other) => Err(reason(other)),
    }
}

async fn app_delete(client: &Client, app: &types::App) -> Result<(), String> {
    let deleted = client.delete_app(&app.id).await.map_err(reason)?.into_inner();
    check(deleted.success, "success")?;
    match client.get_app(&app.id).await {
        Err(progenitor_client::Error::ErrorResponse(gone)) => {
            check(gone.status() == 404 && gone.code == "not_found", "404 not_found after the delete")
        }
        Ok(_) => Err("the deleted app is still there".to_owned()),
        Err(other) => Err(reason(other)),
    }
}
