//! How an app prints in `Debug` output (logs, panics, failed assertions):
//! every field but its secret and its platforms' credentials, which show
//! only whether they are set.

use std::fmt;

use super::App;
use crate::secret::Redacted;

/// Destructured in full, so that a new field does not compile until it is
/// listed here, redacted or not.
impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            id,
            organization_id,
            name,
            description,
            api_key,
            api_secret: _,
            platform,
            bundle_id,
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
            url_context,
            cached_user_count,
            cached_event_count,
            cached_last_event,
            stats_last_updated,
            created_at,
            updated_at,
        } = self;
        f.debug_struct("App")
            .field("id", id)
            .field("organization_id", organization_id)
            .field("name", name)
            .field("description", description)
            .field("api_key", api_key)
            .field("api_secret", &Redacted)
            .field("platform", platform)
            .field("bundle_id", bundle_id)
            .field("environment", environment)
            .field("app_store_url", app_store_url)
            .field("play_store_url", play_store_url)
            .field("website_url", website_url)
            .field("authorized_domains", authorized_domains)
            .field("data_retention_days", data_retention_days)
            .field("timezone", timezone)
            .field("features", features)
            .field("status", status)
            .field("engagement_platform", engagement_platform)
            .field("engagement_credentials", &engagement_credentials.as_ref().map(|_| Redacted))
            .field("email_platform", email_platform)
            .field("email_credentials", &email_credentials.as_ref().map(|_| Redacted))
            .field("webhook_enabled", webhook_enabled)
            .field("webhook_url", webhook_url)
            .field("webhook_use_query_params", webhook_use_query_params)
            .field("context_info", context_info)
            .field("url_context", url_context)
            .field("cached_user_count", cached_user_count)
            .field("cached_event_count", cached_event_count)
            .field("cached_last_event", cached_last_event)
            .field("stats_last_updated", stats_last_updated)
            .field("created_at", created_at)
            .field("updated_at", updated_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::domain::app::CreateAppRequest;

    #[test]
    fn debug_output_hides_the_secret_and_the_credentials() {
        let request: CreateAppRequest = serde_json::from_value(json!({
            "name": "Shop",
            "engagement_platform": "wonderpush",
            "engagement_credentials": {"access_token": "engagement-hunter2"},
            "email_platform": "brevo",
            "email_credentials": {"api_key": "email-hunter2"},
        }))
        .expect("body deserializes");
        let app = App::create(Uuid::now_v7(), request, Utc::now()).expect("a valid app");
        let printed = format!("{app:?}");
        for secret in [app.api_secret.as_str(), "engagement-hunter2", "email-hunter2"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("api_secret: [redacted]"), "{printed}");
        assert!(printed.contains("email_credentials: Some([redacted])"), "{printed}");
        assert!(printed.contains(&app.api_key), "what is not secret is shown: {printed}");
    }
}
