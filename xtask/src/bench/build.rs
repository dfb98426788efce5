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
    build_release(workspace_root, &["appdeck-server", "bench-ceiling"])?;
    let target_dir = target_dir(workspace_root)?;
    let bench_dir = target_dir.join("bench");
    std::fs::create_dir_all(&bench_dir).map_err(|error| format!("cannot create {}: {error}", bench_dir.display()))?;
    let server = copy_server(&target_dir, &bench_dir, "appdeck_bench_server")?;
    Ok(Binaries { server, ceiling: target_dir.join("release").join("bench-ceiling"), bench_dir })
}

/// `cargo build --release -p PACKAGE...` in the workspace.
pub fn build_release(workspace_root: &Path, packages: &[&str]) -> Result<(), String> {
    let mut args = vec!["build", "--release"];
    for package in packages {
        args.extend(["-p", package]);
    }
    eprintln!("cargo {}", args.join(" "));
    let status = Command::new(cargo())
        .current_dir(workspace_root)
        .args(&args)
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !status.success() {
        return Err("the release build failed".into());
    }
    Ok(())
}

/// Copies the release server into `directory` as `name`. The server runs
/// from a copy with a name of its own: on a shared machine, a script that
/// stops stray `appdeck-server` processes by name (a test run's cleanup,
/// say) would otherwise stop the one being measured.
pub fn copy_server(target_dir: &Path, directory: &Path, name: &str) -> Result<PathBuf, String> {
    let server = directory.join(name);
    std::fs::copy(target_dir.join("release").join("appdeck-server"), &server)
        .map_err(|error| format!("cannot copy the server to {}: {error}", server.display()))?;
    Ok(server)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Where cargo puts builds, wherever `CARGO_TARGET_DIR` or a config moved it.
pub fn target_dir(workspace_root: &Path) -> Result<PathBuf, String> {
    let cargo = cargo();
    let output = Command::new(&cargo)
        .current_dir(workspace_root)
        .args(["metadata", "--no-deps", "--format-version=1"])
        .output()
        .map_err(|error| format!("cannot run cargo metadata: {error}"))?;
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|error| format!("cargo metadata: {error}"))?;
    metadata["target_directory"].as_str().map(PathBuf::from).ok_or_else(|| "cargo metadata: no target_directory".into())
}
