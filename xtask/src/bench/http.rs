//! A minimal HTTP/1.1 client over `std::net`, for the few setup requests the
//! bench makes itself (creating the template app, walking pages). The load
//! is driven by wrk; this only has to be correct, not fast, so it opens one
//! connection per request and reads until the server closes it.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Response {
    /// The body as JSON, or an error naming the request when the status is
    /// not the expected one.
    pub fn json(self, expected_status: u16, what: &str) -> Result<serde_json::Value, String> {
        if self.status != expected_status {
            return Err(format!("{what}: expected HTTP {expected_status}, got {}: {}", self.status, self.body));
        }
        serde_json::from_str(&self.body).map_err(|error| format!("{what}: the body is not JSON: {error}"))
    }
}

/// Sends one request with the token as `X-API-Key` and a JSON body, if any.
pub fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Result<Response, String> {
    let failed = |error: std::io::Error| format!("{method} {path}: {error}");
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).map_err(failed)?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(failed)?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("X-API-Key: {token}\r\n"));
    }
    let body = body.unwrap_or_default();
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).map_err(failed)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(failed)?;
    let raw = String::from_utf8(raw).map_err(|_| format!("{method} {path}: the response is not UTF-8"))?;
    let (head, body) = raw.split_once("\r\n\r\n").ok_or_else(|| format!("{method} {path}: no header end"))?;
    // Axum sends `Content-Length` for JSON bodies; a chunked body would need decoding.
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        return Err(format!("{method} {path}: chunked responses are not supported here"));
    }
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| format!("{method} {path}: no status line"))?;
    Ok(Response { status, body: body.to_owned() })
}
