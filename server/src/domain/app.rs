//! Apps: the object of API.md's app table, its defaults, and the rules a
//! create or a partial update must pass before anything is stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    RequestBody, ValidationError, fields,
    rules::{self, AuthorizedDomain, CredentialsInput, HttpUrl, HttpsUrl, Schemes},
};
use crate::secret::random_base62;

mod debug;

/// Credentials of an engagement or email platform: a free-form JSON object.
pub type Credentials = serde_json::Map<String, serde_json::Value>;

const DESCRIPTION_MAX_CHARS: usize = 1000;
const CONTEXT_INFO_MAX_CHARS: usize = 5000;
const API_KEY_RANDOM_CHARS: usize = 32;
const API_SECRET_RANDOM_CHARS: usize = 40;
const DEFAULT_RETENTION_DAYS: i32 = 365;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    #[default]
    Production,
    Staging,
    Development,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppStatus {
    #[default]
    Active,
    Inactive,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EngagementPlatform {
    #[default]
    None,
    Wonderpush,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailPlatform {
    #[default]
    None,
    Brevo,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppFeatures {
    pub push: bool,
    pub analytics: bool,
    pub audiences: bool,
    pub ai_insights: bool,
}

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

#[derive(Clone, PartialEq, Serialize, ToSchema)]
pub struct App {
    #[schema(read_only)]
    pub id: Uuid,
    #[schema(read_only)]
    pub organization_id: Uuid,
    #[schema(min_length = 1, max_length = 100, example = "Storefront")]
    pub name: String,
    #[schema(required = true, max_length = 1000, example = "The public web shop")]
    pub description: Option<String>,
    /// `ak_` and 32 base62 characters.
    #[schema(read_only, example = "ak_4sXb0PqkW2rT9vLmN8cZ1yHd6fGj3aEo")]
    pub api_key: String,
    /// `as_` and 40 base62 characters; masked (`as_…XyZ1`) for `ci` tokens.
    #[schema(read_only, example = "as_Zr8Kq2mV5tLw9NcX1bHy4dFg7jPs3aUe6oQi0RkT")]
    pub api_secret: String,
    /// Always `web` for apps made through the API.
    #[schema(read_only, example = "web")]
    pub platform: String,
    /// Set through the dashboard only.
    #[schema(required = true, read_only)]
    pub bundle_id: Option<String>,
    pub environment: Environment,
    /// An absolute http(s) URL.
    #[schema(required = true, max_length = 2048)]
    pub app_store_url: Option<String>,
    /// An absolute http(s) URL.
    #[schema(required = true, max_length = 2048)]
    pub play_store_url: Option<String>,
    /// An absolute http(s) URL.
    #[schema(required = true, max_length = 2048, example = "https://shop.example.com")]
    pub website_url: Option<String>,
    /// Host names, lower-case; a leading `*.` matches subdomains.
    #[schema(max_items = 100, example = json!(["shop.example.com", "*.shop.example.com"]))]
    pub authorized_domains: Vec<String>,
    #[schema(minimum = 1, maximum = 3650, example = 365)]
    pub data_retention_days: i32,
    /// An IANA time zone name.
    #[schema(format = "iana-time-zone", example = "Europe/Paris")]
    pub timezone: String,
    pub features: AppFeatures,
    pub status: AppStatus,
    pub engagement_platform: EngagementPlatform,
    /// The engagement platform's credentials; null for `ci` tokens.
    #[schema(required = true, value_type = Option<Object>)]
    pub engagement_credentials: Option<Credentials>,
    pub email_platform: EmailPlatform,
    /// The email platform's credentials; null for `ci` tokens.
    #[schema(required = true, value_type = Option<Object>)]
    pub email_credentials: Option<Credentials>,
    pub webhook_enabled: bool,
    /// An absolute https URL.
    #[schema(required = true, max_length = 2048)]
    pub webhook_url: Option<String>,
    pub webhook_use_query_params: bool,
    #[schema(required = true, max_length = 5000)]
    pub context_info: Option<String>,
    /// Filled by the scraper; null until then.
    #[schema(required = true, read_only)]
    pub url_context: Option<String>,
    #[schema(read_only)]
    pub cached_user_count: i64,
    #[schema(read_only)]
    pub cached_event_count: i64,
    #[schema(required = true, read_only)]
    pub cached_last_event: Option<DateTime<Utc>>,
    #[schema(required = true, read_only)]
    pub stats_last_updated: Option<DateTime<Utc>>,
    #[schema(read_only)]
    pub created_at: DateTime<Utc>,
    #[schema(read_only)]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /v1/apps`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppRequest {
    /// Trimmed; 1-100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]*[^\u0000-\u0020\u007F-\u00A0\u061C\u1680\u2000-\u200A\u200E\u200F\u2028\u2029\u202A-\u202F\u205F\u2066-\u2069\u3000][^\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 1000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
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
    #[schema(max_length = 5000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub context_info: Option<String>,
}

/// The body of `PATCH /v1/apps/{id}`: an absent field is left alone, `null`
/// clears a nullable field. `Option<Option<T>>` keeps those two apart.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAppRequest {
    /// Trimmed; 1-100 characters.
    #[serde(default, deserialize_with = "fields::present")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]*[^\u0000-\u0020\u007F-\u00A0\u061C\u1680\u2000-\u200A\u200E\u200F\u2028\u2029\u202A-\u202F\u205F\u2066-\u2069\u3000][^\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(value_type = Option<String>, max_length = 1000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
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
    #[schema(value_type = Option<String>, max_length = 5000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub context_info: Option<Option<String>>,
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

impl From<CreateAppRequest> for UpdateAppRequest {
    fn from(request: CreateAppRequest) -> Self {
        Self {
            name: Some(request.name),
            description: Some(request.description),
            environment: request.environment,
            app_store_url: Some(request.app_store_url),
            play_store_url: Some(request.play_store_url),
            website_url: Some(request.website_url),
            authorized_domains: request.authorized_domains.map(Some),
            data_retention_days: request.data_retention_days,
            timezone: request.timezone,
            features: request.features,
            status: request.status,
            engagement_platform: request.engagement_platform,
            engagement_credentials: Some(request.engagement_credentials),
            email_platform: request.email_platform,
            email_credentials: Some(request.email_credentials),
            webhook_enabled: request.webhook_enabled,
            webhook_url: Some(request.webhook_url),
            webhook_use_query_params: request.webhook_use_query_params,
            context_info: Some(request.context_info),
        }
    }
}

impl App {
    /// A new app with the defaults of API.md, fresh credentials, and the request applied.
    pub fn create(
        organization_id: Uuid,
        request: CreateAppRequest,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        let mut app = Self::with_defaults(organization_id, now);
        app.apply(request.into(), now)?;
        Ok(app)
    }

    /// The writable fields a new app sets apart from the defaults: what its
    /// creation changed. Every app gets a secret, so that is not among them.
    pub fn fields_set_on_creation(&self) -> Vec<&'static str> {
        let mut changed = Self::with_defaults(self.organization_id, self.created_at).changed_fields(self);
        changed.retain(|field| *field != "api_secret");
        changed
    }

    fn with_defaults(organization_id: Uuid, now: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::now_v7(),
            organization_id,
            name: String::new(),
            description: None,
            api_key: format!("ak_{}", random_base62(API_KEY_RANDOM_CHARS)),
            api_secret: new_api_secret(),
            platform: "web".to_owned(),
            bundle_id: None,
            environment: Environment::default(),
            app_store_url: None,
            play_store_url: None,
            website_url: None,
            authorized_domains: Vec::new(),
            data_retention_days: DEFAULT_RETENTION_DAYS,
            timezone: "UTC".to_owned(),
            features: AppFeatures::default(),
            status: AppStatus::default(),
            engagement_platform: EngagementPlatform::default(),
            engagement_credentials: None,
            email_platform: EmailPlatform::default(),
            email_credentials: None,
            webhook_enabled: false,
            webhook_url: None,
            webhook_use_query_params: false,
            context_info: None,
            url_context: None,
            cached_user_count: 0,
            cached_event_count: 0,
            cached_last_event: None,
            stats_last_updated: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// The names of the fields a write may change (and `api_secret`, which a
    /// rotation changes) that differ between `self` and `other`.
    pub fn changed_fields(&self, other: &App) -> Vec<&'static str> {
        let comparisons = [
            ("name", self.name != other.name),
            ("description", self.description != other.description),
            ("environment", self.environment != other.environment),
            ("app_store_url", self.app_store_url != other.app_store_url),
            ("play_store_url", self.play_store_url != other.play_store_url),
            ("website_url", self.website_url != other.website_url),
            ("authorized_domains", self.authorized_domains != other.authorized_domains),
            ("data_retention_days", self.data_retention_days != other.data_retention_days),
            ("timezone", self.timezone != other.timezone),
            ("features", self.features != other.features),
            ("status", self.status != other.status),
            ("engagement_platform", self.engagement_platform != other.engagement_platform),
            ("engagement_credentials", self.engagement_credentials != other.engagement_credentials),
            ("email_platform", self.email_platform != other.email_platform),
            ("email_credentials", self.email_credentials != other.email_credentials),
            ("webhook_enabled", self.webhook_enabled != other.webhook_enabled),
            ("webhook_url", self.webhook_url != other.webhook_url),
            ("webhook_use_query_params", self.webhook_use_query_params != other.webhook_use_query_params),
            ("context_info", self.context_info != other.context_info),
            ("api_secret", self.api_secret != other.api_secret),
        ];
        comparisons.into_iter().filter(|(_, changed)| *changed).map(|(name, _)| name).collect()
    }

    /// Applies a partial update. On error `self` may be half-changed: callers
    /// apply to a copy and store it only on success, so a failed update changes nothing.
    pub fn apply(&mut self, changes: UpdateAppRequest, now: DateTime<Utc>) -> Result<(), ValidationError> {
        if let Some(name) = changes.name {
            self.name = rules::trimmed_name(&name, "App name")?;
        }
        if let Some(description) = changes.description {
            self.description = rules::optional_text(description, "description", DESCRIPTION_MAX_CHARS)?;
        }
        if let Some(environment) = changes.environment {
            self.environment = environment;
        }
        if let Some(url) = changes.app_store_url {
            self.app_store_url = rules::optional_url(url, "app_store_url", Schemes::HttpOrHttps)?;
        }
        if let Some(url) = changes.play_store_url {
            self.play_store_url = rules::optional_url(url, "play_store_url", Schemes::HttpOrHttps)?;
        }
        if let Some(url) = changes.website_url {
            self.website_url = rules::optional_url(url, "website_url", Schemes::HttpOrHttps)?;
        }
        if let Some(domains) = changes.authorized_domains {
            self.authorized_domains = rules::authorized_domains(domains.unwrap_or_default())?;
        }
        if let Some(days) = changes.data_retention_days {
            self.data_retention_days = rules::retention_days(days)?;
        }
        if let Some(timezone) = changes.timezone {
            self.timezone = rules::timezone(timezone)?;
        }
        if let Some(features) = changes.features {
            self.features.merge(features);
        }
        if let Some(status) = changes.status {
            self.status = status;
        }
        if let Some(platform) = changes.engagement_platform {
            self.engagement_platform = platform;
        }
        if let Some(credentials) = changes.engagement_credentials {
            if let Some(credentials) = &credentials {
                rules::credentials(credentials, "engagement_credentials")?;
            }
            self.engagement_credentials = credentials;
        }
        if let Some(platform) = changes.email_platform {
            self.email_platform = platform;
        }
        if let Some(credentials) = changes.email_credentials {
            if let Some(credentials) = &credentials {
                rules::credentials(credentials, "email_credentials")?;
            }
            self.email_credentials = credentials;
        }
        if let Some(enabled) = changes.webhook_enabled {
            self.webhook_enabled = enabled;
        }
        if let Some(url) = changes.webhook_url {
            self.webhook_url = rules::optional_url(url, "webhook_url", Schemes::HttpsOnly)?;
        }
        if let Some(use_query_params) = changes.webhook_use_query_params {
            self.webhook_use_query_params = use_query_params;
        }
        if let Some(context_info) = changes.context_info {
            self.context_info = rules::optional_text(context_info, "context_info", CONTEXT_INFO_MAX_CHARS)?;
        }
        self.check_rules_across_fields()?;
        self.updated_at = now;
        Ok(())
    }

    /// Gives the app a new `api_secret`; the old one is gone.
    pub fn rotate_secret(&mut self, now: DateTime<Utc>) {
        self.api_secret = new_api_secret();
        self.updated_at = now;
    }

    /// The app as a `ci` token may see it: secret masked, credentials hidden.
    pub fn with_secrets_masked(mut self) -> Self {
        let tail_start = self.api_secret.len().saturating_sub(4);
        self.api_secret = format!("as_…{}", &self.api_secret[tail_start..]);
        self.engagement_credentials = None;
        self.email_credentials = None;
        self
    }

    fn check_rules_across_fields(&self) -> Result<(), ValidationError> {
        credentials_match_platform(
            self.engagement_platform != EngagementPlatform::None,
            self.engagement_credentials.as_ref(),
            "engagement",
        )?;
        credentials_match_platform(
            self.email_platform != EmailPlatform::None,
            self.email_credentials.as_ref(),
            "email",
        )?;
        if self.webhook_enabled && self.webhook_url.is_none() {
            return Err(ValidationError::new("`webhook_url` is required when `webhook_enabled` is true"));
        }
        Ok(())
    }
}

impl AppFeatures {
    fn merge(&mut self, input: AppFeaturesInput) {
        self.push = input.push.unwrap_or(self.push);
        self.analytics = input.analytics.unwrap_or(self.analytics);
        self.audiences = input.audiences.unwrap_or(self.audiences);
        self.ai_insights = input.ai_insights.unwrap_or(self.ai_insights);
    }
}

fn new_api_secret() -> String {
    format!("as_{}", random_base62(API_SECRET_RANDOM_CHARS))
}

fn credentials_match_platform(
    has_platform: bool,
    credentials: Option<&Credentials>,
    kind: &str,
) -> Result<(), ValidationError> {
    match (has_platform, credentials) {
        (true, Some(object)) if !object.is_empty() => Ok(()),
        (true, _) => Err(ValidationError::new(format!(
            "`{kind}_credentials` must be a non-empty object when `{kind}_platform` is not `none`"
        ))),
        (false, None) => Ok(()),
        (false, Some(_)) => {
            Err(ValidationError::new(format!("`{kind}_credentials` must be null when `{kind}_platform` is `none`")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create(body: serde_json::Value) -> Result<App, ValidationError> {
        let request: CreateAppRequest = serde_json::from_value(body).expect("body deserializes");
        App::create(Uuid::now_v7(), request, Utc::now())
    }

    fn patch(app: &App, body: serde_json::Value) -> Result<App, ValidationError> {
        let changes: UpdateAppRequest = serde_json::from_value(body).expect("body deserializes");
        let mut copy = app.clone();
        copy.apply(changes, Utc::now()).map(|()| copy)
    }

    #[test]
    fn create_fills_the_defaults_of_the_contract() {
        let app = create(json!({"name": "  Shop  "})).unwrap();
        assert_eq!(app.name, "Shop");
        assert_eq!(app.platform, "web");
        assert_eq!(app.environment, Environment::Production);
        assert_eq!(app.status, AppStatus::Active);
        assert_eq!(app.data_retention_days, 365);
        assert_eq!(app.timezone, "UTC");
        assert_eq!(app.features, AppFeatures::default());
        assert!(app.authorized_domains.is_empty());
        assert!(app.api_key.starts_with("ak_") && app.api_key.len() == 35);
        assert!(app.api_secret.starts_with("as_") && app.api_secret.len() == 43);
        assert_eq!(app.id.get_version_num(), 7);
    }

    #[test]
    fn patch_merges_features_and_clears_nullables() {
        let app = create(json!({"name": "Shop", "description": "d", "features": {"push": true}})).unwrap();
        let patched = patch(&app, json!({"description": null, "features": {"analytics": true}})).unwrap();
        assert_eq!(patched.description, None);
        assert!(patched.features.push && patched.features.analytics);
        assert!(!patched.features.audiences);
    }

    #[test]
    fn platforms_need_credentials_and_none_forbids_them() {
        assert!(create(json!({"name": "a", "engagement_platform": "wonderpush"})).is_err());
        assert!(
            create(json!({"name": "a", "engagement_platform": "wonderpush", "engagement_credentials": {}})).is_err()
        );
        assert!(
            create(json!({"name": "a", "engagement_platform": "wonderpush", "engagement_credentials": {"k": "v"}}))
                .is_ok()
        );
        assert!(create(json!({"name": "a", "email_credentials": {"k": "v"}})).is_err());
        let app = create(json!({"name": "a", "email_platform": "brevo", "email_credentials": {"k": "v"}})).unwrap();
        assert!(patch(&app, json!({"email_platform": "none"})).is_err());
        assert!(patch(&app, json!({"email_platform": "none", "email_credentials": null})).is_ok());
    }

    #[test]
    fn webhook_on_needs_an_https_url() {
        assert!(create(json!({"name": "a", "webhook_enabled": true})).is_err());
        assert!(create(json!({"name": "a", "webhook_enabled": true, "webhook_url": "http://h.com"})).is_err());
        let app = create(json!({"name": "a", "webhook_enabled": true, "webhook_url": "https://h.com"})).unwrap();
        assert!(patch(&app, json!({"webhook_url": null})).is_err());
    }

    #[test]
    fn null_is_refused_for_fields_that_are_not_nullable() {
        assert!(serde_json::from_value::<UpdateAppRequest>(json!({"name": null})).is_err());
        assert!(serde_json::from_value::<UpdateAppRequest>(json!({"features": null})).is_err());
        assert!(serde_json::from_value::<CreateAppRequest>(json!({"name": "a", "status": null})).is_err());
    }

    #[test]
    fn changes_name_fields_never_values() {
        let app = create(json!({"name": "Shop", "features": {"push": true}, "email_platform": "brevo", "email_credentials": {"k": "v"}})).unwrap();
        assert_eq!(app.fields_set_on_creation(), vec!["name", "features", "email_platform", "email_credentials"]);
        let patched = patch(&app, json!({"description": "d", "features": {"push": true}})).unwrap();
        assert_eq!(app.changed_fields(&patched), vec!["description"]);
        let mut rotated = app.clone();
        rotated.rotate_secret(Utc::now());
        assert_eq!(app.changed_fields(&rotated), vec!["api_secret"]);
    }

    #[test]
    fn ci_view_masks_the_secret_and_hides_credentials() {
        let app = create(json!({"name": "a", "email_platform": "brevo", "email_credentials": {"k": "v"}})).unwrap();
        let tail = app.api_secret[app.api_secret.len() - 4..].to_owned();
        let masked = app.with_secrets_masked();
        assert_eq!(masked.api_secret, format!("as_…{tail}"));
        assert_eq!(masked.email_credentials, None);
    }
}
