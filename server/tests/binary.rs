//! The `appdeck-server` binary as an operator runs it: its subcommands, its
//! answer to bad configuration, its logs, and its shutdown on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Output, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread,
    time::Duration,
};

const BINARY: &str = env!("CARGO_BIN_EXE_appdeck-server");

fn database_url(directory: &Path) -> String {
    format!("sqlite://{}", directory.join("appdeck.db").display())
}

/// Runs the binary to completion on the database `database_url` names.
fn run(database_url: &str, args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .env_clear()
        .env("DATABASE_URL", database_url)
        // Organizations made here allow more than the tests send.
        .env("APPDECK_RATE_LIMIT_PER_HOUR", "1000000")
        .output()
        .expect("the binary runs")
}

/// A fresh schema in the PostgreSQL database `TEST_DATABASE_URL` names, and
/// the URL that makes it the server's; dropped with the guard.
struct PostgresSchema {
    admin_url: String,
    schema: String,
}

impl PostgresSchema {
    async fn create() -> Self {
        use sqlx::Connection;
        let admin_url = std::env::var("TEST_DATABASE_URL").expect("this test needs TEST_DATABASE_URL (PostgreSQL)");
        let schema = format!("binary_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("connect to TEST_DATABASE_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut admin).await.unwrap();
        Self { admin_url, schema }
    }

    fn url(&self) -> String {
        let separator = if self.admin_url.contains('?') { '&' } else { '?' };
        format!("{}{separator}options=-c%20search_path%3D{}", self.admin_url, self.schema)
    }

    async fn drop_schema(self) {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {} CASCADE", self.schema)))
            .execute(&mut admin)
            .await
            .unwrap();
    }
}

fn is_token(text: &str) -> bool {
    appdeck_server::auth::is_well_formed(text)
}

/// `serve` running in the background, its stderr collected line by line.
struct Server {
    child: Child,
    base_url: String,
    stderr: Arc<Mutex<Vec<String>>>,
    /// While set, stderr is not read: the pipe fills, as with a stalled
    /// reader. `terminate` then reads it again, slowly.
    reading_paused: Arc<AtomicBool>,
    /// Reads stderr until the pipe closes.
    reader: thread::JoinHandle<()>,
}

impl Server {
    fn start(database_url: &str) -> Self {
        Self::start_with(Command::new(BINARY), database_url, &[])
    }

    /// `serve`, logging JSON lines at `level` (a `RUST_LOG` value).
    fn start_logging(database_url: &str, level: &str) -> Self {
        Self::start_with(Command::new(BINARY), database_url, &[("RUST_LOG", level)])
    }

    /// `serve` run by `command` (the binary, or a shell that sets limits and
    /// execs it), with extra environment variables.
    fn start_with(mut command: Command, database_url: &str, environment: &[(&str, &str)]) -> Self {
        let mut child = command
            .arg("serve")
            .env_clear()
            .env("DATABASE_URL", database_url)
            .env("APPDECK_BIND", "127.0.0.1:0")
            .env("APPDECK_LOG_FORMAT", "json")
            .env("RUST_LOG", "trace")
            .envs(environment.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (address_sender, address_receiver) = mpsc::channel();
        let reader = BufReader::new(child.stderr.take().expect("stderr is piped"));
        let collected = stderr.clone();
        let reading_paused = Arc::new(AtomicBool::new(false));
        let paused = reading_paused.clone();
        let reader = thread::spawn(move || {
            let mut slow = false;
            for line in reader.lines().map_while(Result::ok) {
                while paused.load(Ordering::Relaxed) {
                    slow = true;
                    thread::sleep(Duration::from_millis(1));
                }
                // A reader that stalled once stays slow: the server's exit
                // must wait for its log lines rather than outrun them.
                if slow {
                    thread::sleep(Duration::from_millis(1));
                }
                if let Some(start) = line.find("Swagger UI at http://") {
                    let rest = &line[start + "Swagger UI at ".len()..];
                    let base_url = rest.split("/docs").next().unwrap_or_default().to_owned();
                    let _ = address_sender.send(base_url);
                }
                collected.lock().expect("the stderr buffer is not poisoned").push(line);
            }
        });
        let base_url = address_receiver.recv_timeout(Duration::from_secs(30)).expect("serve says where it listens");
        Self { child, base_url, stderr, reading_paused, reader }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("the stderr buffer is not poisoned").join("\n")
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().expect("kill runs");
        assert!(sent.success());
    }

    /// Sends SIGTERM and waits for the exit status.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        self.signal("-TERM");
        self.reading_paused.store(false, Ordering::Relaxed);
        let status = self.child.wait().expect("serve exits");
        // The reader thread ends with the pipe, after the last line.
        self.reader.join().expect("the stderr reader does not panic");
        let stderr = self.stderr.lock().expect("the stderr buffer is not poisoned").join("\n");
        (status, stderr)
    }
}

async fn get(base_url: &str, path: &str, token: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .get(format!("{base_url}{path}"))
        .header("X-API-Key", token)
        .send()
        .await
        .expect("the server answers")
        .status()
}

#[test]
fn org_create_prints_the_first_admin_token_alone_on_stdout() {
    // Arrange
    let directory = tempfile::tempdir().unwrap();

    // Act
    let output = run(&database_url(directory.path()), &["org", "create", "--name", "Acme"]);

    // Assert
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(is_token(stdout.trim_end_matches('\n')), "stdout is the token alone: {stdout:?}");
    assert_eq!(stdout.lines().count(), 1);
}

async fn get_json(base_url: &str, path: &str, token: &str) -> serde_json::Value {
    let response =
        reqwest::Client::new().get(format!("{base_url}{path}")).header("X-API-Key", token).send().await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().await.expect("a JSON body")
}

#[tokio::test]
async fn token_create_prints_a_working_admin_token_alone_on_stdout_and_is_audited() {
    // Arrange: an organization whose id the operator looks up.
    let directory = tempfile::tempdir().unwrap();
    let url = database_url(directory.path());
    let first_admin = String::from_utf8(run(&url, &["org", "create", "--name", "Acme"]).stdout).unwrap();
    let server = Server::start(&url);
    let organization = get_json(&server.base_url, "/v1/organization", first_admin.trim()).await;
    let organization_id = organization["organization"]["id"].as_str().unwrap().to_owned();

    // Act
    let output =
        run(&url, &["token", "create", "--org", &organization_id, "--role", "admin", "--label", "break glass"]);

    // Assert: the token alone on stdout, an admin of that organization, audited as made by the server.
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    let secret = stdout.trim_end_matches('\n');
    assert!(is_token(secret), "stdout is the token alone: {stdout:?}");
    assert!(!String::from_utf8_lossy(&output.stderr).contains(secret), "the secret is not logged");
    let me = get_json(&server.base_url, "/v1/me", secret).await;
    assert_eq!(me["token"]["role"], "admin");
    assert_eq!(me["token"]["label"], "break glass");
    assert_eq!(me["organization"]["id"], organization_id.as_str());
    let events = get_json(&server.base_url, "/v1/audit-events?action=token.created", secret).await;
    let event = &events["events"][0];
    assert_eq!(event["target"]["id"], me["token"]["id"]);
    assert!(event["actor"].is_null(), "made by the server's CLI: {event}");
    server.terminate();
}

#[test]
fn token_create_for_an_unknown_organization_fails_and_prints_nothing() {
    // Arrange
    let directory = tempfile::tempdir().unwrap();
    let url = database_url(directory.path());
    assert!(run(&url, &["migrate"]).status.success());

    // Act
    let unknown = uuid::Uuid::now_v7().to_string();
    let output = run(&url, &["token", "create", "--org", &unknown, "--role", "admin", "--label", "x"]);

    // Assert
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains(&unknown), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn bad_configuration_stops_with_one_line_naming_the_setting() {
    let directory = tempfile::tempdir().unwrap();

    let bad_bind = run(&database_url(directory.path()), &["--bind", "nowhere", "serve"]);
    let stderr = String::from_utf8(bad_bind.stderr).unwrap();
    assert_eq!(bad_bind.status.code(), Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--bind"), "{stderr}");

    let bad_database = Command::new(BINARY)
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", "mysql://localhost/appdeck")
        .output()
        .unwrap();
    let stderr = String::from_utf8(bad_database.stderr).unwrap();
    assert_eq!(bad_database.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[tokio::test]
async fn first_serve_prints_a_working_admin_token_once_and_sigterm_exits_0() {
    // Arrange
    let directory = tempfile::tempdir().unwrap();

    // Act: the first start, on an empty database, then a second start.
    let first = Server::start(&database_url(directory.path()));
    let printed: Vec<String> = first
        .stderr()
        .split_whitespace()
        .map(|word| word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_').to_owned())
        .filter(|word| is_token(word))
        .collect();
    assert_eq!(printed.len(), 1, "one token is printed: {printed:?}");
    let status_with_printed_token = get(&first.base_url, "/v1/me", &printed[0]).await;
    let (first_exit, _) = first.terminate();
    let second = Server::start(&database_url(directory.path()));
    let second_stderr = second.stderr();
    let (second_exit, _) = second.terminate();

    // Assert
    assert_eq!(status_with_printed_token, reqwest::StatusCode::OK);
    assert!(first_exit.success(), "SIGTERM exits 0: {first_exit:?}");
    assert!(second_exit.success());
    assert!(!second_stderr.contains(&printed[0]), "the token is printed only on the first start");
}

#[tokio::test]
async fn secrets_never_reach_the_logs_even_at_trace_level() {
    // Arrange: an organization made by the CLI, so `serve` prints no token.
    let directory = tempfile::tempdir().unwrap();
    let created = run(&database_url(directory.path()), &["org", "create", "--name", "Acme"]);
    let admin = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let server = Server::start(&database_url(directory.path()));
    let http = reqwest::Client::new();
    let unknown = appdeck_server::auth::issue_token().secret;

    // Act: succeed and fail in every way a token can.
    let response = http
        .post(format!("{}/v1/api-tokens", server.base_url))
        .header("X-API-Key", &admin)
        .json(&serde_json::json!({"label": "ci", "role": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let body: serde_json::Value = response.json().await.unwrap();
    let created_secret = body["secret"].as_str().unwrap().to_owned();
    let token_id = body["token"]["id"].as_str().unwrap().to_owned();
    let statuses = [
        get(&server.base_url, "/v1/me", &admin).await,
        get(&server.base_url, "/v1/apps", &created_secret).await,
        get(&server.base_url, "/v1/api-tokens", &created_secret).await,
        get(&server.base_url, "/v1/me", &unknown).await,
        get(&server.base_url, "/v1/me", &format!("{admin}x")).await,
    ];
    let revoked = http
        .delete(format!("{}/v1/api-tokens/{token_id}", server.base_url))
        .header("Authorization", format!("Bearer {admin}"))
        .send()
        .await
        .unwrap()
        .status();
    let after_revoke = get(&server.base_url, "/v1/me", &created_secret).await;
    let (exit, logs) = server.terminate();

    // Assert
    use reqwest::StatusCode;
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED]
    );
    assert_eq!((revoked, after_revoke), (StatusCode::OK, StatusCode::UNAUTHORIZED));
    assert!(exit.success());
    assert!(logs.contains("/v1/api-tokens"), "the logs hold the requests");
    let request_lines: Vec<&str> = logs.lines().filter(|line| line.contains(r#""name":"request""#)).collect();
    assert!(!request_lines.is_empty(), "events inside request spans are logged");
    for line in &request_lines {
        assert!(line.contains(r#""request_id":""#), "a line of a request without its id: {line}");
    }
    assert!(
        request_lines.iter().any(|line| line.contains(r#""token_id":""#) && line.contains(r#""status":200"#)),
        "the closing line of an authenticated request names the token and the status"
    );
    for secret in [&admin, &created_secret, &unknown] {
        assert!(!logs.contains(secret.as_str()), "a token reached the logs");
        assert!(!logs.contains(&secret[5..37]), "a token's random part reached the logs");
    }
}

/// Creates apps from several connections until the server stops answering;
/// returns the ids of those answered 201.
async fn create_until_the_server_is_gone(base_url: String, token: String) -> Vec<String> {
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
    }
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
    let writers: Vec<_> =
        (0..4).map(|_| tokio::spawn(create_until_the_server_is_gone(server.base_url.clone(), admin.clone()))).collect();

    // Act
    tokio::time::sleep(Duration::from_millis(500)).await;
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
    assert!(!acknowledged.is_empty(), "some creates were answered before the kill");
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

#[tokio::test]
async fn sigterm_finishes_the_requests_in_flight_then_exits_0() {
    // Arrange: a create that waits for a lock the test holds.
    let directory = tempfile::tempdir().unwrap();
    let url = database_url(directory.path());
    let admin = String::from_utf8(run(&url, &["org", "create", "--name", "Acme"]).stdout).unwrap().trim().to_owned();
    let mut server = Server::start(&url);
    assert_eq!(get(&server.base_url, "/v1/me", &admin).await, reqwest::StatusCode::OK);
    let lock = rusqlite::Connection::open(directory.path().join("appdeck.db")).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let in_flight = tokio::spawn({
        let base_url = server.base_url.clone();
        let admin = admin.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{base_url}/v1/apps"))
                .header("X-API-Key", admin)
                .json(&serde_json::json!({"name": "In flight"}))
                .send()
                .await
                .map(|response| response.status())
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Act
    server.signal("-TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let still_running = server.child.try_wait().unwrap().is_none();
    lock.execute_batch("ROLLBACK").unwrap();
    let answered = in_flight.await.unwrap();
    let exit = server.child.wait().unwrap();

    // Assert
    assert!(still_running, "the server waits for the request in flight");
    assert_eq!(answered.unwrap(), reqwest::StatusCode::CREATED);
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn a_database_file_removed_under_the_server_answers_503_with_a_log_line_and_never_panics() {
    // Arrange
    let directory = tempfile::tempdir().unwrap();
    let url = database_url(directory.path());
    let admin = String::from_utf8(run(&url, &["org", "create", "--name", "Acme"]).stdout).unwrap().trim().to_owned();
    let server = Server::start(&url);
    let create = |name: &str| {
        reqwest::Client::new()
            .post(format!("{}/v1/apps", server.base_url))
            .header("X-API-Key", &admin)
            .json(&serde_json::json!({ "name": name }))
            .send()
    };
    assert_eq!(create("Before").await.unwrap().status(), reqwest::StatusCode::CREATED);

    // Act
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(directory.path().join(format!("appdeck.db{suffix}")));
    }
    let after = create("After").await.unwrap();
    let ready = reqwest::get(format!("{}/readyz", server.base_url)).await.unwrap().status();

    // Assert
    assert_eq!(after.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = after.json().await.unwrap();
    assert_eq!(body["code"], "database_unavailable", "{body}");
    assert_eq!(ready, reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let (exit, stderr) = server.terminate();
    // The writer notices the file is gone; a thread that has no read
    // connection yet fails to open one. Either says so.
    let logged = ["the database file was removed or replaced", "the SQLite database cannot be used"];
    assert!(logged.iter().any(|line| stderr.contains(line)), "no log line says why:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(exit.success(), "{exit:?}");
}

/// Makes files immutable (`chattr +i`), which stops writes even by root,
/// unlike file modes; gives them back when dropped, pass or fail.
struct Immutable(Vec<std::path::PathBuf>);

impl Immutable {
    fn set(paths: Vec<std::path::PathBuf>) -> Self {
        for path in &paths {
            let status = Command::new("chattr").arg("+i").arg(path).status().expect("chattr runs");
            assert!(status.success(), "chattr +i {}: this test needs CAP_LINUX_IMMUTABLE", path.display());
        }
        Self(paths)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = Command::new("chattr").arg("-i").arg(path).status();
        }
    }
}

#[tokio::test]
async fn a_database_file_made_read_only_under_the_server_answers_503_with_a_log_line_and_recovers() {
    // Arrange
    let directory = tempfile::tempdir().unwrap();
    let url = database_url(directory.path());
    let admin = String::from_utf8(run(&url, &["org", "create", "--name", "Acme"]).stdout).unwrap().trim().to_owned();
    let server = Server::start(&url);
    let create = |name: &str| {
        reqwest::Client::new()
            .post(format!("{}/v1/apps", server.base_url))
            .header("X-API-Key", &admin)
            .json(&serde_json::json!({ "name": name }))
            .send()
    };
    assert_eq!(create("Before").await.unwrap().status(), reqwest::StatusCode::CREATED);

    // Act: the database and its log become unwritable, then writable again.
    let files = ["appdeck.db", "appdeck.db-wal"].map(|name| directory.path().join(name));
    let read_only = Immutable::set(files.to_vec());
    let refused = create("While read-only").await.unwrap();
    let read = get(&server.base_url, "/v1/apps", &admin).await;
    drop(read_only);
    let after = create("After").await.unwrap().status();

    // Assert
    assert_eq!(refused.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "database_unavailable", "{body}");
    assert_eq!(read, reqwest::StatusCode::OK, "reads work while writes cannot");
    assert_eq!(after, reqwest::StatusCode::CREATED, "writes recover without a restart");
    let (exit, stderr) = server.terminate();
    assert!(stderr.contains("the SQLite database cannot be used"), "no log line says why:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(exit.success(), "{exit:?}");
}

/// Waits up to `patience` for the server to exit; `None` while it runs.
fn exit_within(server: &mut Server, patience: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + patience;
    while std::time::Instant::now() < deadline {
        if let Some(status) = server.child.try_wait().expect("the server's status") {
            return Some(status);
        }
        thread::sleep(Duration::from_millis(20));
    }
    None
}

#[tokio::test]
async fn sigterm_with_a_half_sent_request_open_exits_promptly() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Arrange: a connection that was answered once, then sends half a request.
    let directory = tempfile::tempdir().unwrap();
    let mut server = Server::start(&database_url(directory.path()));
    let mut stream = tokio::net::TcpStream::connect(server.base_url.trim_start_matches("http://")).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: appdeck\r\n\r\n").await.unwrap();
    let mut answer = [0_u8; 1024];
    let read = stream.read(&mut answer).await.unwrap();
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer[..read]));
    stream.write_all(b"POST /v1/apps HTTP/1.1\r\nHost: appdeck\r\nContent-Len").await.unwrap();

    // Act
    server.signal("-TERM");
    let exit = exit_within(&mut server, Duration::from_secs(5));

    // Assert
    let exit = exit.expect("the half-sent request does not hold up the drain (deadline 30 s)");
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn healthz_answers_while_more_idle_connections_are_open_than_file_descriptors_allow() {
    // Arrange: 256 file descriptors; a cap of 200 connections leaves the
    // server the rest (database, listener, logs).
    let directory = tempfile::tempdir().unwrap();
    let mut with_low_limit = Command::new("/bin/sh");
    with_low_limit.args(["-c", "ulimit -n 256 && exec \"$0\" \"$@\"", BINARY]);
    let mut server = Server::start_with(
        with_low_limit,
        &database_url(directory.path()),
        &[("APPDECK_MAX_CONNECTIONS", "200"), ("APPDECK_HEADER_READ_TIMEOUT_SECS", "1"), ("RUST_LOG", "info")],
    );
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..600 {
        let connecting = tokio::time::timeout(Duration::from_secs(10), tokio::net::TcpStream::connect(&address));
        idle.push(connecting.await.expect("the server keeps accepting").expect("connect an idle connection"));
    }

    // Act
    let health = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .get(format!("{}/healthz", server.base_url))
        .send()
        .await;

    // Assert
    let still_running = server.child.try_wait().unwrap().is_none();
    drop(idle);
    let status = health.map(|response| response.status());
    assert_eq!(status.ok(), Some(reqwest::StatusCode::OK), "stderr: {}", server.stderr());
    assert!(still_running);
    let (exit, _) = server.terminate();
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn with_redis_down_serve_in_closed_mode_exits_with_a_clear_message() {
    // Arrange: a port nothing listens on.
    let directory = tempfile::tempdir().unwrap();
    let unused_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();

    // Act
    let output = Command::new(BINARY)
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", database_url(directory.path()))
        .env("APPDECK_BIND", "127.0.0.1:0")
        .env("REDIS_URL", format!("redis://127.0.0.1:{unused_port}"))
        .env("APPDECK_REDIS_FAILURE_MODE", "closed")
        .output()
        .expect("the binary runs");

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let last_line = stderr.lines().last().unwrap_or_default();
    assert!(last_line.contains("REDIS_URL") && last_line.contains("closed"), "{stderr}");
}

#[tokio::test]
async fn log_lines_written_just_before_sigterm_reach_stderr() {
    // About 400 bytes a line: well past the pipe, well within the log buffer.
    const REQUESTS: usize = 600;
    // Arrange: the default level, where every request writes a line.
    let directory = tempfile::tempdir().unwrap();
    let url = database_url(directory.path());
    let admin = String::from_utf8(run(&url, &["org", "create", "--name", "Acme"]).stdout).unwrap().trim().to_owned();
    let server = Server::start_logging(&url, "info");
    let client = reqwest::Client::new();

    // Act: requests while stderr is not read, so that the pipe fills (64 KiB)
    // and the later lines wait in the server's log buffer; SIGTERM as soon as
    // the last request is answered; then stderr is read again.
    server.reading_paused.store(true, Ordering::Relaxed);
    let mut request_ids = Vec::new();
    for _ in 0..REQUESTS {
        let response = client
            .get(format!("{}/v1/me", server.base_url))
            .header("X-API-Key", &admin)
            .send()
            .await
            .expect("the server answers");
        let request_id = response.headers().get("x-request-id").expect("every answer has a request id");
        request_ids.push(request_id.to_str().unwrap().to_owned());
    }
    let (exit, stderr) = server.terminate();

    // Assert
    assert!(exit.success(), "{exit:?}");
    let answered_lines: Vec<&str> =
        stderr.lines().filter(|line| line.contains("finished processing request")).collect();
    let missing: Vec<&String> =
        request_ids.iter().filter(|id| !answered_lines.iter().any(|line| line.contains(id.as_str()))).collect();
    assert!(missing.is_empty(), "{} of {REQUESTS} request lines missing, e.g. {:?}", missing.len(), missing.first());
    assert!(stderr.contains("shutting down: finishing requests in flight"), "{stderr}");
    assert!(!stderr.contains("log lines dropped"), "the buffer had room for every line");
}
