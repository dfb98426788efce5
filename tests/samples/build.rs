//! Reads the Rust `x-codeSamples` of every operation in `../../openapi.yaml`
//! and writes one `async fn` per operation whose body is the sample as the
//! reference shows it, plus `run`, which calls one by operationId: the
//! samples compile together, once, and cannot drift from the spec.

use std::{env, fmt::Write as _, fs, path::Path};

use serde_json::Value;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn main() {
    let spec_path = "../../openapi.yaml";
    println!("cargo:rerun-if-changed={spec_path}");
    let spec: Value =
        yaml_serde::from_str(&fs::read_to_string(spec_path).expect("read openapi.yaml")).expect("openapi.yaml is YAML");
    let mut functions = String::new();
    let mut arms = String::new();
    for item in spec["paths"].as_object().expect("openapi.yaml has paths").values() {
        for operation in METHODS.iter().filter_map(|method| item.get(*method)) {
            let Some(id) = operation["operationId"].as_str() else { continue };
            let samples = operation["x-codeSamples"].as_array().into_iter().flatten();
            // `spec lint` requires one Rust sample; the operation is simply unknown here without one.
            let Some(source) =
                samples.filter(|sample| sample["label"] == "Rust").find_map(|sample| sample["source"].as_str())
            else {
                continue;
            };
            writeln!(functions, "async fn {id}() -> Result<(), Box<dyn std::error::Error>> {{\n{source}\nOk(())\n}}\n")
                .expect("writing to a String");
            writeln!(arms, "        {id:?} => Some({id}().await),").expect("writing to a String");
        }
    }
    let code = format!(
        "{functions}\n/// Runs the sample of `operation_id`; `None` when no operation has that id.\n\
         pub async fn run(operation_id: &str) -> Option<Result<(), Box<dyn std::error::Error>>> {{\n    \
         match operation_id {{\n{arms}        _ => None,\n    }}\n}}\n"
    );
    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR is set by cargo")).join("samples.rs");
    fs::write(out, code).expect("write the samples");
}
