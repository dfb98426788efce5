//! What each step of the suite costs: every test binary's time, read from
//! libtest's own `test result: … finished in …s` line, and each step's wall
//! time, so that a slow test shows up in the run that adds it.

use std::{
    io::{BufRead, BufReader, Write},
    process::Command,
    time::{Duration, Instant},
};

/// How long something named took.
#[derive(Debug, PartialEq)]
pub struct Timed {
    pub name: String,
    pub duration: Duration,
}

/// The times of a whole suite run, printed at its end.
#[derive(Default)]
pub struct Timings {
    steps: Vec<Timed>,
    binaries: Vec<Timed>,
    /// libtest's own warnings, `test … has been running for over 60 seconds`.
    slow_tests: Vec<String>,
}

impl Timings {
    /// Runs `command` with its stdout and stderr on the terminal as usual,
    /// and records its wall time under `step` and the time of each test
    /// binary it runs. cargo writes `Running …` to stderr and libtest its
    /// results to stdout: one pipe for both keeps them in order.
    pub fn run(&mut self, step: &str, command: Command) -> Result<bool, String> {
        self.run_showing(step, command, &mut std::io::stdout())
    }

    /// `run`, the output shown on `terminal`.
    fn run_showing(&mut self, step: &str, mut command: Command, terminal: &mut impl Write) -> Result<bool, String> {
        let started = Instant::now();
        let (reader, writer) = std::io::pipe().map_err(|error| format!("cannot make a pipe: {error}"))?;
        let stderr = writer.try_clone().map_err(|error| format!("cannot make a pipe: {error}"))?;
        let mut child =
            command.stdout(writer).stderr(stderr).spawn().map_err(|error| format!("cannot run {step}: {error}"))?;
        // The command holds the writing ends too: once it is dropped they are
        // the child's alone, and the reader sees the end when the child exits.
        drop(command);
        let mut current_binary = None;
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            let _ = writeln!(terminal, "{line}");
            if let Some(binary) = running_binary(&line) {
                current_binary = Some(binary);
            } else if let Some(duration) = finished_in(&line) {
                if let Some(name) = current_binary.take() {
                    self.binaries.push(Timed { name, duration });
                }
            } else if line.contains("has been running for over 60 seconds") {
                self.slow_tests.push(line.trim().to_owned());
            }
        }
        let status = child.wait().map_err(|error| format!("{step}: {error}"))?;
        self.steps.push(Timed { name: step.to_owned(), duration: started.elapsed() });
        Ok(status.success())
    }

    /// Records a step run some other way.
    pub fn record(&mut self, step: &str, duration: Duration) {
        self.steps.push(Timed { name: step.to_owned(), duration });
    }

    pub fn report(&self) -> String {
        let total: Duration = self.steps.iter().map(|step| step.duration).sum();
        let mut report = format!("\n== timings: the suite took {}\n", minutes(total));
        for step in &self.steps {
            report.push_str(&format!("  {:>8}  {}\n", minutes(step.duration), step.name));
        }
        let mut binaries: Vec<&Timed> = self.binaries.iter().collect();
        binaries.sort_by_key(|binary| std::cmp::Reverse(binary.duration));
        report.push_str("the slowest test binaries (a pass each):\n");
        for binary in binaries.iter().take(8) {
            report.push_str(&format!("  {:>7.1} s  {}\n", binary.duration.as_secs_f64(), binary.name));
        }
        if !self.slow_tests.is_empty() {
            report.push_str("tests over 60 s:\n");
            for test in &self.slow_tests {
                report.push_str(&format!("  {test}\n"));
            }
        }
        report
    }
}

/// `Running tests/api/main.rs (target/debug/deps/api-0f3e…)` names the
/// binary whose results follow: its package or target, without the hash,
/// and the source it starts from.
fn running_binary(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("Running ")?;
    let (source, path) = rest.rsplit_once(" (")?;
    let file = path.trim_end_matches(')').rsplit('/').next()?;
    let target = file.rsplit_once('-').map_or(file, |(target, _hash)| target);
    Some(format!("{target} ({source})"))
}

/// The `finished in 38.19s` of libtest's summary line.
fn finished_in(line: &str) -> Option<Duration> {
    let rest = line.strip_prefix("test result: ")?;
    let seconds = rest.rsplit_once("finished in ")?.1.trim().strip_suffix('s')?;
    seconds.parse().ok().map(Duration::from_secs_f64)
}

fn minutes(duration: Duration) -> String {
    let seconds = duration.as_secs();
    format!("{}m{:02}s", seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_is_named_by_its_target_and_source() {
        let line = "     Running tests/api/main.rs (target/debug/deps/api-0f3e2a1b9c8d7e6f)";

        assert_eq!(running_binary(line).as_deref(), Some("api (tests/api/main.rs)"));
        assert_eq!(
            running_binary("     Running unittests src/lib.rs (target/debug/deps/appdeck_server-1a2b)").as_deref(),
            Some("appdeck_server (unittests src/lib.rs)")
        );
        assert_eq!(running_binary("test running ... ok"), None);
    }

    #[test]
    fn the_summary_line_gives_the_binary_time() {
        let line = "test result: ok. 379 passed; 0 failed; 10 ignored; 0 measured; 0 filtered out; finished in 38.19s";

        assert_eq!(finished_in(line), Some(Duration::from_millis(38_190)));
        assert_eq!(finished_in("test foo ... ok"), None);
    }

    #[test]
    fn a_command_is_timed_with_its_binaries() {
        let mut timings = Timings::default();
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "echo '     Running tests/api/main.rs (target/debug/deps/api-0f3e)' >&2; \
             echo; echo 'running 1 test'; echo 'test result: ok. 1 passed; finished in 2.50s'",
        ]);

        let mut shown = Vec::new();

        let succeeded = timings.run_showing("a step", command, &mut shown).unwrap();

        assert!(succeeded);
        assert!(String::from_utf8(shown).unwrap().ends_with("finished in 2.50s\n"), "the output is shown as it comes");
        assert_eq!(
            timings.binaries,
            vec![Timed { name: "api (tests/api/main.rs)".into(), duration: Duration::from_millis(2500) }]
        );
        let report = timings.report();
        assert!(report.contains("a step") && report.contains("2.5 s  api (tests/api/main.rs)"), "{report}");
    }
}
