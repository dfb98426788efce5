//! `cargo xtask bench --compare REV`: the server as built from git revision
//! REV, measured beside the working tree's in alternating rounds.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use super::{
    build,
    database::{Backend, Database},
    process::{self, Server},
};

/// The old build, running on a database of its own: REV's migrations may
/// differ from the working tree's, so the two never share one.
pub struct OldServer {
    pub server: Server,
    pub database: Database,
    pub token: String,
}

impl OldServer {
    pub fn start(revision: &str, bench_dir: &Path, backend: Backend) -> Result<Self, String> {
        let compare_dir = bench_dir.join("compare");
        let binary = build_revision(revision, &compare_dir)?;
        // The bench's PostgreSQL schema is named after the second and the
        // process: the new build's was made this second or the one before.
        wait_for_next_second();
        let database = Database::create(backend, &compare_dir)?;
        let environment =
            [("DATABASE_URL", database.url.clone()), ("APPDECK_RATE_LIMIT_PER_HOUR", "4000000000".into())];
        let token = super::create_organization(&binary, &environment, "Acme Mobile")?;
        let server = process::start_server(&binary, &environment, &compare_dir.join("server.log"))?;
        eprintln!("bench: {revision} ready in {} ms", server.start_to_ready.as_millis());
        Ok(Self { server, database, token })
    }
}

/// `git archive REV` unpacked under `compare_dir/src`, built in release with
/// REV's own lock file; returns a copy of its server binary.
fn build_revision(revision: &str, compare_dir: &Path) -> Result<PathBuf, String> {
    let workspace_root = crate::spec::workspace_root();
    let source = compare_dir.join("src");
    if source.exists() {
        std::fs::remove_dir_all(&source).map_err(|error| format!("cannot empty {}: {error}", source.display()))?;
    }
    std::fs::create_dir_all(&source).map_err(|error| format!("cannot create {}: {error}", source.display()))?;
    let archive = Command::new("git")
        .current_dir(&workspace_root)
        .args(["archive", "--format=tar", revision])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run git archive: {error}"))?;
    // `-m`: the files get the time of unpacking, not of the commit. With the
    // commit's time, older than the build outputs, cargo would take REV's
    // crates for already built.
    let unpacked = Command::new("tar")
        .arg("-x")
        .arg("-m")
        .arg("-C")
        .arg(&source)
        .stdin(archive.stdout.ok_or("git archive has no stdout")?)
        .status()
        .map_err(|error| format!("cannot run tar: {error}"))?;
    if !unpacked.success() {
        return Err(format!("`git archive {revision}` could not be unpacked: is it a revision of this repository?"));
    }
    // A target directory of its own. Cargo names a workspace crate's outputs
    // by its name, version and path within the workspace, the same for REV
    // and the working tree: in one target directory each build would take
    // the other's outputs for its own. It is seeded, once, with a copy of
    // the working tree's release outputs, so that the dependencies both
    // share are not compiled again.
    let target_dir = compare_dir.join("target");
    if !target_dir.exists() {
        std::fs::create_dir_all(&target_dir)
            .map_err(|error| format!("cannot create {}: {error}", target_dir.display()))?;
        let release = build::target_dir(&workspace_root)?.join("release");
        let copied = Command::new("cp")
            .arg("-a")
            .arg(&release)
            .arg(&target_dir)
            .status()
            .map_err(|error| format!("cannot run cp: {error}"))?;
        if !copied.success() {
            return Err(format!("cannot copy {} to {}", release.display(), target_dir.display()));
        }
    }
    eprintln!("bench: building {revision} from {}", source.display());
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&source)
        .env("CARGO_TARGET_DIR", &target_dir)
        .args(["build", "--release", "--locked", "-p", "appdeck-server"])
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !status.success() {
        return Err(format!("the release build of {revision} failed"));
    }
    build::copy_server(&target_dir, compare_dir, "appdeck_bench_server_old")
}

fn wait_for_next_second() {
    let second = |now: SystemTime| now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let start = second(SystemTime::now());
    while second(SystemTime::now()) == start {
        std::thread::sleep(Duration::from_millis(20));
    }
}
