//! `list` verbs print the whole list: they read the flags progenitor
//! generated for the operation and follow `next_cursor` page after page
//! (`--limit` is the page size; `--cursor` starts later).

use std::future::Future;

use appdeck_client::cli::{
    CliCommand,
    sdk::{self, types},
};
use clap::ArgMatches;
use serde_json::Value;

use crate::output::{Printer, Reported};

type ListError = sdk::Error<types::ErrorBody>;

pub async fn print_all(
    client: &sdk::Client,
    command: CliCommand,
    matches: &ArgMatches,
    printer: &Printer,
) -> anyhow::Result<()> {
    let limit = matches.get_one::<std::num::NonZeroU64>("limit").copied();
    let items = match command {
        CliCommand::ListApps => {
            let environment = matches.get_one::<types::Environment>("environment").copied();
            let status = matches.get_one::<types::AppStatus>("status").copied();
            let first = matches.get_one::<types::ListAppsCursor>("cursor").map(|cursor| cursor.to_string());
            every_page(first, |cursor| async move {
                let mut request = client.list_apps();
                if let Some(cursor) = cursor {
                    request = request.cursor(cursor);
                }
                if let Some(environment) = environment {
                    request = request.environment(environment);
                }
                if let Some(status) = status {
                    request = request.status(status);
                }
                if let Some(limit) = limit {
                    request = request.limit(limit);
                }
                let page = request.send().await?.into_inner();
                Ok((values(&page.apps), page.next_cursor))
            })
            .await
        }
        CliCommand::ListApiTokens => {
            let first = matches.get_one::<types::ListApiTokensCursor>("cursor").map(|cursor| cursor.to_string());
            every_page(first, |cursor| async move {
                let mut request = client.list_api_tokens();
                if let Some(cursor) = cursor {
                    request = request.cursor(cursor);
                }
                if let Some(limit) = limit {
                    request = request.limit(limit);
                }
                let page = request.send().await?.into_inner();
                Ok((values(&page.tokens), page.next_cursor))
            })
            .await
        }
        CliCommand::ListAuditEvents => {
            let action = matches.get_one::<types::AuditAction>("action").copied();
            let actor_id = matches.get_one::<uuid::Uuid>("actor-id").copied();
            let target_id = matches.get_one::<uuid::Uuid>("target-id").copied();
            let since = matches.get_one::<chrono::DateTime<chrono::Utc>>("since").copied();
            let until = matches.get_one::<chrono::DateTime<chrono::Utc>>("until").copied();
            let first = matches.get_one::<types::ListAuditEventsCursor>("cursor").map(|cursor| cursor.to_string());
            every_page(first, |cursor| async move {
                let mut request = client.list_audit_events();
                if let Some(cursor) = cursor {
                    request = request.cursor(cursor);
                }
                if let Some(action) = action {
                    request = request.action(action);
                }
                if let Some(actor_id) = actor_id {
                    request = request.actor_id(actor_id);
                }
                if let Some(target_id) = target_id {
                    request = request.target_id(target_id);
                }
                if let Some(since) = since {
                    request = request.since(since);
                }
                if let Some(until) = until {
                    request = request.until(until);
                }
                if let Some(limit) = limit {
                    request = request.limit(limit);
                }
                let page = request.send().await?.into_inner();
                Ok((values(&page.events), page.next_cursor))
            })
            .await
        }
        CliCommand::ListWebhookEndpoints => {
            let first = matches.get_one::<types::ListWebhookEndpointsCursor>("cursor").map(|cursor| cursor.to_string());
            every_page(first, |cursor| async move {
                let mut request = client.list_webhook_endpoints();
                if let Some(cursor) = cursor {
                    request = request.cursor(cursor);
                }
                if let Some(limit) = limit {
                    request = request.limit(limit);
                }
                let page = request.send().await?.into_inner();
                Ok((values(&page.webhook_endpoints), page.next_cursor))
            })
            .await
        }
        CliCommand::ListWebhookDeliveries => {
            let id = matches.get_one::<uuid::Uuid>("id").copied().expect("clap requires --id");
            let first =
                matches.get_one::<types::ListWebhookDeliveriesCursor>("cursor").map(|cursor| cursor.to_string());
            every_page(first, |cursor| async move {
                let mut request = client.list_webhook_deliveries().id(id);
                if let Some(cursor) = cursor {
                    request = request.cursor(cursor);
                }
                if let Some(limit) = limit {
                    request = request.limit(limit);
                }
                let page = request.send().await?.into_inner();
                Ok((values(&page.deliveries), page.next_cursor))
            })
            .await
        }
        other => unreachable!("{} is not a list", other.operation_id()),
    };
    match items {
        Ok(items) => {
            printer.list(&items);
            Ok(())
        }
        Err(error) => {
            printer.api_error(&error);
            Err(Reported.into())
        }
    }
}

/// Items of `fetch_page(cursor)` from `first` until a page has no next cursor.
async fn every_page<F, Fut>(first: Option<String>, mut fetch_page: F) -> Result<Vec<Value>, ListError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<Value>, Option<String>), ListError>>,
{
    let mut items = Vec::new();
    let mut cursor = first;
    loop {
        let (page, next_cursor) = fetch_page(cursor).await?;
        items.extend(page);
        match next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

fn values<T: serde::Serialize>(items: &[T]) -> Vec<Value> {
    items.iter().map(|item| serde_json::to_value(item).expect("API types serialise")).collect()
}
