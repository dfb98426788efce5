//! Every create answered 201 survives SIGKILL, on either backend.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use super::{PostgresSchema, Server, database_url, run};

/// Acknowledged creates before the kill: enough that the kill lands among
/// writes in flight rather than before the first.
const ACKNOWLEDGED_BEFORE_THE_KILL: usize = 50;

/// Creates answered 201 by every writer so far; wakes the test once there
/// are enough, or once a writer stops (a server that refuses creates must
/// fail the test, not leave it waiting).
#[derive(Default)]
struct Acknowledged {
    count: AtomicUsize,
    enough: tokio::sync::Notify,
}

/// Creates apps from several connections until the server stops answering;
/// returns the ids of those answered 201.
async fn create_until_the_server_is_gone(base_url: String, token: String, tally: Arc<Acknowledged>) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    for index in 0.. {
        let response = http
            .post(format!("{base_url}/v1/apps"))
            .header("X-API-Key", &token)
            .json(&serde_json::json!({"name": format!("App {index}")}))
            .send()
            .await;
        let Ok(response) = response else { break };
        if response.status() != reqwest::StatusCode::CREATED {
            break;
        }
        let Ok(body) = response.json::<serde_json::Value>().await else { break };
        acknowledged.push(body["app"]["id"].as_str().expect("an id").to_owned());
        if tally.count.fetch_add(1, Ordering::SeqCst) + 1 == ACKNOWLEDGED_BEFORE_THE_KILL {
            tally.enough.notify_one();
        }
    }
    tally.enough.notify_one();
    acknowledged
}

/// Every app the server has, following cursors.
async fn all_app_ids(base_url: &str, token: &str) -> std::collections::HashSet<String> {
    let http = reqwest::Client::new();
    let mut ids = std::collections::HashSet::new();
    let mut cursor = String::new();
    loop {
        let page: serde_json::Value = http
            .get(format!("{base_url}/v1/apps?limit=100&cursor={cursor}"))
            .header("X-API-Key", token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.extend(page["apps"].as_array().unwrap().iter().map(|app| app["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return ids,
        }
    }
}

/// Kills the server with SIGKILL in the middle of a stream of creates, starts
/// it again, and checks that every create it had answered 201 is there.
async fn acknowledged_creates_survive_sigkill(database_url: &str) {
    // Arrange
    let created = run(database_url, &["org", "create", "--name", "Acme"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let admin = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let mut server = Server::start(database_url);
    let tally = Arc::new(Acknowledged::default());
    let writers: Vec<_> = (0..4)
        .map(|_| tokio::spawn(create_until_the_server_is_gone(server.base_url.clone(), admin.clone(), tally.clone())))
        .collect();

    // Act
    tally.enough.notified().await;
    server.signal("-KILL");
    server.child.wait().expect("the killed server is reaped");
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    let restarted = Server::start(database_url);
    let stored = all_app_ids(&restarted.base_url, &admin).await;
    let (exit, _) = restarted.terminate();

    // Assert
    assert!(acknowledged.len() >= ACKNOWLEDGED_BEFORE_THE_KILL, "{} creates acknowledged", acknowledged.len());
    let lost: Vec<&String> = acknowledged.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged creates were lost: {lost:?}", lost.len(), acknowledged.len());
    assert!(exit.success());
}

#[tokio::test]
async fn acknowledged_creates_survive_sigkill_on_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    acknowledged_creates_survive_sigkill(&database_url(directory.path())).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): cargo xtask test runs it"]
async fn acknowledged_creates_survive_sigkill_on_postgres() {
    let schema = PostgresSchema::create().await;
    acknowledged_creates_survive_sigkill(&schema.url()).await;
    schema.drop_schema().await;
}
