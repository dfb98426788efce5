//! `cargo xtask test`: the whole test suite, on every backend this machine
//! has. First everything on SQLite with in-process limits, then the
//! end-to-end and binary tests again on PostgreSQL with Redis, including the
//! multi-instance and fault tests that need them, then Swagger UI driven in
//! headless Chromium (`tests/browser/run.sh`) and clients generated in
//! TypeScript and Python run against a live server (`tests/clients/run.sh`),
//! webhook deliveries from the real server checked by the Python Standard
//! Webhooks library (`tests/webhooks/run.sh`), and last the Schemathesis contract tests
//! (`tests/contract/run.sh`).

use std::{
    net::{TcpStream, ToSocketAddrs},
    process::Command,
    time::Duration,
};

const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

pub fn run() -> Result<(), String> {
    cargo(&["test", "--workspace"], &[])?;
    postgres_and_redis_pass()?;
    script("Swagger UI in headless Chromium", "tests/browser/run.sh")?;
    script("clients generated in TypeScript and Python", "tests/clients/run.sh")?;
    script("webhook deliveries from serve checked by the Python standardwebhooks library", "tests/webhooks/run.sh")?;
    script("contract tests: Schemathesis over every operation", "tests/contract/run.sh")
}

fn postgres_and_redis_pass() -> Result<(), String> {
    let database_url = env_or("TEST_DATABASE_URL", DEFAULT_DATABASE_URL);
    let redis_url = env_or("TEST_REDIS_URL", DEFAULT_REDIS_URL);
    let unreachable: Vec<String> = [("PostgreSQL", &database_url), ("Redis", &redis_url)]
        .into_iter()
        .filter(|(_, url)| !is_reachable(url))
        .map(|(name, url)| format!("{name} at {}", redact(url)))
        .collect();
    if !unreachable.is_empty() {
        let message = format!(
            "NOT RUN: the PostgreSQL + Redis pass of the end-to-end tests and the multi-instance tests; \
             {} not reachable (set TEST_DATABASE_URL and TEST_REDIS_URL)",
            unreachable.join(" and ")
        );
        if std::env::var_os("CI").is_some() {
            return Err(message);
        }
        eprintln!("\n{message}\n");
        return Ok(());
    }
    eprintln!("\n== the end-to-end and binary tests again, on PostgreSQL and Redis\n");
    cargo(
        &["test", "-p", "appdeck-tests", "-p", "appdeck-server", "-p", "appdeck-cli", "--", "--include-ignored"],
        &[("TEST_DATABASE_URL", &database_url), ("TEST_REDIS_URL", &redis_url)],
    )
}

/// Runs one of the scripts that test the server from outside Rust.
fn script(what: &str, path: &str) -> Result<(), String> {
    eprintln!("\n== {what}\n");
    let status = Command::new("bash")
        .arg(super::spec::workspace_root().join(path))
        .status()
        .map_err(|error| format!("cannot run bash: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("{path} failed: {what}")) }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|value| !value.is_empty()).unwrap_or_else(|| default.to_owned())
}

fn cargo(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("`cargo {}` failed", args.join(" "))) }
}

/// Whether something accepts TCP connections at the URL's host and port.
fn is_reachable(url: &str) -> bool {
    let Some(authority) = url.split("://").nth(1).and_then(|rest| rest.split(['/', '?']).next()) else {
        return false;
    };
    let host_and_port = authority.rsplit('@').next().unwrap_or(authority);
    let default_port = if url.starts_with("redis") { 6379 } else { 5432 };
    let address =
        if host_and_port.contains(':') { host_and_port.to_owned() } else { format!("{host_and_port}:{default_port}") };
    address
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .is_some_and(|address| TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok())
}

/// The URL without its credentials, for messages.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.rsplit('@').next().unwrap_or(rest)),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_not_shown() {
        assert_eq!(redact("postgres://user:secret@db:5432/app"), "postgres://db:5432/app");
    }

    #[test]
    fn a_closed_port_is_unreachable() {
        assert!(!is_reachable("postgres://127.0.0.1:1/test"));
    }
}
