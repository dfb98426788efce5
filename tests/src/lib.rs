//! Helpers for the end-to-end tests: `spawn_app` starts the real server
//! in-process on port 0 with a fresh database and hands back clients.
//! SQLite by default; PostgreSQL and Redis when `TEST_DATABASE_URL` and
//! `TEST_REDIS_URL` are set (see `backend`).

mod authentication;
pub mod backend;
mod clock;
mod paging;
pub mod proxy;
mod roles;

use std::sync::Arc;

use appdeck_client::Client;
use appdeck_client::{ResponseValue, types};
use appdeck_server::{
    config::Config, domain::token::TokenRole, provisioning, startup, store::Store, webhook_secrets::WebhookSecretKey,
};
use reqwest::StatusCode;
use uuid::Uuid;

pub use authentication::{get_me_with_header, with_bad_checksum};
pub use clock::let_the_clock_move;
pub use paging::{follow_pages, is_strictly_increasing, limit};
pub use roles::assert_forbidden;

/// A running server with its own database, and an admin token for its
/// first organization.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub address: String,
    pub store: Arc<dyn Store>,
    pub organization_id: Uuid,
    /// The first organization's admin token.
    pub admin_token: String,
    /// The generated client, authenticated with `admin_token`.
    pub client: Client,
    /// A plain HTTP client for what the generated client cannot send.
    pub http: reqwest::Client,
    /// Removed when the test ends.
    pub database: backend::TestDatabase,
}

/// Starts a server on a fresh database. Logs print only when `TEST_LOG` is set.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server on a fresh database after `configure` has changed the
/// default configuration (a lower `auth_failures_per_minute`, say). The
/// database and the listening address are set before `configure` runs.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on(backend::TestDatabase::create().await, configure, Delivery::Off).await
}

/// `spawn_app_with`, with the webhook delivery worker running as `serve`
/// runs it, and loopback allowed as a delivery target so that receivers in
/// the test can listen on 127.0.0.1. Without it, deliveries stay queued.
pub async fn spawn_app_delivering_webhooks_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let allow_loopback = |config: &mut Config| {
        config.webhook_allowed_hosts = "127.0.0.1".parse().expect("a valid allowed host");
        configure(config);
    };
    spawn_app_on(backend::TestDatabase::create().await, allow_loopback, Delivery::On).await
}

/// Whether a test server runs the webhook delivery worker.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Delivery {
    On,
    Off,
}

/// `spawn_app_with` on SQLite whatever the environment asks for: for the
/// faults only an embedded database has (its file, its disk, its lock).
pub async fn spawn_sqlite_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on(backend::TestDatabase::sqlite(), configure, Delivery::Off).await
}

async fn spawn_app_on(
    database: backend::TestDatabase,
    configure: impl FnOnce(&mut Config),
    delivery: Delivery,
) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        appdeck_server::telemetry::init(appdeck_server::config::LogFormat::Text);
    }
    let mut config = Config::with_database_url(database.url());
    config.bind = "127.0.0.1:0".parse().expect("a valid socket address");
    config.webhook_secret_key = Some(WebhookSecretKey::from_bytes(*b"appdeck tests webhook secret key"));
    if let Some((redis_url, key_prefix)) = backend::test_redis() {
        config.redis_url = Some(redis_url.into());
        config.redis_key_prefix = key_prefix;
    }
    configure(&mut config);

    let store = startup::open_store(&config).await.expect("open and migrate the test database");
    let (organization, admin) =
        provisioning::create_organization(store.as_ref(), "Test org", config.rate_limit_per_hour)
            .await
            .expect("create the test organization");
    let mut application = startup::Application::build(&config, store.clone()).await.expect("build the application");
    if delivery == Delivery::On {
        application = application.deliver_webhooks_from(store.clone()).expect("start the webhook delivery worker");
    }
    let address = format!("http://{}", application.address());
    tokio::spawn(application.run_until_stopped(std::future::pending()));

    TestApp {
        client: Client::with_token(&address, &admin.secret).expect("build the client"),
        address,
        store,
        organization_id: organization.id,
        admin_token: admin.secret,
        http: reqwest::Client::new(),
        database,
    }
}

impl TestApp {
    /// Makes a token of `role` in the first organization; returns its secret.
    pub async fn token_with_role(&self, role: TokenRole) -> String {
        let label = format!("{role:?} {}", Uuid::now_v7());
        provisioning::create_token(self.store.as_ref(), self.organization_id, &label, role)
            .await
            .expect("create a token")
            .secret
    }

    /// A generated client authenticated with `token`.
    pub fn client_with_token(&self, token: &str) -> Client {
        Client::with_token(&self.address, token).expect("build the client")
    }

    /// Creates a second organization and returns its admin token.
    pub async fn other_organization_token(&self) -> String {
        let (_, admin) = provisioning::create_organization(self.store.as_ref(), "Other org", 1000)
            .await
            .expect("create another organization");
        admin.secret
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

/// A `CreateAppRequest` for the generated client with only `name` set.
/// Built from JSON so it keeps compiling when the spec gains optional fields.
pub fn app_request(name: &str) -> types::CreateAppRequest {
    app_request_from(serde_json::json!({ "name": name }))
}

/// A `CreateAppRequest` for the generated client from its JSON form.
pub fn app_request_from(body: serde_json::Value) -> types::CreateAppRequest {
    serde_json::from_value(body).expect("the JSON is a valid CreateAppRequest")
}

/// The status and body of an error the generated client received as a
/// documented error response; panics on success or on any other failure.
pub fn error_response<T: std::fmt::Debug>(
    result: Result<ResponseValue<T>, appdeck_client::Error<types::ErrorBody>>,
) -> (StatusCode, types::ErrorBody) {
    match result {
        Err(appdeck_client::Error::ErrorResponse(response)) => (response.status(), response.into_inner()),
        other => panic!("expected a documented error response, got {other:?}"),
    }
}

/// An error response read with plain reqwest, after checking what every
/// error shares: a JSON content type, `success: false`, a non-empty
/// `error`, a snake_case `code` and an `X-Request-Id` header.
#[derive(Debug)]
pub struct ErrorReply {
    pub status: StatusCode,
    pub error: String,
    pub code: String,
    pub request_id: String,
}

/// Reads `response` as an error body and checks the shape API.md gives every error.
pub async fn read_error(response: reqwest::Response) -> ErrorReply {
    let status = response.status();
    let content_type = header_text(&response, "content-type");
    let request_id = header_text(&response, "x-request-id");
    let text = response.text().await.expect("read the error body");
    assert!(
        content_type.starts_with("application/json"),
        "a {status} error has content type `{content_type}`, not JSON; body: {text}"
    );
    assert!(!request_id.is_empty(), "a {status} error has no X-Request-Id");
    let body: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("a {status} error body is not JSON ({error}): {text}"));
    assert_eq!(body["success"], serde_json::json!(false), "`success` of a {status} error: {body}");
    let error = body["error"].as_str().unwrap_or_else(|| panic!("a {status} error has no `error` string: {body}"));
    assert!(!error.trim().is_empty(), "a {status} error has an empty `error`: {body}");
    let code = body["code"].as_str().unwrap_or_else(|| panic!("a {status} error has no `code` string: {body}"));
    assert!(is_snake_case(code), "the code `{code}` of a {status} error is not snake_case");
    ErrorReply { status, error: error.to_owned(), code: code.to_owned(), request_id }
}

/// Checks `response` is an error of `status` with `code`; returns the message.
pub async fn expect_error(response: reqwest::Response, status: StatusCode, code: &str) -> String {
    let reply = read_error(response).await;
    assert_eq!((reply.status, reply.code.as_str()), (status, code), "unexpected error: {}", reply.error);
    reply.error
}

/// The value of header `name` as text, or an empty string when absent.
pub fn header_text(response: &reqwest::Response, name: &str) -> String {
    response.headers().get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned()
}

fn is_snake_case(code: &str) -> bool {
    !code.is_empty()
        && !code.starts_with('_')
        && !code.ends_with('_')
        && !code.contains("__")
        && code.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
}

/// Whether `text` is `prefix` followed by exactly `length` base62 characters.
pub fn is_prefixed_base62(text: &str, prefix: &str, length: usize) -> bool {
    text.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == length && rest.bytes().all(|byte| byte.is_ascii_alphanumeric()))
}

impl TestApp {
    /// Creates an app from its JSON form with the admin client; panics unless it succeeds.
    pub async fn create_app(&self, body: serde_json::Value) -> types::App {
        self.client.create_app(None, &app_request_from(body)).await.expect("the admin creates the app").into_inner().app
    }

    /// Creates an app with only a name with the admin client.
    pub async fn create_app_named(&self, name: &str) -> types::App {
        self.create_app(serde_json::json!({ "name": name })).await
    }

    /// Reads an app with the admin client; panics unless it exists.
    pub async fn get_app(&self, id: Uuid) -> types::App {
        self.client.get_app(&id).await.expect("the admin reads the app").into_inner().app
    }

    /// A plain request to `path` authenticated with the admin token as `X-API-Key`.
    pub fn admin_request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).header("x-api-key", &self.admin_token)
    }

    /// Sends `body` as JSON to `path` with the admin token, bypassing the
    /// generated client's types (for nulls, unknown fields, wrong types).
    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.admin_request(method, path).json(body).send().await.expect("the request is sent")
    }

    /// Sends a raw JSON `PATCH /v1/apps/{id}` with the admin token.
    pub async fn patch_app_json(&self, id: Uuid, body: &serde_json::Value) -> reqwest::Response {
        self.send_json(reqwest::Method::PATCH, &format!("/v1/apps/{id}"), body).await
    }

    /// Sends a raw JSON `POST /v1/apps` with the admin token.
    pub async fn create_app_json(&self, body: &serde_json::Value) -> reqwest::Response {
        self.send_json(reqwest::Method::POST, "/v1/apps", body).await
    }
}

impl TestApp {
    /// Stores an admin token of the first organization that expires at
    /// `expires_at`, as the store would keep one made with an expiry; returns its secret.
    pub async fn token_expiring_at(&self, expires_at: std::time::SystemTime) -> String {
        use appdeck_server::{auth::issue_token, domain::token::NewToken};
        let issued = issue_token();
        let token = NewToken {
            id: Uuid::now_v7(),
            organization_id: self.organization_id,
            label: format!("expiring {}", Uuid::now_v7()),
            role: TokenRole::Admin,
            token_hash: issued.hash,
            masked_token: issued.masked,
            created_by: None,
            created_at: appdeck_server::domain::now(),
            expires_at: Some(expires_at.into()),
        };
        self.store.create_token(&token, &Default::default(), Default::default()).await.expect("store the token");
        issued.secret
    }
}

impl TestApp {
    /// Creates an API token through the API with the admin client; panics
    /// unless it succeeds. `role` is `admin`, `developer` or `ci`.
    pub async fn create_api_token(&self, label: &str, role: &str) -> types::CreatedApiTokenResponse {
        let request = api_token_request_from(serde_json::json!({ "label": label, "role": role }));
        self.client.create_api_token(None, &request).await.expect("the admin creates the token").into_inner()
    }
}

/// A `CreateApiTokenRequest` for the generated client from its JSON form.
pub fn api_token_request_from(body: serde_json::Value) -> types::CreateApiTokenRequest {
    serde_json::from_value(body).expect("the JSON is a valid CreateApiTokenRequest")
}

/// An `UpdateApiTokenRequest` for the generated client from its JSON form.
pub fn api_token_update_from(body: serde_json::Value) -> types::UpdateApiTokenRequest {
    serde_json::from_value(body).expect("the JSON is a valid UpdateApiTokenRequest")
}

/// The value of header `name` as an unsigned integer, or `None` when it is
/// absent or not a number.
pub fn header_number(headers: &reqwest::header::HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Several instances of the server sharing one PostgreSQL schema and one
/// Redis key space, as behind a load balancer.
pub struct Instances {
    /// Each instance's `http://127.0.0.1:PORT`.
    pub addresses: Vec<String>,
    pub organization_id: Uuid,
    pub admin_token: String,
    pub store: Arc<dyn Store>,
    pub http: reqwest::Client,
    pub database: backend::TestDatabase,
}

/// Starts `count` instances on PostgreSQL and Redis, each delivering
/// webhooks as `serve` does; panics, saying what is
/// missing, when `TEST_DATABASE_URL` or `TEST_REDIS_URL` is not set (the
/// tests that call this are `#[ignore]`d, and `cargo xtask test` runs them).
pub async fn spawn_instances(count: usize, configure: impl Fn(&mut Config)) -> Instances {
    let database = backend::TestDatabase::create().await;
    assert!(database.is_postgres(), "several instances need TEST_DATABASE_URL (PostgreSQL)");
    let (redis_url, key_prefix) = backend::test_redis().expect("several instances need TEST_REDIS_URL (Redis)");
    let mut config = Config::with_database_url(database.url());
    config.bind = "127.0.0.1:0".parse().expect("a valid socket address");
    config.redis_url = Some(redis_url.into());
    config.redis_key_prefix = key_prefix;
    configure(&mut config);

    let store = startup::open_store(&config).await.expect("open and migrate the shared database");
    let (organization, admin) =
        provisioning::create_organization(store.as_ref(), "Shared org", config.rate_limit_per_hour)
            .await
            .expect("create the organization");
    let mut addresses = Vec::with_capacity(count);
    for _ in 0..count {
        // Each instance opens its own pool, as separate processes would.
        let instance_store = startup::open_store(&config).await.expect("open the shared database");
        let application = startup::Application::build(&config, instance_store.clone())
            .await
            .expect("build an instance")
            .deliver_webhooks_from(instance_store)
            .expect("start an instance's webhook delivery worker");
        addresses.push(format!("http://{}", application.address()));
        tokio::spawn(application.run_until_stopped(std::future::pending()));
    }
    Instances {
        addresses,
        organization_id: organization.id,
        admin_token: admin.secret,
        store,
        http: reqwest::Client::new(),
        database,
    }
}

impl Instances {
    /// A generated client for instance `index`, authenticated with `token`.
    pub fn client(&self, index: usize, token: &str) -> Client {
        Client::with_token(&self.addresses[index], token).expect("build the client")
    }
}

/// A `next_cursor` as the cursor parameter of the generated client, which
/// types it after the spec's `pattern`.
pub fn typed_cursor<T: std::str::FromStr<Err: std::fmt::Debug>>(next_cursor: &str) -> T {
    next_cursor.parse().expect("the server returns cursors that match the spec's pattern")
}

/// Every audit event of `client`'s organization, newest first, read by
/// following `next_cursor` with pages of 100; `client` must be an admin's.
pub async fn all_audit_events(client: &Client) -> Vec<types::AuditEvent> {
    let pages = follow_pages(1000, |cursor| async move {
        let page = client
            .list_audit_events(None, None, cursor.as_deref().map(typed_cursor).as_ref(), limit(100), None, None, None)
            .await
            .expect("an admin lists the audit events")
            .into_inner();
        (page.events, page.next_cursor)
    })
    .await;
    pages.into_iter().flatten().collect()
}

impl TestApp {
    /// Every audit event of the first organization, newest first, as its admin lists them.
    pub async fn audit_events(&self) -> Vec<types::AuditEvent> {
        all_audit_events(&self.client).await
    }
}

impl TestApp {
    /// From now on every insert into `audit_events` fails, through a trigger
    /// added on another connection: a write whose event cannot be recorded
    /// must then fail whole, since both share one transaction.
    pub async fn refuse_audit_events(&self) {
        use sqlx::Connection as _;
        match &self.database {
            backend::TestDatabase::Sqlite(directory) => {
                let connection =
                    rusqlite::Connection::open(directory.path().join("appdeck.db")).expect("open the test database");
                connection.busy_timeout(std::time::Duration::from_secs(5)).expect("set the busy timeout");
                connection
                    .execute_batch(
                        "CREATE TRIGGER refuse_audit_events BEFORE INSERT ON audit_events \
                         BEGIN SELECT RAISE(ABORT, 'audit events are refused'); END",
                    )
                    .expect("add the trigger");
            }
            backend::TestDatabase::Postgres { admin_url, schema } => {
                let mut connection = sqlx::PgConnection::connect(admin_url).await.expect("connect to the database");
                let statements = [
                    format!(
                        "CREATE FUNCTION {schema}.refuse_audit_events() RETURNS trigger LANGUAGE plpgsql \
                         AS $$ BEGIN RAISE EXCEPTION 'audit events are refused'; END $$"
                    ),
                    format!(
                        "CREATE TRIGGER refuse_audit_events BEFORE INSERT ON {schema}.audit_events \
                         FOR EACH ROW EXECUTE FUNCTION {schema}.refuse_audit_events()"
                    ),
                ];
                for statement in statements {
                    sqlx::query(sqlx::AssertSqlSafe(statement))
                        .execute(&mut connection)
                        .await
                        .expect("add the trigger");
                }
                connection.close().await.expect("close the connection");
            }
        }
    }
}

impl TestApp {
    /// Sends `body` as JSON in a `POST` to `path` with `token` and, when
    /// given, an `Idempotency-Key`, which the generated client cannot send.
    pub async fn post_with_key(
        &self,
        token: &str,
        path: &str,
        key: Option<&str>,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let mut request = self.http.post(self.url(path)).header("x-api-key", token).json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request.send().await.expect("the request is sent")
    }

    /// The `(key_hash, nonce, sealed_body)` of every row of `idempotency_keys`.
    pub async fn idempotency_rows(&self) -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        use sqlx::Connection as _;
        let sql = "SELECT key_hash, nonce, sealed_body FROM idempotency_keys";
        match &self.database {
            backend::TestDatabase::Sqlite(directory) => {
                let connection =
                    rusqlite::Connection::open(directory.path().join("appdeck.db")).expect("open the test database");
                let mut statement = connection.prepare(sql).expect("read idempotency_keys");
                let rows = statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                    .expect("read idempotency_keys");
                rows.collect::<Result<_, _>>().expect("read idempotency_keys")
            }
            backend::TestDatabase::Postgres { .. } => {
                let mut connection =
                    sqlx::PgConnection::connect(&self.database.url()).await.expect("connect to the database");
                sqlx::query_as(sql).fetch_all(&mut connection).await.expect("read idempotency_keys")
            }
        }
    }
}
