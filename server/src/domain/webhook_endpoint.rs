//! Webhook endpoints as the API shows them: where an organization's events
//! are delivered, and which of them. Never with their signing secret, which
//! only the create and rotate answers carry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{ToSchema, openapi::Object};
use uuid::Uuid;

use super::{
    RequestBody, ValidationError,
    audit::AuditAction,
    fields,
    rules::{self, HttpUrl, Schemes},
};

pub const DESCRIPTION_MAX_CHARS: usize = 500;

/// Where events are delivered.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WebhookEndpoint {
    #[schema(read_only)]
    pub id: Uuid,
    #[schema(example = "https://hooks.example.com/appdeck")]
    pub url: String,
    #[schema(required = true, max_length = 500)]
    pub description: Option<String>,
    /// The event types delivered to this endpoint; null: every type.
    #[schema(required = true, example = json!(["app.created", "app.deleted"]))]
    pub event_types: Option<Vec<AuditAction>>,
    /// Whether events are delivered to it.
    pub enabled: bool,
    /// Why the server disabled the endpoint (it failed for too long); null
    /// unless the server did. Enabling it again clears it.
    #[schema(required = true, read_only)]
    pub disabled_reason: Option<String>,
    #[schema(read_only)]
    pub created_at: DateTime<Utc>,
    #[schema(read_only)]
    pub updated_at: DateTime<Utc>,
}

/// The fields of `WebhookEndpoint` that no request may set.
const READ_ONLY_FIELDS: &[&str] = &["id", "disabled_reason", "created_at", "updated_at"];

/// The body of `POST /v1/webhook-endpoints`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpointRequest {
    /// https; plain http only on a host `APPDECK_WEBHOOK_ALLOWED_HOSTS` allows.
    #[schema(value_type = HttpUrl)]
    pub url: String,
    #[serde(default)]
    #[schema(schema_with = description_schema)]
    pub description: Option<String>,
    /// The event types to deliver; null or absent: every type.
    #[serde(default)]
    #[schema(min_items = 1)]
    pub event_types: Option<Vec<AuditAction>>,
    /// Default true.
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
}

impl RequestBody for CreateWebhookEndpointRequest {
    const READ_ONLY_FIELDS: &'static [&'static str] = READ_ONLY_FIELDS;
}

/// The body of `PATCH /v1/webhook-endpoints/{id}`: what it names changes.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookEndpointRequest {
    /// https; plain http only on a host `APPDECK_WEBHOOK_ALLOWED_HOSTS` allows.
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(value_type = Option<HttpUrl>, nullable = false)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(schema_with = description_schema)]
    pub description: Option<Option<String>>,
    /// The event types to deliver; null: every type.
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(value_type = Option<Vec<AuditAction>>, min_items = 1)]
    pub event_types: Option<Option<Vec<AuditAction>>>,
    /// Enabling an endpoint the server disabled clears `disabled_reason`.
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
}

impl RequestBody for UpdateWebhookEndpointRequest {
    const READ_ONLY_FIELDS: &'static [&'static str] = READ_ONLY_FIELDS;
}

/// An update whose every field passed its rule: what the store applies to
/// the stored endpoint, in the write's transaction.
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    url: Option<String>,
    description: Option<Option<String>>,
    event_types: Option<Option<Vec<AuditAction>>>,
    enabled: Option<bool>,
}

impl UpdateWebhookEndpointRequest {
    pub fn validated(self, hosts: &impl PlainHttpHosts) -> Result<EndpointChanges, ValidationError> {
        let Self { url, description, event_types, enabled } = self;
        Ok(EndpointChanges {
            url: url.map(|url| endpoint_url(url, hosts)).transpose()?,
            description: description
                .map(|text| rules::optional_text(text, "description", DESCRIPTION_MAX_CHARS))
                .transpose()?,
            event_types: event_types.map(|types| types.map(checked_event_types).transpose()).transpose()?,
            enabled,
        })
    }
}

fn description_schema() -> Object {
    rules::free_text_schema(DESCRIPTION_MAX_CHARS)
}

/// Which hosts a plain `http` endpoint URL may name (from
/// `APPDECK_WEBHOOK_ALLOWED_HOSTS`); every other URL must be https.
pub trait PlainHttpHosts {
    fn allows_plain_http(&self, host: &str) -> bool;
}

impl WebhookEndpoint {
    /// A new endpoint from a create request, every rule checked.
    pub fn create(
        request: CreateWebhookEndpointRequest,
        hosts: &impl PlainHttpHosts,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        let CreateWebhookEndpointRequest { url, description, event_types, enabled } = request;
        Ok(Self {
            id: Uuid::now_v7(),
            url: endpoint_url(url, hosts)?,
            description: rules::optional_text(description, "description", DESCRIPTION_MAX_CHARS)?,
            event_types: event_types.map(checked_event_types).transpose()?,
            enabled: enabled.unwrap_or(true),
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies checked changes; answers the names of the fields it
    /// changed, for the audit.
    pub fn apply(&mut self, changes: EndpointChanges, now: DateTime<Utc>) -> Vec<&'static str> {
        let EndpointChanges { url, description, event_types, enabled } = changes;
        let before = self.clone();
        if let Some(url) = url {
            self.url = url;
        }
        if let Some(description) = description {
            self.description = description;
        }
        if let Some(event_types) = event_types {
            self.event_types = event_types;
        }
        if let Some(enabled) = enabled {
            self.enabled = enabled;
            if enabled {
                self.disabled_reason = None;
            }
        }
        let changed = before.changed_fields(self);
        if !changed.is_empty() {
            self.updated_at = now;
        }
        changed
    }

    /// The fields that differ from `self` to `after`, for the audit and the event.
    pub fn changed_fields(&self, after: &Self) -> Vec<&'static str> {
        let Self { id: _, url, description, event_types, enabled, disabled_reason, created_at: _, updated_at: _ } =
            self;
        [
            ("url", *url != after.url),
            ("description", *description != after.description),
            ("event_types", *event_types != after.event_types),
            ("enabled", *enabled != after.enabled),
            ("disabled_reason", *disabled_reason != after.disabled_reason),
        ]
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| name)
        .collect()
    }

    /// Whether an event of `event_type` is delivered here.
    pub fn subscribes_to(&self, event_type: AuditAction) -> bool {
        subscribes(self.event_types.as_deref(), event_type)
    }
}

/// Whether an endpoint with these `event_types` (None: every type) wants `event_type`.
pub fn subscribes(event_types: Option<&[AuditAction]>, event_type: AuditAction) -> bool {
    event_types.is_none_or(|types| types.contains(&event_type))
}

/// The fields a create sets, for the audit.
pub const FIELDS_SET_ON_CREATION: &[&str] = &["url", "description", "event_types", "enabled"];

/// An absolute http(s) URL (see [`rules::HTTP_URL_PATTERN`]); http only on
/// an allowed host, because a plain-text delivery can be read and altered
/// on the way, and a signature does not hide the payload.
fn endpoint_url(url: String, hosts: &impl PlainHttpHosts) -> Result<String, ValidationError> {
    let url = rules::optional_url(Some(url), "url", Schemes::HttpOrHttps)?.unwrap_or_default();
    if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split(['/', '?', ':']).next().unwrap_or_default();
        if !hosts.allows_plain_http(host) {
            return Err(ValidationError::with_code(
                "insecure_webhook_url",
                format!(
                    "`url` must be https; plain http is accepted only for hosts APPDECK_WEBHOOK_ALLOWED_HOSTS \
                     lists, and `{host}` is not one"
                ),
            ));
        }
    }
    Ok(url)
}

/// At least one type, none twice: an endpoint that wants nothing is a
/// mistake, and null already says "every type".
fn checked_event_types(types: Vec<AuditAction>) -> Result<Vec<AuditAction>, ValidationError> {
    if types.is_empty() {
        return Err(ValidationError::new("`event_types` must name at least one event type, or be null for all"));
    }
    if let Some(repeated) = types.iter().enumerate().find(|(index, kind)| types[..*index].contains(kind)) {
        let name = serde_json::to_value(repeated.1).unwrap_or_default();
        return Err(ValidationError::new(format!("`event_types` names {name} twice")));
    }
    Ok(types)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Only(&'static str);

    impl PlainHttpHosts for Only {
        fn allows_plain_http(&self, host: &str) -> bool {
            host == self.0
        }
    }

    fn create(body: serde_json::Value) -> Result<WebhookEndpoint, ValidationError> {
        let request = serde_json::from_value(body).expect("a well-formed request");
        WebhookEndpoint::create(request, &Only("127.0.0.1"), crate::domain::now())
    }

    #[test]
    fn only_a_url_subscribes_to_every_event_type_and_is_enabled() {
        let endpoint = create(serde_json::json!({"url": "https://hooks.example.com/x"})).unwrap();
        assert_eq!((endpoint.event_types.clone(), endpoint.enabled), (None, true));
        assert!(endpoint.subscribes_to(AuditAction::TokenRolled));
    }

    #[test]
    fn plain_http_is_accepted_only_on_an_allowed_host() {
        assert!(create(serde_json::json!({"url": "http://127.0.0.1:8080/hook"})).is_ok());
        let error = create(serde_json::json!({"url": "http://hooks.example.com/hook"})).unwrap_err();
        assert_eq!(error.code, "insecure_webhook_url");
        assert!(create(serde_json::json!({"url": "ftp://hooks.example.com"})).is_err());
    }

    #[test]
    fn event_types_must_be_a_non_empty_set() {
        assert!(create(serde_json::json!({"url": "https://h.example", "event_types": []})).is_err());
        let twice = serde_json::json!({"url": "https://h.example", "event_types": ["app.created", "app.created"]});
        assert!(create(twice).unwrap_err().message.contains("app.created"));
    }

    #[test]
    fn an_update_names_what_it_changed_and_enabling_clears_the_reason() {
        let mut endpoint = create(serde_json::json!({"url": "https://h.example"})).unwrap();
        endpoint.enabled = false;
        endpoint.disabled_reason = Some("failing".to_owned());
        let request: UpdateWebhookEndpointRequest =
            serde_json::from_value(serde_json::json!({"enabled": true, "url": "https://h.example"})).unwrap();
        let changed = endpoint.apply(request.validated(&Only("")).unwrap(), crate::domain::now());
        assert_eq!(changed, ["enabled", "disabled_reason"]);
        assert_eq!(endpoint.disabled_reason, None);
    }
}
