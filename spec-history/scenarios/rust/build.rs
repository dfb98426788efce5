//! Generates the client of one released spec with progenitor, as
//! `client/build.rs` does for `openapi.yaml`. `cargo xtask compat` names the
//! release in `APPDECK_COMPAT_SPEC`; without it (a workspace build, clippy)
//! the oldest release is used, the one the scenario is written against.

use std::{
    env, fs,
    path::{Path, PathBuf},
};

fn main() {
    println!("cargo:rerun-if-env-changed=APPDECK_COMPAT_SPEC");
    let spec_path = match env::var_os("APPDECK_COMPAT_SPEC") {
        Some(path) => PathBuf::from(path),
        None => oldest_release(),
    };
    println!("cargo:rerun-if-changed={}", spec_path.display());
    let spec_text =
        fs::read_to_string(&spec_path).unwrap_or_else(|error| panic!("read {}: {error}", spec_path.display()));
    let spec: openapiv3::OpenAPI = yaml_serde::from_str(&spec_text)
        .unwrap_or_else(|error| panic!("{} is not a valid OpenAPI 3.0 document: {error}", spec_path.display()));
    let tokens = progenitor::Generator::default()
        .generate_tokens(&spec)
        .unwrap_or_else(|error| panic!("progenitor cannot generate a client from {}: {error}", spec_path.display()));
    let syntax_tree: syn::File = syn::parse2(tokens).expect("progenitor's client parses as Rust");
    let out_file = Path::new(&env::var("OUT_DIR").expect("OUT_DIR is set by cargo")).join("codegen.rs");
    fs::write(out_file, prettyplease::unparse(&syntax_tree)).expect("write the generated client");
}

/// `spec-history/openapi-X.Y.Z.yaml` with the lowest version.
fn oldest_release() -> PathBuf {
    let history = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    println!("cargo:rerun-if-changed={}", history.display());
    let mut releases: Vec<(Vec<u64>, PathBuf)> = fs::read_dir(&history)
        .expect("read spec-history/")
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix("openapi-")?.strip_suffix(".yaml")?.to_owned();
            let numbers = version.split('.').map(str::parse).collect::<Result<Vec<u64>, _>>().ok()?;
            Some((numbers, entry.path()))
        })
        .collect();
    releases.sort();
    releases.into_iter().next().expect("spec-history/ holds a released spec").1
}
