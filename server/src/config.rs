//! The command line: subcommands, and settings read from flags or the environment.

use std::{net::SocketAddr, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{
    client_address::{ClientAddressing, ForwardedHeader, TrustedProxies},
    connections::ConnectionSettings,
    domain::{quota::Quotas, token::TokenRole},
    rate_limit::redis::FailureMode,
    secret::SecretUrl,
    store::{PoolSettings, StoreSettings},
    webhook_secrets::WebhookSecretKey,
    webhooks::allowed_hosts::AllowedHosts,
};

#[derive(Debug, Parser)]
#[command(name = "appdeck-server", version, about = "The appdeck App Management API server")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run pending migrations, then serve the API until SIGTERM or Ctrl-C.
    ///
    /// On a database with no organization, creates one named `default` and
    /// prints its first admin token once, on stderr.
    Serve,
    /// Run pending migrations and exit.
    Migrate,
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage API tokens directly in the database (break-glass).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization and print its first admin token, alone, on stdout.
    Create {
        /// The organization's name, 1-100 characters.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token in an organization and print it, alone, on stdout.
    ///
    /// For an operator with access to the database, when the organization
    /// has no admin token left to make one through the API. The audit log
    /// records it as made by the server's CLI.
    Create {
        /// The organization's id.
        #[arg(long = "org")]
        organization_id: uuid::Uuid,
        /// The token's role.
        #[arg(long, value_enum)]
        role: RoleArgument,
        /// The token's label, 1-100 characters, unique among the organization's live tokens.
        #[arg(long)]
        label: String,
    },
}

/// A token role as the command line spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArgument {
    Admin,
    Developer,
    Ci,
}

impl From<RoleArgument> for TokenRole {
    fn from(role: RoleArgument) -> Self {
        match role {
            RoleArgument::Admin => Self::Admin,
            RoleArgument::Developer => Self::Developer,
            RoleArgument::Ci => Self::Ci,
        }
    }
}

/// Settings shared by every subcommand. Each flag can also be set by the
/// environment variable shown in `--help`. The two URLs that may hold a
/// password are [`SecretUrl`]s, so `Debug` (a log line, a panic) shows only
/// their scheme.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Address to listen on. Port 0 picks a free port.
    #[arg(long, env = "APPDECK_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: SocketAddr,
    /// Where the data lives: `sqlite://PATH` (created when missing) or
    /// `postgres://USER@HOST/DATABASE`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://./appdeck.db", global = true, hide_env_values = true)]
    pub database_url: SecretUrl,
    /// Redis, to share rate limits between instances, such as
    /// `redis://127.0.0.1:6379`. Unset: limits are kept in this process.
    #[arg(long, env = "REDIS_URL", global = true, hide_env_values = true)]
    pub redis_url: Option<SecretUrl>,
    /// What to do when Redis does not answer: `open` lets requests through
    /// unlimited, `closed` refuses them with 503. Either way it is logged and counted.
    #[arg(long, env = "APPDECK_REDIS_FAILURE_MODE", value_enum, default_value_t = FailureMode::Open, global = true)]
    pub redis_failure_mode: FailureMode,
    /// Prefix of every Redis key, so deployments can share one Redis.
    #[arg(long, env = "APPDECK_REDIS_KEY_PREFIX", default_value = "appdeck:", global = true)]
    pub redis_key_prefix: String,
    /// PostgreSQL: most database connections this instance opens. SQLite
    /// does not pool: one writer, and one read connection per thread that reads.
    #[arg(long, env = "APPDECK_DB_MAX_CONNECTIONS", default_value_t = 10, global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub db_max_connections: u32,
    /// PostgreSQL: seconds a request waits for a database connection before it is answered 503.
    #[arg(long, env = "APPDECK_DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 5, global = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub db_acquire_timeout_secs: u64,
    /// Hourly request limit per token given to organizations when they are created.
    #[arg(long, env = "APPDECK_RATE_LIMIT_PER_HOUR", default_value_t = 1000, global = true,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub rate_limit_per_hour: i64,
    /// Failed authentications a client address may make per minute before it
    /// is refused (429) for a while, so tokens cannot be guessed at speed.
    #[arg(long, env = "APPDECK_AUTH_FAILURES_PER_MINUTE", default_value_t = 20, global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub auth_failures_per_minute: u32,
    /// Proxies trusted to say who the client is, comma-separated CIDRs or
    /// addresses, such as `10.0.0.0/8,fd00::/8`. When the TCP peer is one of
    /// them, the client is the right-most address of the forwarding header
    /// that is not; otherwise that header is ignored. Empty: trust none.
    #[arg(long, env = "APPDECK_TRUSTED_PROXIES", default_value = "", hide_default_value = true, global = true)]
    pub trusted_proxies: TrustedProxies,
    /// The header trusted proxies write the client's address into:
    /// `x-forwarded-for` or `forwarded` (RFC 7239).
    #[arg(long, env = "APPDECK_FORWARDED_HEADER", value_enum, default_value_t = ForwardedHeader::XForwardedFor,
          global = true)]
    pub forwarded_header: ForwardedHeader,
    /// Seconds a client has to send a request's headers, on a new
    /// connection or between requests; then the connection is closed.
    #[arg(long, env = "APPDECK_HEADER_READ_TIMEOUT_SECS", default_value_t = 10, global = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may stay idle after an answer before it is closed.
    #[arg(long, env = "APPDECK_KEEP_ALIVE_TIMEOUT_SECS", default_value_t = 5, global = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_alive_timeout_secs: u64,
    /// Most connections open at once. Past it, new connections are not
    /// accepted: they wait in the listen queue until one closes.
    #[arg(long, env = "APPDECK_MAX_CONNECTIONS", default_value_t = 512, global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Seconds requests in flight get to finish after SIGTERM or Ctrl-C;
    /// idle and half-sent connections are closed at once.
    #[arg(long, env = "APPDECK_DRAIN_TIMEOUT_SECS", default_value_t = 30, global = true)]
    pub drain_timeout_secs: u64,
    /// Seconds a request may take before it is abandoned and answered 503.
    #[arg(long, env = "APPDECK_REQUEST_TIMEOUT_SECS", default_value_t = 30, global = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_secs: u64,
    /// Browser origins allowed to call the API (CORS), comma-separated, such
    /// as `https://app.example.com`. Empty: no cross-origin access.
    #[arg(long, env = "APPDECK_CORS_ALLOWED_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_allowed_origins: Vec<String>,
    /// Largest request body accepted, in bytes; larger ones are answered 413.
    #[arg(long, env = "APPDECK_MAX_BODY_BYTES", default_value_t = 1_048_576, global = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_body_bytes: u64,
    /// Most apps an organization may hold; past it, a create is answered 409
    /// `quota_exceeded`. 0: no limit. Each create then counts at most this
    /// many apps, so a large quota costs its creates a little.
    #[arg(long, env = "APPDECK_MAX_APPS_PER_ORGANIZATION", default_value_t = 0, global = true)]
    pub max_apps_per_organization: u32,
    /// Most live (not revoked) API tokens an organization may hold; past it,
    /// a create is answered 409 `quota_exceeded`. 0: no limit. The server's
    /// `token create` is not held to it: it is the way back in.
    #[arg(long, env = "APPDECK_MAX_TOKENS_PER_ORGANIZATION", default_value_t = 1000, global = true)]
    pub max_tokens_per_organization: u32,
    /// Most webhook endpoints an organization may hold; past it, a create is
    /// answered 409 `quota_exceeded`. 0: no limit. Every write fans out to
    /// the organization's endpoints in its own transaction, so keep it small.
    #[arg(long, env = "APPDECK_MAX_WEBHOOK_ENDPOINTS_PER_ORGANIZATION", default_value_t = 20, global = true)]
    pub max_webhook_endpoints_per_organization: u32,
    /// The key webhook signing secrets are sealed with at rest: base64 of 32
    /// random bytes (`openssl rand -base64 32`). Unset: creating an endpoint
    /// or rotating its secret is answered 503 `webhook_secret_key_missing`,
    /// and deliveries fail; everything else works.
    #[arg(long, env = "APPDECK_WEBHOOK_SECRET_KEY", global = true, hide_env_values = true)]
    pub webhook_secret_key: Option<WebhookSecretKey>,
    /// PostgreSQL: seconds a statement may run before the database cancels
    /// it (`statement_timeout`), so no statement holds a connection and its
    /// locks for longer. Ignored on SQLite.
    #[arg(long, env = "APPDECK_DB_STATEMENT_TIMEOUT_SECS", default_value_t = 10, global = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub db_statement_timeout_secs: u64,
    /// SQLite, for tests only: the most pages the database file may hold
    /// (`PRAGMA max_page_count`), to make a full disk on demand.
    #[arg(long, env = "APPDECK_SQLITE_MAX_PAGE_COUNT", global = true, hide = true)]
    pub sqlite_max_page_count: Option<u64>,
    /// Internal hosts webhooks may be delivered to, comma-separated host
    /// names, addresses or CIDRs, such as `hooks.internal,10.1.0.0/16`.
    /// Deliveries to loopback, private, link-local and metadata addresses
    /// are refused otherwise (checked after DNS), and an endpoint URL may be
    /// plain `http` only on these hosts. Empty: none.
    #[arg(long, env = "APPDECK_WEBHOOK_ALLOWED_HOSTS", default_value = "", hide_default_value = true, global = true)]
    pub webhook_allowed_hosts: AllowedHosts,
    /// Log line format on stderr. `RUST_LOG` sets what is logged.
    #[arg(long, env = "APPDECK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    pub fn pool_settings(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.db_max_connections,
            acquire_timeout: Duration::from_secs(self.db_acquire_timeout_secs),
        }
    }

    pub fn store_settings(&self) -> StoreSettings {
        StoreSettings {
            pool: self.pool_settings(),
            statement_timeout: Duration::from_secs(self.db_statement_timeout_secs),
            sqlite_max_page_count: self.sqlite_max_page_count,
            webhook_secret_key: self.webhook_secret_key,
        }
    }

    /// The per-organization quotas, 0 meaning none.
    pub fn quotas(&self) -> Quotas {
        let limit = |value: u32| (value > 0).then_some(value);
        Quotas {
            apps: limit(self.max_apps_per_organization),
            tokens: limit(self.max_tokens_per_organization),
            webhook_endpoints: limit(self.max_webhook_endpoints_per_organization),
        }
    }

    /// How the client's address is found, from the trusted proxies and header.
    pub fn client_addressing(&self) -> ClientAddressing {
        ClientAddressing::new(self.trusted_proxies.clone(), self.forwarded_header)
    }

    /// The limits on connections: timeouts, how many, how long a drain lasts.
    pub fn connection_settings(&self) -> ConnectionSettings {
        ConnectionSettings {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            keep_alive_timeout: Duration::from_secs(self.keep_alive_timeout_secs),
            max_connections: self.max_connections as usize,
            drain_timeout: Duration::from_secs(self.drain_timeout_secs),
        }
    }

    /// The settings a test or embedding program starts from: every default,
    /// with the given database.
    pub fn with_database_url(database_url: impl Into<SecretUrl>) -> Self {
        let mut config = Cli::parse_from(["appdeck-server", "migrate"]).config;
        config.database_url = database_url.into();
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_values_are_refused_with_the_setting_named() {
        let error = Cli::try_parse_from(["appdeck-server", "--bind", "nowhere", "serve"]).unwrap_err();
        assert!(error.to_string().contains("--bind"), "{error}");
        let error = Cli::try_parse_from(["appdeck-server", "--max-body-bytes", "0", "serve"]).unwrap_err();
        assert!(error.to_string().contains("--max-body-bytes"), "{error}");
        let error = Cli::try_parse_from(["appdeck-server", "--trusted-proxies", "10.0.0.0/33", "serve"]).unwrap_err();
        assert!(error.to_string().contains("--trusted-proxies"), "{error}");
        let error =
            Cli::try_parse_from(["appdeck-server", "--webhook-allowed-hosts", "http://x", "serve"]).unwrap_err();
        assert!(error.to_string().contains("--webhook-allowed-hosts"), "{error}");
    }

    #[test]
    fn debug_output_redacts_the_urls_that_may_hold_a_password() {
        let mut config = Config::with_database_url("postgres://appdeck:db-hunter2@db.internal/appdeck");
        config.redis_url = Some("redis://:redis-hunter2@cache.internal:6379".into());
        let printed = format!("{:?}", Cli { config, command: Command::Serve });
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains(r#"database_url: "postgres://[redacted]""#), "{printed}");
        assert!(printed.contains(r#"redis_url: Some("redis://[redacted]")"#), "{printed}");
        assert!(printed.contains("redis_key_prefix: \"appdeck:\""), "every other setting is shown: {printed}");
    }
}
