//! `cargo xtask`: project automation. `cargo xtask help` lists the commands.

mod bench;
mod compat;
mod mutants;
mod samples;
mod sdk;
mod soak;
mod spec;
mod test_suite;
#[cfg(test)]
mod tidy;
mod tools;

use std::{fs, process::ExitCode, time::Instant};

const USAGE: &str = "\
usage: cargo xtask <command>

  test            the whole test suite: on SQLite, then the end-to-end tests on
                  PostgreSQL + Redis (TEST_DATABASE_URL, TEST_REDIS_URL; default
                  the local servers); says what it could not run

  spec check      compare openapi.yaml with the document derived from the server's
                  annotations; one line per difference; exit 1 on any
  spec generate   write the derived document to target/openapi.derived.json
                  (openapi.yaml is never written: it is the hand-written source)
  spec lint       check openapi.yaml's own rules: operationIds, summaries, tags,
                  documented error statuses, valid examples, no unused or
                  duplicated components
  spec breaking [--base REV]
                  classify the changes from the latest release in spec-history/
                  (or from openapi.yaml at git revision REV); fail on breaking
                  changes not acknowledged in spec-history/acknowledged-breaking-changes.yaml
  spec release    record openapi.yaml as released under its info.version

  sdk             build the SDKs from openapi.yaml (version: info.version) into
                  target/sdk/: the npm package appdeck-sdk-VERSION.tgz and the
                  wheel appdeck_sdk-VERSION-py3-none-any.whl, each the generated
                  client plus the layer in sdk/ (its unit tests run first);
                  needs node, npm and python3; see docs/sdks.md

  compat          for every released spec in spec-history/, generate its Rust,
                  TypeScript and Python clients and run the scenarios of
                  spec-history/scenarios/ with them against the server on a fresh
                  database; fail on a step that fails unless an acknowledged
                  breaking change names it (`breaks_steps`), and on a step so
                  named that passes; needs node, npm and python3

  samples [--operation ID]
                  run every x-codeSamples entry of openapi.yaml (curl, Python,
                  TypeScript, Rust, CLI) against a live server, each checked for
                  exit 0 and the output xtask/src/samples/expectations.yaml names;
                  prints operation x language; builds the SDKs first (`sdk`)

  mutants [--base REV] [--budget N]
                  cargo-mutants on the lines of server/src, xtask/src/spec and
                  xtask/src/tidy changed since REV (default: the commit in .ci/mutants-base); fail on a
                  surviving mutant not in .ci/mutants-exclusions; over N mutants
                  (default 15) test a shard of them and say how many were not run

  bench [--backend sqlite|postgres] [--quick] [--compare REV]
                  build in release, load the server with wrk and print requests/s,
                  p50/p99, errors and RSS beside a bare-axum ceiling serving the
                  same bytes, plus list scaling to 1M apps (--quick: a short
                  harness check, no timing judged; --compare REV: also the server
                  built from git revision REV, in alternating rounds, no scaling);
                  see BENCHMARKS.md

  soak [--backend sqlite|postgres] [--minutes N]
                  the release server under a mixed load for N minutes (default 10),
                  with its own Redis and PostgreSQL restarted midway and hostile
                  clients beside it; reads back every acknowledged write; exit 1 on
                  a lost write or a 5xx no outage excuses; see RELIABILITY.md";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["test"] => test_suite::run(),
        ["spec", "check"] => spec_check(),
        ["spec", "generate"] => spec_generate(),
        ["spec", "lint"] => spec_lint(),
        ["spec", "breaking"] => spec_breaking(None),
        ["spec", "breaking", "--base", revision] => spec_breaking(Some(revision)),
        ["spec", "release"] => spec_release(),
        ["sdk"] => sdk::run(),
        ["compat"] => compat::run(),
        ["bench", options @ ..] => match bench::Options::parse(options) {
            Some(options) => bench::run(options),
            None => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        },
        ["samples", options @ ..] => match samples::Options::parse(options) {
            Some(options) => samples::run(options),
            None => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        },
        ["mutants", options @ ..] => match mutants::Options::parse(options) {
            Some(options) => mutants::run(options),
            None => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        },
        ["soak", options @ ..] => match soak::Options::parse(options) {
            Some(options) => soak::run(options),
            None => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn spec_check() -> Result<(), String> {
    let started = Instant::now();
    let differences = spec::check::compare(&spec::load_spec()?, &spec::derived_document());
    if differences.is_empty() {
        println!("spec check: openapi.yaml and the server agree ({} ms)", started.elapsed().as_millis());
        return Ok(());
    }
    for difference in &differences {
        println!("{difference}");
    }
    Err(format!(
        "spec check: {} difference(s) between openapi.yaml and the server's annotations.\n\
         Edit openapi.yaml first if the contract should change, then the code, and run `cargo xtask spec check` again.\n\
         `cargo xtask spec generate` writes the code's document to target/openapi.derived.json.",
        differences.len()
    ))
}

fn spec_lint() -> Result<(), String> {
    let findings = spec::lint::lint(&spec::load_spec()?);
    if findings.is_empty() {
        println!("spec lint: openapi.yaml follows every rule");
        return Ok(());
    }
    for finding in &findings {
        println!("{finding}");
    }
    Err(format!("spec lint: {} finding(s) in openapi.yaml", findings.len()))
}

fn spec_breaking(revision: Option<&str>) -> Result<(), String> {
    let (base_name, base) = match revision {
        Some(revision) => (format!("openapi.yaml at {revision}"), spec::history::spec_at_revision(revision)?),
        None => {
            let (version, document) = spec::history::latest_release()?;
            (format!("released {version}"), document)
        }
    };
    let changes = spec::breaking::compare(&base, &spec::load_spec()?);
    let acknowledgements = spec::history::acknowledgements()?;
    for change in &changes {
        match spec::history::acknowledgement_for(change, &acknowledgements) {
            Some(acknowledgement) => println!("{change} (acknowledged: {})", acknowledgement.reason),
            None => println!("{change}"),
        }
    }
    let unacknowledged = spec::history::unacknowledged_breaking(&changes, &acknowledgements).len();
    if unacknowledged > 0 {
        return Err(format!(
            "spec breaking: {unacknowledged} breaking change(s) from {base_name} to openapi.yaml.\n\
             Make the change compatible, or, if it must break clients, add each to \
             spec-history/acknowledged-breaking-changes.yaml with the rule, the pointer and the reason."
        ));
    }
    println!("spec breaking: no unacknowledged breaking change from {base_name} ({} change(s) listed)", changes.len());
    Ok(())
}

fn spec_release() -> Result<(), String> {
    let path = spec::workspace_root().join("openapi.yaml");
    let text = fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let spec = spec::parse_yaml(&text)?;
    let version = spec["info"]["version"].as_str().ok_or("openapi.yaml has no info.version")?;
    let released = spec::history::release(version, &text)?;
    println!("released {version} as {}", released.display());
    println!(
        "compat: the Rust, TypeScript and Python clients of {version} now join the matrix of `cargo xtask compat`, \
         which runs the scenarios of spec-history/scenarios/ with the client of every release against the server \
         (CI runs it in `cargo xtask test`); run it now to see that they pass"
    );
    Ok(())
}

fn spec_generate() -> Result<(), String> {
    let document = spec::derived_document();
    let path = spec::workspace_root().join("target").join("openapi.derived.json");
    let text = serde_json::to_string_pretty(&document).map_err(|error| error.to_string())?;
    fs::create_dir_all(path.parent().expect("a file in target/")).map_err(|error| error.to_string())?;
    fs::write(&path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
