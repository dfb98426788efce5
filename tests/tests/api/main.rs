//! End-to-end tests: the real server, driven through the generated client.

mod api_tokens;
mod apps_create;
mod apps_list;
mod apps_rotate_delete;
mod apps_update;
mod audit;
mod auth;
mod client_address;
mod errors;
mod faults;
mod hostile_input;
mod http_layers;
mod idempotency;
mod instances;
mod isolation;
mod limit_store_faults;
mod organization;
mod pagination;
mod probes;
mod quotas;
mod rate_limits;
mod roles;
mod smoke;
mod spec;
mod streams;
mod token_security;
