//! Hostile clients beside the load: tokens that do not exist, 2 MiB bodies,
//! and connections that send half a request and then trickle.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use reqwest::Method;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::{
    load::{Random, Target},
    verdict::{SlowHeaders, Source},
};

/// Unknown tokens sent from the load's own address in one burst at
/// `burst_at`: what clients behind the same proxy as an attacker see.
const SAME_ADDRESS_BURST: usize = 25;

/// Guesses tokens, ten a second, each well formed and unknown, from an
/// address of its own (`guesser`, bound to 127.0.0.2); and once, at
/// `burst_at`, [`SAME_ADDRESS_BURST`] guesses from the load's address.
pub async fn bad_tokens(target: Arc<Target>, guesser: reqwest::Client, burst_at: Duration, stop: Arc<AtomicBool>) {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut random = Random::new(1_000);
    let mut guess = move || {
        let guess: String = (0..38).map(|_| BASE62[random.below(BASE62.len())] as char).collect();
        format!("apps_{guess}")
    };
    let mut burst_done = false;
    while !stop.load(Ordering::Relaxed) {
        if !burst_done && target.recorder.since_start() >= burst_at {
            burst_done = true;
            for _ in 0..SAME_ADDRESS_BURST {
                let request = target.request(Method::GET, "/v1/apps", &guess());
                target.recorder.send(Source::BadToken, request).await;
            }
        }
        let request = guesser.get(format!("{}/v1/apps", target.base_url)).header("X-API-Key", guess());
        target.recorder.send(Source::BadToken, request).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Posts a 2 MiB body with a valid token, twice a second: twice the
/// default body limit.
pub async fn huge_bodies(target: Arc<Target>, stop: Arc<AtomicBool>) {
    let body = format!("{{\"name\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    while !stop.load(Ordering::Relaxed) {
        let request = target
            .request(Method::POST, "/v1/apps", &target.admin_token)
            .header("Content-Type", "application/json")
            .body(body.clone());
        target.recorder.send(Source::HugeBody, request).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Counters the slow clients share.
#[derive(Default)]
pub struct SlowCounters {
    opened: AtomicU64,
    closed_by_server: AtomicU64,
    /// Set by the soak while it restarts the server itself: connections
    /// dropped then were not closed by a timeout.
    pub server_restarting: AtomicBool,
}

impl SlowCounters {
    pub fn summary(&self, slots: usize) -> SlowHeaders {
        SlowHeaders {
            slots,
            opened: self.opened.load(Ordering::Relaxed),
            closed_by_server: self.closed_by_server.load(Ordering::Relaxed),
        }
    }
}

/// How often a slow client sends one more byte of its header.
const TRICKLE: Duration = Duration::from_secs(5);

/// Keeps one half-sent request open: the request line and a header, then
/// one byte every [`TRICKLE`], never the blank line that ends the head.
/// When the server closes it, counts that and opens another.
pub async fn slow_headers(address: SocketAddr, counters: Arc<SlowCounters>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = TcpStream::connect(address).await else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        counters.opened.fetch_add(1, Ordering::Relaxed);
        let mut open = stream.write_all(b"GET /v1/apps HTTP/1.1\r\nHost: soak\r\nX-Slow: ").await.is_ok();
        let mut buffer = [0; 1024];
        while open && !stop.load(Ordering::Relaxed) {
            tokio::select! {
                read = stream.read(&mut buffer) => {
                    // An answer (a 408, say) is followed by the close.
                    open = matches!(read, Ok(read) if read > 0);
                }
                () = tokio::time::sleep(TRICKLE) => {
                    open = stream.write_all(b"a").await.is_ok();
                }
            }
        }
        if !open && !counters.server_restarting.load(Ordering::Relaxed) {
            counters.closed_by_server.fetch_add(1, Ordering::Relaxed);
        }
        if !open {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
