//! How the generated commands, one per operationId, are named on the command
//! line: `appdeck <noun> <verb>`, nouns after the spec's tags.

use appdeck_client::cli::CliCommand;

pub struct Noun {
    pub name: &'static str,
    pub about: &'static str,
}

pub struct Verb {
    pub noun: &'static str,
    pub name: &'static str,
    pub about: &'static str,
    pub command: CliCommand,
    /// A list printed whole: every page, by `next_cursor`.
    pub follows_cursors: bool,
}

pub const NOUNS: &[Noun] = &[
    Noun { name: "apps", about: "The organization's apps" },
    Noun { name: "api-tokens", about: "API tokens (admin tokens only)" },
    Noun { name: "organization", about: "The caller's organization" },
    Noun { name: "me", about: "The token making the request" },
    Noun { name: "audit-events", about: "Who changed what (admin tokens only)" },
    Noun { name: "webhook-endpoints", about: "Where events are delivered, signed (admin tokens only)" },
];

const fn verb(noun: &'static str, name: &'static str, about: &'static str, command: CliCommand) -> Verb {
    Verb { noun, name, about, command, follows_cursors: false }
}

const fn list(noun: &'static str, about: &'static str, command: CliCommand) -> Verb {
    Verb { noun, name: "list", about, command, follows_cursors: true }
}

pub const VERBS: &[Verb] = &[
    list("apps", "List the apps, oldest first", CliCommand::ListApps),
    verb("apps", "create", "Create an app", CliCommand::CreateApp),
    verb("apps", "get", "Show an app", CliCommand::GetApp),
    verb("apps", "update", "Change an app's fields", CliCommand::UpdateApp),
    verb("apps", "delete", "Delete an app", CliCommand::DeleteApp),
    verb("apps", "rotate-secret", "Give an app a new api_secret", CliCommand::RotateAppSecret),
    list("api-tokens", "List the API tokens", CliCommand::ListApiTokens),
    verb("api-tokens", "create", "Create an API token; its secret prints once", CliCommand::CreateApiToken),
    verb("api-tokens", "get", "Show an API token", CliCommand::GetApiToken),
    verb("api-tokens", "update", "Relabel, disable or enable an API token", CliCommand::UpdateApiToken),
    verb("api-tokens", "revoke", "Revoke an API token", CliCommand::RevokeApiToken),
    verb(
        "api-tokens",
        "roll",
        "Give an API token a new secret; it prints once, the old one works for the overlap asked",
        CliCommand::RollApiToken,
    ),
    verb("organization", "get", "Show the organization", CliCommand::GetOrganization),
    verb("organization", "update", "Rename the organization", CliCommand::UpdateOrganization),
    verb("me", "get", "Show the calling token and its organization", CliCommand::GetCurrentToken),
    list("audit-events", "List the audit events, newest first", CliCommand::ListAuditEvents),
    list("webhook-endpoints", "List the webhook endpoints", CliCommand::ListWebhookEndpoints),
    verb(
        "webhook-endpoints",
        "create",
        "Create a webhook endpoint; its signing secret prints once",
        CliCommand::CreateWebhookEndpoint,
    ),
    verb("webhook-endpoints", "get", "Show a webhook endpoint", CliCommand::GetWebhookEndpoint),
    verb(
        "webhook-endpoints",
        "update",
        "Change a webhook endpoint's URL, description, event types or enabled state",
        CliCommand::UpdateWebhookEndpoint,
    ),
    verb("webhook-endpoints", "delete", "Delete a webhook endpoint", CliCommand::DeleteWebhookEndpoint),
    verb(
        "webhook-endpoints",
        "rotate-secret",
        "Give a webhook endpoint a new signing secret; it prints once",
        CliCommand::RotateWebhookEndpointSecret,
    ),
    Verb {
        noun: "webhook-endpoints",
        name: "deliveries",
        about: "List a webhook endpoint's deliveries and their attempts, newest first",
        command: CliCommand::ListWebhookDeliveries,
        follows_cursors: true,
    },
    verb("webhook-endpoints", "retry", "Make a delivery due again now", CliCommand::RetryWebhookDelivery),
];

pub fn find(noun: &str, verb: &str) -> Option<&'static Verb> {
    VERBS.iter().find(|candidate| candidate.noun == noun && candidate.name == verb)
}
