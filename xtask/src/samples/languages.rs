//! How a sample of each language runs, exactly as the reference shows it:
//! curl and CLI samples by bash (with `appdeck` on the PATH), Python by a
//! venv holding the built SDK wheel, TypeScript type-checked by tsc in a
//! project holding the built SDK package then run by node, Rust by the
//! `appdeck-samples` binary built from the same spec.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use super::expectations::Outcome;
use crate::spec::code_samples::{Language, Operation};
use crate::tools::{need, run};

/// A sample that runs longer than this has hung.
const TIMEOUT_SECONDS: &str = "60";

pub struct Runners {
    debug_dir: PathBuf,
    venv: PathBuf,
    python_dir: PathBuf,
    typescript_dir: PathBuf,
    /// Why a language's samples cannot run here (a missing tool).
    pub not_run: BTreeMap<Language, String>,
    /// tsc's errors for each TypeScript sample that does not compile.
    type_errors: BTreeMap<String, String>,
}

impl Runners {
    /// Readies every language: the SDKs built and installed, the TypeScript
    /// samples compiled. A missing python3, node or npm leaves the Python and
    /// TypeScript samples not run; anything else that goes wrong fails the run.
    pub fn prepare(root: &Path, target: &Path, work: &Path, operations: &[Operation]) -> Result<Self, String> {
        let mut runners = Runners {
            debug_dir: target.join("debug"),
            venv: work.join("venv"),
            python_dir: work.join("python"),
            typescript_dir: work.join("typescript"),
            not_run: BTreeMap::new(),
            type_errors: BTreeMap::new(),
        };
        if let Some(reason) = ["python3", "node", "npm"].into_iter().map(need).find_map(Result::err) {
            runners.not_run.insert(Language::Python, reason.clone());
            runners.not_run.insert(Language::TypeScript, reason);
            return Ok(runners);
        }
        let (wheel, package) = build_sdk(root)?;
        runners.prepare_python(&wheel)?;
        runners.prepare_typescript(root, &package, operations)?;
        Ok(runners)
    }

    fn prepare_python(&self, wheel: &Path) -> Result<(), String> {
        if !self.venv.join("bin/python").exists() {
            run(Command::new("python3").args(["-m", "venv"]).arg(&self.venv))?;
        }
        let pip = self.venv.join("bin/pip");
        // The wheel keeps its version from build to build: reinstall it, then let pip add its dependencies.
        run(Command::new(&pip).args(["install", "-q", "--force-reinstall", "--no-deps"]).arg(wheel))?;
        run(Command::new(&pip).args(["install", "-q"]).arg(wheel))?;
        fs::create_dir_all(&self.python_dir).map_err(|error| error.to_string())
    }

    fn prepare_typescript(&mut self, root: &Path, package: &Path, operations: &[Operation]) -> Result<(), String> {
        let project = &self.typescript_dir;
        let source_dir = project.join("src");
        let _ = fs::remove_dir_all(&source_dir);
        let _ = fs::remove_dir_all(project.join("build"));
        fs::create_dir_all(&source_dir).map_err(|error| error.to_string())?;
        for file in ["package.json", "tsconfig.json"] {
            fs::copy(root.join("tests/samples/typescript").join(file), project.join(file))
                .map_err(|error| format!("cannot copy {file}: {error}"))?;
        }
        run(Command::new("npm")
            .current_dir(project)
            .args(["install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"])
            .arg(package))?;
        for operation in operations {
            for (language, source) in &operation.samples {
                if *language == Language::TypeScript {
                    fs::write(source_dir.join(format!("{}.ts", operation.id)), source)
                        .map_err(|error| error.to_string())?;
                }
            }
        }
        // One compile for all: a sample's type errors fail that sample alone, the rest are still emitted.
        let output = Command::new(project.join("node_modules/.bin/tsc"))
            .current_dir(project)
            .args(["-p", ".", "--pretty", "false"])
            .output()
            .map_err(|error| format!("cannot run tsc: {error}"))?;
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Some(operation_id) = line.strip_prefix("src/").and_then(|rest| rest.split(".ts(").next()) else {
                continue;
            };
            self.type_errors.entry(operation_id.to_owned()).or_default().push_str(&format!("{line}\n"));
        }
        if !output.status.success() && self.type_errors.is_empty() {
            return Err(format!("tsc failed: {}", String::from_utf8_lossy(&output.stdout)));
        }
        Ok(())
    }

    /// Runs one sample with `variables` in its environment.
    pub fn run(
        &self,
        language: Language,
        operation_id: &str,
        source: &str,
        variables: &BTreeMap<String, String>,
    ) -> Outcome {
        if language == Language::TypeScript
            && let Some(errors) = self.type_errors.get(operation_id)
        {
            return Outcome {
                success: false,
                status: "tsc errors".into(),
                stdout: String::new(),
                stderr: errors.clone(),
            };
        }
        let mut command = Command::new("timeout");
        command.arg(TIMEOUT_SECONDS);
        match language {
            Language::Curl | Language::Cli => {
                command.args(["bash", "-e", "-o", "pipefail", "-c", source]);
            }
            Language::Python => {
                let file = self.python_dir.join(format!("{operation_id}.py"));
                if let Err(error) = fs::write(&file, source) {
                    return failed_to_start(format!("cannot write {}: {error}", file.display()));
                }
                command.arg(self.venv.join("bin/python")).arg(file);
            }
            Language::TypeScript => {
                command.arg("node").arg(self.typescript_dir.join("build").join(format!("{operation_id}.js")));
            }
            Language::Rust => {
                command.arg(self.debug_dir.join("appdeck-samples")).arg(operation_id);
            }
        }
        let path = std::env::var("PATH").unwrap_or_default();
        command.env("PATH", format!("{}:{path}", self.debug_dir.display())).envs(variables).stdin(Stdio::null());
        execute(command)
    }
}

/// Runs `command` to its end and keeps what it printed.
pub fn execute(mut command: Command) -> Outcome {
    match command.output() {
        Ok(output) => Outcome {
            success: output.status.success(),
            status: output.status.to_string(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        },
        Err(error) => failed_to_start(format!("cannot start: {error}")),
    }
}

fn failed_to_start(reason: String) -> Outcome {
    Outcome { success: false, status: reason, stdout: String::new(), stderr: String::new() }
}

/// The wheel and the npm package of `cargo xtask sdk`, built here from the
/// spec as it is, so the samples never run against a stale SDK.
fn build_sdk(root: &Path) -> Result<(PathBuf, PathBuf), String> {
    crate::sdk::run().map_err(|error| format!("cargo xtask sdk failed: {error}"))?;
    let spec = crate::spec::load_spec()?;
    let version = spec["info"]["version"].as_str().ok_or("openapi.yaml has no info.version")?;
    let sdk = root.join("target").join("sdk");
    Ok((sdk.join(format!("appdeck_sdk-{version}-py3-none-any.whl")), sdk.join(format!("appdeck-sdk-{version}.tgz"))))
}
