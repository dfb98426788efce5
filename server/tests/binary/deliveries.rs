//! Every event committed before a SIGKILL is delivered after the restart: the
//! outbox row is written in the write's transaction, so a crash between the
//! commit and the delivery only delays it.

use std::{collections::HashSet, net::SocketAddr, process::Command, time::Duration};

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use tokio::sync::mpsc;

use super::{BINARY, PostgresSchema, Server, database_url, run};

/// Both runs of the server must hold the same key to open the endpoint's
/// sealed secret.
const SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const APPS: usize = 20;
/// A delivery the killed server had claimed waits out its 60 s lease, and one
/// whose attempt was refused waits about 5 s for its retry.
const DEADLINE: Duration = Duration::from_secs(120);

fn start_delivering(database_url: &str) -> Server {
    Server::start_with(
        Command::new(BINARY),
        database_url,
        &[("APPDECK_WEBHOOK_SECRET_KEY", SECRET_KEY), ("APPDECK_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")],
    )
}

/// A loopback address nothing listens on, for the receiver to take later.
fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap()
}

/// Answers every delivery 204 and sends on the id of its target.
async fn start_receiver(address: SocketAddr) -> mpsc::UnboundedReceiver<String> {
    async fn receive(
        State(targets): State<mpsc::UnboundedSender<String>>,
        Json(event): Json<serde_json::Value>,
    ) -> StatusCode {
        let target = event["data"]["target"]["id"].as_str().expect("a target id").to_owned();
        let _ = targets.send(target);
        StatusCode::NO_CONTENT
    }
    let (sender, receiver) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind(address).await.expect("the receiver's port is still free");
    let router = Router::new().route("/", post(receive)).with_state(sender);
    tokio::spawn(async move { axum::serve(listener, router).await });
    receiver
}

async fn post_json(base_url: &str, path: &str, token: &str, body: serde_json::Value) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("{base_url}{path}"))
        .header("X-API-Key", token)
        .json(&body)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), reqwest::StatusCode::CREATED, "POST {path}");
    response.json().await.unwrap()
}

/// Makes `APPS` apps, each answered 201, with the receiver down, kills the
/// server with SIGKILL straight after the last answer, starts the receiver
/// and the server again, and waits for every app's `app.created`.
async fn committed_events_are_delivered_after_sigkill(database_url: &str) {
    // Arrange
    let created = run(database_url, &["org", "create", "--name", "Acme"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let admin = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let receiver_address = free_address();
    let server = start_delivering(database_url);
    let endpoint = serde_json::json!({"url": format!("http://{receiver_address}/"), "event_types": ["app.created"]});
    post_json(&server.base_url, "/v1/webhook-endpoints", &admin, endpoint).await;
    let mut acknowledged = HashSet::new();
    for index in 0..APPS {
        let body =
            post_json(&server.base_url, "/v1/apps", &admin, serde_json::json!({"name": format!("App {index}")})).await;
        acknowledged.insert(body["app"]["id"].as_str().expect("an id").to_owned());
    }

    // Act
    server.signal("-KILL");
    let mut killed = server;
    killed.child.wait().expect("the killed server is reaped");
    let mut targets = start_receiver(receiver_address).await;
    let restarted = start_delivering(database_url);
    let mut delivered = HashSet::new();
    let waited = tokio::time::timeout(DEADLINE, async {
        while !acknowledged.is_subset(&delivered) {
            delivered.insert(targets.recv().await.expect("the receiver runs"));
        }
    })
    .await;
    let (exit, _) = restarted.terminate();

    // Assert
    let missing: Vec<&String> = acknowledged.difference(&delivered).collect();
    assert!(
        waited.is_ok() && missing.is_empty(),
        "{} of {APPS} app.created events never arrived: {missing:?}",
        missing.len()
    );
    assert!(exit.success());
}

#[tokio::test]
async fn committed_events_are_delivered_after_sigkill_on_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    committed_events_are_delivered_after_sigkill(&database_url(directory.path())).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): cargo xtask test runs it"]
async fn committed_events_are_delivered_after_sigkill_on_postgres() {
    let schema = PostgresSchema::create().await;
    committed_events_are_delivered_after_sigkill(&schema.url()).await;
    schema.drop_schema().await;
}
