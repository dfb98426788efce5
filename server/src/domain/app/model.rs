//! The app as the API shows it: API.md's app table.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Credentials;

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

impl App {
    /// The app as a `ci` token may see it: secret masked, credentials hidden.
    pub fn with_secrets_masked(mut self) -> Self {
        let tail_start = self.api_secret.len().saturating_sub(4);
        self.api_secret = format!("as_…{}", &self.api_secret[tail_start..]);
        self.engagement_credentials = None;
        self.email_credentials = None;
        self
    }
}
