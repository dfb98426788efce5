//! Generates the client from `../openapi.yaml` with progenitor, so the client
//! can never drift from the reviewed spec.

use std::{env, fs, path::Path};

fn main() {
    let spec_path = "../openapi.yaml";
    println!("cargo:rerun-if-changed={spec_path}");
    let spec_text = fs::read_to_string(spec_path).expect("read ../openapi.yaml");
    let spec: openapiv3::OpenAPI =
        yaml_serde::from_str(&spec_text).expect("openapi.yaml is not a valid OpenAPI 3.0 document");
    let mut generator = progenitor::Generator::default();
    let tokens = generator
        .generate_tokens(&spec)
        .unwrap_or_else(|error| panic!("progenitor cannot generate a client from openapi.yaml: {error}"));
    let syntax_tree = syn::parse2(tokens).expect("progenitor output parses as Rust");
    let out_file = Path::new(&env::var("OUT_DIR").expect("OUT_DIR is set by cargo")).join("codegen.rs");
    fs::write(out_file, prettyplease::unparse(&syntax_tree)).expect("write the generated client");
}
