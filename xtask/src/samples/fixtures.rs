//! What samples act on, made through the API before each sample: a fresh
//! app, token, webhook endpoint or delivery, so that a sample that deletes
//! or changes one never disturbs the next.

use std::{cell::Cell, collections::BTreeMap, time::Duration};

use reqwest::Method;
use serde_json::{Value, json};

use super::expectations::Fixture;

pub struct Api {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    base_url: String,
    token: String,
    made: Cell<u32>,
}

impl Api {
    pub fn new(base_url: &str, token: &str) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| format!("tokio runtime: {error}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|error| format!("http client: {error}"))?;
        Ok(Self { runtime, http, base_url: base_url.to_owned(), token: token.to_owned(), made: Cell::new(0) })
    }

    fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut request =
            self.http.request(method.clone(), format!("{}{path}", self.base_url)).header("X-API-Key", &self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.runtime.block_on(async {
            let response = request.send().await.map_err(|error| format!("{method} {path}: {error}"))?;
            let status = response.status();
            let text = response.text().await.map_err(|error| format!("{method} {path}: {error}"))?;
            if !status.is_success() {
                return Err(format!("{method} {path} answered {status}: {text}"));
            }
            serde_json::from_str(&text).map_err(|error| format!("{method} {path}: {error}"))
        })
    }

    /// ORGANIZATION_ID and CALLER_TOKEN_ID: who the samples call as.
    pub fn caller(&self) -> Result<BTreeMap<String, String>, String> {
        let me = self.call(Method::GET, "/v1/me", None)?;
        Ok(BTreeMap::from([
            ("ORGANIZATION_ID".to_owned(), text(&me, "/organization/id")?),
            ("CALLER_TOKEN_ID".to_owned(), text(&me, "/token/id")?),
        ]))
    }

    /// Revokes every live token but the caller's. A token's label is unique
    /// among live tokens, so a sample that creates or relabels one would
    /// collide with the same sample of the language before it.
    pub fn revoke_tokens_but(&self, caller_token_id: &str) -> Result<(), String> {
        let listed = self.call(Method::GET, "/v1/api-tokens?limit=100", None)?;
        for token in listed["tokens"].as_array().into_iter().flatten() {
            let id = text(token, "/id")?;
            if id != caller_token_id {
                self.call(Method::DELETE, &format!("/v1/api-tokens/{id}"), None)?;
            }
        }
        Ok(())
    }

    /// Makes `fixtures` and adds their names to `variables`.
    pub fn make(&self, fixtures: &[Fixture], variables: &mut BTreeMap<String, String>) -> Result<(), String> {
        let number = self.made.get() + 1;
        self.made.set(number);
        let wants = |fixture| fixtures.contains(&fixture);
        // The app is made after the endpoint, so its app.created event is one of the endpoint's deliveries.
        if wants(Fixture::Endpoint) || wants(Fixture::Delivery) {
            let url = format!("https://hooks.example.com/fixture-{number}");
            let created = self.call(Method::POST, "/v1/webhook-endpoints", Some(json!({ "url": url })))?;
            variables.insert("ENDPOINT_ID".into(), text(&created, "/webhook_endpoint/id")?);
            variables.insert("ENDPOINT_URL".into(), url);
        }
        if wants(Fixture::App) || wants(Fixture::Delivery) {
            let name = format!("Fixture app {number}");
            let created = self.call(Method::POST, "/v1/apps", Some(json!({ "name": name })))?;
            variables.insert("APP_ID".into(), text(&created, "/app/id")?);
            variables.insert("APP_NAME".into(), name);
        }
        if wants(Fixture::Token) {
            let label = format!("fixture token {number}");
            let created = self.call(Method::POST, "/v1/api-tokens", Some(json!({ "label": label, "role": "ci" })))?;
            variables.insert("TOKEN_ID".into(), text(&created, "/token/id")?);
            variables.insert("TOKEN_LABEL".into(), label);
        }
        if wants(Fixture::Delivery) {
            let path = format!("/v1/webhook-endpoints/{}/deliveries", variables["ENDPOINT_ID"]);
            let listed = self.call(Method::GET, &path, None)?;
            let delivery = listed["deliveries"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|delivery| delivery["event_type"] == "app.created")
                .ok_or_else(|| format!("the new app's app.created event is not among {path}: {listed}"))?;
            variables.insert("DELIVERY_ID".into(), text(delivery, "/id")?);
        }
        Ok(())
    }
}

fn text(value: &Value, pointer: &str) -> Result<String, String> {
    value.pointer(pointer).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("no {pointer} in {value}"))
}
