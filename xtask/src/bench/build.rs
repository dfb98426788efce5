//! Building what is measured, in release: the server and the ceiling.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

pub struct Binaries {
    pub server: PathBuf,
    pub ceiling: PathBuf,
    /// `<target>/bench`: scripts, logs, the SQLite file, results.md.
    pub bench_dir: PathBuf,
}

pub fn release(workspace_root: &Path) -> Result<Binaries, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("bench: cargo build --release -p appdeck-server -p bench-ceiling");
    let status = Command::new(&cargo)
        .current_dir(workspace_root)
        .args(["build", "--release", "-p", "appdeck-server", "-p", "bench-ceiling"])
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !status.success() {
        return Err("the release build failed".into());
    }
    let target_dir = target_dir(&cargo, workspace_root)?;
    let bench_dir = target_dir.join("bench");
    std::fs::create_dir_all(&bench_dir).map_err(|error| format!("cannot create {}: {error}", bench_dir.display()))?;
    let release = target_dir.join("release");
    Ok(Binaries { server: release.join("appdeck-server"), ceiling: release.join("bench-ceiling"), bench_dir })
}

/// Where cargo puts builds, wherever `CARGO_TARGET_DIR` or a config moved it.
fn target_dir(cargo: &str, workspace_root: &Path) -> Result<PathBuf, String> {
    let output = Command::new(cargo)
        .current_dir(workspace_root)
        .args(["metadata", "--no-deps", "--format-version=1"])
        .output()
        .map_err(|error| format!("cannot run cargo metadata: {error}"))?;
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|error| format!("cargo metadata: {error}"))?;
    metadata["target_directory"].as_str().map(PathBuf::from).ok_or_else(|| "cargo metadata: no target_directory".into())
}
