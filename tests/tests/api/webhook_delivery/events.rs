//! Every event type the API writes arrives signed, in the documented shape,
//! naming what changed but never a value or a secret.

use std::collections::{HashMap, HashSet};

use appdeck_tests::spawn_app_delivering_webhooks_with;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Received, Receiver, assert_signed, call, create_endpoint};

/// One write the test made: its event type, its `X-Request-Id`, its
/// target's type and id.
struct Write {
    event_type: &'static str,
    request_id: String,
    target_type: &'static str,
    target_id: String,
}

/// Every string under a key named `secret` or `api_secret`, anywhere in `value`.
fn secrets_in(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                match (key.as_str(), field) {
                    ("secret" | "api_secret", Value::String(secret)) => found.push(secret.clone()),
                    _ => secrets_in(field, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| secrets_in(item, found)),
        _ => {}
    }
}

#[tokio::test]
async fn every_event_type_arrives_signed_shaped_and_without_secrets() {
    // Arrange
    let app = spawn_app_delivering_webhooks_with(|_| {}).await;
    let receiver = Receiver::start().await;
    let other_receiver = Receiver::start().await;
    let (_, secret) = create_endpoint(&app, &receiver.url, None).await;
    let (_, me, _) = call(&app, Method::GET, "/v1/me", None).await;
    let admin_id = me["token"]["id"].as_str().expect("the admin token's id").to_owned();
    let mut secrets = vec![app.admin_token.clone(), secret.clone()];
    let mut writes = Vec::new();
    let mut masked_tokens = HashMap::new();
    let description = "a description whose value must never be sent";

    // Act: one write of every type, through the API.
    let mut write = async |event_type, method, path: String, body, target_type, target_id: Option<String>| {
        let (status, answer, request_id) = call(&app, method, &path, body).await;
        assert!((200..300).contains(&status), "{event_type}: {status} {answer}");
        secrets_in(&answer, &mut secrets);
        let target_id = target_id.unwrap_or_else(|| {
            let created = answer.as_object().and_then(|fields| fields.values().find_map(|field| field.get("id")));
            created.and_then(Value::as_str).expect("the created resource's id").to_owned()
        });
        if let Some(masked) = answer["token"]["masked_token"].as_str() {
            masked_tokens.insert(event_type, masked.to_owned());
        }
        writes.push(Write { event_type, request_id, target_type, target_id: target_id.clone() });
        target_id
    };
    let app_id =
        write("app.created", Method::POST, "/v1/apps".into(), Some(json!({"name": "Storefront"})), "app", None).await;
    let app_path = format!("/v1/apps/{app_id}");
    let some = Some(app_id.clone());
    write(
        "app.updated",
        Method::PATCH,
        app_path.clone(),
        Some(json!({"description": description})),
        "app",
        some.clone(),
    )
    .await;
    write("app.secret_rotated", Method::POST, format!("{app_path}/rotate-secret"), None, "app", some.clone()).await;
    write("app.deleted", Method::DELETE, app_path, None, "app", some).await;
    let created = json!({"label": "deploy pipeline", "role": "developer"});
    let token_id = write("token.created", Method::POST, "/v1/api-tokens".into(), Some(created), "token", None).await;
    let token_path = format!("/v1/api-tokens/{token_id}");
    let some = Some(token_id.clone());
    let label = Some(json!({"label": "release pipeline"}));
    write("token.updated", Method::PATCH, token_path.clone(), label, "token", some.clone()).await;
    write("token.rolled", Method::POST, format!("{token_path}/roll"), Some(json!({})), "token", some.clone()).await;
    write("token.revoked", Method::DELETE, token_path, None, "token", some).await;
    let url = Some(json!({"url": other_receiver.url}));
    let endpoint_id =
        write("webhook_endpoint.created", Method::POST, "/v1/webhook-endpoints".into(), url, "webhook_endpoint", None)
            .await;
    let endpoint_path = format!("/v1/webhook-endpoints/{endpoint_id}");
    let some = Some(endpoint_id.clone());
    let changed = Some(json!({"description": description}));
    write("webhook_endpoint.updated", Method::PATCH, endpoint_path.clone(), changed, "webhook_endpoint", some.clone())
        .await;
    let rotate = format!("{endpoint_path}/rotate-secret");
    write("webhook_endpoint.secret_rotated", Method::POST, rotate, None, "webhook_endpoint", some.clone()).await;
    write("webhook_endpoint.deleted", Method::DELETE, endpoint_path, None, "webhook_endpoint", some).await;
    let types: Vec<&str> = writes.iter().map(|write| write.event_type).collect();
    let received = receiver.wait_for_types(&types).await;

    // Assert
    assert!(secrets.len() >= 6, "the test knows the secrets it made: {}", secrets.len());
    let ids: HashSet<&str> = received.iter().map(Received::id).collect();
    assert_eq!(ids.len(), received.len(), "no event arrived twice");
    for delivery in &received {
        assert_signed(delivery, &secret);
        let text = String::from_utf8_lossy(&delivery.body);
        for known in &secrets {
            assert!(!text.contains(known.as_str()), "a secret in a delivery: {text}");
        }
        assert!(!text.contains(description), "a changed value in a delivery: {text}");
    }
    for write in &writes {
        let delivery = received
            .iter()
            .find(|delivery| {
                let event = delivery.event();
                event["type"] == write.event_type && event["data"]["target"]["id"] == write.target_id.as_str()
            })
            .unwrap_or_else(|| panic!("no {} delivery for {}", write.event_type, write.target_id));
        let event = delivery.event();
        assert_eq!(event["id"], delivery.id(), "{}: the body's id is the webhook-id", write.event_type);
        let timestamp = event["timestamp"].as_str().expect("a timestamp");
        chrono::DateTime::parse_from_rfc3339(timestamp).expect("an RFC 3339 timestamp");
        assert_eq!(event["data"]["actor"]["id"], admin_id.as_str(), "{}: the actor", write.event_type);
        assert_eq!(event["data"]["request_id"], write.request_id.as_str(), "{}: the request id", write.event_type);
        let target = &event["data"]["target"];
        assert_eq!(target["type"], write.target_type, "{}: {target}", write.event_type);
        assert!(target["changes"].is_array(), "{}: changes is a list: {target}", write.event_type);
        match write.target_type {
            "app" => assert!(target["name"].is_string(), "an app's target has its name: {target}"),
            "token" => {
                assert_eq!(target["role"], "developer", "{target}");
                assert_eq!(target["created_by"]["id"], admin_id.as_str(), "{target}");
                let masked = target["masked_token"].as_str().expect("a token's target has its masked form");
                assert!(masked.contains('…') && masked.chars().count() == 14, "not masked: {masked}");
                if let Some(expected) = masked_tokens.get(write.event_type) {
                    assert_eq!(masked, expected, "{}: {target}", write.event_type);
                }
            }
            _ => assert_eq!(target["url"], other_receiver.url.as_str(), "{target}"),
        }
    }
    let updated = |event_type: &str| {
        let delivery = received.iter().find(|delivery| delivery.event_type() == event_type).unwrap();
        delivery.event()["data"]["target"]["changes"].clone()
    };
    assert_eq!(updated("app.updated"), json!(["description"]));
    assert_eq!(updated("token.updated"), json!(["label"]));
    assert_eq!(updated("webhook_endpoint.updated"), json!(["description"]));
}
