//! Load from a separate process: Debian's `wrk`. Each scenario is a small Lua
//! script (method, headers, body) whose `done` hook prints the summary as one
//! JSON line, so nothing depends on wrk's human-readable output.

use std::{
    fs,
    net::SocketAddr,
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

/// What one scenario sends, again and again.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub token: Option<&'a str>,
    pub body: Option<&'a str>,
}

/// How hard and how long to push.
#[derive(Clone, Copy)]
pub struct Load {
    pub threads: u32,
    pub connections: u32,
    pub duration: Duration,
}

/// wrk's summary of one run. Latencies are in microseconds.
pub struct Summary {
    pub requests: u64,
    pub requests_per_second: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    /// Connect, read, write and timeout errors, and responses with status >= 400.
    pub errors: u64,
}

/// The slowest and the fastest req/s among a scenario's runs.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    pub slowest: f64,
    pub fastest: f64,
}

/// Sums up several runs of one scenario by the run with the median req/s:
/// on a shared machine one disturbed run moves the median least. Requests
/// and errors count every run; the spread shows how far the runs differ.
pub fn median(mut runs: Vec<Summary>) -> (Summary, Spread) {
    runs.sort_by(|one, other| one.requests_per_second.total_cmp(&other.requests_per_second));
    let spread = Spread {
        slowest: runs.first().map_or(0.0, |run| run.requests_per_second),
        fastest: runs.last().map_or(0.0, |run| run.requests_per_second),
    };
    let requests = runs.iter().map(|run| run.requests).sum();
    let errors = runs.iter().map(|run| run.errors).sum();
    let middle = runs.len() / 2;
    let mut median = runs.swap_remove(middle);
    median.requests = requests;
    median.errors = errors;
    (median, spread)
}

const MARKER: &str = "BENCH_SUMMARY ";

/// The `done` hook: `summary.errors.status` counts responses with a status
/// above 399, so a refused request is an error, not a fast answer.
const DONE_HOOK: &str = r#"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_SUMMARY {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"#;

/// `wrk`'s version line; installs it with apt-get when missing and running as
/// root, and otherwise says how to.
pub fn ensure_installed() -> Result<String, String> {
    if let Some(version) = version() {
        return Ok(version);
    }
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.trim_ascii() == b"0");
    if !is_root {
        return Err("wrk is not installed: run `sudo apt-get install -y wrk` (Debian/Ubuntu), then again".into());
    }
    eprintln!("bench: installing wrk with apt-get");
    let installed = Command::new("apt-get")
        .args(["install", "-y", "-q", "wrk"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !installed {
        return Err("`apt-get install -y wrk` failed: run `apt-get update`, then the bench again".into());
    }
    version().ok_or_else(|| "wrk was installed but does not run".into())
}

fn version() -> Option<String> {
    // `wrk -v` prints its version and usage, and exits 1.
    let output = Command::new("wrk").arg("-v").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    // The first line is `wrk VERSION [engine] Copyright ...`: keep name and version.
    let line = text.lines().next().filter(|line| line.starts_with("wrk "))?;
    Some(line.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
}

/// Runs wrk against `address` with the script for `request`, written to
/// `script_path`.
pub fn run(address: SocketAddr, request: &Request, load: Load, script_path: &Path) -> Result<Summary, String> {
    fs::write(script_path, script(request))
        .map_err(|error| format!("cannot write {}: {error}", script_path.display()))?;
    let output = Command::new("wrk")
        .arg(format!("--threads={}", load.threads))
        .arg(format!("--connections={}", load.connections))
        .arg(format!("--duration={}s", load.duration.as_secs()))
        .arg("--timeout=10s")
        .arg(format!("--script={}", script_path.display()))
        .arg(format!("http://{address}{}", request.path))
        .output()
        .map_err(|error| format!("cannot run wrk: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().find_map(|line| line.strip_prefix(MARKER)).ok_or_else(|| {
        format!(
            "wrk printed no summary for {} {}:\n{stdout}{}",
            request.method,
            request.path,
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    let summary: serde_json::Value = serde_json::from_str(line).map_err(|error| format!("wrk summary: {error}"))?;
    let field = |name: &str| summary[name].as_u64().ok_or_else(|| format!("wrk summary has no {name}: {line}"));
    let duration_us = field("duration_us")?.max(1);
    Ok(Summary {
        requests: field("requests")?,
        requests_per_second: field("requests")? as f64 * 1e6 / duration_us as f64,
        p50_us: field("p50_us")?,
        p99_us: field("p99_us")?,
        errors: field("errors")?,
    })
}

fn script(request: &Request) -> String {
    let mut script = format!("wrk.method = \"{}\"\n", request.method);
    if let Some(token) = request.token {
        script.push_str(&format!("wrk.headers[\"X-API-Key\"] = \"{token}\"\n"));
    }
    if let Some(body) = request.body {
        // A Lua long bracket takes the JSON as it is, quotes and all.
        script.push_str(&format!("wrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[{body}]==]\n"));
    }
    script.push_str(DONE_HOOK);
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(requests_per_second: f64, p99_us: u64, errors: u64) -> Summary {
        Summary { requests: 1_000, requests_per_second, p50_us: 1_000, p99_us, errors }
    }

    #[test]
    fn the_median_run_stands_for_its_round_with_every_run_counted() {
        let (median, spread) = median(vec![run(300.0, 3, 0), run(100.0, 1, 2), run(200.0, 2, 1)]);
        assert_eq!((median.requests_per_second, median.p99_us), (200.0, 2), "the latencies are the median run's");
        assert_eq!((median.requests, median.errors), (3_000, 3), "requests and errors count every run");
        assert_eq!((spread.slowest, spread.fastest), (100.0, 300.0));
    }
}
