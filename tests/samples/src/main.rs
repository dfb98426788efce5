//! `appdeck-samples OPERATION_ID`: runs that operation's Rust sample from
//! `openapi.yaml` (see `build.rs`), with the URL, token and ids the sample
//! reads from the environment. `cargo xtask samples` runs each in turn.

mod samples {
    include!(concat!(env!("OUT_DIR"), "/samples.rs"));
}

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let Some(operation_id) = std::env::args().nth(1) else {
        eprintln!("usage: appdeck-samples OPERATION_ID");
        return ExitCode::from(2);
    };
    match samples::run(&operation_id).await {
        Some(Ok(())) => ExitCode::SUCCESS,
        Some(Err(error)) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
        None => {
            eprintln!("no operation `{operation_id}` has a Rust sample in openapi.yaml");
            ExitCode::from(2)
        }
    }
}
