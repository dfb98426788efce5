//! Tidy tests: house rules over every Rust file of the workspace, checked by
//! `cargo test` like rust-analyzer's `xtask/src/tidy.rs`, so a rule broken
//! fails before review rather than in it. Each failure names the file and
//! the rule; CONTRIBUTING.md lists the rules.

mod module_graph;
mod rust_paths;

use std::{collections::BTreeSet, fs, process::Command};

use regex::Regex;

/// Past this many lines a file outside tests is split. Tests are exempt:
/// one scenario after another reads fine at any length.
const LINE_BUDGET: usize = 650;

/// Every Rust file git tracks, and new ones it does not ignore, as (path
/// from the workspace root, text); new files count so that a rule fails
/// before the commit, not after.
fn rust_files() -> Vec<(String, String)> {
    let root = crate::spec::workspace_root();
    let output = Command::new("git")
        .args(["ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "*.rs"])
        .current_dir(&root)
        .output()
        .expect("tidy lists the workspace's files with git");
    assert!(output.status.success(), "git ls-files failed: {}", String::from_utf8_lossy(&output.stderr));
    let listing = String::from_utf8(output.stdout).expect("file names are UTF-8");
    let paths: BTreeSet<&str> = listing.split('\0').filter(|path| !path.is_empty()).collect();
    // A file deleted but not yet staged is still listed; it has no rules to break.
    paths.into_iter().filter_map(|path| Some((path.to_owned(), fs::read_to_string(root.join(path)).ok()?))).collect()
}

fn assert_no_failures(rule: &str, failures: Vec<String>) {
    assert!(failures.is_empty(), "tidy: {rule}\n{}", failures.join("\n"));
}

#[test]
fn every_rust_file_starts_with_a_module_doc_comment() {
    let failures = rust_files()
        .into_iter()
        .filter(|(_, text)| !text.starts_with("//!"))
        .map(|(path, _)| format!("{path}: does not start with a `//!` doc comment saying what the file is for"))
        .collect();
    assert_no_failures("every .rs file starts with `//!`", failures);
}

#[test]
fn files_outside_tests_keep_to_the_line_budget() {
    let failures = rust_files()
        .into_iter()
        .filter(|(path, _)| !is_test_file(path))
        .filter_map(|(path, text)| {
            let lines = text.lines().count();
            (lines > LINE_BUDGET).then(|| {
                format!("{path}: {lines} lines, over the budget of {LINE_BUDGET} for files outside tests; split it")
            })
        })
        .collect();
    assert_no_failures(&format!("no file outside tests exceeds {LINE_BUDGET} lines"), failures);
}

/// Under a `tests/` directory, or a `*_tests.rs` module.
fn is_test_file(path: &str) -> bool {
    let (directories, file) = path.rsplit_once('/').unwrap_or(("", path));
    directories.split('/').any(|directory| directory == "tests") || file.ends_with("_tests.rs")
}

#[test]
fn sibling_modules_depend_on_each_other_in_no_cycle() {
    let failures = module_graph::module_cycles(&rust_files()).iter().map(ToString::to_string).collect();
    assert_no_failures("no module cycle among siblings (see CONTRIBUTING.md)", failures);
}

#[test]
fn every_setting_the_server_reads_is_in_the_configuration_table() {
    const CONFIG: &str = "server/src/config.rs";
    const TABLE: &str = "docs/operating.md";
    let root = crate::spec::workspace_root();
    let config = fs::read_to_string(root.join(CONFIG)).expect("the server's configuration is readable");
    let docs = fs::read_to_string(root.join(TABLE)).expect("the operating guide is readable");
    let read = Regex::new(r#"\benv\s*=\s*"([^"]+)"|env::var(?:_os)?\(\s*"([^"]+)""#).expect("the pattern is valid");
    let variables: BTreeSet<&str> = read
        .captures_iter(&config)
        .filter_map(|found| found.get(1).or(found.get(2)))
        .map(|name| name.as_str())
        .collect();
    assert!(!variables.is_empty(), "{CONFIG}: no environment variable found; has the way settings are read changed?");
    let documented: BTreeSet<&str> = docs
        .lines()
        .filter_map(|line| line.strip_prefix('|')?.split('|').next())
        .filter_map(|cell| cell.trim().strip_prefix('`')?.strip_suffix('`'))
        .collect();
    let failures = variables
        .difference(&documented)
        .map(|name| format!("{CONFIG}: reads `{name}`, which the configuration table in {TABLE} does not list"))
        .collect();
    assert_no_failures("every environment variable the server reads is documented", failures);
}

#[test]
fn test_files_are_told_apart_by_directory_or_name() {
    assert!(is_test_file("tests/tests/api/audit.rs"));
    assert!(is_test_file("server/tests/binary.rs"));
    assert!(is_test_file("xtask/src/spec/drift_tests.rs"));
    assert!(!is_test_file("server/src/domain/app.rs"));
    assert!(is_test_file("tests/src/lib.rs"));
}
