//! Released versions of the spec, kept under version control in
//! `spec-history/` (Oxide's "blessed" documents), and the breaking changes
//! reviewers accepted since the latest one.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;

use super::{
    breaking::{Change, Severity},
    history_dir, parse_yaml,
};

const ACKNOWLEDGEMENTS_FILE: &str = "acknowledged-breaking-changes.yaml";
const ACKNOWLEDGEMENTS_HEADER: &str = "\
# Breaking changes made on purpose since the latest released spec in this
# folder. Each entry needs the `rule` and `pointer` that
# `cargo xtask spec breaking` prints, and the `reason` a reviewer accepted.
# An entry that breaks a step of the compatibility scenarios
# (spec-history/scenarios/) also names it: `breaks_steps: [app-create]`;
# `cargo xtask compat` then expects that step to fail, with the reason.
# `cargo xtask spec release` keeps the list as
# acknowledged-breaking-changes-VERSION.yaml and empties this one.
";

/// Every released spec, `(version, path)`, oldest first.
pub fn releases() -> Result<Vec<(String, PathBuf)>, String> {
    releases_in(&history_dir())
}

fn releases_in(history: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let mut releases: Vec<(Vec<u64>, String, PathBuf)> = fs::read_dir(history)
        .map_err(|error| format!("cannot read spec-history/: {error}"))?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix("openapi-")?.strip_suffix(".yaml")?.to_owned();
            let numbers = version.split('.').map(str::parse).collect::<Result<Vec<u64>, _>>().ok()?;
            Some((numbers, version, entry.path()))
        })
        .collect();
    releases.sort();
    if releases.is_empty() {
        return Err("spec-history/ holds no released spec (openapi-X.Y.Z.yaml)".into());
    }
    Ok(releases.into_iter().map(|(_, version, path)| (version, path)).collect())
}

/// The released spec with the highest version, with that version.
pub fn latest_release() -> Result<(String, Value), String> {
    let (version, path) = releases()?.pop().ok_or("spec-history/ holds no released spec (openapi-X.Y.Z.yaml)")?;
    let text = fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    Ok((version, parse_yaml(&text)?))
}

/// `openapi.yaml` as it was at git revision `revision`.
pub fn spec_at_revision(revision: &str) -> Result<Value, String> {
    let output = Command::new("git")
        .args(["show", &format!("{revision}:openapi.yaml")])
        .current_dir(super::workspace_root())
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "git show {revision}:openapi.yaml failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    parse_yaml(&String::from_utf8_lossy(&output.stdout))
}

/// An accepted breaking change.
pub struct Acknowledgement {
    pub rule: String,
    pub pointer: String,
    pub reason: String,
    /// The steps of the compatibility scenarios this change breaks, which
    /// `cargo xtask compat` expects to fail.
    pub breaks_steps: Vec<String>,
}

/// The breaking changes acknowledged since the latest release.
pub fn acknowledgements() -> Result<Vec<Acknowledgement>, String> {
    acknowledgements_in(&history_dir().join(ACKNOWLEDGEMENTS_FILE))
}

/// Every breaking change acknowledged after `version` was released: those
/// since the latest release and those `release` archived for each later
/// one. A client of `version` meets them all.
pub fn acknowledgements_after(version: &str) -> Result<Vec<Acknowledgement>, String> {
    acknowledgements_after_in(&history_dir(), version)
}

fn acknowledgements_after_in(history: &Path, version: &str) -> Result<Vec<Acknowledgement>, String> {
    let mut all = acknowledgements_in(&history.join(ACKNOWLEDGEMENTS_FILE))?;
    for (released, _) in releases_in(history)? {
        let archived = history.join(archived_acknowledgements_file(&released));
        if version_numbers(&released) > version_numbers(version) && archived.exists() {
            all.extend(acknowledgements_in(&archived)?);
        }
    }
    Ok(all)
}

/// Where `release` keeps the acknowledgements of the changes released as `version`.
fn archived_acknowledgements_file(version: &str) -> String {
    format!("acknowledged-breaking-changes-{version}.yaml")
}

fn version_numbers(version: &str) -> Vec<u64> {
    version.split('.').filter_map(|number| number.parse().ok()).collect()
}

fn acknowledgements_in(path: &Path) -> Result<Vec<Acknowledgement>, String> {
    let text = fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let document = parse_yaml(&text)?;
    let entries =
        document["acknowledged"].as_array().ok_or(format!("{}: `acknowledged` must be a list", path.display()))?;
    entries
        .iter()
        .map(|entry| {
            let field = |name: &str| {
                entry[name]
                    .as_str()
                    .filter(|value| !value.trim().is_empty())
                    .map(str::to_owned)
                    .ok_or(format!("{}: every entry needs a non-empty `{name}`", path.display()))
            };
            let breaks_steps = match &entry["breaks_steps"] {
                Value::Null => Vec::new(),
                Value::Array(steps) => steps
                    .iter()
                    .map(|step| step.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or(format!("{}: `breaks_steps` must be a list of step ids", path.display()))?,
                _ => return Err(format!("{}: `breaks_steps` must be a list of step ids", path.display())),
            };
            Ok(Acknowledgement {
                rule: field("rule")?,
                pointer: field("pointer")?,
                reason: field("reason")?,
                breaks_steps,
            })
        })
        .collect()
}

impl Acknowledgement {
    pub fn covers(&self, change: &Change) -> bool {
        self.rule == change.rule && self.pointer == change.pointer
    }
}

/// The acknowledgement that covers `change`, if any.
pub fn acknowledgement_for<'a>(
    change: &Change,
    acknowledgements: &'a [Acknowledgement],
) -> Option<&'a Acknowledgement> {
    acknowledgements.iter().find(|acknowledgement| acknowledgement.covers(change))
}

/// The breaking changes no acknowledgement covers: these fail the check.
pub fn unacknowledged_breaking<'a>(changes: &'a [Change], acknowledgements: &[Acknowledgement]) -> Vec<&'a Change> {
    changes
        .iter()
        .filter(|change| {
            change.severity == Severity::Breaking && acknowledgement_for(change, acknowledgements).is_none()
        })
        .collect()
}

/// Records `spec_text` as released under `version` and clears the
/// acknowledgements, after archiving them as those of `version`: clients of
/// earlier releases still meet those changes, and `cargo xtask compat`
/// still expects the steps they break to fail.
pub fn release(version: &str, spec_text: &str) -> Result<PathBuf, String> {
    release_in(&history_dir(), version, spec_text)
}

fn release_in(history: &Path, version: &str, spec_text: &str) -> Result<PathBuf, String> {
    let path = history.join(format!("openapi-{version}.yaml"));
    if let Ok(existing) = fs::read_to_string(&path) {
        if existing == spec_text {
            return Err(format!("{version} is already released as it is; nothing to do"));
        }
        return Err(format!(
            "{} exists with other content: raise `info.version` in openapi.yaml before releasing",
            path.display()
        ));
    }
    fs::create_dir_all(history).map_err(|error| error.to_string())?;
    fs::write(&path, spec_text).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    let acknowledgements = history.join(ACKNOWLEDGEMENTS_FILE);
    if acknowledgements.exists() && !acknowledgements_in(&acknowledgements)?.is_empty() {
        let archive = history.join(archived_acknowledgements_file(version));
        fs::copy(&acknowledgements, &archive)
            .map_err(|error| format!("cannot archive the acknowledgements as {}: {error}", archive.display()))?;
    }
    fs::write(&acknowledgements, format!("{ACKNOWLEDGEMENTS_HEADER}acknowledged: []\n"))
        .map_err(|error| format!("cannot write {}: {error}", acknowledgements.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh `spec-history/` with the release `1.9.0` and these acknowledgements.
    fn history_with(name: &str, acknowledged: &str) -> PathBuf {
        let history = std::env::temp_dir().join(format!("appdeck-history-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&history);
        fs::create_dir_all(&history).unwrap();
        fs::write(history.join("openapi-1.9.0.yaml"), "openapi: 3.0.3\n").unwrap();
        fs::write(history.join(ACKNOWLEDGEMENTS_FILE), format!("acknowledged:\n{acknowledged}")).unwrap();
        history
    }

    const DELETE_REMOVED: &str = "  - rule: operation-removed\n    pointer: /paths/~1v1~1apps~1{id}/delete\n    \
                                  reason: apps are archived\n    breaks_steps: [app-delete]\n";

    #[test]
    fn a_release_keeps_its_acknowledgements_for_the_clients_of_earlier_releases() {
        let history = history_with("archive", DELETE_REMOVED);
        release_in(&history, "1.10.0", "openapi: 3.0.3\ninfo: {version: 1.10.0}\n").unwrap();

        assert!(acknowledgements_in(&history.join(ACKNOWLEDGEMENTS_FILE)).unwrap().is_empty());
        // 1.10.0 is later than 1.9.0 by number, though not by spelling.
        let for_1_9 = acknowledgements_after_in(&history, "1.9.0").unwrap();
        assert_eq!(for_1_9.len(), 1);
        assert_eq!(
            (for_1_9[0].reason.as_str(), &for_1_9[0].breaks_steps[..]),
            ("apps are archived", &["app-delete".to_owned()][..])
        );
        assert!(acknowledgements_after_in(&history, "1.10.0").unwrap().is_empty());

        release_in(&history, "1.11.0", "openapi: 3.0.3\ninfo: {version: 1.11.0}\n").unwrap();
        assert!(!history.join(archived_acknowledgements_file("1.11.0")).exists(), "an empty list is not archived");
        assert_eq!(acknowledgements_after_in(&history, "1.9.0").unwrap().len(), 1);
        fs::remove_dir_all(history).unwrap();
    }

    #[test]
    fn the_latest_release_is_the_highest_version_with_its_own_document() {
        let (version, document) = latest_release().unwrap();
        let (highest, _) = releases().unwrap().pop().unwrap();
        assert_eq!(version, highest);
        assert_eq!(document["info"]["version"], highest.as_str(), "the document of openapi-{highest}.yaml");
    }

    #[test]
    fn the_clients_of_the_oldest_release_meet_every_acknowledged_change() {
        let (oldest, _) = releases().unwrap().into_iter().next().unwrap();
        let since_latest = acknowledgements().unwrap().len();
        assert!(acknowledgements_after(&oldest).unwrap().len() >= since_latest);
    }

    #[test]
    fn breaks_steps_may_be_left_out_but_must_be_a_list_of_ids() {
        let history = history_with("steps", "  - {rule: r, pointer: /p, reason: why}\n");
        let read = acknowledgements_in(&history.join(ACKNOWLEDGEMENTS_FILE)).unwrap();
        assert!(read[0].breaks_steps.is_empty());
        for wrong in ["app-delete", "[1]"] {
            let history =
                history_with("steps", &format!("  - {{rule: r, pointer: /p, reason: why, breaks_steps: {wrong}}}\n"));
            let error = acknowledgements_in(&history.join(ACKNOWLEDGEMENTS_FILE)).err().unwrap();
            assert!(error.contains("`breaks_steps` must be a list of step ids"), "{error}");
        }
        fs::remove_dir_all(history).unwrap();
    }
}
