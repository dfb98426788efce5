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
    // The server runs from a copy with a name of its own: on a shared machine,
    // a script that stops stray `appdeck-server` processes by name (a test
    // run's cleanup, say) would otherwise stop the one being measured.
    let server = bench_dir.join("appdeck_bench_server");
    std::fs::copy(release.join("appdeck-server"), &server)
        .map_err(|error| format!("cannot copy the server to {}: {error}", server.display()))?;
    Ok(Binaries { server, ceiling: release.join("bench-ceiling"), bench_dir })
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
