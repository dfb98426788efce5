//! `cargo xtask samples`: runs every `x-codeSamples` entry of `openapi.yaml`
//! (curl, Python, TypeScript, Rust, CLI) against a live `appdeck-server`
//! on a fresh database, each with a fresh fixture, and prints a table of
//! operation × language. A sample fails when it exits non-zero or does not
//! print what `expectations.yaml` says it must.

mod expectations;
mod fixtures;
mod languages;
mod report;

use std::{collections::BTreeMap, fs, io::Read as _, path::Path, process::Command, time::Instant};

use base64::Engine as _;

use crate::spec::code_samples::{self, Language};
use expectations::Outcome;
use report::{Cell, Row};

#[derive(Default)]
pub struct Options {
    /// Only this operation's samples.
    operation: Option<String>,
}

impl Options {
    pub fn parse(args: &[&str]) -> Option<Self> {
        match args {
            [] => Some(Self { operation: None }),
            ["--operation", id] => Some(Self { operation: Some((*id).to_owned()) }),
            _ => None,
        }
    }
}

pub fn run(options: Options) -> Result<(), String> {
    let started = Instant::now();
    let root = crate::spec::workspace_root();
    build(&root)?;
    let target = crate::bench::build::target_dir(&root)?;
    let work = target.join("samples");
    fs::create_dir_all(&work).map_err(|error| format!("cannot create {}: {error}", work.display()))?;

    let operations: Vec<_> = code_samples::operations(&crate::spec::load_spec()?)
        .into_iter()
        .filter(|operation| options.operation.as_ref().is_none_or(|id| *id == operation.id))
        .collect();
    if operations.is_empty() {
        return Err("no operation to run samples of".into());
    }
    let expectations = expectations::load()?;
    let runners = languages::Runners::prepare(&root, &target, &work, &operations)?;

    let (_server, base_url, token) = start_server(&target, &work)?;
    let api = fixtures::Api::new(&base_url, &token)?;
    let mut base = api.caller()?;
    base.insert("APPDECK_URL".into(), base_url);
    base.insert("APPDECK_TOKEN".into(), token);

    let mut rows = Vec::new();
    for operation in &operations {
        let expected = expectations
            .get(&operation.id)
            .ok_or_else(|| format!("{} has no entry in xtask/src/samples/expectations.yaml", operation.id))?;
        let mut cells = BTreeMap::new();
        for (language, source) in &operation.samples {
            let cell = match runners.not_run.get(language) {
                Some(_) => Cell::NotRun,
                None => run_one(&api, &runners, &base, &operation.id, *language, source, expected)?,
            };
            cells.insert(*language, cell);
        }
        rows.push(Row { operation: operation.id.clone(), cells });
    }

    print!("{}", report::table(&rows));
    print!("{}", report::failures(&rows));
    let ran = rows.iter().flat_map(|row| row.cells.values()).filter(|cell| !matches!(cell, Cell::NotRun)).count();
    println!("samples: {ran} run in {:.0} s", started.elapsed().as_secs_f64());
    report::verdict(&rows, &runners.not_run, std::env::var_os("CI").is_some())
}

fn run_one(
    api: &fixtures::Api,
    runners: &languages::Runners,
    base: &BTreeMap<String, String>,
    operation_id: &str,
    language: Language,
    source: &str,
    expected: &[String],
) -> Result<Cell, String> {
    let mut variables = base.clone();
    api.make(&expectations::fixtures_named_in(&format!("{source}\n{}", expected.join("\n"))), &mut variables)?;
    let expected =
        expected.iter().map(|text| expectations::fill_in(text, &variables)).collect::<Result<Vec<_>, _>>()?;
    let outcome: Outcome = runners.run(language, operation_id, source, &variables);
    api.revoke_tokens_but(&base["CALLER_TOKEN_ID"])?;
    Ok(match expectations::judge(&outcome, &expected) {
        None => Cell::Ok,
        Some(reason) => Cell::Failed { reason, outcome },
    })
}

fn build(root: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "-q", "-p", "appdeck-server", "-p", "appdeck-cli", "-p", "appdeck-samples"])
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() { Ok(()) } else { Err("building the server, the CLI and the Rust samples failed".into()) }
}

/// `appdeck-server serve` on a fresh SQLite database under `work`, with a
/// webhook key (endpoints cannot be made without one), limits no run of
/// the samples reaches, and an organization whose admin token it returns.
pub(crate) fn start_server(
    target: &Path,
    work: &Path,
) -> Result<(crate::bench::process::Server, String, String), String> {
    let database = work.join("appdeck.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", database.display()));
    }
    let mut key = [0_u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut key))
        .map_err(|error| format!("cannot read /dev/urandom: {error}"))?;
    let environment = [
        ("DATABASE_URL", format!("sqlite://{}", database.display())),
        ("APPDECK_WEBHOOK_SECRET_KEY", base64::engine::general_purpose::STANDARD.encode(key)),
        ("APPDECK_RATE_LIMIT_PER_HOUR", "1000000".to_owned()),
        ("APPDECK_MAX_TOKENS_PER_ORGANIZATION", "0".to_owned()),
        ("APPDECK_MAX_WEBHOOK_ENDPOINTS_PER_ORGANIZATION", "0".to_owned()),
    ];
    let binary = target.join("debug").join("appdeck-server");
    let output = Command::new(&binary)
        .args(["org", "create", "--name", "Code samples"])
        .envs(environment.iter().map(|(name, value)| (name, value)))
        .output()
        .map_err(|error| format!("cannot run {}: {error}", binary.display()))?;
    if !output.status.success() {
        return Err(format!("org create failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let server = crate::bench::process::start_server(&binary, &environment, &work.join("server.log"))?;
    let base_url = format!("http://{}", server.address);
    Ok((server, base_url, token))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{expectations::judge, languages::execute};

    /// The shell languages' samples run as the runner runs them: `bash -e
    /// -o pipefail -c SOURCE` with the run's variables.
    fn run_shell(source: &str, expected: &[String]) -> Option<String> {
        let mut command = std::process::Command::new("bash");
        command.args(["-e", "-o", "pipefail", "-c", source]).envs(BTreeMap::from([("APP_ID", "42")]));
        judge(&execute(command), expected)
    }

    #[test]
    fn a_broken_sample_is_reported_failed() {
        let expected = ["deleted 42".to_owned()];
        assert_eq!(run_shell(r#"echo "deleted $APP_ID""#, &expected), None);
        assert_eq!(run_shell(r#"false && true; exit 3"#, &expected).as_deref(), Some("exited with exit status: 3"));
        assert_eq!(
            run_shell(r#"curl -sS --fail-with-body http://127.0.0.1:1/ && echo "deleted $APP_ID""#, &expected)
                .as_deref(),
            Some("exited with exit status: 7")
        );
        assert_eq!(
            run_shell(r#"echo "deleted $APP_ID_TYPO""#, &expected).as_deref(),
            Some("exited 0 but did not print `deleted 42`")
        );
    }
}
