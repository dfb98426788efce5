//! What a scenario's run means: the steps it reported, judged against the
//! steps acknowledged breaking changes are expected to break.

use std::collections::BTreeMap;

/// The steps of every scenario, in the order they run. Each scenario
/// reports each of them once; `breaks_steps` may name only these.
pub const STEPS: [&str; 10] = [
    "identity",
    "organization-get",
    "organization-update",
    "app-create",
    "app-get",
    "app-list-cursors",
    "app-update",
    "app-rotate-secret",
    "error-body",
    "app-delete",
];

/// A step's line in a scenario's output: `step ID ok` or `step ID failed: REASON`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reported {
    Passed,
    Failed(String),
}

/// What one step's outcome means for the run.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Passed,
    /// Failed, as an acknowledged breaking change said it would.
    ExpectedFailure {
        failure: String,
        reason: String,
    },
    /// Failed, and no acknowledgement names it: fails the run.
    Failed(String),
    /// Passed while an acknowledgement says it breaks: fails the run, since
    /// the acknowledgement is wrong or the step no longer tests the change.
    UnexpectedPass {
        reason: String,
    },
    /// The scenario never reported it (it crashed, or skipped it): fails the run.
    NotReported,
}

impl Verdict {
    pub fn fails_the_run(&self) -> bool {
        matches!(self, Self::Failed(_) | Self::UnexpectedPass { .. } | Self::NotReported)
    }
}

/// The step lines of `output`; other lines are ignored.
pub fn reported_steps(output: &str) -> BTreeMap<String, Reported> {
    let mut steps = BTreeMap::new();
    for line in output.lines() {
        let Some(rest) = line.strip_prefix("step ") else { continue };
        if let Some(id) = rest.strip_suffix(" ok") {
            steps.insert(id.to_owned(), Reported::Passed);
        } else if let Some((id, reason)) = rest.split_once(" failed: ") {
            steps.insert(id.to_owned(), Reported::Failed(reason.to_owned()));
        }
    }
    steps
}

/// Every step of `STEPS`, judged: `expected` maps a step to the reason of
/// the acknowledgement that breaks it.
pub fn judge(reported: &BTreeMap<String, Reported>, expected: &BTreeMap<String, String>) -> Vec<(String, Verdict)> {
    STEPS
        .iter()
        .map(|&step| {
            let verdict = match (reported.get(step), expected.get(step)) {
                (None, _) => Verdict::NotReported,
                (Some(Reported::Passed), None) => Verdict::Passed,
                (Some(Reported::Passed), Some(reason)) => Verdict::UnexpectedPass { reason: reason.clone() },
                (Some(Reported::Failed(failure)), None) => Verdict::Failed(failure.clone()),
                (Some(Reported::Failed(failure)), Some(reason)) => {
                    Verdict::ExpectedFailure { failure: failure.clone(), reason: reason.clone() }
                }
            };
            (step.to_owned(), verdict)
        })
        .collect()
}

/// The steps the acknowledgements say break, each with its reason; an id
/// that names no step is an error, so a typo cannot excuse nothing.
pub fn expected_failures<'a>(
    acknowledgements: impl IntoIterator<Item = (&'a [String], &'a str)>,
) -> Result<BTreeMap<String, String>, String> {
    let mut expected = BTreeMap::new();
    for (steps, reason) in acknowledgements {
        for step in steps {
            if !STEPS.contains(&step.as_str()) {
                return Err(format!(
                    "spec-history/acknowledged-breaking-changes.yaml: `breaks_steps` names `{step}`, \
                     which is no scenario step ({})",
                    STEPS.join(", ")
                ));
            }
            expected.insert(step.clone(), reason.to_owned());
        }
    }
    Ok(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output_with(overrides: &[(&str, &str)]) -> String {
        STEPS
            .iter()
            .map(|step| match overrides.iter().find(|(id, _)| id == step) {
                Some((_, line)) => format!("{line}\n"),
                None => format!("step {step} ok\n"),
            })
            .collect()
    }

    fn failing(verdicts: &[(String, Verdict)]) -> Vec<(&str, &Verdict)> {
        verdicts
            .iter()
            .filter(|(_, verdict)| verdict.fails_the_run())
            .map(|(step, verdict)| (step.as_str(), verdict))
            .collect()
    }

    #[test]
    fn every_step_passing_passes() {
        let verdicts = judge(&reported_steps(&output_with(&[])), &BTreeMap::new());
        assert_eq!(verdicts.len(), STEPS.len());
        assert!(failing(&verdicts).is_empty(), "{verdicts:?}");
    }

    #[test]
    fn an_unacknowledged_failure_fails_the_run() {
        let output = output_with(&[("app-get", "step app-get failed: unknown variant `archived`")]);
        let verdicts = judge(&reported_steps(&output), &BTreeMap::new());
        assert_eq!(failing(&verdicts), [("app-get", &Verdict::Failed("unknown variant `archived`".into()))]);
    }

    #[test]
    fn an_acknowledged_failure_passes_with_its_reason() {
        let output = output_with(&[("app-delete", "step app-delete failed: 405")]);
        let expected = BTreeMap::from([("app-delete".to_owned(), "apps are archived".to_owned())]);
        let verdicts = judge(&reported_steps(&output), &expected);
        assert!(failing(&verdicts).is_empty(), "{verdicts:?}");
        assert!(verdicts.contains(&(
            "app-delete".to_owned(),
            Verdict::ExpectedFailure { failure: "405".into(), reason: "apps are archived".into() }
        )));
    }

    #[test]
    fn a_step_expected_to_fail_that_passes_fails_the_run() {
        let expected = BTreeMap::from([("app-delete".to_owned(), "apps are archived".to_owned())]);
        let verdicts = judge(&reported_steps(&output_with(&[])), &expected);
        assert_eq!(
            failing(&verdicts),
            [("app-delete", &Verdict::UnexpectedPass { reason: "apps are archived".into() })]
        );
    }

    #[test]
    fn a_step_never_reported_fails_the_run() {
        let output = output_with(&[("app-delete", "Traceback (most recent call last):")]);
        let verdicts = judge(&reported_steps(&output), &BTreeMap::new());
        assert_eq!(failing(&verdicts), [("app-delete", &Verdict::NotReported)]);
    }

    #[test]
    fn an_acknowledgement_naming_no_step_is_refused() {
        let steps = ["app-delete".to_owned(), "app-archive".to_owned()];
        let error = expected_failures([(&steps[..], "apps are archived")]).unwrap_err();
        assert!(error.contains("`app-archive`"), "{error}");
    }

    /// Each scenario reports every step, so a step added to one language
    /// and not to `STEPS` (or the other way round) is caught here.
    #[test]
    fn every_scenario_names_every_step() {
        let scenarios = crate::spec::history_dir().join("scenarios");
        for file in ["rust/src/main.rs", "typescript/scenario.ts", "python/scenario.py"] {
            let source = std::fs::read_to_string(scenarios.join(file)).unwrap();
            for step in STEPS {
                assert!(source.contains(&format!("\"{step}\"")), "{file} does not run step `{step}`");
            }
        }
    }
}
