//! Turning a `Config` into a running server: open and migrate the store,
//! bind the listener first (so port 0 works and `port()` is known), serve
//! until a shutdown signal, draining in-flight requests.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    api::{self, HttpSettings},
    config::Config,
    connections::{self, ConnectionSettings},
    metrics::Metrics,
    provisioning,
    rate_limit::{FailedAuthLimit, FailedAuthLimiter, InProcessRateLimiter, RateLimiter, redis::RedisLimits},
    state::AppState,
    store::{Deferred, Store, StoreError},
    webhooks::{
        allowed_hosts::AllowedHosts,
        queue::DeliveryQueue,
        sender::Sender,
        worker::{DeliveryWorker, WorkerSettings},
    },
};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    address: SocketAddr,
    connection_settings: ConnectionSettings,
    webhook_allowed_hosts: AllowedHosts,
    webhook_worker: Option<DeliveryWorker>,
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
                    redis_url.expose(),
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
        let state = AppState {
            store,
            failed_auth,
            client_addressing,
            rate_limiter,
            metrics,
            quotas: config.quotas(),
            webhook_allowed_hosts: Arc::new(config.webhook_allowed_hosts.clone()),
        };
        let router = api::router(state, &HttpSettings::from_config(config)?);
        Ok(Self {
            listener,
            router,
            address,
            connection_settings: config.connection_settings(),
            webhook_allowed_hosts: config.webhook_allowed_hosts.clone(),
            webhook_worker: None,
        })
    }

    /// Delivers webhooks from `queue` while serving: the delivery worker
    /// starts with `run_until_stopped` and stops with it.
    pub fn deliver_webhooks_from(mut self, queue: Arc<dyn DeliveryQueue>) -> anyhow::Result<Self> {
        let sender = Sender::new(self.webhook_allowed_hosts.clone()).context("build the webhook sender")?;
        self.webhook_worker = Some(DeliveryWorker::new(queue, sender, WorkerSettings::default()));
        Ok(self)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` completes, then finishes the requests in
    /// flight, within the drain deadline (see `connections`). The webhook
    /// worker, if any, stops then: an attempt it had in flight is made
    /// again, by this or another instance, once its lease ends.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let worker = self.webhook_worker.map(DeliveryWorker::spawn);
        connections::serve(self.listener, self.router, self.connection_settings, shutdown).await;
        if let Some(worker) = worker {
            worker.abort();
        }
        Ok(())
    }
}

/// Opens the store `config.database_url` names and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = crate::store::connect(config.database_url.expose(), config.store_settings())?;
    store.migrate().await.context("DATABASE_URL: migrations failed")?;
    Ok(store)
}

/// Opens the store for `serve`. When the database cannot be reached yet
/// (PostgreSQL down, say), the server starts anyway: the store answers 503
/// (`/healthz` 200, `/readyz` 503) while a background task keeps trying,
/// with backoff, to migrate it and create the first organization. Any
/// other failure (a malformed URL, a failed migration) stops `serve`.
pub async fn open_store_for_serving(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = crate::store::connect(config.database_url.expose(), config.store_settings())?;
    match prepare_for_serving(store.as_ref(), config).await {
        Ok(()) => Ok(store),
        Err(error) if is_unavailable(&error) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "the database cannot be reached yet; retrying in the background"
            );
            let deferred = Arc::new(Deferred::default());
            tokio::spawn(reach_the_database(store, deferred.clone(), config.clone()));
            Ok(deferred)
        }
        Err(error) => Err(error),
    }
}

/// Migrates, then makes the first organization on an empty database.
async fn prepare_for_serving(store: &dyn Store, config: &Config) -> anyhow::Result<()> {
    store.migrate().await.context("DATABASE_URL: migrations failed")?;
    if let Some(secret) = bootstrap_default_organization(store, config).await? {
        eprintln!("Created organization `default`. Its admin token, shown only this once:\n\n    {secret}\n");
    }
    Ok(())
}

fn is_unavailable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.downcast_ref::<StoreError>().is_some_and(StoreError::is_unavailable))
}

/// The first wait between two attempts to reach the database, doubled
/// after each failure up to `LONGEST_RETRY_WAIT`.
const FIRST_RETRY_WAIT: Duration = Duration::from_millis(250);
const LONGEST_RETRY_WAIT: Duration = Duration::from_secs(10);

async fn reach_the_database(store: Arc<dyn Store>, deferred: Arc<Deferred>, config: Config) {
    let mut wait = FIRST_RETRY_WAIT;
    loop {
        tokio::time::sleep(wait).await;
        match prepare_for_serving(store.as_ref(), &config).await {
            Ok(()) => {
                tracing::info!("the database is reached; serving");
                return deferred.reached(store);
            }
            Err(error) if is_unavailable(&error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    retry_in_ms = wait.as_millis() as u64,
                    "the database cannot be reached yet"
                );
                wait = (wait * 2).min(LONGEST_RETRY_WAIT);
            }
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "the database was reached but cannot be used; still answering 503"
                );
                wait = LONGEST_RETRY_WAIT;
            }
        }
    }
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
