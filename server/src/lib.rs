//! appdeck server: the App Management API of `openapi.yaml`, served by axum.

/// HTTP layer: routes, handlers and the utoipa document derived from them.
pub mod api;
/// Authentication (middleware, token format), extractors and the role matrix.
pub mod auth;
/// Who the client is: the TCP peer, or the address a trusted proxy forwarded.
pub mod client_address;
/// Command line and environment configuration.
pub mod config;
/// The HTTP/1 accept loop: header-read and keep-alive timeouts, a cap on connections, the drain.
pub mod connections;
/// Domain types and the rules that validate them, free of HTTP and SQL.
pub mod domain;
/// The one error type, rendered as the JSON error body on every path.
pub mod error;
/// `Idempotency-Key` on creates: the header, the request fingerprint, sealed replays.
pub mod idempotency;
/// Prometheus metrics of requests, rate limiting and the database pool.
pub mod metrics;
/// Making organizations and tokens: where a token secret is born (API, CLI, first start, tests).
pub mod provisioning;
/// The per-token hourly request limit and the failed-authentication limit, in process or in Redis.
pub mod rate_limit;
/// `X-Request-Id`: the client's kept when short and printable, else a generated UUIDv7.
pub mod request_id;
/// Random secrets from the operating system's CSPRNG, and what `Debug` prints in their place.
pub mod secret;
/// Building the application, binding the listener, serving until stopped.
pub mod startup;
/// The state handlers share.
pub mod state;
/// Persistence behind the `Store` trait; SQL lives only here.
pub mod store;
/// Request bodies read as the spec types them: no struct from an array, no duplicate key, no NUL.
pub mod strict_json;
/// Logging set-up.
pub mod telemetry;
/// Webhook signing secrets: made here, sealed at rest under the server key.
pub mod webhook_secrets;
/// Signed webhooks: the delivery worker and its seam with the store.
pub mod webhooks;
