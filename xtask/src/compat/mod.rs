//! `cargo xtask compat`: compatibility proven, not only classified. For
//! every released spec in `spec-history/`, its Rust (progenitor),
//! TypeScript (openapi-typescript + openapi-fetch) and Python
//! (openapi-python-client) clients are generated from that spec, and each
//! runs its scenario of `spec-history/scenarios/` against the current
//! server on a fresh database. The scenarios are written against the
//! oldest release's clients, so they use nothing newer, and decode every
//! response strictly. A step an acknowledged breaking change names in
//! `breaks_steps` is expected to fail; any other failure, or such a step
//! passing, fails the run. Then `self_test` shows that a break the
//! classifier could call compatible is caught.

mod languages;
mod self_test;
mod verdict;

use std::{collections::BTreeMap, path::Path, time::Instant};

use languages::Language;
use verdict::Verdict;

/// One cell of the matrix: a release's client in one language.
enum Cell {
    Judged(Vec<(String, Verdict)>),
    /// Generating, compiling or starting the scenario failed.
    Broken(String),
    NotRun(String),
}

pub fn run() -> Result<(), String> {
    let started = Instant::now();
    let root = crate::spec::workspace_root();
    let target = crate::bench::build::target_dir(&root)?;
    let work = target.join("compat");
    let releases = crate::spec::history::releases()?;
    languages::cargo_build(&root, &["-p", "appdeck-server"], None)?;
    let runners = languages::Runners::prepare(&root, &work)?;

    let mut rows: Vec<(String, BTreeMap<Language, Cell>)> = Vec::new();
    for (version, spec_path) in &releases {
        let acknowledgements = crate::spec::history::acknowledgements_after(version)?;
        let expected = verdict::expected_failures(
            acknowledgements
                .iter()
                .map(|acknowledgement| (acknowledgement.breaks_steps.as_slice(), acknowledgement.reason.as_str())),
        )?;
        let mut cells = BTreeMap::new();
        for language in Language::ALL {
            eprintln!("compat: {version} in {language}");
            let cell = run_cell(&runners, &target, &work, language, version, spec_path, &expected)?;
            cells.insert(language, cell);
        }
        rows.push((version.clone(), cells));
    }

    print!("{}", report(&rows));
    println!(
        "compat: {} release(s) x {} languages in {:.0} s",
        releases.len(),
        Language::ALL.len(),
        started.elapsed().as_secs_f64()
    );
    verdict_of(&rows, std::env::var_os("CI").is_some())?;
    self_test::run(&runners, &target, &work)?;
    println!("compat: matrix and self-test in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn run_cell(
    runners: &languages::Runners,
    target: &Path,
    work: &Path,
    language: Language,
    version: &str,
    spec_path: &Path,
    expected: &BTreeMap<String, String>,
) -> Result<Cell, String> {
    if let Some(reason) = runners.not_run.get(&language) {
        return Ok(Cell::NotRun(reason.clone()));
    }
    let mut scenario = match runners.prepare_release(language, version, spec_path) {
        Ok(command) => command,
        Err(reason) => return Ok(Cell::Broken(reason)),
    };
    let (_server, base_url, token) = crate::samples::start_server(target, work)?;
    let output =
        scenario.arg(&base_url).arg(&token).output().map_err(|error| format!("cannot run {scenario:?}: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let verdicts = verdict::judge(&verdict::reported_steps(&stdout), expected);
    if verdicts.iter().any(|(_, verdict)| *verdict == Verdict::NotReported) {
        eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(Cell::Judged(verdicts))
}

/// One line per cell, then one line per step that did not simply pass.
fn report(rows: &[(String, BTreeMap<Language, Cell>)]) -> String {
    let mut text = String::from("\ncompat: release x client\n");
    let mut details = String::new();
    for (version, cells) in rows {
        for (language, cell) in cells {
            let summary = match cell {
                Cell::NotRun(reason) => format!("NOT RUN ({reason})"),
                Cell::Broken(reason) => {
                    details.push_str(&format!("  {version} {language}: {reason}\n"));
                    "FAILED: no scenario ran".to_owned()
                }
                Cell::Judged(verdicts) => {
                    for (step, verdict) in verdicts {
                        let line = match verdict {
                            Verdict::Passed => continue,
                            Verdict::ExpectedFailure { failure, reason } => {
                                format!("failed as acknowledged ({reason}): {failure}")
                            }
                            Verdict::Failed(failure) => format!("FAILED: {failure}"),
                            Verdict::UnexpectedPass { reason } => {
                                format!("PASSED, but an acknowledged breaking change says it breaks ({reason})")
                            }
                            Verdict::NotReported => "NOT REPORTED by the scenario".to_owned(),
                        };
                        details.push_str(&format!("  {version} {language} {step}: {line}\n"));
                    }
                    let failing = verdicts.iter().filter(|(_, verdict)| verdict.fails_the_run()).count();
                    let expected = verdicts
                        .iter()
                        .filter(|(_, verdict)| matches!(verdict, Verdict::ExpectedFailure { .. }))
                        .count();
                    match (failing, expected) {
                        (0, 0) => format!("ok ({} steps)", verdicts.len()),
                        (0, expected) => format!("ok ({} steps, {expected} failing as acknowledged)", verdicts.len()),
                        (failing, _) => format!("FAILED ({failing} of {} steps)", verdicts.len()),
                    }
                }
            };
            text.push_str(&format!("  {version:<10} {language:<11} {summary}\n"));
        }
    }
    text.push_str(&details);
    text
}

fn verdict_of(rows: &[(String, BTreeMap<Language, Cell>)], in_ci: bool) -> Result<(), String> {
    let cells = rows.iter().flat_map(|(_, cells)| cells.values());
    let mut failed = 0;
    let mut not_run = 0;
    for cell in cells {
        match cell {
            Cell::Broken(_) => failed += 1,
            Cell::Judged(verdicts) if verdicts.iter().any(|(_, verdict)| verdict.fails_the_run()) => failed += 1,
            Cell::Judged(_) => {}
            Cell::NotRun(_) => not_run += 1,
        }
    }
    if failed > 0 {
        return Err(format!("compat: {failed} client(s) of released specs broke against this server (see above)"));
    }
    if not_run > 0 {
        let message = format!("NOT RUN: {not_run} client(s) of released specs (see above)");
        if in_ci {
            return Err(message);
        }
        eprintln!("{message}");
    }
    Ok(())
}
