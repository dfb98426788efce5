//! What an acknowledged write survives, stated beside the write scenarios:
//! PostgreSQL's settings as the server's database reports them, SQLite's as
//! the server sets them, and, when `strace` is installed, the flushes a
//! burst of creates actually made.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use sqlx::Connection;

use super::{
    database::{Backend, Database},
    process::Server,
    runtime::block_on,
    wrk::{self, Load, Request},
};

/// The settings that decide whether a `201` survives a power cut.
pub fn settings(database: &Database) -> Result<String, String> {
    match database.backend {
        // The server opens SQLite in WAL mode with `synchronous=FULL` (the
        // store's setting, which a SQLite connection here would not see).
        Backend::Sqlite => Ok("SQLite `synchronous=FULL`, WAL (the server's setting)".into()),
        Backend::Postgres => {
            let read = block_on(async {
                let mut db = sqlx::PgConnection::connect(&database.url).await?;
                let commit: String =
                    sqlx::query_scalar("SELECT current_setting('synchronous_commit')").fetch_one(&mut db).await?;
                let fsync: String = sqlx::query_scalar("SELECT current_setting('fsync')").fetch_one(&mut db).await?;
                db.close().await?;
                Ok::<_, sqlx::Error>((commit, fsync))
            });
            let (commit, fsync) = read.map_err(|error| format!("reading PostgreSQL's durability settings: {error}"))?;
            Ok(format!("PostgreSQL `synchronous_commit={commit}`, `fsync={fsync}` (read from the server's database)"))
        }
    }
}

/// Flushes per create on SQLite, counted with `strace` attached to the
/// server during a short burst of `POST`s (on PostgreSQL the flushes are
/// PostgreSQL's own processes', not the server's). `None` when strace is
/// not installed or cannot attach. The measured runs never have it
/// attached, since tracing slows every system call.
pub fn flushes_per_create(server: &Server, request: &Request, bench_dir: &Path) -> Option<String> {
    let summary_file = bench_dir.join("strace-summary.txt");
    let mut strace = Command::new("strace")
        .args(["-f", "-c", "-e", "trace=fsync,fdatasync", "-o"])
        .arg(&summary_file)
        .args(["-p", &server.process.pid().to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    // strace says so on stderr once it is attached to the process.
    let mut stderr = BufReader::new(strace.stderr.take()?);
    let mut line = String::new();
    if stderr.read_line(&mut line).ok()? == 0 || !line.contains("attached") {
        let _ = strace.kill();
        let _ = strace.wait();
        return None;
    }
    let load = Load { threads: 1, connections: 8, duration: Duration::from_secs(2) };
    let burst = wrk::run(server.address, request, load, &bench_dir.join("post-strace.lua"));
    let _ = Command::new("kill").args(["-INT", &strace.id().to_string()]).status();
    let _ = strace.wait();
    let created = burst.ok()?.requests;
    let flushes = flush_calls(&std::fs::read_to_string(&summary_file).ok()?);
    Some(format!(
        "{flushes} fsync/fdatasync calls for {created} creates ({:.2} per create; strace, a 2 s burst at 8 connections)",
        flushes as f64 / created.max(1) as f64
    ))
}

/// The calls of `fsync` and `fdatasync` in a `strace -c` summary.
fn flush_calls(summary: &str) -> u64 {
    summary
        .lines()
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let syscall = *columns.last()?;
            // % time, seconds, usecs/call, calls, [errors,] syscall.
            (syscall == "fsync" || syscall == "fdatasync").then(|| columns.get(3)?.parse::<u64>().ok())?
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_calls_add_fsync_and_fdatasync_from_a_strace_summary() {
        let summary = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 90.00    0.009000          10       900           fdatasync
 10.00    0.001000          20        50         2 fsync
------ ----------- ----------- --------- --------- ----------------
100.00    0.010000          10       950         2 total
";
        assert_eq!(flush_calls(summary), 950);
        assert_eq!(flush_calls(""), 0);
    }
}
