//! The results: one markdown table per part, and the targets from issue 15
//! marked met or missed. Printed, and written to `<target>/bench/results.md`.

use std::{fmt::Write, time::Duration};

use super::{
    database::Backend,
    wrk::{Spread, Summary},
};

/// One scenario of the main table: its median run (see `wrk::median`).
pub struct Row {
    pub scenario: String,
    /// `old` or `new` in a `--compare` run.
    pub side: Option<&'static str>,
    /// The index of the ceiling row this one is measured against (the one
    /// serving the same bytes); `None` for a ceiling itself.
    pub ceiling: Option<usize>,
    pub summary: Summary,
    pub spread: Spread,
    /// Highest `VmRSS` sampled during the scenario, in KiB.
    pub peak_rss_kib: u64,
}

/// One list page at one organization size.
pub struct ScalingRow {
    pub page: &'static str,
    pub apps: u64,
    pub summary: Summary,
    pub spread: Spread,
}

pub struct Report {
    pub backend: Backend,
    pub quick: bool,
    /// `wrk` version, threads, connections, duration: how the load was made.
    pub load_description: String,
    pub machine: String,
    /// The ceilings first, then appdeck's scenarios.
    pub rows: Vec<Row>,
    /// What a write acknowledged by the server survives: the database's
    /// durability settings as the bench read or knows them.
    pub durability: String,
    pub scaling: Vec<ScalingRow>,
    pub idle_rss_kib: u64,
    /// `VmHWM` when all load is over: the most the server ever held.
    pub high_water_rss_kib: u64,
    pub start_to_ready: Duration,
    /// 64 in a full run: the p99 target is stated at 64 connections.
    pub connections: u32,
}

/// A target from the issue and whether this run met it; `None` when the run
/// cannot judge it (a `--quick` run, or a target for another backend).
struct Target {
    name: String,
    measured: String,
    met: Option<bool>,
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let mode = if self.quick { "--quick (harness check, no target judged)" } else { "full" };
        let _ = writeln!(out, "## appdeck bench: {} ({mode})\n", self.backend.name());
        let _ = writeln!(out, "Machine: {}. Load: {}.\n", self.machine, self.load_description);
        out.push_str("| scenario | req/s | runs' req/s | × ceiling | p50 | p99 | errors | peak RSS |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for row in &self.rows {
            let summary = &row.summary;
            let side = row.side.map(|side| format!(" ({side})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "| {}{side} | {:.0} | {} | {:.2} | {} | {} | {} | {} |",
                row.scenario,
                summary.requests_per_second,
                range(row.spread),
                self.ratio(row),
                micros(summary.p50_us),
                micros(summary.p99_us),
                summary.errors,
                megabytes(row.peak_rss_kib),
            );
        }
        let _ = writeln!(out, "\nWrites (POST, PATCH) are acknowledged with {}.", self.durability);
        out.push_str(&self.comparison());
        if self.scaling.is_empty() {
            return out;
        }
        out.push_str("\n### Scaling: `GET /v1/apps?limit=50`, the first page and a deep one (90 % into the list)\n\n");
        out.push_str("| page | apps | req/s | runs' req/s | p50 | p99 | errors | time per request ÷ smallest |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for row in &self.scaling {
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {} | {} | {} | {} | {:.2} |",
                row.page,
                row.apps,
                row.summary.requests_per_second,
                range(row.spread),
                micros(row.summary.p50_us),
                micros(row.summary.p99_us),
                row.summary.errors,
                self.scaling_ratio(row),
            );
        }
        let _ = writeln!(
            out,
            "\nServer: idle RSS {}, high-water RSS {} (VmHWM after all load), start to ready {} ms.\n",
            megabytes(self.idle_rss_kib),
            megabytes(self.high_water_rss_kib),
            self.start_to_ready.as_millis(),
        );
        out.push_str("### Targets\n\n| target | measured | result |\n|---|---|---|\n");
        for target in self.targets() {
            let result = match target.met {
                Some(true) => "met",
                Some(false) => "**missed**",
                None => "not judged",
            };
            let _ = writeln!(out, "| {} | {} | {result} |", target.name, target.measured);
        }
        out
    }

    /// Old and new side by side, for a `--compare` run; empty otherwise.
    fn comparison(&self) -> String {
        let mut out = String::new();
        let pairs = self.rows.iter().filter(|row| row.side == Some("new")).filter_map(|new| {
            let old = self.rows.iter().find(|old| old.side == Some("old") && old.scenario == new.scenario)?;
            Some((old, new))
        });
        for (index, (old, new)) in pairs.enumerate() {
            if index == 0 {
                out.push_str("\n### Old and new, measured in alternating rounds\n\n");
                out.push_str("| scenario | old req/s | new req/s | new ÷ old | old × ceiling | new × ceiling | old p99 | new p99 |\n");
                out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
            }
            let _ = writeln!(
                out,
                "| {} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} |",
                new.scenario,
                old.summary.requests_per_second,
                new.summary.requests_per_second,
                new.summary.requests_per_second / old.summary.requests_per_second.max(f64::MIN_POSITIVE),
                self.ratio(old),
                self.ratio(new),
                micros(old.summary.p99_us),
                micros(new.summary.p99_us),
            );
        }
        out
    }

    /// Throughput over that of the row's own ceiling (1.0 for a ceiling).
    fn ratio(&self, row: &Row) -> f64 {
        let ceiling = row.ceiling.and_then(|index| self.rows.get(index));
        ceiling.map_or(1.0, |ceiling| row.summary.requests_per_second / ceiling.summary.requests_per_second)
    }

    /// Cost of a request at this size over its cost at the smallest size
    /// (throughput small ÷ throughput large): 1.0 means depth is free.
    fn scaling_ratio(&self, row: &ScalingRow) -> f64 {
        let smallest = self.scaling.iter().filter(|other| other.page == row.page).min_by_key(|other| other.apps);
        smallest.map_or(1.0, |smallest| smallest.summary.requests_per_second / row.summary.requests_per_second)
    }

    fn targets(&self) -> Vec<Target> {
        let judge = |met: bool| if self.quick { None } else { Some(met) };
        let ratio = |scenario: &str| {
            // In a comparison the targets are the new build's.
            let mut measured = self.rows.iter().filter(|row| row.side != Some("old"));
            measured.find(|row| row.scenario.starts_with(scenario)).map(|row| self.ratio(row))
        };
        let mut targets = Vec::new();
        let get_minimum = match self.backend {
            Backend::Sqlite => 0.5,
            Backend::Postgres => 0.2,
        };
        if let Some(get) = ratio("GET /v1/apps/{id}") {
            targets.push(Target {
                name: format!("GET by id >= {get_minimum}x ceiling ({})", self.backend.name()),
                measured: format!("{get:.2}x"),
                met: judge(get >= get_minimum),
            });
        }
        if let Some(list) = ratio("GET /v1/apps?limit=50") {
            targets.push(Target {
                name: "GET list >= 0.5x the ceiling serving the same page (SQLite)".into(),
                measured: format!("{list:.2}x"),
                met: if self.backend == Backend::Sqlite { judge(list >= 0.5) } else { None },
            });
        }
        if let Some(post) = ratio("POST /v1/apps") {
            targets.push(Target {
                name: "POST >= 0.1x ceiling (SQLite)".into(),
                measured: format!("{post:.2}x"),
                met: if self.backend == Backend::Sqlite { judge(post >= 0.1) } else { None },
            });
        }
        if let Some(row) =
            self.rows.iter().find(|row| row.side != Some("old") && row.scenario.starts_with("GET /v1/apps/{id}"))
            && let Some(ceiling) = row.ceiling.and_then(|index| self.rows.get(index))
        {
            let times = row.summary.p99_us as f64 / ceiling.summary.p99_us.max(1) as f64;
            targets.push(Target {
                name: "GET by id: p99 <= 2x the ceiling's p99 at 64 connections (SQLite)".into(),
                measured: format!("{} ({times:.1}x) at {} connections", micros(row.summary.p99_us), self.connections),
                met: if self.connections == 64 && self.backend == Backend::Sqlite { judge(times <= 2.0) } else { None },
            });
        }
        for row in self.scaling.iter().filter(|row| row.apps == self.largest_size()) {
            let ratio = self.scaling_ratio(row);
            targets.push(Target {
                name: format!("{} page, largest ÷ smallest <= 1.3", row.page),
                measured: format!("{ratio:.2}"),
                met: judge(ratio <= 1.3),
            });
        }
        targets.push(Target {
            name: "idle RSS <= 30 MB".into(),
            measured: megabytes(self.idle_rss_kib),
            met: judge(at_most_megabytes(self.idle_rss_kib, 30)),
        });
        targets.push(Target {
            name: "RSS under load <= 100 MB".into(),
            measured: megabytes(self.high_water_rss_kib),
            met: judge(at_most_megabytes(self.high_water_rss_kib, 100)),
        });
        targets.push(Target {
            name: "start to ready <= 1 s".into(),
            measured: format!("{} ms", self.start_to_ready.as_millis()),
            met: judge(self.start_to_ready <= Duration::from_secs(1)),
        });
        targets
    }

    fn largest_size(&self) -> u64 {
        self.scaling.iter().map(|row| row.apps).max().unwrap_or(0)
    }
}

fn range(spread: Spread) -> String {
    format!("{:.0}–{:.0}", spread.slowest, spread.fastest)
}

fn micros(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

/// Megabytes as the targets state them (10^6 bytes); `/proc` counts KiB.
fn megabytes(kib: u64) -> String {
    format!("{:.1} MB", (kib * 1024) as f64 / 1e6)
}

fn at_most_megabytes(kib: u64, megabytes: u64) -> bool {
    kib * 1024 <= megabytes * 1_000_000
}
