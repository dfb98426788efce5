//! One delivery attempt: a signed `POST` of the stored payload to the
//! endpoint's URL, through the SSRF guard, within a total timeout, never
//! following a redirect.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use reqwest::{Client, redirect};

use super::{
    allowed_hosts::AllowedHosts,
    queue::DueDelivery,
    signature::SigningKey,
    ssrf_guard::{self, GuardedResolver, Refused},
};

/// Longest an attempt may take, from the first byte sent to the last one
/// read; past it the attempt fails and is retried on the schedule.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Most of a receiver's answer read: enough to see it was answered, not
/// enough for a receiver to make the worker hold its body.
const RESPONSE_BYTES_READ: usize = 4 * 1024;

const USER_AGENT: &str = concat!("appdeck-webhooks/", env!("CARGO_PKG_VERSION"));

/// How an attempt went: a 2xx delivers, anything else fails with a short
/// error that names no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status_code: Option<u16>,
    pub latency: Duration,
    pub error: Option<String>,
}

impl Outcome {
    pub fn delivered(&self) -> bool {
        self.error.is_none()
    }
}

/// Sends deliveries; one per server, its connections shared by all of them.
#[derive(Clone)]
pub struct Sender {
    client: Client,
    allowed: Arc<AllowedHosts>,
    timeout: Duration,
}

impl Sender {
    /// A sender with the shipped timeout, `DELIVERY_TIMEOUT`.
    pub fn new(allowed: AllowedHosts) -> anyhow::Result<Self> {
        Self::with_timeout(allowed, DELIVERY_TIMEOUT)
    }

    /// A sender whose attempts give up after `timeout` (tests shorten it).
    pub fn with_timeout(allowed: AllowedHosts, timeout: Duration) -> anyhow::Result<Self> {
        let allowed = Arc::new(allowed);
        let client = Client::builder()
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .redirect(redirect::Policy::none())
            // A proxy would do the lookup the guard checks, out of its sight.
            .no_proxy()
            .dns_resolver(GuardedResolver::new(allowed.clone()))
            .build()?;
        Ok(Self { client, allowed, timeout })
    }

    /// The longest an attempt takes.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Makes one attempt at `now`, the `webhook-timestamp` it is signed with.
    pub async fn send(&self, delivery: &DueDelivery, now: DateTime<Utc>) -> Outcome {
        let started = tokio::time::Instant::now();
        let result = self.attempt(delivery, now).await;
        let latency = started.elapsed();
        match result {
            Ok(status) if (200..300).contains(&status) => Outcome { status_code: Some(status), latency, error: None },
            Ok(status) => Outcome { status_code: Some(status), latency, error: Some(status_error(status)) },
            Err(error) => Outcome { status_code: None, latency, error: Some(error) },
        }
    }

    async fn attempt(&self, delivery: &DueDelivery, now: DateTime<Utc>) -> Result<u16, String> {
        let secret = delivery.signing_secret.as_ref().map_err(|reason| format!("not signed: {reason}"))?;
        let key = SigningKey::from_secret(secret).map_err(|reason| format!("not signed: {reason}"))?;
        let url: reqwest::Url = delivery.url.parse().map_err(|_| "the endpoint URL is not a valid URL".to_owned())?;
        ssrf_guard::check_url_host(&self.allowed, &url).map_err(|refused| refused.to_string())?;
        let body = delivery.payload.as_bytes();
        let mut request =
            self.client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_vec());
        for (name, value) in key.headers(&delivery.event_id.to_string(), now.timestamp(), body) {
            request = request.header(name, value);
        }
        let mut response = request.send().await.map_err(|error| self.describe(&error))?;
        let status = response.status().as_u16();
        let mut read = 0;
        while read < RESPONSE_BYTES_READ {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                // The status is what counts; a body cut short does not undo it.
                Ok(None) | Err(_) => break,
            }
        }
        Ok(status)
    }

    /// A short, secret-free account of a failed request: the guard's refusal,
    /// a timeout, or the innermost cause (never the URL, whose query may
    /// hold a receiver's token).
    fn describe(&self, error: &reqwest::Error) -> String {
        if let Some(refused) = Refused::in_chain(error) {
            return refused.to_string();
        }
        if error.is_timeout() {
            return format!("no answer within {} s", self.timeout.as_secs_f64());
        }
        let mut cause: &dyn std::error::Error = error;
        while let Some(source) = cause.source() {
            cause = source;
        }
        let what = if error.is_connect() { "could not connect" } else { "the request failed" };
        format!("{what}: {cause}")
    }
}

fn status_error(status: u16) -> String {
    if (300..400).contains(&status) {
        format!("the receiver answered {status}; redirects are not followed")
    } else {
        format!("the receiver answered {status}")
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;
    use crate::webhooks::test_receiver::{Reply, TestReceiver};

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn delivery_to(url: &str) -> DueDelivery {
        DueDelivery {
            id: Uuid::now_v7(),
            event_id: Uuid::now_v7(),
            endpoint_id: Uuid::now_v7(),
            organization_id: Uuid::now_v7(),
            url: url.to_owned(),
            signing_secret: Ok(SECRET.to_owned()),
            payload: r#"{"type":"app.created","data":{"id":"x"}}"#.to_owned(),
            attempts: 0,
            created_at: Utc::now(),
        }
    }

    fn loopback_sender() -> Sender {
        Sender::with_timeout("127.0.0.0/8".parse().unwrap(), Duration::from_millis(300)).unwrap()
    }

    #[tokio::test]
    async fn a_2xx_delivers_the_payload_signed_with_the_three_headers() {
        let receiver = TestReceiver::start([Reply::Status(204)]).await;
        let delivery = delivery_to(&receiver.url());
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();

        let outcome = loopback_sender().send(&delivery, now).await;

        assert_eq!((outcome.status_code, outcome.error), (Some(204), None));
        let [received] = receiver.received().try_into().unwrap();
        assert_eq!(received.body, delivery.payload.as_bytes());
        let header = |name: &str| received.headers.get(name).unwrap().to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), "application/json");
        assert!(header("user-agent").starts_with("appdeck-webhooks/"));
        assert_eq!(header("webhook-id"), delivery.event_id.to_string());
        assert_eq!(header("webhook-timestamp"), "1700000000");
        let expected = SigningKey::from_secret(SECRET).unwrap().sign(
            &delivery.event_id.to_string(),
            1_700_000_000,
            delivery.payload.as_bytes(),
        );
        assert_eq!(header("webhook-signature"), expected);
    }

    #[tokio::test]
    async fn a_redirect_is_a_failed_attempt_and_is_not_followed() {
        let receiver = TestReceiver::start([Reply::Redirect]).await;

        let outcome = loopback_sender().send(&delivery_to(&receiver.url()), Utc::now()).await;

        assert_eq!(outcome.status_code, Some(302));
        assert_eq!(outcome.error.as_deref(), Some("the receiver answered 302; redirects are not followed"));
        let paths: Vec<String> = receiver.received().into_iter().map(|received| received.path).collect();
        assert_eq!(paths, ["/hooks/appdeck"], "the redirect's target was never asked");
    }

    #[tokio::test]
    async fn an_error_status_fails_with_that_status() {
        let receiver = TestReceiver::start([Reply::Status(500)]).await;
        let outcome = loopback_sender().send(&delivery_to(&receiver.url()), Utc::now()).await;
        assert_eq!((outcome.status_code, outcome.error.as_deref()), (Some(500), Some("the receiver answered 500")));
    }

    #[tokio::test]
    async fn a_receiver_that_does_not_answer_times_out() {
        let receiver = TestReceiver::start([Reply::Hang]).await;

        let outcome = loopback_sender().send(&delivery_to(&receiver.url()), Utc::now()).await;

        assert_eq!((outcome.status_code, outcome.error.as_deref()), (None, Some("no answer within 0.3 s")));
        assert!(outcome.latency < Duration::from_secs(5), "{:?}", outcome.latency);
    }

    /// A receiver that streams an endless answer must not hold the attempt,
    /// or the worker's slot, until the timeout: past the first 4 KiB the
    /// status alone counts.
    #[tokio::test]
    async fn an_endless_answer_is_read_only_up_to_4_kib() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let (answered, mut held_open) = tokio::sync::mpsc::channel::<tokio::net::TcpStream>(1);
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = vec![0; 64 * 1024];
            let _ = stream.read(&mut request).await.unwrap();
            let head = b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n";
            stream.write_all(head).await.unwrap();
            stream.write_all(&[b'x'; RESPONSE_BYTES_READ]).await.unwrap();
            // The rest never comes; the stream stays open until the test ends.
            answered.send(stream).await.unwrap();
        });
        let sender = Sender::with_timeout("127.0.0.0/8".parse().unwrap(), Duration::from_secs(5)).unwrap();

        let outcome = sender.send(&delivery_to(&url), Utc::now()).await;

        assert_eq!((outcome.status_code, outcome.error), (Some(200), None));
        assert!(outcome.latency < Duration::from_millis(2500), "waited for more of the answer: {:?}", outcome.latency);
        drop(held_open.recv().await);
    }

    #[tokio::test]
    async fn an_internal_target_is_refused_unless_allowed_and_never_contacted() {
        let receiver = TestReceiver::start([]).await;
        let by_name = receiver.url().replace("127.0.0.1", "localhost");
        let sender = Sender::with_timeout(AllowedHosts::default(), Duration::from_millis(300)).unwrap();

        let literal = sender.send(&delivery_to(&receiver.url()), Utc::now()).await;
        let resolved = sender.send(&delivery_to(&by_name), Utc::now()).await;

        assert_eq!(literal.error.as_deref(), Some("refused: 127.0.0.1 is a loopback address"));
        let error = resolved.error.unwrap();
        assert!(error.starts_with("refused: ") && error.ends_with("is a loopback address"), "{error}");
        assert!(receiver.received().is_empty());
        let allowed = Sender::with_timeout("localhost".parse().unwrap(), Duration::from_millis(300)).unwrap();
        assert!(allowed.send(&delivery_to(&by_name), Utc::now()).await.delivered());
    }

    #[tokio::test]
    async fn a_secret_that_could_not_be_decrypted_fails_without_a_request() {
        let receiver = TestReceiver::start([]).await;
        let mut delivery = delivery_to(&receiver.url());
        delivery.signing_secret = Err("the server key has changed".to_owned());

        let outcome = loopback_sender().send(&delivery, Utc::now()).await;

        assert_eq!(outcome.error.as_deref(), Some("not signed: the server key has changed"));
        assert!(receiver.received().is_empty());
    }

    #[tokio::test]
    async fn a_closed_port_fails_to_connect_without_naming_the_url() {
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let url = format!("http://{closed}/hooks?token=receiver-secret");

        let outcome = loopback_sender().send(&delivery_to(&url), Utc::now()).await;

        let error = outcome.error.unwrap();
        assert!(error.starts_with("could not connect: "), "{error}");
        assert!(!error.contains("receiver-secret"), "{error}");
    }
}
