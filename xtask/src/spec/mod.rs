//! `cargo xtask spec …`: keeping `openapi.yaml`, the server and the client in agreement.

pub mod breaking;
pub mod check;
pub mod code_samples;
pub mod history;
pub mod lint;
pub mod normalize;

use std::{fs, path::PathBuf};

use serde_json::Value;

/// The repository root, where `openapi.yaml` lives.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// Where released specs and acknowledged breaking changes are kept.
pub fn history_dir() -> PathBuf {
    workspace_root().join("spec-history")
}

/// `openapi.yaml` as JSON.
pub fn load_spec() -> Result<Value, String> {
    let path = workspace_root().join("openapi.yaml");
    let text = fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    parse_yaml(&text).map_err(|error| format!("{}: {error}", path.display()))
}

pub fn parse_yaml(text: &str) -> Result<Value, String> {
    yaml_serde::from_str(text).map_err(|error| format!("not valid YAML: {error}"))
}

/// The document utoipa derives from the server's annotations, as JSON.
pub fn derived_document() -> Value {
    serde_json::to_value(appdeck_server::api::openapi()).expect("the derived document serializes")
}

#[cfg(test)]
mod drift_tests;

#[cfg(test)]
mod breaking_tests;
