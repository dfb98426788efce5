//! `cargo xtask sdk`: the npm package and the Python wheel built from
//! `openapi.yaml` (version `info.version`) into `target/sdk/`. Each is the
//! generated client plus the hand-written layer of `sdk/typescript` or
//! `sdk/python`, assembled in `target/sdk/build/` (generated code is never
//! committed); the layer's unit tests run there before anything is packed.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use serde_json::Value;

use super::spec;

pub fn run() -> Result<(), String> {
    let root = spec::workspace_root();
    let spec = spec::load_spec()?;
    let version = spec["info"]["version"].as_str().ok_or("openapi.yaml has no info.version")?;
    let output = root.join("target").join("sdk");
    fs::create_dir_all(&output).map_err(|error| format!("cannot make {}: {error}", output.display()))?;
    let started = Instant::now();
    let package = typescript(&root, &spec, version, &output)?;
    println!("sdk: {} ({} s)", package.display(), started.elapsed().as_secs());
    let started = Instant::now();
    let wheel = python(&root, version, &output)?;
    println!("sdk: {} ({} s)", wheel.display(), started.elapsed().as_secs());
    Ok(())
}

/// `appdeck-sdk-VERSION.tgz`: openapi-typescript's types, the layer, compiled to ESM with `.d.ts`.
fn typescript(root: &Path, spec: &Value, version: &str, output: &Path) -> Result<PathBuf, String> {
    let sources = root.join("sdk").join("typescript");
    let build = output.join("build").join("typescript");
    for stale in ["src", "test", "dist", "dist-test"] {
        remove(&build.join(stale))?;
    }
    for file in ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.test.json"] {
        copy(&sources.join(file), &build.join(file))?;
    }
    copy_tree(&sources.join("src"), &build.join("src"))?;
    copy_tree(&sources.join("test"), &build.join("test"))?;
    // node_modules stays between builds; `npm ci` makes it match the lock again.
    run_step(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&build))?;
    let tools = build.join("node_modules").join(".bin");
    run_step(
        Command::new(tools.join("openapi-typescript"))
            .arg(root.join("openapi.yaml"))
            .args(["--output", "src/generated/schema.ts", "--silent"])
            .current_dir(&build),
    )?;
    write(&build.join("src/generated/operations.ts"), &operations_module(spec)?)?;
    run_step(Command::new(tools.join("tsc")).args(["-p", "tsconfig.json"]).current_dir(&build))?;
    run_step(Command::new(tools.join("tsc")).args(["-p", "tsconfig.test.json"]).current_dir(&build))?;
    run_step(Command::new("node").args(["--test", "--test-reporter=spec", "dist-test/"]).current_dir(&build))?;

    run_step(Command::new("npm").args(["pkg", "set", &format!("version={version}")]).current_dir(&build))?;
    let package = output.join(format!("appdeck-sdk-{version}.tgz"));
    remove(&package)?;
    run_step(Command::new("npm").args(["pack", "--silent", "--pack-destination"]).arg(output).current_dir(&build))?;
    exists(package)
}

/// `appdeck_sdk-VERSION-py3-none-any.whl`: openapi-python-client's `appdeck_api` and the layer `appdeck`.
fn python(root: &Path, version: &str, output: &Path) -> Result<PathBuf, String> {
    let sources = root.join("sdk").join("python");
    let venv = output.join("venv");
    let bin = venv.join("bin");
    if !bin.join("python").exists() {
        run_step(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    run_step(Command::new(bin.join("pip")).args(["install", "-q", "-r"]).arg(sources.join("requirements.txt")))?;

    let build = output.join("build").join("python");
    remove(&build)?;
    copy(&sources.join("pyproject.toml"), &build.join("pyproject.toml"))?;
    copy_tree(&sources.join("appdeck"), &build.join("appdeck"))?;
    copy_tree(&sources.join("tests"), &build.join("tests"))?;
    write(&build.join("appdeck/_version.py"), &format!("__version__ = \"{version}\"\n"))?;
    // The generator formats its output with ruff, which it finds on PATH.
    let path = std::env::join_paths(
        std::iter::once(bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .map_err(|error| error.to_string())?;
    run_step(
        Command::new(bin.join("openapi-python-client"))
            .args(["generate", "--meta", "none", "--fail-on-warning", "--path"])
            .arg(root.join("openapi.yaml"))
            .arg("--config")
            .arg(sources.join("openapi-python-client.yaml"))
            .arg("--output-path")
            .arg(build.join("appdeck_api"))
            .env("PATH", path),
    )?;
    run_step(
        Command::new(bin.join("python")).args(["-m", "unittest", "discover", "-q", "-s", "tests"]).current_dir(&build),
    )?;

    let wheel = output.join(format!("appdeck_sdk-{version}-py3-none-any.whl"));
    remove(&wheel)?;
    run_step(
        Command::new(bin.join("hatchling"))
            .args(["build", "--target", "wheel", "--directory"])
            .arg(output)
            .current_dir(&build),
    )?;
    exists(wheel)
}

/// The TypeScript layer's list of creates: every POST that takes an
/// `Idempotency-Key` header, read from the spec so a new create gets keys
/// without a change to the layer. (Python's layer asks the generated function.)
fn operations_module(spec: &Value) -> Result<String, String> {
    let paths = idempotent_creates(spec)?;
    let quoted: Vec<String> = paths.iter().map(|path| format!("\"{path}\"")).collect();
    Ok(format!(
        "// Written by `cargo xtask sdk` from openapi.yaml: the POST paths that take an `Idempotency-Key` header.\n\
         export const idempotentCreates: ReadonlySet<string> = new Set([{}]);\n",
        quoted.join(", ")
    ))
}

fn idempotent_creates(spec: &Value) -> Result<Vec<String>, String> {
    let paths = spec["paths"].as_object().ok_or("openapi.yaml has no paths")?;
    let mut creates = Vec::new();
    for (path, item) in paths {
        let Some(parameters) = item["post"]["parameters"].as_array() else { continue };
        let takes_key = parameters.iter().any(|parameter| {
            let parameter = resolve(spec, parameter);
            parameter["in"] == "header"
                && parameter["name"].as_str().is_some_and(|name| name.eq_ignore_ascii_case("Idempotency-Key"))
        });
        if takes_key {
            creates.push(path.clone());
        }
    }
    creates.sort();
    Ok(creates)
}

/// A parameter, or the component its `$ref` names.
fn resolve<'a>(spec: &'a Value, parameter: &'a Value) -> &'a Value {
    match parameter["$ref"].as_str().and_then(|reference| reference.strip_prefix("#/")) {
        Some(pointer) => spec.pointer(&format!("/{pointer}")).unwrap_or(parameter),
        None => parameter,
    }
}

fn run_step(command: &mut Command) -> Result<(), String> {
    let status = command.status().map_err(|error| format!("cannot run {:?}: {error}", command.get_program()))?;
    if status.success() { Ok(()) } else { Err(format!("sdk: {command:?} failed ({status})")) }
}

fn exists(path: PathBuf) -> Result<PathBuf, String> {
    if path.is_file() { Ok(path) } else { Err(format!("sdk: {} was not written", path.display())) }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|error| format!("cannot make {}: {error}", parent.display()))?;
    }
    fs::write(path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))
}

fn remove(path: &Path) -> Result<(), String> {
    let result = if path.is_dir() { fs::remove_dir_all(path) } else { fs::remove_file(path) };
    match result {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {error}", path.display()))
        }
        _ => Ok(()),
    }
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|error| format!("cannot make {}: {error}", parent.display()))?;
    }
    fs::copy(from, to).map(drop).map_err(|error| format!("cannot copy {}: {error}", from.display()))
}

/// The files of a source directory; build outputs (`node_modules`, `__pycache__`) are left behind.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let entries = fs::read_dir(from).map_err(|error| format!("cannot read {}: {error}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|error| error.to_string())?;
        let name = entry.file_name();
        if name == "node_modules" || name == "__pycache__" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() { copy_tree(&path, &to.join(&name))? } else { copy(&path, &to.join(&name))? }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_creates_are_the_posts_taking_an_idempotency_key() {
        let spec = spec::load_spec().expect("openapi.yaml parses");
        assert_eq!(idempotent_creates(&spec).unwrap(), ["/v1/api-tokens", "/v1/apps", "/v1/webhook-endpoints"]);
    }

    #[test]
    fn a_key_given_inline_counts_and_another_header_does_not() {
        let spec = serde_json::json!({"paths": {
            "/a": {"post": {"parameters": [{"name": "idempotency-key", "in": "header"}]}},
            "/b": {"post": {"parameters": [{"name": "Idempotency-Key", "in": "query"}]}},
            "/c": {"get": {"parameters": [{"name": "Idempotency-Key", "in": "header"}]}},
        }});
        assert_eq!(idempotent_creates(&spec).unwrap(), ["/a"]);
    }
}
