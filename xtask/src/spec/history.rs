//! Released versions of the spec, kept under version control in
//! `spec-history/` (Oxide's "blessed" documents), and the breaking changes
//! reviewers accepted since the latest one.

use std::{fs, path::PathBuf, process::Command};

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
# `cargo xtask spec release` empties the list.
";

/// The released spec with the highest version, with that version.
pub fn latest_release() -> Result<(String, Value), String> {
    let mut releases: Vec<(Vec<u64>, String, PathBuf)> = fs::read_dir(history_dir())
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
    let (_, version, path) = releases.pop().ok_or("spec-history/ holds no released spec (openapi-X.Y.Z.yaml)")?;
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
}

pub fn acknowledgements() -> Result<Vec<Acknowledgement>, String> {
    let path = history_dir().join(ACKNOWLEDGEMENTS_FILE);
    let text = fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
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
            Ok(Acknowledgement { rule: field("rule")?, pointer: field("pointer")?, reason: field("reason")? })
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

/// Records `spec_text` as released under `version` and clears the acknowledgements.
pub fn release(version: &str, spec_text: &str) -> Result<PathBuf, String> {
    let path = history_dir().join(format!("openapi-{version}.yaml"));
    if let Ok(existing) = fs::read_to_string(&path) {
        if existing == spec_text {
            return Err(format!("{version} is already released as it is; nothing to do"));
        }
        return Err(format!(
            "{} exists with other content: raise `info.version` in openapi.yaml before releasing",
            path.display()
        ));
    }
    fs::create_dir_all(history_dir()).map_err(|error| error.to_string())?;
    fs::write(&path, spec_text).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    let acknowledgements = history_dir().join(ACKNOWLEDGEMENTS_FILE);
    fs::write(&acknowledgements, format!("{ACKNOWLEDGEMENTS_HEADER}acknowledged: []\n"))
        .map_err(|error| format!("cannot write {}: {error}", acknowledgements.display()))?;
    Ok(path)
}
