//! The ceiling `cargo xtask bench` measures appdeck against: a bare axum
//! handler that answers `GET /v1/apps/{id}` with a fixed JSON body held in
//! memory. No auth, no rate limit, no database, no serialisation: what is
//! left is the cost of HTTP and the runtime on this machine.
//!
//! Usage: `bench-ceiling BODY_FILE`. It listens on 127.0.0.1:0 and prints
//! `listening on ADDRESS` on stdout once it accepts connections.

use std::io::Write;

use axum::{Router, http::header, routing::get};

// The same runtime flavour as `appdeck-server` (`#[tokio::main]`, one worker
// per core), so the two differ only in what their handlers do.
#[tokio::main]
async fn main() {
    let path = std::env::args().nth(1).expect("usage: bench-ceiling BODY_FILE");
    let body = std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    // `Bytes` clones are reference counts: each response shares the one buffer.
    let body = axum::body::Bytes::from(body);
    let router = Router::new().route(
        "/v1/apps/{id}",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("a bound address");
    println!("listening on {address}");
    std::io::stdout().flush().expect("flush stdout");
    axum::serve(listener, router).await.expect("serve");
}
