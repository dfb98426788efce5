//! Helpers for the end-to-end tests: `spawn_app` starts the real server
//! in-process on port 0 with a fresh SQLite database and hands back clients.

use std::sync::Arc;

use appdeck_client::Client;
use appdeck_server::{
    config::Config,
    domain::token::TokenRole,
    provisioning, startup,
    store::Store,
};
use uuid::Uuid;

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
    /// Removed, with the database, when the test ends.
    _database_dir: tempfile::TempDir,
}

/// Starts a server on a fresh database. Logs print only when `TEST_LOG` is set.
pub async fn spawn_app() -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        appdeck_server::telemetry::init(appdeck_server::config::LogFormat::Text);
    }
    let database_dir = tempfile::tempdir().expect("create a temporary directory");
    let database_url = format!("sqlite://{}", database_dir.path().join("appdeck.db").display());
    let mut config = Config::with_database_url(database_url);
    config.bind = "127.0.0.1:0".parse().expect("a valid socket address");

    let store = startup::open_store(&config).await.expect("open and migrate the test database");
    let (organization, admin) = provisioning::create_organization(store.as_ref(), "Test org", config.rate_limit_per_hour)
        .await
        .expect("create the test organization");
    let application = startup::Application::build(&config, store.clone()).await.expect("build the application");
    let address = format!("http://{}", application.address());
    tokio::spawn(application.run_until_stopped(std::future::pending()));

    TestApp {
        client: Client::with_token(&address, &admin.secret).expect("build the client"),
        address,
        store,
        organization_id: organization.id,
        admin_token: admin.secret,
        http: reqwest::Client::new(),
        _database_dir: database_dir,
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
