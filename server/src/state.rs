//! What every handler shares.

use std::sync::Arc;

use crate::{
    client_address::ClientAddressing,
    domain::quota::Quotas,
    metrics::Metrics,
    rate_limit::{FailedAuthLimit, RateLimiter},
    store::Store,
    webhooks::allowed_hosts::AllowedHosts,
};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Failed authentications per client address, to slow token guessing.
    pub failed_auth: Arc<dyn FailedAuthLimit>,
    /// How a request's client address is found (behind trusted proxies or not).
    pub client_addressing: Arc<ClientAddressing>,
    /// Each token's hourly request allowance.
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub metrics: Arc<Metrics>,
    /// How many apps, tokens and webhook endpoints an organization may hold.
    pub quotas: Quotas,
    /// The hosts a plain-http webhook endpoint URL may name.
    pub webhook_allowed_hosts: Arc<AllowedHosts>,
}
