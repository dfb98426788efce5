//! What a soak run recorded, and what it concludes: requests by status,
//! which 5xx an outage excuses, how long each recovery took, and the
//! pass/fail rule.

use std::{collections::BTreeMap, fmt::Write, time::Duration};

/// Who sent a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// The mixed load with valid tokens: reads, lists, writes, token changes.
    Load,
    /// A hostile client sending tokens that do not exist.
    BadToken,
    /// A hostile client sending 2 MiB bodies.
    HugeBody,
    /// The final read-back of every acknowledged write.
    Verify,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Load => "mixed load",
            Source::BadToken => "bad tokens",
            Source::HugeBody => "2 MiB bodies",
            Source::Verify => "read-back",
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Status(u16),
    /// No HTTP answer: refused, reset or timed out.
    NoAnswer,
}

/// One request, with its times since the start of the run.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub source: Source,
    pub started: Duration,
    pub finished: Duration,
    pub outcome: Outcome,
}

/// A restart the soak caused: it began at `began`, and the restarted
/// service answered again at `back_up`.
#[derive(Debug, Clone)]
pub struct Fault {
    pub name: String,
    pub began: Duration,
    pub back_up: Duration,
}

/// How long after a fault's service is back a 503 is still excused: the
/// server may first have to find its pooled connections broken.
pub const GRACE: Duration = Duration::from_secs(10);

impl Fault {
    /// A 503 for a request that started while the service was down, or
    /// within [`GRACE`] of it coming back, is the answer an outage should get.
    fn excuses(&self, event: &Event) -> bool {
        event.outcome == Outcome::Status(503) && event.started >= self.began && event.started <= self.back_up + GRACE
    }

    /// From the service being back to the end of the first request of the
    /// mixed load that started afterwards and succeeded; `None` if none did.
    pub fn recovery(&self, events: &[Event]) -> Option<Duration> {
        events
            .iter()
            .filter(|event| event.source == Source::Load && event.started >= self.back_up)
            .filter(|event| matches!(event.outcome, Outcome::Status(200..=299)))
            .map(|event| event.finished - self.back_up)
            .min()
    }
}

/// 5xx answers no outage excuses: anything but 503, or a 503 outside every
/// fault's window.
pub fn unexcused_5xx<'a>(events: &'a [Event], faults: &[Fault]) -> Vec<&'a Event> {
    events
        .iter()
        .filter(|event| matches!(event.outcome, Outcome::Status(500..=599)))
        .filter(|event| !faults.iter().any(|fault| fault.excuses(event)))
        .collect()
}

/// Requests per source and outcome.
pub fn by_status(events: &[Event]) -> BTreeMap<(Source, Outcome), u64> {
    let mut counts = BTreeMap::new();
    for event in events {
        *counts.entry((event.source, event.outcome)).or_insert(0) += 1;
    }
    counts
}

/// What the slow clients saw: connections opened and how many the server
/// closed (a restart of the server itself is not counted as closing them).
#[derive(Debug, Default, Clone, Copy)]
pub struct SlowHeaders {
    pub slots: usize,
    pub opened: u64,
    pub closed_by_server: u64,
}

/// Everything the report says.
pub struct Summary {
    pub backend: &'static str,
    pub build: &'static str,
    pub minutes: f64,
    pub workers: usize,
    pub events: Vec<Event>,
    pub faults: Vec<Fault>,
    pub slow_headers: SlowHeaders,
    /// Acknowledged writes checked at the end, and those that were missing
    /// or read back wrong (each described).
    pub writes_checked: usize,
    pub lost_writes: Vec<String>,
    pub rss_start_kib: u64,
    pub rss_end_kib: u64,
    /// How the server ended on SIGTERM at the end of the run.
    pub shutdown: String,
}

impl Summary {
    /// Why the run failed; empty when it passed. 429s and half-sent
    /// connections left open are reported, never failed on.
    pub fn failures(&self) -> Vec<String> {
        let mut failures: Vec<String> = self.lost_writes.iter().map(|lost| format!("lost write: {lost}")).collect();
        let unexcused = unexcused_5xx(&self.events, &self.faults);
        if !unexcused.is_empty() {
            let mut statuses = BTreeMap::new();
            for event in &unexcused {
                *statuses.entry((event.source, event.outcome)).or_insert(0u64) += 1;
            }
            for ((source, outcome), count) in statuses {
                failures.push(format!("{count} unexcused {} ({})", outcome_name(outcome), source.name()));
            }
        }
        failures
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "## appdeck soak: {}, {:.1} min, {} workers ({} build)\n",
            self.backend, self.minutes, self.workers, self.build
        );
        out.push_str("### Requests by status\n\n| source | status | requests |\n|---|---|---:|\n");
        for ((source, outcome), count) in by_status(&self.events) {
            let _ = writeln!(out, "| {} | {} | {count} |", source.name(), outcome_name(outcome));
        }
        let unexcused = unexcused_5xx(&self.events, &self.faults);
        out.push_str("\n### Restarts\n\n| restart | at | down for | first success after it was back |\n");
        out.push_str("|---|---:|---:|---:|\n");
        for fault in &self.faults {
            let recovery = match fault.recovery(&self.events) {
                Some(recovery) => format!("{:.2} s", recovery.as_secs_f64()),
                None => "none observed".into(),
            };
            let _ = writeln!(
                out,
                "| {} | {:.0} s | {:.1} s | {recovery} |",
                fault.name,
                fault.began.as_secs_f64(),
                (fault.back_up - fault.began).as_secs_f64()
            );
        }
        let SlowHeaders { slots, opened, closed_by_server } = self.slow_headers;
        let _ = writeln!(
            out,
            "\n- Acknowledged writes read back: {}; missing or wrong: **{}**.",
            self.writes_checked,
            self.lost_writes.len()
        );
        let _ = writeln!(out, "- 5xx other than a 503 during an outage: **{}**.", unexcused.len());
        let rate_limited = self.events.iter().filter(|event| event.outcome == Outcome::Status(429)).count();
        let _ = writeln!(out, "- 429 answers (reported, not failed on): {rate_limited}.");
        let _ = writeln!(
            out,
            "- Half-sent requests: {slots} kept open at a time, {opened} opened, {closed_by_server} closed by the server."
        );
        let _ = writeln!(
            out,
            "- RSS: {:.1} MB at the start of the load, {:.1} MB at its end.",
            megabytes(self.rss_start_kib),
            megabytes(self.rss_end_kib)
        );
        let _ = writeln!(out, "- Shutdown on SIGTERM at the end: {}.", self.shutdown);
        for lost in self.lost_writes.iter().take(20) {
            let _ = writeln!(out, "- lost: {lost}");
        }
        let failures = self.failures();
        let verdict = if failures.is_empty() { "PASS".to_owned() } else { format!("FAIL: {}", failures.join("; ")) };
        let _ = writeln!(out, "\n**{verdict}**");
        out
    }
}

fn outcome_name(outcome: Outcome) -> String {
    match outcome {
        Outcome::Status(status) => status.to_string(),
        Outcome::NoAnswer => "no answer".into(),
    }
}

fn megabytes(kib: u64) -> f64 {
    (kib * 1024) as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(source: Source, started_s: u64, status: u16) -> Event {
        Event {
            source,
            started: Duration::from_secs(started_s),
            finished: Duration::from_secs(started_s) + Duration::from_millis(5),
            outcome: Outcome::Status(status),
        }
    }

    fn redis_restart() -> Fault {
        Fault { name: "redis".into(), began: Duration::from_secs(20), back_up: Duration::from_secs(23) }
    }

    #[test]
    fn a_503_is_excused_only_during_an_outage_and_its_grace() {
        let events = [
            event(Source::Load, 10, 503),
            event(Source::Load, 21, 503),
            event(Source::Load, 23 + GRACE.as_secs(), 503),
            event(Source::Load, 24 + GRACE.as_secs(), 503),
        ];
        let unexcused = unexcused_5xx(&events, &[redis_restart()]);
        let starts: Vec<u64> = unexcused.iter().map(|event| event.started.as_secs()).collect();
        assert_eq!(starts, [10, 24 + GRACE.as_secs()]);
    }

    #[test]
    fn a_500_is_never_excused_even_during_an_outage() {
        let events = [event(Source::Load, 21, 500), event(Source::HugeBody, 21, 502)];
        assert_eq!(unexcused_5xx(&events, &[redis_restart()]).len(), 2);
    }

    #[test]
    fn recovery_is_the_first_load_success_that_started_after_the_service_was_back() {
        let events = [
            event(Source::Load, 22, 200),
            event(Source::BadToken, 24, 200),
            event(Source::Load, 25, 429),
            event(Source::Load, 27, 201),
            event(Source::Load, 26, 200),
        ];
        assert_eq!(redis_restart().recovery(&events), Some(Duration::from_millis(3_005)));
        assert_eq!(redis_restart().recovery(&events[..3]), None);
    }

    fn summary(events: Vec<Event>, lost_writes: Vec<String>) -> Summary {
        Summary {
            backend: "sqlite",
            build: "release",
            minutes: 1.0,
            workers: 4,
            events,
            faults: vec![redis_restart()],
            slow_headers: SlowHeaders { slots: 64, opened: 64, closed_by_server: 0 },
            writes_checked: 10,
            lost_writes,
            rss_start_kib: 10_000,
            rss_end_kib: 20_000,
            shutdown: "exit status: 0".into(),
        }
    }

    #[test]
    fn rate_limits_and_open_slow_connections_pass_while_a_lost_write_or_a_500_fails() {
        let passing = summary(vec![event(Source::Load, 1, 429), event(Source::Load, 21, 503)], Vec::new());
        assert!(passing.failures().is_empty(), "{:?}", passing.failures());
        assert!(passing.markdown().contains("**PASS**"));

        let failing = summary(vec![event(Source::Load, 21, 500)], vec!["app 1 is missing".into()]);
        assert_eq!(failing.failures(), ["lost write: app 1 is missing", "1 unexcused 500 (mixed load)"]);
        assert!(failing.markdown().contains("**FAIL: "));
    }
}
