//! The `appdeck-server` binary as an operator runs it: its subcommands, its
//! answer to bad configuration, its logs, and its shutdown on SIGTERM.

mod commands;
mod deliveries;
mod durability;
mod logs;
mod serving;
mod storage_faults;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Output, Stdio},
    sync::{
        Arc,
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
    /// Every stderr line so far; a test awaits the one that says what it
    /// waits for, rather than guessing how long it takes.
    stderr: tokio::sync::watch::Receiver<Vec<String>>,
    /// While set, stderr is not read: the pipe fills, as with a stalled
    /// reader. `terminate` then reads it again, slowly.
    reading_paused: Arc<AtomicBool>,
    /// Reads stderr until the pipe closes; taken by `terminate`.
    reader: Option<thread::JoinHandle<()>>,
}

/// A test that fails before `terminate` must not leave `serve` running: it
/// would hold the test's output open after the test binary exits.
impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().is_ok_and(|status| status.is_none()) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
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
        let (collected, stderr) = tokio::sync::watch::channel(Vec::new());
        let (address_sender, address_receiver) = mpsc::channel();
        let reader = BufReader::new(child.stderr.take().expect("stderr is piped"));
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
                collected.send_modify(|lines| lines.push(line));
            }
        });
        let base_url = address_receiver.recv_timeout(Duration::from_secs(30)).expect("serve says where it listens");
        Self { child, base_url, stderr, reading_paused, reader: Some(reader) }
    }

    fn stderr(&self) -> String {
        self.stderr.borrow().join("\n")
    }

    /// Waits until a stderr line contains every one of `parts`; fails after
    /// `patience`, or when stderr closes first.
    async fn logged(&self, parts: &[&str], patience: Duration) -> String {
        let has_parts = |line: &String| parts.iter().all(|part| line.contains(part));
        let mut stderr = self.stderr.clone();
        let found = tokio::time::timeout(patience, stderr.wait_for(|lines| lines.iter().any(has_parts))).await;
        match found {
            Ok(Ok(lines)) => lines.iter().find(|line| has_parts(line)).cloned().unwrap_or_default(),
            _ => panic!("no line with {parts:?} within {patience:?}:\n{}", self.stderr()),
        }
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
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the stderr reader does not panic");
        }
        (status, self.stderr())
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
