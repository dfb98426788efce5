//! The `x-codeSamples` of every operation: the five languages each must
//! show, read by `spec lint` (all five present) and by `cargo xtask
//! samples` (which runs them).

use serde_json::Value;

/// A language every operation shows a sample in: its `label` names it in
/// the reference page's tabs, `lang` picks the highlighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Language {
    Curl,
    Python,
    TypeScript,
    Rust,
    Cli,
}

impl Language {
    pub const ALL: [Language; 5] =
        [Language::Curl, Language::Python, Language::TypeScript, Language::Rust, Language::Cli];

    pub fn label(self) -> &'static str {
        match self {
            Language::Curl => "curl",
            Language::Python => "Python",
            Language::TypeScript => "TypeScript",
            Language::Rust => "Rust",
            Language::Cli => "CLI",
        }
    }

    pub fn lang(self) -> &'static str {
        match self {
            Language::Curl | Language::Cli => "Shell",
            Language::Python => "Python",
            Language::TypeScript => "TypeScript",
            Language::Rust => "Rust",
        }
    }

    fn from_label(label: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|language| language.label() == label)
    }
}

/// One operation's samples, in the spec's order.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub samples: Vec<(Language, String)>,
}

/// Every operation that has an operationId, with the samples whose label is
/// one of the five languages.
pub fn operations(spec: &Value) -> Vec<Operation> {
    each_operation(spec)
        .into_iter()
        .filter_map(|(_, operation)| {
            let id = operation["operationId"].as_str()?.to_owned();
            let samples = entries(operation)
                .filter_map(|sample| {
                    let language = Language::from_label(sample["label"].as_str()?)?;
                    Some((language, sample["source"].as_str()?.to_owned()))
                })
                .collect();
            Some(Operation { id, samples })
        })
        .collect()
}

fn each_operation(spec: &Value) -> Vec<(String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for method in super::normalize::METHODS {
            if let Some(operation) = item.get(method) {
                found.push((format!("/paths/{}/{method}", super::check::escape(path)), operation));
            }
        }
    }
    found
}

fn entries(operation: &Value) -> impl Iterator<Item = &Value> {
    operation.get("x-codeSamples").and_then(Value::as_array).into_iter().flatten()
}

/// Each operation shows each language once, with its `lang` and a source:
/// the pointer of each operation that does not, and what is wrong.
pub fn lint(spec: &Value) -> Vec<(String, String)> {
    let mut findings = Vec::new();
    for (pointer, operation) in each_operation(spec) {
        let mut complain = |message: String| findings.push((pointer.clone(), message));
        let mut seen = Vec::new();
        for sample in entries(operation) {
            let label = sample["label"].as_str().unwrap_or_default();
            let Some(language) = Language::from_label(label) else {
                complain(format!("has an x-codeSamples entry labelled `{label}`, not one of the five languages"));
                continue;
            };
            if seen.contains(&language) {
                complain(format!("has two {label} samples"));
            }
            seen.push(language);
            if sample["lang"].as_str() != Some(language.lang()) {
                complain(format!("its {label} sample's lang is not `{}`", language.lang()));
            }
            if sample["source"].as_str().is_none_or(|source| source.trim().is_empty()) {
                complain(format!("its {label} sample has no source"));
            }
        }
        for language in Language::ALL.into_iter().filter(|language| !seen.contains(language)) {
            complain(format!("has no {} sample in x-codeSamples", language.label()));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::load_spec;

    fn findings_after(mutate: impl FnOnce(&mut Value)) -> Vec<String> {
        let mut spec = load_spec().unwrap();
        mutate(&mut spec);
        lint(&spec).into_iter().map(|(pointer, message)| format!("{pointer}: {message}")).collect()
    }

    #[test]
    fn every_committed_operation_has_the_five_samples() {
        let spec = load_spec().unwrap();
        let operations = operations(&spec);
        assert!(operations.len() >= 24, "{} operations", operations.len());
        for operation in operations {
            let languages: Vec<Language> = operation.samples.iter().map(|(language, _)| *language).collect();
            assert_eq!(languages, Language::ALL, "{}", operation.id);
        }
    }

    #[test]
    fn an_operation_without_samples_is_refused_once_per_language() {
        let findings = findings_after(|spec| {
            spec["paths"]["/v1/me"]["get"].as_object_mut().unwrap().remove("x-codeSamples");
        });
        let expected: Vec<String> = Language::ALL
            .iter()
            .map(|language| format!("/paths/~1v1~1me/get: has no {} sample in x-codeSamples", language.label()))
            .collect();
        assert_eq!(findings, expected);
    }

    #[test]
    fn an_operation_missing_one_language_is_refused() {
        let findings = findings_after(|spec| {
            let samples = spec["paths"]["/v1/apps"]["post"]["x-codeSamples"].as_array_mut().unwrap();
            samples.retain(|sample| sample["label"] != "Rust");
        });
        assert_eq!(findings, ["/paths/~1v1~1apps/post: has no Rust sample in x-codeSamples"]);
    }

    #[test]
    fn unknown_duplicate_empty_and_mislabelled_samples_are_refused() {
        let findings = findings_after(|spec| {
            let samples = spec["paths"]["/v1/me"]["get"]["x-codeSamples"].as_array_mut().unwrap();
            samples[0]["source"] = Value::String("  ".into());
            samples[1]["lang"] = Value::String("Ruby".into());
            samples.push(samples[2].clone());
            samples.push(serde_json::json!({"lang": "Go", "label": "Go", "source": "x"}));
        });
        assert_eq!(
            findings,
            [
                "/paths/~1v1~1me/get: its curl sample has no source",
                "/paths/~1v1~1me/get: its Python sample's lang is not `Python`",
                "/paths/~1v1~1me/get: has two TypeScript samples",
                "/paths/~1v1~1me/get: has an x-codeSamples entry labelled `Go`, not one of the five languages",
            ]
        );
    }
}
