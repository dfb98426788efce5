//! `cargo xtask bench`: appdeck against a ceiling (a bare axum handler
//! serving the same JSON from memory), measured side by side in one run,
//! because on a shared machine only ratios mean anything.
//!
//! One run: build the server and the ceiling in release; start the server on
//! a fresh database with an organization of 1,000 apps; drive each scenario
//! with wrk from a separate process; then grow a second organization to each
//! scaling size and measure a first and a deep list page; print the tables.

pub mod build;
mod compare;
mod database;
mod durability;
pub mod http;
pub mod process;
mod report;
mod runtime;
mod scenarios;
mod seed;
mod wrk;

use std::{path::Path, process::Command, time::Duration};

pub use database::Backend;
use database::Database;
use report::Report;
use wrk::Load;

pub struct Options {
    pub backend: Backend,
    pub quick: bool,
    /// `--compare REV`: also measure the server built from git revision REV.
    pub compare: Option<String>,
}

impl Options {
    /// `[--backend sqlite|postgres] [--quick] [--compare REV]`, in any order.
    pub fn parse(args: &[&str]) -> Option<Self> {
        let mut options = Self { backend: Backend::Sqlite, quick: false, compare: None };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match *arg {
                "--quick" => options.quick = true,
                "--compare" => options.compare = Some((*args.next()?).to_owned()),
                "--backend" => {
                    options.backend = match *args.next()? {
                        "sqlite" => Backend::Sqlite,
                        "postgres" => Backend::Postgres,
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
        Some(options)
    }
}

/// How big and how long: a `--quick` run only checks that the harness works.
struct Plan {
    load: Load,
    /// Apps of the organization the main scenarios use.
    organization_apps: u64,
    /// Sizes the list is measured at, smallest first.
    scaling_sizes: &'static [u64],
    /// Runs of each scenario; the median is reported.
    rounds: usize,
}

impl Plan {
    fn new(quick: bool) -> Self {
        if quick {
            let load = Load { threads: 2, connections: 8, duration: Duration::from_secs(2) };
            // Two sizes, so a quick run also exercises growing an organization.
            Self { load, organization_apps: 1_000, scaling_sizes: &[1_000, 10_000], rounds: 1 }
        } else {
            let load = Load { threads: 2, connections: 64, duration: Duration::from_secs(10) };
            Self { load, organization_apps: 1_000, scaling_sizes: &[1_000, 100_000, 1_000_000], rounds: 3 }
        }
    }
}

pub fn run(options: Options) -> Result<(), String> {
    let wrk_version = wrk::ensure_installed()?;
    let binaries = build::release(&crate::spec::workspace_root())?;
    let plan = Plan::new(options.quick);
    let database = Database::create(options.backend, &binaries.bench_dir)?;
    let environment = [
        ("DATABASE_URL", database.url.clone()),
        // The bench sends millions of requests with one token: the hourly
        // limit (1,000 by default) would answer most of them 429. The server
        // holds the limit as a u32, so this is about the most it can take.
        ("APPDECK_RATE_LIMIT_PER_HOUR", "4000000000".into()),
        // No `RUST_LOG`: the server logs at its default level, one line per
        // request, as users run it; the log goes to a file.
    ];
    let token = create_organization(&binaries.server, &environment, "Acme Mobile")?;
    let mut server = process::start_server(&binaries.server, &environment, &binaries.bench_dir.join("server.log"))?;
    let (idle_rss_kib, _) = server.process.memory_kib()?;
    eprintln!("bench: server ready in {} ms, idle RSS {idle_rss_kib} KiB", server.start_to_ready.as_millis());

    let context = scenarios::Context { bench_dir: &binaries.bench_dir, load: plan.load, rounds: plan.rounds };
    let measured = (|| {
        let organization = scenarios::seed_organization(&server, &database, &token, plan.organization_apps)?;
        let new = scenarios::Side { label: None, server: &server, token: &token, organization: &organization };
        let mut durability = durability::settings(&database)?;
        if let Some(revision) = &options.compare {
            let old = compare::OldServer::start(revision, &binaries.bench_dir, options.backend)?;
            let organization =
                scenarios::seed_organization(&old.server, &old.database, &old.token, plan.organization_apps)?;
            let old = scenarios::Side {
                label: Some("old"),
                server: &old.server,
                token: &old.token,
                organization: &organization,
            };
            let sides = [scenarios::Side { label: Some("new"), ..new }, old];
            let rows = scenarios::main_table(&context, &binaries.ceiling, &sides)?;
            return Ok::<_, String>((rows, durability, Vec::new()));
        }
        let rows = scenarios::main_table(&context, &binaries.ceiling, &[new])?;
        if options.backend == Backend::Sqlite {
            let request = scenarios::create_request(&token);
            match durability::flushes_per_create(&server, &request, &binaries.bench_dir) {
                Some(flushes) => durability.push_str(&format!("; {flushes}")),
                None => durability.push_str("; flushes not counted (strace is not installed or cannot attach)"),
            }
        }
        let scaling_token = create_organization(&binaries.server, &environment, "Scaling Co")?;
        let scaling = scenarios::scaling(&context, &server, &database, &scaling_token, plan.scaling_sizes)?;
        Ok((rows, durability, scaling))
    })();
    let (rows, durability, scaling) = measured.map_err(|error| server.process.explain(error))?;
    let (_, high_water_rss_kib) = server.process.memory_kib()?;

    let report = Report {
        backend: options.backend,
        quick: options.quick,
        load_description: format!(
            "{wrk_version}, {} threads, {} connections, {} s per run, {} run(s) of each scenario in rounds (the median run is shown)",
            plan.load.threads,
            plan.load.connections,
            plan.load.duration.as_secs(),
            plan.rounds
        ),
        machine: machine(),
        rows,
        durability,
        scaling,
        idle_rss_kib,
        high_water_rss_kib,
        start_to_ready: server.start_to_ready,
        connections: plan.load.connections,
    };
    let markdown = report.markdown();
    println!("\n{markdown}");
    let results = binaries.bench_dir.join("results.md");
    std::fs::write(&results, &markdown).map_err(|error| format!("cannot write {}: {error}", results.display()))?;
    println!("(also written to {})", results.display());
    check_harness(&report)
}

/// The harness worked: every scenario sent requests, and in a `--quick` run
/// (what CI runs) none failed. Timings are never checked.
fn check_harness(report: &Report) -> Result<(), String> {
    let summaries = report.rows.iter().map(|row| (row.scenario.as_str(), &row.summary));
    let summaries = summaries.chain(report.scaling.iter().map(|row| (row.page, &row.summary)));
    for (scenario, summary) in summaries {
        if summary.requests == 0 {
            return Err(format!("bench: `{scenario}` completed no request"));
        }
        if report.quick && summary.errors > 0 {
            return Err(format!("bench: `{scenario}` had {} error(s); see the server log", summary.errors));
        }
    }
    Ok(())
}

/// `appdeck-server org create`: a new organization's admin token.
pub(crate) fn create_organization(server: &Path, environment: &[(&str, String)], name: &str) -> Result<String, String> {
    let output = Command::new(server)
        .args(["org", "create", "--name", name])
        .envs(environment.iter().map(|(name, value)| (name, value)))
        .output()
        .map_err(|error| format!("cannot run {}: {error}", server.display()))?;
    if !output.status.success() {
        return Err(format!("org create failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Cores, CPU model and load average when the run starts: what the numbers
/// were measured on, and how busy the machine already was.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |cores| cores.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name")?.split_once(':').map(|(_, model)| model.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".into());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!("{cores} cores, {model}, load average {} at start", load.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_in_any_order_and_refuse_what_they_do_not_know() {
        let parsed = Options::parse(&["--compare", "main~1", "--quick", "--backend", "postgres"]);
        assert!(matches!(
            parsed,
            Some(Options { backend: Backend::Postgres, quick: true, compare: Some(ref revision) }) if revision == "main~1"
        ));
        let defaults = Options::parse(&[]);
        assert!(matches!(defaults, Some(Options { backend: Backend::Sqlite, quick: false, compare: None })));
        assert!(Options::parse(&["--compare"]).is_none(), "a revision is required");
        assert!(Options::parse(&["--backend", "mysql"]).is_none());
        assert!(Options::parse(&["--fast"]).is_none());
    }
}
