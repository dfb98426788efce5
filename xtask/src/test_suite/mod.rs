//! `cargo xtask test`: the whole test suite, on every backend this machine
//! has. First everything on SQLite with in-process limits, then the
//! end-to-end and binary tests again on PostgreSQL with Redis, including the
//! multi-instance and fault tests that need them, then Swagger UI and the
//! API reference in headless Chromium (`tests/browser/run.sh`), clients
//! generated in TypeScript and Python run against a live server
//! (`tests/clients/run.sh`), the SDK packages of `cargo xtask sdk` installed
//! away from the sources and run against a live server (`tests/sdk/run.sh`),
//! every code sample of `openapi.yaml` run against a live server (`cargo
//! xtask samples`), the clients of every released spec run against the
//! server (`cargo xtask compat`), webhook deliveries from the real server
//! checked by the Python Standard Webhooks library (`tests/webhooks/run.sh`),
//! and last the Schemathesis contract tests (`tests/contract/run.sh`). At
//! the end, what each step and the slowest test binaries took.

mod timing;

use std::{
    net::{TcpStream, ToSocketAddrs},
    process::Command,
    time::{Duration, Instant},
};

use timing::Timings;

const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

pub fn run() -> Result<(), String> {
    let mut timings = Timings::default();
    let result = every_step(&mut timings);
    println!("{}", timings.report());
    result
}

fn every_step(timings: &mut Timings) -> Result<(), String> {
    // CI exports both URLs for the second pass; inherited here, they made
    // this pass run on PostgreSQL and Redis too, and SQLite end to end never ran.
    cargo(timings, "every test on SQLite", &["test", "--workspace"], &[], &["TEST_DATABASE_URL", "TEST_REDIS_URL"])?;
    postgres_and_redis_pass(timings)?;
    script(timings, "Swagger UI and /reference in headless Chromium", "tests/browser/run.sh")?;
    script(timings, "clients generated in TypeScript and Python", "tests/clients/run.sh")?;
    script(timings, "the SDK packages installed and run against a live server", "tests/sdk/run.sh")?;
    code_samples(timings)?;
    compatibility_matrix(timings)?;
    script(
        timings,
        "webhook deliveries from serve checked by the Python standardwebhooks library",
        "tests/webhooks/run.sh",
    )?;
    script(timings, "contract tests: Schemathesis over every operation", "tests/contract/run.sh")
}

fn postgres_and_redis_pass(timings: &mut Timings) -> Result<(), String> {
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
        timings,
        "the end-to-end and binary tests on PostgreSQL and Redis",
        &["test", "-p", "appdeck-tests", "-p", "appdeck-server", "-p", "appdeck-cli", "--", "--include-ignored"],
        &[("TEST_DATABASE_URL", &database_url), ("TEST_REDIS_URL", &redis_url)],
        &[],
    )
}

/// Every sample of `openapi.yaml` in its five languages against a live server.
fn code_samples(timings: &mut Timings) -> Result<(), String> {
    let what = "the code samples of every operation, in five languages";
    eprintln!("\n== {what}\n");
    let started = Instant::now();
    let result = super::samples::run(super::samples::Options::default());
    timings.record(what, started.elapsed());
    result
}

/// The clients of every released spec, in three languages, against the server.
fn compatibility_matrix(timings: &mut Timings) -> Result<(), String> {
    let what = "the clients of every released spec against the server (compat)";
    eprintln!("\n== {what}\n");
    let started = Instant::now();
    let result = super::compat::run();
    timings.record(what, started.elapsed());
    result
}

/// Runs one of the scripts that test the server from outside Rust.
fn script(timings: &mut Timings, what: &str, path: &str) -> Result<(), String> {
    eprintln!("\n== {what}\n");
    let started = Instant::now();
    let status = Command::new("bash")
        .arg(super::spec::workspace_root().join(path))
        .status()
        .map_err(|error| format!("cannot run bash: {error}"))?;
    timings.record(what, started.elapsed());
    if status.success() { Ok(()) } else { Err(format!("{path} failed: {what}")) }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|value| !value.is_empty()).unwrap_or_else(|| default.to_owned())
}

fn cargo(timings: &mut Timings, step: &str, args: &[&str], env: &[(&str, &str)], unset: &[&str]) -> Result<(), String> {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.args(args).envs(env.iter().copied());
    for name in unset {
        command.env_remove(name);
    }
    if timings.run(step, command)? { Ok(()) } else { Err(format!("`cargo {}` failed", args.join(" "))) }
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
