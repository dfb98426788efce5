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
    let mut all = acknowledgements()?;
    for (released, _) in releases()? {
        let archived = history_dir().join(archived_acknowledgements_file(&released));
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
    if !self::acknowledgements()?.is_empty() {
        let archive = history_dir().join(archived_acknowledgements_file(version));
        fs::copy(&acknowledgements, &archive)
            .map_err(|error| format!("cannot archive the acknowledgements as {}: {error}", archive.display()))?;
    }
    fs::write(&acknowledgements, format!("{ACKNOWLEDGEMENTS_HEADER}acknowledged: []\n"))
        .map_err(|error| format!("cannot write {}: {error}", acknowledgements.display()))?;
    Ok(path)
}
