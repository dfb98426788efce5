//! `cargo xtask`: project automation.

use std::{fs, path::PathBuf, process::ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["spec", "generate"] => {
            let document = appdeck_server::api::openapi();
            let path = workspace_root().join("target").join("openapi.derived.json");
            fs::create_dir_all(path.parent().expect("target dir")).expect("create target/");
            fs::write(&path, document.to_pretty_json().expect("serialize")).expect("write");
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: cargo xtask spec generate");
            ExitCode::from(2)
        }
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}
