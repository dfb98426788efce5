//! Rust client for the appdeck App Management API, generated from `openapi.yaml`.

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
