//! Turning a `Config` into a running server: open and migrate the store,
//! bind the listener first (so port 0 works and `port()` is known), serve
//! until a shutdown signal, draining in-flight requests.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    api::{self, HttpSettings},
    auth::{FailedAuthLimit, FailedAuthLimiter},
    config::Config,
    connections::{self, ConnectionSettings},
    metrics::Metrics,
    provisioning,
    rate_limit::{InProcessRateLimiter, RateLimiter, redis::RedisLimits},
    state::AppState,
    store::Store,
};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    address: SocketAddr,
    connection_settings: ConnectionSettings,
}

impl Application {
    /// Binds `config.bind` and builds the router over an opened, migrated store.
    pub async fn build(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("APPDECK_BIND: cannot listen on {}", config.bind))?;
        let address = listener.local_addr().context("read the bound address")?;
        let metrics = Arc::new(Metrics::default());
        let (rate_limiter, failed_auth): (Arc<dyn RateLimiter>, Arc<dyn FailedAuthLimit>) = match &config.redis_url {
            Some(redis_url) => {
                let limits = RedisLimits::connect(
                    redis_url,
                    config.redis_key_prefix.clone(),
                    config.redis_failure_mode,
                    config.auth_failures_per_minute,
                    metrics.clone(),
                )
                .await?;
                let limits = Arc::new(limits);
                (limits.clone(), limits)
            }
            None => {
                (Arc::new(InProcessRateLimiter::default()), FailedAuthLimiter::start(config.auth_failures_per_minute))
            }
        };
        let client_addressing = Arc::new(config.client_addressing());
        let state = AppState { store, failed_auth, client_addressing, rate_limiter, metrics, quotas: config.quotas() };
        let router = api::router(state, &HttpSettings::from_config(config)?);
        Ok(Self { listener, router, address, connection_settings: config.connection_settings() })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` completes, then finishes the requests in
    /// flight, within the drain deadline (see `connections`).
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        connections::serve(self.listener, self.router, self.connection_settings, shutdown).await;
        Ok(())
    }
}

/// Opens the store `config.database_url` names and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = crate::store::connect(&config.database_url, config.pool_settings()).await?;
    store.migrate().await.context("DATABASE_URL: migrations failed")?;
    Ok(store)
}

/// On a database with no organization, creates `default` and returns its
/// first admin token's secret, to be shown once.
pub async fn bootstrap_default_organization(store: &dyn Store, config: &Config) -> anyhow::Result<Option<String>> {
    if store.count_organizations().await? > 0 {
        return Ok(None);
    }
    let (_, token) = provisioning::create_organization(store, "default", config.rate_limit_per_hour).await?;
    Ok(Some(token.secret))
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed now, when this
/// is called, not when the future is first polled: a SIGTERM that arrives
/// right after the server says it is listening must drain, not kill.
pub fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("listen for Ctrl-C")?;
        let mut terminate = signal(SignalKind::terminate()).context("listen for SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
            tracing::info!("shutting down: finishing requests in flight");
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("shutting down: finishing requests in flight");
        } else {
            std::future::pending::<()>().await;
        }
    })
}
