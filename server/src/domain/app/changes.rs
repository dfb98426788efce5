//! How a request becomes an app: a create is the defaults with the request
//! applied, a partial update is validated whole before anything is stored,
//! and the audit names the fields either changed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    App, AppFeatures, AppFeaturesInput, AppStatus, CreateAppRequest, Credentials, EmailPlatform, EngagementPlatform,
    Environment, UpdateAppRequest,
    requests::{CONTEXT_INFO_MAX_CHARS, DESCRIPTION_MAX_CHARS},
};
use crate::{
    domain::{
        ValidationError,
        rules::{self, Schemes},
    },
    secret::random_base62,
};

const API_KEY_RANDOM_CHARS: usize = 32;
const API_SECRET_RANDOM_CHARS: usize = 40;
const DEFAULT_RETENTION_DAYS: i32 = 365;

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
    /// rotation changes) that differ between `self` and `other`. Destructured
    /// whole, so a field added to `App` does not compile until it is compared
    /// here or named as one no write changes.
    pub fn changed_fields(&self, other: &App) -> Vec<&'static str> {
        let App {
            id: _,
            organization_id: _,
            name,
            description,
            api_key: _,
            api_secret,
            platform: _,
            bundle_id: _,
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
            url_context: _,
            cached_user_count: _,
            cached_event_count: _,
            cached_last_event: _,
            stats_last_updated: _,
            created_at: _,
            updated_at: _,
        } = self;
        let comparisons = [
            ("name", *name != other.name),
            ("description", *description != other.description),
            ("environment", *environment != other.environment),
            ("app_store_url", *app_store_url != other.app_store_url),
            ("play_store_url", *play_store_url != other.play_store_url),
            ("website_url", *website_url != other.website_url),
            ("authorized_domains", *authorized_domains != other.authorized_domains),
            ("data_retention_days", *data_retention_days != other.data_retention_days),
            ("timezone", *timezone != other.timezone),
            ("features", *features != other.features),
            ("status", *status != other.status),
            ("engagement_platform", *engagement_platform != other.engagement_platform),
            ("engagement_credentials", *engagement_credentials != other.engagement_credentials),
            ("email_platform", *email_platform != other.email_platform),
            ("email_credentials", *email_credentials != other.email_credentials),
            ("webhook_enabled", *webhook_enabled != other.webhook_enabled),
            ("webhook_url", *webhook_url != other.webhook_url),
            ("webhook_use_query_params", *webhook_use_query_params != other.webhook_use_query_params),
            ("context_info", *context_info != other.context_info),
            ("api_secret", *api_secret != other.api_secret),
        ];
        comparisons.into_iter().filter(|(_, changed)| *changed).map(|(name, _)| name).collect()
    }

    /// Applies a partial update. On error `self` may be half-changed: callers
    /// apply to a copy and store it only on success, so a failed update
    /// changes nothing. Destructured whole, so a field added to
    /// `UpdateAppRequest` does not compile until it is applied; the fields
    /// are checked in this order, which decides the error a request with
    /// several broken fields gets.
    pub fn apply(&mut self, changes: UpdateAppRequest, now: DateTime<Utc>) -> Result<(), ValidationError> {
        let UpdateAppRequest {
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
        } = changes;
        set_checked(&mut self.name, name, |name| rules::trimmed_name(&name, "App name"))?;
        set_checked(&mut self.description, description, |text| {
            rules::optional_text(text, "description", DESCRIPTION_MAX_CHARS)
        })?;
        set(&mut self.environment, environment);
        set_checked(&mut self.app_store_url, app_store_url, |url| {
            rules::optional_url(url, "app_store_url", Schemes::HttpOrHttps)
        })?;
        set_checked(&mut self.play_store_url, play_store_url, |url| {
            rules::optional_url(url, "play_store_url", Schemes::HttpOrHttps)
        })?;
        set_checked(&mut self.website_url, website_url, |url| {
            rules::optional_url(url, "website_url", Schemes::HttpOrHttps)
        })?;
        set_checked(&mut self.authorized_domains, authorized_domains, |domains| {
            rules::authorized_domains(domains.unwrap_or_default())
        })?;
        set_checked(&mut self.data_retention_days, data_retention_days, rules::retention_days)?;
        set_checked(&mut self.timezone, timezone, rules::timezone)?;
        if let Some(features) = features {
            self.features.merge(features);
        }
        set(&mut self.status, status);
        set(&mut self.engagement_platform, engagement_platform);
        set_checked(&mut self.engagement_credentials, engagement_credentials, |credentials| {
            rules::optional_credentials(credentials, "engagement_credentials")
        })?;
        set(&mut self.email_platform, email_platform);
        set_checked(&mut self.email_credentials, email_credentials, |credentials| {
            rules::optional_credentials(credentials, "email_credentials")
        })?;
        set(&mut self.webhook_enabled, webhook_enabled);
        set_checked(&mut self.webhook_url, webhook_url, |url| {
            rules::optional_url(url, "webhook_url", Schemes::HttpsOnly)
        })?;
        set(&mut self.webhook_use_query_params, webhook_use_query_params);
        set_checked(&mut self.context_info, context_info, |text| {
            rules::optional_text(text, "context_info", CONTEXT_INFO_MAX_CHARS)
        })?;
        self.check_rules_across_fields()?;
        self.updated_at = now;
        Ok(())
    }

    /// Gives the app a new `api_secret`; the old one is gone.
    pub fn rotate_secret(&mut self, now: DateTime<Utc>) {
        self.api_secret = new_api_secret();
        self.updated_at = now;
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
        let Self { push, analytics, audiences, ai_insights } = self;
        let AppFeaturesInput {
            push: push_change,
            analytics: analytics_change,
            audiences: audiences_change,
            ai_insights: ai_insights_change,
        } = input;
        set(push, push_change);
        set(analytics, analytics_change);
        set(audiences, audiences_change);
        set(ai_insights, ai_insights_change);
    }
}

/// Replaces `field` with the request's value, if it sent one.
fn set<T>(field: &mut T, change: Option<T>) {
    if let Some(value) = change {
        *field = value;
    }
}

/// Replaces `field` with what `rule` makes of the request's value, if it sent one.
fn set_checked<T, V>(
    field: &mut T,
    change: Option<V>,
    rule: impl FnOnce(V) -> Result<T, ValidationError>,
) -> Result<(), ValidationError> {
    if let Some(value) = change {
        *field = rule(value)?;
    }
    Ok(())
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

    #[test]
    fn the_audit_names_every_field_a_request_sets() {
        let every_field = json!({
            "name": "Renamed",
            "description": "d",
            "environment": "staging",
            "app_store_url": "https://apps.example.com/a",
            "play_store_url": "https://play.example.com/a",
            "website_url": "https://shop.example.com",
            "authorized_domains": ["shop.example.com"],
            "data_retention_days": 30,
            "timezone": "Europe/Paris",
            "features": {"push": true},
            "status": "inactive",
            "engagement_platform": "wonderpush",
            "engagement_credentials": {"k": "v"},
            "email_platform": "brevo",
            "email_credentials": {"k": "v"},
            "webhook_enabled": true,
            "webhook_url": "https://hooks.example.com",
            "webhook_use_query_params": true,
            "context_info": "c"
        });
        let document = serde_json::to_value(crate::api::openapi()).unwrap();
        let sorted = |names: Vec<&str>| {
            let mut names: Vec<String> = names.into_iter().map(str::to_owned).collect();
            names.sort();
            names
        };
        let request_fields = sorted(
            document["components"]["schemas"]["UpdateAppRequest"]["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect(),
        );
        assert_eq!(sorted(every_field.as_object().unwrap().keys().map(String::as_str).collect()), request_fields);

        let created = create(every_field.clone()).unwrap();
        assert_eq!(sorted(created.fields_set_on_creation()), request_fields);
        let defaults = create(json!({"name": "Shop"})).unwrap();
        let patched = patch(&defaults, every_field).unwrap();
        assert_eq!(sorted(defaults.changed_fields(&patched)), request_fields);
    }
}
