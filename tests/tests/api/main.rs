//! End-to-end tests: the real server, driven through the generated client.

mod api_tokens;
mod apps;
mod audit;
mod auth;
mod client_address;
mod connections;
mod errors;
mod faults;
mod hostile_input;
mod http_layers;
mod idempotency;
mod instances;
mod limit_store_faults;
mod organization;
mod probes;
mod quotas;
mod rate_limits;
mod smoke;
mod spec;
mod storage_faults;
mod streams;
mod token_security;
mod webhook_delivery;
mod webhook_endpoints;
