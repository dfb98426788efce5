//! `cargo xtask soak`: the release server under a mixed load for N minutes,
//! with its dependencies restarted midway and hostile clients beside it.
//! Every acknowledged write is read back at the end. See RELIABILITY.md.
//!
//! The soak runs its own Redis, and on the PostgreSQL backend its own
//! cluster, both on free ports under `<target>/soak`: it stops them on
//! purpose, so it must never use the machine's shared servers.

mod hostile;
mod load;
mod services;
mod verdict;

use std::{
    path::Path,
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use crate::bench::{Backend, build, process};
use hostile::SlowCounters;
use load::{Recorder, Target};
use services::{PostgresCluster, Redis};
use verdict::{Fault, Summary};

pub struct Options {
    pub backend: Backend,
    pub minutes: f64,
}

impl Options {
    /// `[--backend sqlite|postgres] [--minutes N]`, in any order.
    pub fn parse(args: &[&str]) -> Option<Self> {
        let mut options = Self { backend: Backend::Sqlite, minutes: 10.0 };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match *arg {
                "--backend" => {
                    options.backend = match *args.next()? {
                        "sqlite" => Backend::Sqlite,
                        "postgres" => Backend::Postgres,
                        _ => return None,
                    }
                }
                "--minutes" => {
                    options.minutes = args.next()?.parse().ok().filter(|minutes: &f64| *minutes > 0.0)?;
                }
                _ => return None,
            }
        }
        Some(options)
    }
}

const WORKERS: usize = 4;
const SLOW_CONNECTIONS: usize = 64;
/// How long Redis and PostgreSQL stay down when restarted.
const DOWNTIME: Duration = Duration::from_secs(3);

pub fn run(options: Options) -> Result<(), String> {
    let workspace_root = crate::spec::workspace_root();
    build::build_release(&workspace_root, &["appdeck-server"])?;
    let target_dir = build::target_dir(&workspace_root)?;
    let soak_dir = target_dir.join("soak");
    std::fs::create_dir_all(&soak_dir).map_err(|error| format!("cannot create {}: {error}", soak_dir.display()))?;
    let binary = build::copy_server(&target_dir, &soak_dir, "appdeck_soak_server")?;
    let backend = options.backend.name();

    let mut redis = Redis::start(&soak_dir.join(format!("redis-{backend}.log")))?;
    let cluster = match options.backend {
        Backend::Postgres => Some(PostgresCluster::create(&soak_dir.join("postgres-data"))?),
        Backend::Sqlite => None,
    };
    let database_url = match &cluster {
        Some(cluster) => cluster.url(),
        None => fresh_sqlite(&soak_dir)?,
    };
    let environment = [
        ("DATABASE_URL", database_url),
        ("REDIS_URL", redis.url()),
        // The hourly limit of one token (1,000 by default) would answer most
        // of the load 429 within a minute; the limiter still runs.
        ("APPDECK_RATE_LIMIT_PER_HOUR", "4000000000".into()),
    ];
    let admin_token = create_organization(&binary, &environment)?;
    let log = soak_dir.join(format!("server-{backend}.log"));
    let mut server = process::start_server(&binary, &environment, &log)?;
    let address = server.address;
    let (rss_start_kib, _) = server.process.memory_kib()?;
    eprintln!("soak: {backend}, server on {address} (log {}), {} min", log.display(), options.minutes);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| format!("tokio runtime: {error}"))?;
    let client = |local_address: [u8; 4]| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(2))
            .local_address(std::net::IpAddr::from(local_address))
            .build()
            .map_err(|error| format!("http client: {error}"))
    };
    // The guesser has an address of its own, as an attacker elsewhere on the
    // internet would; the load and the other hostile clients share 127.0.0.1,
    // as clients behind one proxy do.
    let guesser = client([127, 0, 0, 2])?;
    let client = client([127, 0, 0, 1])?;
    let recorder = Arc::new(Recorder::new(Instant::now()));
    let target = Arc::new(Target {
        client,
        base_url: format!("http://{address}"),
        admin_token,
        recorder: Arc::clone(&recorder),
    });
    let total = Duration::from_secs_f64(options.minutes * 60.0);
    let stop = Arc::new(AtomicBool::new(false));
    let slow = Arc::new(SlowCounters::default());
    let workers: Vec<_> = (0..WORKERS)
        .map(|number| runtime.spawn(load::worker(Arc::clone(&target), number, Arc::clone(&stop))))
        .collect();
    let mut hostile = vec![
        runtime.spawn(hostile::bad_tokens(Arc::clone(&target), guesser, total.mul_f64(0.85), Arc::clone(&stop))),
        runtime.spawn(hostile::huge_bodies(Arc::clone(&target), Arc::clone(&stop))),
    ];
    for _ in 0..SLOW_CONNECTIONS {
        hostile.push(runtime.spawn(hostile::slow_headers(address, Arc::clone(&slow), Arc::clone(&stop))));
    }

    // A third of the way in, Redis restarts; at two thirds, PostgreSQL (or,
    // on SQLite, the server itself, killed with SIGKILL).
    let mut faults = Vec::new();
    let outcome = (|| {
        sleep_until(&recorder, total / 3);
        let began = recorder.since_start();
        eprintln!("soak: restarting Redis at {:.0} s", began.as_secs_f64());
        redis.stop();
        thread::sleep(DOWNTIME);
        redis.spawn()?;
        faults.push(Fault { name: "Redis".into(), began, back_up: recorder.since_start() });

        sleep_until(&recorder, total * 2 / 3);
        let began = recorder.since_start();
        match &cluster {
            Some(cluster) => {
                eprintln!("soak: restarting PostgreSQL (fast shutdown) at {:.0} s", began.as_secs_f64());
                cluster.stop()?;
                thread::sleep(DOWNTIME);
                cluster.start()?;
                faults.push(Fault { name: "PostgreSQL".into(), began, back_up: recorder.since_start() });
            }
            None => {
                eprintln!("soak: killing the server (SIGKILL) and starting it again at {:.0} s", began.as_secs_f64());
                slow.server_restarting.store(true, Ordering::Relaxed);
                server.process.kill();
                server = process::start_server_at(&binary, &environment, &log, address)?;
                faults.push(Fault { name: "server (SIGKILL)".into(), began, back_up: recorder.since_start() });
                thread::sleep(Duration::from_secs(1));
                slow.server_restarting.store(false, Ordering::Relaxed);
            }
        }
        sleep_until(&recorder, total);
        Ok::<_, String>(())
    })();
    stop.store(true, Ordering::Relaxed);
    let minutes = recorder.since_start().as_secs_f64() / 60.0;
    let ledgers = workers.into_iter().map(|worker| runtime.block_on(worker)).collect::<Result<Vec<_>, _>>();
    for task in hostile {
        let _ = runtime.block_on(task);
    }
    outcome.map_err(|error| server.process.explain(error))?;
    let ledgers = ledgers.map_err(|error| format!("a load worker failed: {error}"))?;
    let (rss_end_kib, _) = server.process.memory_kib()?;
    let (writes_checked, lost_writes) =
        runtime.block_on(load::verify(&target, &ledgers)).map_err(|error| server.process.explain(error))?;
    let shutdown = match server.process.terminate(Duration::from_secs(20)) {
        Some(status) => format!("exited by itself ({status})"),
        None => "still running 20 s after SIGTERM; killed".into(),
    };

    let summary = Summary {
        backend,
        build: "release",
        minutes,
        workers: WORKERS,
        events: recorder.events(),
        faults,
        slow_headers: slow.summary(SLOW_CONNECTIONS),
        writes_checked,
        lost_writes,
        rss_start_kib,
        rss_end_kib,
        shutdown,
    };
    let markdown = summary.markdown();
    println!("\n{markdown}");
    let report = soak_dir.join(format!("report-{backend}.md"));
    std::fs::write(&report, &markdown).map_err(|error| format!("cannot write {}: {error}", report.display()))?;
    println!("(also written to {})", report.display());
    let failures = summary.failures();
    if failures.is_empty() { Ok(()) } else { Err(format!("soak failed: {}", failures.join("; "))) }
}

fn sleep_until(recorder: &Recorder, at: Duration) {
    if let Some(left) = at.checked_sub(recorder.since_start()) {
        thread::sleep(left);
    }
}

/// A fresh SQLite database under the soak directory.
fn fresh_sqlite(soak_dir: &Path) -> Result<String, String> {
    let path = soak_dir.join("soak.db");
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        if Path::new(&file).exists() {
            std::fs::remove_file(&file).map_err(|error| format!("cannot remove {file}: {error}"))?;
        }
    }
    Ok(format!("sqlite://{}", path.display()))
}

/// `appdeck-server org create`: the organization's admin token.
fn create_organization(binary: &Path, environment: &[(&str, String)]) -> Result<String, String> {
    let output = Command::new(binary)
        .args(["org", "create", "--name", "Soak"])
        .envs(environment.iter().map(|(name, value)| (name, value)))
        .output()
        .map_err(|error| format!("cannot run {}: {error}", binary.display()))?;
    if !output.status.success() {
        return Err(format!("org create failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_a_backend_and_minutes_in_any_order() {
        let parsed = Options::parse(&["--minutes", "0.5", "--backend", "postgres"]);
        assert!(matches!(parsed, Some(Options { backend: Backend::Postgres, minutes }) if minutes == 0.5));
        let defaults = Options::parse(&[]);
        assert!(matches!(defaults, Some(Options { backend: Backend::Sqlite, minutes }) if minutes == 10.0));
        for refused in
            [&["--minutes", "0"][..], &["--minutes", "soon"], &["--minutes"], &["--backend", "mysql"], &["--quick"]]
        {
            assert!(Options::parse(refused).is_none(), "{refused:?}");
        }
    }
}
