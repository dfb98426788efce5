//! Sends deliveries signed by appdeck's own code to a receiver, for
//! `tests/webhooks/run.sh`, where the receiver checks them with the Python
//! Standard Webhooks library.
//!
//!     send_signed_deliveries RECEIVER_URL SECRET
//!
//! Three payloads to `RECEIVER_URL/signed`, which must be delivered, and one
//! to `RECEIVER_URL/wrong-secret`, where the receiver holds another secret
//! and must refuse it. Exits 1 when either does not happen.

use std::process::ExitCode;

use appdeck_server::webhooks::{queue::DueDelivery, sender::Sender};
use chrono::Utc;
use uuid::Uuid;

const PAYLOADS: [&str; 3] = [
    r#"{"type":"app.created","data":{"name":"Storefront"}}"#,
    r#"{"type":"app.updated","data":{"name":"Café ☕ — 日本","changed":["name"]}}"#,
    r#"{"type":"token.rolled","data":{"label":"ci \"main\"\nline two","masked":"apps_AbCd…wXyZ"}}"#,
];

#[tokio::main]
async fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [receiver_url, secret] = arguments.as_slice() else {
        eprintln!("usage: send_signed_deliveries RECEIVER_URL SECRET");
        return ExitCode::from(2);
    };
    let sender = Sender::new("127.0.0.1".parse().expect("a valid allowed host")).expect("an HTTP client");
    let delivery = |path: &str, payload: &str| DueDelivery {
        id: Uuid::now_v7(),
        event_id: Uuid::now_v7(),
        endpoint_id: Uuid::now_v7(),
        organization_id: Uuid::now_v7(),
        url: format!("{receiver_url}{path}"),
        signing_secret: Ok(secret.clone()),
        payload: payload.to_owned(),
        attempts: 0,
        created_at: Utc::now(),
    };
    let mut as_expected = true;
    for payload in PAYLOADS {
        let outcome = sender.send(&delivery("/signed", payload), Utc::now()).await;
        println!("/signed: {outcome:?}");
        as_expected &= outcome.delivered();
    }
    let outcome = sender.send(&delivery("/wrong-secret", PAYLOADS[0]), Utc::now()).await;
    println!("/wrong-secret: {outcome:?}");
    as_expected &= outcome.status_code == Some(400);
    if as_expected { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
