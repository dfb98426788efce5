//! `cargo xtask mutants`: cargo-mutants on the lines changed since the base
//! (the last landed commit, `.ci/mutants-base`, or `--base REV`). A mutant
//! that survives fails the run unless `.ci/mutants-exclusions` lists it with
//! a reason. CONTRIBUTING.md says what is mutated, which tests judge each
//! mutant, and what it costs.

mod exclusions;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use crate::spec::workspace_root;

const VERSION: &str = "27.1.0";
const BASE_FILE: &str = ".ci/mutants-base";
const EXCLUSIONS_FILE: &str = ".ci/mutants-exclusions";
/// Mutants one run tests at most: about 8 minutes on CI's 2 cores, at the
/// 20–60 s a mutant costs there (CONTRIBUTING.md has the measurements).
const DEFAULT_BUDGET: usize = 15;

/// Code that is mutated, and the test packages that judge its mutants.
struct Scope {
    name: &'static str,
    directories: &'static [&'static str],
    test_packages: &'static str,
}

/// The server's behaviour is tested end to end in `appdeck-tests`, not only
/// by its own unit and binary tests. Of the tooling, the checks CI trusts
/// (drift, breaking changes, lint, tidy) have self-tests and are mutated;
/// the rest of xtask drives processes and is tested by running it in CI.
const SCOPES: [Scope; 2] = [
    Scope { name: "server", directories: &["server/src"], test_packages: "appdeck-server,appdeck-tests" },
    Scope { name: "xtask", directories: &["xtask/src/spec", "xtask/src/tidy"], test_packages: "xtask" },
];

pub struct Options {
    base: Option<String>,
    budget: usize,
}

impl Options {
    pub fn parse(mut args: &[&str]) -> Option<Self> {
        let mut options = Self { base: None, budget: DEFAULT_BUDGET };
        loop {
            match args {
                [] => return Some(options),
                ["--base", revision, rest @ ..] => {
                    options.base = Some((*revision).to_owned());
                    args = rest;
                }
                ["--budget", budget, rest @ ..] => {
                    options.budget = budget.parse().ok().filter(|budget| *budget > 0)?;
                    args = rest;
                }
                _ => return None,
            }
        }
    }
}

pub fn run(options: Options) -> Result<(), String> {
    let root = workspace_root();
    // Mutants are applied in place (a copy of the tree would build from
    // cold): uncommitted work would be mixed with them.
    if !git(&root, &["status", "--porcelain", "--untracked-files=no"])?.trim().is_empty() {
        return Err("mutants: commit or stash your changes first; mutants are applied to the working tree".into());
    }
    let base = match options.base {
        Some(base) => base,
        None => read(&root.join(BASE_FILE))?.trim().to_owned(),
    };
    let merge_base = git(&root, &["merge-base", &base, "HEAD"])?.trim().to_owned();
    let exclusions = exclusions::parse(&read(&root.join(EXCLUSIONS_FILE))?)
        .map_err(|error| format!("{EXCLUSIONS_FILE}: {error}"))?;
    for exclusion in &exclusions {
        eprintln!("excluded: {} ({})", exclusion.pattern, exclusion.reason);
    }
    let tool = install(&root)?;
    let output = root.join("target").join("mutants");
    std::fs::create_dir_all(&output).map_err(|error| format!("cannot create {}: {error}", output.display()))?;

    let mut planned = Vec::new();
    for scope in &SCOPES {
        let mut arguments = vec!["diff", &merge_base, "HEAD", "--"];
        arguments.extend(scope.directories);
        let diff = git(&root, &arguments)?;
        if diff.trim().is_empty() {
            continue;
        }
        let diff_path = output.join(format!("{}.diff", scope.name));
        std::fs::write(&diff_path, diff).map_err(|error| format!("cannot write {}: {error}", diff_path.display()))?;
        let count = count_mutants(&tool, &root, &diff_path, &exclusions)?;
        if count > 0 {
            planned.push((scope, diff_path, count));
        }
    }
    let total: usize = planned.iter().map(|(_, _, count)| count).sum();
    eprintln!(
        "== {total} mutants on the lines changed since {merge_base:.12}, those listed in {EXCLUSIONS_FILE} left out"
    );
    if total == 0 {
        return Ok(());
    }
    let shards = total.div_ceil(options.budget);
    let shard = shard_of_base(&merge_base, shards)?;
    if shards > 1 {
        eprintln!(
            "NOT RUN: about {} of these {total} mutants; over the budget of {}, this run tests shard {shard} of {shards} \
             (every {shards}th mutant, chosen by the base's hash); `cargo xtask mutants --budget {total}` tests them all",
            total - total / shards,
            options.budget
        );
    }

    let started = Instant::now();
    let mut failures = Vec::new();
    for (scope, diff_path, _) in &planned {
        let mut command = mutants_command(&tool, &root, diff_path, &exclusions);
        command
            .args(["--in-place", "--baseline=skip", "--timeout", "300", "--build-timeout", "900"])
            .args(["--test-package", scope.test_packages])
            .arg("--output")
            .arg(output.join(scope.name));
        if shards > 1 {
            command.args(["--shard", &format!("{shard}/{shards}"), "--sharding", "round-robin"]);
        }
        eprintln!("\n== mutants in {} (tests: {})\n", scope.directories.join(", "), scope.test_packages);
        let status = command.status().map_err(|error| format!("cannot run cargo-mutants: {error}"))?;
        if !status.success() {
            failures.push(format!(
                "{}: a mutant survived or timed out (exit {:?}); see {}",
                scope.directories.join(", "),
                status.code(),
                output.join(scope.name).join("mutants.out").join("missed.txt").display()
            ));
        }
    }
    eprintln!("\nmutants: tested in {} s", started.elapsed().as_secs());
    if failures.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}\nKill each with a test, or, when no test can (an equivalent mutant, logging only), \
         list it in {EXCLUSIONS_FILE} with the reason.",
        failures.join("\n")
    ))
}

/// cargo-mutants on the changed lines, excluded mutants left out. A build
/// rebuilds only what the mutant touched, so incremental builds are on even
/// where CI turns them off for its one-off builds.
fn mutants_command(tool: &Path, root: &Path, diff: &Path, exclusions: &[exclusions::Exclusion]) -> Command {
    let mut command = Command::new(tool);
    command.current_dir(root).env("CARGO_INCREMENTAL", "1").args(["mutants", "--no-shuffle", "--in-diff"]).arg(diff);
    for exclusion in exclusions {
        command.args(["--exclude-re", &exclusion.pattern]);
    }
    command
}

fn count_mutants(tool: &Path, root: &Path, diff: &Path, exclusions: &[exclusions::Exclusion]) -> Result<usize, String> {
    let output = mutants_command(tool, root, diff, exclusions)
        .args(["--list", "--json"])
        .output()
        .map_err(|error| format!("cannot run cargo-mutants: {error}"))?;
    if !output.status.success() {
        return Err(format!("cargo mutants --list failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    // No mutant on the lines (only tests changed, say) prints nothing at all.
    if output.stdout.iter().all(u8::is_ascii_whitespace) {
        return Ok(0);
    }
    let listed: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|error| format!("cargo mutants --list --json: {error}"))?;
    Ok(listed.as_array().map_or(0, Vec::len))
}

/// The shard a change tests: fixed by its base, so that the commits that
/// answer a survivor with a test (test code is not mutated) are judged on
/// the same mutants, not on a fresh sample each; the next change, on a new
/// base, tests another.
fn shard_of_base(merge_base: &str, shards: usize) -> Result<usize, String> {
    let number = merge_base
        .get(..12)
        .and_then(|prefix| u64::from_str_radix(prefix, 16).ok())
        .ok_or_else(|| format!("the base `{merge_base}` is not a commit hash"))?;
    Ok((number % shards as u64) as usize)
}

/// cargo-mutants at `VERSION` under `target/tools`, installed when missing.
fn install(root: &Path) -> Result<PathBuf, String> {
    let tools = root.join("target").join("tools");
    let tool = tools.join("bin").join("cargo-mutants");
    let installed = Command::new(&tool).args(["mutants", "--version"]).output();
    if installed.is_ok_and(|output| String::from_utf8_lossy(&output.stdout).contains(VERSION)) {
        return Ok(tool);
    }
    eprintln!("== installing cargo-mutants {VERSION} into {}", tools.display());
    let started = Instant::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["install", "--locked", "cargo-mutants", "--version", VERSION, "--root"])
        .arg(&tools)
        .status()
        .map_err(|error| format!("cannot run cargo install: {error}"))?;
    if !status.success() {
        return Err(format!("cargo install cargo-mutants {VERSION} failed"));
    }
    eprintln!("cargo-mutants installed in {} s", started.elapsed().as_secs());
    Ok(tool)
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .current_dir(root)
        .args(args)
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    if !output.status.success() {
        return Err(format!("git {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim()));
    }
    String::from_utf8(output.stdout).map_err(|error| format!("git {}: {error}", args.join(" ")))
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_take_a_base_and_a_budget() {
        let options = Options::parse(&["--base", "abc", "--budget", "40"]).unwrap();

        assert_eq!((options.base.as_deref(), options.budget), (Some("abc"), 40));
        assert_eq!(Options::parse(&[]).unwrap().budget, DEFAULT_BUDGET);
        assert!(Options::parse(&["--budget", "0"]).is_none());
        assert!(Options::parse(&["--budget"]).is_none());
    }

    #[test]
    fn the_base_file_names_a_commit_of_this_history() {
        let root = workspace_root();
        let base = read(&root.join(BASE_FILE)).unwrap();

        let merge_base = git(&root, &["merge-base", base.trim(), "HEAD"]);

        assert!(merge_base.is_ok(), "{BASE_FILE}: {}", merge_base.unwrap_err());
    }
}
