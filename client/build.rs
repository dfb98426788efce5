//! Generates the client from `openapi.yaml` with progenitor, so the client
//! can never drift from the reviewed spec; with the `mock` feature, also
//! progenitor's typed httpmock mocks of every operation, and with `cli`, its
//! clap commands for every operation (used by the `appdeck` binary).

use std::{env, fs, path::Path};

fn main() {
    // A link to the workspace's ../openapi.yaml, which `cargo package` packs
    // as the file itself, so the packaged crate builds on its own.
    let spec_path = "openapi.yaml";
    println!("cargo:rerun-if-changed={spec_path}");
    let spec_text = fs::read_to_string(spec_path).expect("read openapi.yaml");
    let spec: openapiv3::OpenAPI =
        yaml_serde::from_str(&spec_text).expect("openapi.yaml is not a valid OpenAPI 3.0 document");
    let mut generator = progenitor::Generator::default();
    let tokens = generator
        .generate_tokens(&spec)
        .unwrap_or_else(|error| panic!("progenitor cannot generate a client from openapi.yaml: {error}"));
    write_generated("codegen.rs", syn::parse2(tokens).expect("progenitor's client parses as Rust"));
    if env::var_os("CARGO_FEATURE_MOCK").is_some() {
        let mocks = generator
            .httpmock(&spec, "crate")
            .unwrap_or_else(|error| panic!("progenitor cannot generate mocks from openapi.yaml: {error}"));
        write_generated("mock.rs", syn::parse2(mocks).expect("progenitor's mocks parse as Rust"));
    }
    if env::var_os("CARGO_FEATURE_CLI").is_some() {
        generate_cli(&spec);
    }
}

/// progenitor's CLI is written against a builder-style client whose types
/// derive `JsonSchema`: generated beside the positional one, for the CLI alone.
fn generate_cli(spec: &openapiv3::OpenAPI) {
    let mut settings = progenitor::GenerationSettings::default();
    settings.with_interface(progenitor::InterfaceStyle::Builder).with_derive("schemars::JsonSchema");
    let mut generator = progenitor::Generator::new(&settings);
    let client = generator
        .generate_tokens(spec)
        .unwrap_or_else(|error| panic!("progenitor cannot generate the CLI's client: {error}"));
    write_generated("cli_client.rs", syn::parse2(client).expect("progenitor's client parses as Rust"));
    let commands = generator
        .cli(spec, "self::sdk")
        .unwrap_or_else(|error| panic!("progenitor cannot generate a CLI from openapi.yaml: {error}"));
    write_generated("cli.rs", syn::parse2(commands).expect("progenitor's CLI parses as Rust"));
}

fn write_generated(file_name: &str, syntax_tree: syn::File) {
    let out_file = Path::new(&env::var("OUT_DIR").expect("OUT_DIR is set by cargo")).join(file_name);
    fs::write(out_file, prettyplease::unparse(&syntax_tree)).expect("write the generated code");
}
