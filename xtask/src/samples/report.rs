//! The run's table (operation × language: ok, FAILED or NOT RUN), each
//! failure with what the sample printed, and the verdict.

use std::collections::BTreeMap;

use super::expectations::Outcome;
use crate::spec::code_samples::Language;

pub enum Cell {
    Ok,
    Failed { reason: String, outcome: Outcome },
    NotRun,
}

pub struct Row {
    pub operation: String,
    pub cells: BTreeMap<Language, Cell>,
}

pub fn table(rows: &[Row]) -> String {
    let width = rows.iter().map(|row| row.operation.len()).max().unwrap_or(0).max("operation".len());
    let mut text = format!("{:width$}", "operation");
    for language in Language::ALL {
        text.push_str(&format!("  {:10}", language.label()));
    }
    text.push('\n');
    for row in rows {
        text.push_str(&format!("{:width$}", row.operation));
        for language in Language::ALL {
            let shown = match row.cells.get(&language) {
                Some(Cell::Ok) => "ok",
                Some(Cell::Failed { .. }) => "FAILED",
                Some(Cell::NotRun) => "NOT RUN",
                None => "missing",
            };
            text.push_str(&format!("  {shown:10}"));
        }
        text.push('\n');
    }
    text
}

pub fn failures(rows: &[Row]) -> String {
    let mut text = String::new();
    for row in rows {
        for (language, cell) in &row.cells {
            if let Cell::Failed { reason, outcome } = cell {
                text.push_str(&format!(
                    "\nFAILED {} ({}): {reason}\n--- stdout\n{}--- stderr\n{}",
                    row.operation,
                    language.label(),
                    ending_a_line(&outcome.stdout),
                    ending_a_line(&outcome.stderr)
                ));
            }
        }
    }
    text
}

fn ending_a_line(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') { text.to_owned() } else { format!("{text}\n") }
}

/// Fails on any failed or missing sample, and under CI on any language not run.
pub fn verdict(rows: &[Row], not_run: &BTreeMap<Language, String>, in_ci: bool) -> Result<(), String> {
    let failed: usize = rows
        .iter()
        .map(|row| {
            Language::ALL
                .iter()
                .filter(|language| matches!(row.cells.get(language), Some(Cell::Failed { .. }) | None))
                .count()
        })
        .sum();
    for (language, reason) in not_run {
        println!("NOT RUN: the {} samples ({reason})", language.label());
    }
    if failed > 0 {
        return Err(format!("samples: {failed} failed"));
    }
    if in_ci && !not_run.is_empty() {
        return Err("samples: some languages did not run, which CI does not allow".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(failed: bool) -> Vec<Row> {
        let cell = |language| match (failed, language) {
            (true, Language::Python) => Cell::Failed {
                reason: "exited 0 but did not print `42`".into(),
                outcome: Outcome {
                    success: true,
                    status: "exit status: 0".into(),
                    stdout: "41".into(),
                    stderr: "".into(),
                },
            },
            (_, Language::Cli) => Cell::NotRun,
            _ => Cell::Ok,
        };
        vec![Row {
            operation: "get_app".into(),
            cells: Language::ALL.into_iter().map(|language| (language, cell(language))).collect(),
        }]
    }

    #[test]
    fn a_failed_sample_is_shown_failed_with_its_output_and_fails_the_run() {
        let rows = rows(true);
        assert_eq!(
            table(&rows).lines().nth(1).unwrap().split_whitespace().collect::<Vec<_>>(),
            ["get_app", "ok", "FAILED", "ok", "ok", "NOT", "RUN"]
        );
        assert_eq!(
            failures(&rows),
            "\nFAILED get_app (Python): exited 0 but did not print `42`\n--- stdout\n41\n--- stderr\n"
        );
        assert_eq!(verdict(&rows, &BTreeMap::new(), false), Err("samples: 1 failed".into()));
    }

    #[test]
    fn a_language_not_run_fails_the_run_in_ci_only() {
        let not_run = BTreeMap::from([(Language::Cli, "appdeck is missing".to_owned())]);
        assert_eq!(verdict(&rows(false), &not_run, false), Ok(()));
        assert!(verdict(&rows(false), &not_run, true).is_err());
    }
}
