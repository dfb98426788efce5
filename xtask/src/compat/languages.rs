//! Making each language's client of a release and the command that runs its
//! scenario. The tools and their versions are those of
//! `tests/clients/` (npm lock, `requirements.txt`) and `client/build.rs`
//! (progenitor, locked in Cargo.lock).

use std::{
    collections::BTreeMap,
    fmt, fs,
    path::{Path, PathBuf},
    process::Command,
};

use crate::tools::{need, run};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Language {
    Rust,
    TypeScript,
    Python,
}

impl Language {
    pub const ALL: [Self; 3] = [Self::Rust, Self::TypeScript, Self::Python];

    pub fn directory(self) -> &'static str {
        match self {
            Self::Rust => "rust",
            Self::TypeScript => "typescript",
            Self::Python => "python",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.pad(match self {
            Self::Rust => "Rust",
            Self::TypeScript => "TypeScript",
            Self::Python => "Python",
        })
    }
}

pub struct Runners {
    root: PathBuf,
    work: PathBuf,
    /// The languages whose tools are missing, with why.
    pub not_run: BTreeMap<Language, String>,
}

impl Runners {
    /// Installs what every release shares: the npm packages and the Python
    /// venv with openapi-python-client.
    pub fn prepare(root: &Path, work: &Path) -> Result<Self, String> {
        let mut runners = Self { root: root.to_owned(), work: work.to_owned(), not_run: BTreeMap::new() };
        match need("node").and_then(|()| need("npm")) {
            Ok(()) => runners.prepare_typescript()?,
            Err(reason) => drop(runners.not_run.insert(Language::TypeScript, reason)),
        }
        match need("python3") {
            Ok(()) => runners.prepare_python()?,
            Err(reason) => drop(runners.not_run.insert(Language::Python, reason)),
        }
        Ok(runners)
    }

    fn typescript_dir(&self) -> PathBuf {
        self.work.join("typescript")
    }

    fn venv_bin(&self) -> PathBuf {
        self.work.join("python-venv").join("bin")
    }

    fn prepare_typescript(&self) -> Result<(), String> {
        let sources = self.root.join("spec-history/scenarios/typescript");
        let build = self.typescript_dir();
        fs::create_dir_all(&build).map_err(|error| format!("cannot make {}: {error}", build.display()))?;
        for file in ["package.json", "package-lock.json", "tsconfig.json", "scenario.ts", "strict.ts"] {
            fs::copy(sources.join(file), build.join(file)).map_err(|error| format!("cannot copy {file}: {error}"))?;
        }
        // node_modules stays between runs; `npm ci` makes it match the lock again.
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&build))
    }

    fn prepare_python(&self) -> Result<(), String> {
        let bin = self.venv_bin();
        if !bin.join("python").exists() {
            run(Command::new("python3").args(["-m", "venv"]).arg(self.work.join("python-venv")))?;
        }
        run(Command::new(bin.join("pip"))
            .args(["install", "-q", "-r"])
            .arg(self.root.join("tests/clients/python/requirements.txt")))
    }

    /// Generates (and for Rust and TypeScript compiles) the client of one
    /// release with its scenario; returns the command that runs it, to which
    /// the base URL and the token are added.
    pub fn prepare_release(&self, language: Language, version: &str, spec_path: &Path) -> Result<Command, String> {
        let spec_path = fs::canonicalize(spec_path).map_err(|error| format!("{}: {error}", spec_path.display()))?;
        match language {
            Language::Rust => {
                cargo_build(&self.root, &["-p", "appdeck-compat-scenario"], Some(&spec_path))?;
                let target = crate::bench::build::target_dir(&self.root)?;
                Ok(Command::new(target.join("debug").join("appdeck-compat-scenario")))
            }
            Language::TypeScript => {
                let build = self.typescript_dir();
                let spec = crate::spec::parse_yaml(
                    &fs::read_to_string(&spec_path).map_err(|error| format!("{}: {error}", spec_path.display()))?,
                )?;
                let spec_json = build.join("build").join("spec.json");
                fs::create_dir_all(build.join("build")).map_err(|error| error.to_string())?;
                fs::write(&spec_json, spec.to_string()).map_err(|error| format!("{}: {error}", spec_json.display()))?;
                let tools = build.join("node_modules").join(".bin");
                run(Command::new(tools.join("openapi-typescript"))
                    .arg(&spec_path)
                    .args(["--output", "build/schema.d.ts", "--silent"])
                    .current_dir(&build))?;
                run(Command::new(tools.join("tsc")).args(["-p", "tsconfig.json"]).current_dir(&build))?;
                let mut command = Command::new("node");
                command.arg(build.join("build/js/scenario.js")).arg(spec_json);
                Ok(command)
            }
            Language::Python => {
                let bin = self.venv_bin();
                let output = self.work.join(version).join(language.directory());
                if output.exists() {
                    fs::remove_dir_all(&output)
                        .map_err(|error| format!("cannot remove {}: {error}", output.display()))?;
                }
                fs::create_dir_all(output.parent().expect("a release directory")).map_err(|error| error.to_string())?;
                // The generator formats its output with ruff, which it finds on PATH.
                let path = std::env::join_paths(
                    std::iter::once(bin.clone())
                        .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
                )
                .map_err(|error| error.to_string())?;
                run(Command::new(bin.join("openapi-python-client"))
                    .args(["generate", "--meta", "setup", "--path"])
                    .arg(&spec_path)
                    .arg("--output-path")
                    .arg(&output)
                    .env("PATH", path))?;
                // Every release's package has the same name and version:
                // reinstall it each time, then let pip add its dependencies.
                run(Command::new(bin.join("pip"))
                    .args(["install", "-q", "--force-reinstall", "--no-deps"])
                    .arg(&output))?;
                run(Command::new(bin.join("pip")).args(["install", "-q"]).arg(&output))?;
                let mut command = Command::new(bin.join("python"));
                command.arg(self.root.join("spec-history/scenarios/python/scenario.py"));
                Ok(command)
            }
        }
    }
}

pub fn cargo_build(root: &Path, packages: &[&str], compat_spec: Option<&Path>) -> Result<(), String> {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.current_dir(root).args(["build", "-q"]).args(packages);
    if let Some(spec) = compat_spec {
        command.env("APPDECK_COMPAT_SPEC", spec);
    }
    let status = command.status().map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo build {} failed", packages.join(" "))) }
}
