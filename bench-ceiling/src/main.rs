//! The ceiling `cargo xtask bench` measures appdeck against: bare axum
//! handlers that answer `GET /v1/apps/{id}` and `GET /v1/apps` with fixed
//! JSON bodies held in memory, the bytes appdeck itself answered for the same
//! app and the same page. No auth, no rate limit, no database, no
//! serialisation: what is left is the cost of HTTP and the runtime on this
//! machine, for a body of the same size.
//!
//! Usage: `bench-ceiling APP_BODY_FILE LIST_BODY_FILE`. It listens on
//! 127.0.0.1:0 and prints `listening on ADDRESS` on stdout once it accepts
//! connections.

use std::io::Write;

use axum::{
    Router,
    body::Bytes,
    http::header,
    routing::{MethodRouter, get},
};

// The same runtime flavour as `appdeck-server` (`#[tokio::main]`, one worker
// per core), so the two differ only in what their handlers do.
#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(app_path), Some(list_path)) = (args.next(), args.next()) else {
        panic!("usage: bench-ceiling APP_BODY_FILE LIST_BODY_FILE");
    };
    let router = Router::new()
        .route("/v1/apps/{id}", serve(read(&app_path)))
        // The query (`limit`, `cursor`) is ignored: the body is the page.
        .route("/v1/apps", serve(read(&list_path)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("a bound address");
    println!("listening on {address}");
    std::io::stdout().flush().expect("flush stdout");
    axum::serve(listener, router).await.expect("serve");
}

fn read(path: &str) -> Bytes {
    // `Bytes` clones are reference counts: each response shares the one buffer.
    Bytes::from(std::fs::read(path).unwrap_or_else(|error| panic!("cannot read {path}: {error}")))
}

fn serve(body: Bytes) -> MethodRouter {
    get(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], body) }
    })
}
