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
                    outcome.stdout,
                    outcome.stderr
                ));
            }
        }
    }
    text
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
