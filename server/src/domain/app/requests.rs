//! The bodies that make and change an app, and the fields of `App` they may
//! not name.

use serde::Deserialize;
use utoipa::{ToSchema, openapi::Object};

use super::{AppStatus, Credentials, EmailPlatform, EngagementPlatform, Environment};
use crate::domain::{
    RequestBody, fields,
    rules::{self, AuthorizedDomain, CredentialsInput, HttpUrl, HttpsUrl},
};

pub(super) const DESCRIPTION_MAX_CHARS: usize = 1000;
pub(super) const CONTEXT_INFO_MAX_CHARS: usize = 5000;

/// The features to set; a feature left out keeps its value (false on create).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppFeaturesInput {
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub push: Option<bool>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub analytics: Option<bool>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub audiences: Option<bool>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub ai_insights: Option<bool>,
}

/// The body of `POST /v1/apps`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppRequest {
    #[schema(schema_with = name_schema)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = description_schema)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub environment: Option<Environment>,
    #[serde(default)]
    #[schema(value_type = Option<HttpUrl>)]
    pub app_store_url: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<HttpUrl>)]
    pub play_store_url: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<HttpUrl>)]
    pub website_url: Option<String>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(value_type = Option<Vec<AuthorizedDomain>>, nullable = false, max_items = 100)]
    pub authorized_domains: Option<Vec<String>>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false, minimum = 1, maximum = 3650)]
    pub data_retention_days: Option<i32>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false, format = "iana-time-zone")]
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub features: Option<AppFeaturesInput>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub status: Option<AppStatus>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub engagement_platform: Option<EngagementPlatform>,
    /// Required when `engagement_platform` is not `none`, null when it is.
    #[serde(default)]
    #[schema(value_type = Option<CredentialsInput>)]
    pub engagement_credentials: Option<Credentials>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub email_platform: Option<EmailPlatform>,
    /// Required when `email_platform` is not `none`, null when it is.
    #[serde(default)]
    #[schema(value_type = Option<CredentialsInput>)]
    pub email_credentials: Option<Credentials>,
    /// When true, `webhook_url` is required.
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub webhook_enabled: Option<bool>,
    /// An absolute https URL.
    #[serde(default)]
    #[schema(value_type = Option<HttpsUrl>)]
    pub webhook_url: Option<String>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub webhook_use_query_params: Option<bool>,
    #[serde(default)]
    #[schema(schema_with = context_info_schema)]
    pub context_info: Option<String>,
}

/// The body of `PATCH /v1/apps/{id}`: an absent field is left alone, `null`
/// clears a nullable field. `Option<Option<T>>` keeps those two apart.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAppRequest {
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(schema_with = name_schema)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(schema_with = description_schema)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub environment: Option<Environment>,
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(value_type = Option<HttpUrl>)]
    pub app_store_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(value_type = Option<HttpUrl>)]
    pub play_store_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(value_type = Option<HttpUrl>)]
    pub website_url: Option<Option<String>>,
    /// The new list, replacing the old one; `null` or `[]` removes every domain.
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(value_type = Option<Vec<AuthorizedDomain>>, max_items = 100)]
    pub authorized_domains: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false, minimum = 1, maximum = 3650)]
    pub data_retention_days: Option<i32>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false, format = "iana-time-zone")]
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub features: Option<AppFeaturesInput>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub status: Option<AppStatus>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub engagement_platform: Option<EngagementPlatform>,
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(value_type = Option<CredentialsInput>)]
    pub engagement_credentials: Option<Option<Credentials>>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub email_platform: Option<EmailPlatform>,
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(value_type = Option<CredentialsInput>)]
    pub email_credentials: Option<Option<Credentials>>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub webhook_enabled: Option<bool>,
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(value_type = Option<HttpsUrl>)]
    pub webhook_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(nullable = false)]
    pub webhook_use_query_params: Option<bool>,
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(schema_with = context_info_schema)]
    pub context_info: Option<Option<String>>,
}

fn name_schema() -> Object {
    rules::name_schema("Trimmed; 1-100 characters.")
}

fn description_schema() -> Object {
    rules::free_text_schema(DESCRIPTION_MAX_CHARS)
}

fn context_info_schema() -> Object {
    rules::free_text_schema(CONTEXT_INFO_MAX_CHARS)
}

/// The fields of `App` that no request may set.
const APP_READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "organization_id",
    "api_key",
    "api_secret",
    "platform",
    "bundle_id",
    "url_context",
    "cached_user_count",
    "cached_event_count",
    "cached_last_event",
    "stats_last_updated",
    "created_at",
    "updated_at",
];

impl RequestBody for CreateAppRequest {
    const READ_ONLY_FIELDS: &'static [&'static str] = APP_READ_ONLY_FIELDS;
}

impl RequestBody for UpdateAppRequest {
    const READ_ONLY_FIELDS: &'static [&'static str] = APP_READ_ONLY_FIELDS;
}

/// A create is an update of the defaults. Destructured whole, so a field
/// added to `CreateAppRequest` does not compile until it is passed on.
impl From<CreateAppRequest> for UpdateAppRequest {
    fn from(request: CreateAppRequest) -> Self {
        let CreateAppRequest {
            name,
            description,
            environment,
            app_store_url,
            play_store_url,
            website_url,
            authorized_domains,
            data_retention_days,
            timezone,
            features,
            status,
            engagement_platform,
            engagement_credentials,
            email_platform,
            email_credentials,
            webhook_enabled,
            webhook_url,
            webhook_use_query_params,
            context_info,
        } = request;
        Self {
            name: Some(name),
            description: Some(description),
            environment,
            app_store_url: Some(app_store_url),
            play_store_url: Some(play_store_url),
            website_url: Some(website_url),
            authorized_domains: authorized_domains.map(Some),
            data_retention_days,
            timezone,
            features,
            status,
            engagement_platform,
            engagement_credentials: Some(engagement_credentials),
            email_platform,
            email_credentials: Some(email_credentials),
            webhook_enabled,
            webhook_url: Some(webhook_url),
            webhook_use_query_params,
            context_info: Some(context_info),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_field_of_an_app_is_read_only_or_set_by_both_requests() {
        let document = serde_json::to_value(crate::api::openapi()).unwrap();
        let fields = |schema: &str| -> BTreeSet<String> {
            document["components"]["schemas"][schema]["properties"].as_object().unwrap().keys().cloned().collect()
        };
        let read_only: BTreeSet<String> = APP_READ_ONLY_FIELDS.iter().map(|field| (*field).to_owned()).collect();
        let writable = fields("UpdateAppRequest");
        assert_eq!(fields("CreateAppRequest"), writable);
        assert!(read_only.is_disjoint(&writable), "{:?}", read_only.intersection(&writable));
        assert_eq!(fields("App"), read_only.union(&writable).cloned().collect());
    }
}
