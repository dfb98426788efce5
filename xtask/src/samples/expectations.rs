//! What each sample must print (`expectations.yaml`), which fixtures a
//! sample needs, and the verdict on one run: exit status and output.

use std::collections::BTreeMap;

use regex::Regex;

const EXPECTATIONS: &str = include_str!("expectations.yaml");

/// Operation id → the strings its samples must print, with `${NAME}`s.
pub fn load() -> Result<BTreeMap<String, Vec<String>>, String> {
    yaml_serde::from_str(EXPECTATIONS).map_err(|error| format!("xtask/src/samples/expectations.yaml: {error}"))
}

/// A fixture the runner makes before a sample that mentions one of its names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixture {
    App,
    Token,
    Endpoint,
    Delivery,
}

/// The fixtures `text` (a sample and its expectations) mentions, by the
/// names it reads from the environment or expects printed.
pub fn fixtures_named_in(text: &str) -> Vec<Fixture> {
    let mentions = |names: &str| Regex::new(&format!(r"\b({names})\b")).expect("a valid pattern").is_match(text);
    [
        (Fixture::App, "APP_ID|APP_NAME"),
        (Fixture::Token, "TOKEN_ID|TOKEN_LABEL"),
        (Fixture::Endpoint, "ENDPOINT_ID|ENDPOINT_URL"),
        (Fixture::Delivery, "DELIVERY_ID"),
    ]
    .into_iter()
    .filter(|(_, names)| mentions(names))
    .map(|(fixture, _)| fixture)
    .collect()
}

/// `expected` with each `${NAME}` replaced by its value in `variables`.
pub fn fill_in(expected: &str, variables: &BTreeMap<String, String>) -> Result<String, String> {
    let mut missing = None;
    let filled =
        Regex::new(r"\$\{([A-Z_]+)\}").expect("a valid pattern").replace_all(expected, |found: &regex::Captures| {
            variables.get(&found[1]).cloned().unwrap_or_else(|| {
                missing = Some(found[1].to_owned());
                String::new()
            })
        });
    match missing {
        Some(name) => Err(format!("the expectation `{expected}` names ${{{name}}}, which this run does not set")),
        None => Ok(filled.into_owned()),
    }
}

/// How one sample ran.
#[derive(Debug)]
pub struct Outcome {
    pub success: bool,
    pub status: String,
    pub stdout: String,
    pub stderr: String,
}

/// `None` when the sample exited 0 and printed every expected string;
/// otherwise why it failed.
pub fn judge(outcome: &Outcome, expected: &[String]) -> Option<String> {
    if !outcome.success {
        return Some(format!("exited with {}", outcome.status));
    }
    let missing: Vec<&String> = expected.iter().filter(|text| !outcome.stdout.contains(text.as_str())).collect();
    if missing.is_empty() {
        None
    } else {
        Some(format!(
            "exited 0 but did not print {}",
            missing.iter().map(|text| format!("`{text}`")).collect::<Vec<_>>().join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{code_samples, load_spec};

    #[test]
    fn every_operation_has_expectations_and_every_expectation_an_operation() {
        let expectations = load().unwrap();
        let operations: Vec<String> =
            code_samples::operations(&load_spec().unwrap()).into_iter().map(|operation| operation.id).collect();
        for id in &operations {
            assert!(expectations.get(id).is_some_and(|expected| !expected.is_empty()), "no expectation for {id}");
        }
        for id in expectations.keys() {
            assert!(operations.contains(id), "an expectation for `{id}`, which is not an operation");
        }
    }

    #[test]
    fn fixtures_are_found_by_whole_names_only() {
        assert_eq!(fixtures_named_in(r#"os.environ["APP_ID"]"#), [Fixture::App]);
        assert_eq!(
            fixtures_named_in("$ENDPOINT_ID/deliveries/$DELIVERY_ID ${TOKEN_LABEL}"),
            [Fixture::Token, Fixture::Endpoint, Fixture::Delivery]
        );
        assert_eq!(fixtures_named_in("${CALLER_TOKEN_ID} $APPDECK_TOKEN"), []);
    }

    #[test]
    fn names_are_filled_in_and_an_unknown_one_is_refused() {
        let variables = BTreeMap::from([("APP_ID".to_owned(), "42".to_owned())]);
        assert_eq!(fill_in("deleted ${APP_ID}", &variables).unwrap(), "deleted 42");
        assert!(fill_in("${TOKEN_ID}", &variables).unwrap_err().contains("${TOKEN_ID}"));
    }

    fn outcome(success: bool, stdout: &str) -> Outcome {
        Outcome { success, status: "exit status: 3".into(), stdout: stdout.into(), stderr: String::new() }
    }

    #[test]
    fn a_sample_fails_on_a_non_zero_exit_even_with_the_right_output() {
        let verdict = judge(&outcome(false, "deleted 42"), &["deleted 42".into()]);
        assert_eq!(verdict.as_deref(), Some("exited with exit status: 3"));
    }

    #[test]
    fn a_sample_fails_when_it_exits_0_without_printing_what_it_claims() {
        let verdict = judge(&outcome(true, "deleted 41"), &["deleted 42".into(), "deleted".into()]);
        assert_eq!(verdict.as_deref(), Some("exited 0 but did not print `deleted 42`"));
        assert_eq!(judge(&outcome(true, "x deleted 42\n"), &["deleted 42".into()]), None);
    }
}
