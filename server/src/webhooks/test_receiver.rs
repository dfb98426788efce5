//! For tests: a webhook receiver on loopback that records what it gets and
//! answers as scripted.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

/// One scripted answer.
#[derive(Clone, Copy, Debug)]
pub enum Reply {
    Status(u16),
    /// A 302 to another path of this receiver, which must not be followed.
    Redirect,
    /// No answer until long after any timeout.
    Hang,
    /// 200, after a pause.
    SlowOk(Duration),
}

/// A request as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Default)]
struct Recorded {
    script: Mutex<VecDeque<Reply>>,
    received: Mutex<Vec<Received>>,
    in_flight: Mutex<Vec<String>>,
    overlapped: Mutex<bool>,
}

pub struct TestReceiver {
    address: SocketAddr,
    recorded: Arc<Recorded>,
}

impl TestReceiver {
    /// Listens on 127.0.0.1; answers `script` in order, then 200.
    pub async fn start(script: impl IntoIterator<Item = Reply>) -> Self {
        let recorded = Arc::new(Recorded { script: Mutex::new(script.into_iter().collect()), ..Default::default() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = Router::new().fallback(receive).with_state(recorded.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { address, recorded }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hooks/appdeck", self.address)
    }

    pub fn received(&self) -> Vec<Received> {
        self.recorded.received.lock().unwrap().clone()
    }

    /// Whether two requests with one `webhook-id` were ever in flight at once.
    pub fn saw_one_delivery_twice_at_once(&self) -> bool {
        *self.recorded.overlapped.lock().unwrap()
    }
}

async fn receive(
    State(recorded): State<Arc<Recorded>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = headers.get("webhook-id").and_then(|id| id.to_str().ok()).unwrap_or_default().to_owned();
    let _in_flight = InFlight::enter(recorded.clone(), id);
    recorded.received.lock().unwrap().push(Received { path: uri.path().to_owned(), headers, body });
    let reply = recorded.script.lock().unwrap().pop_front().unwrap_or(Reply::Status(200));
    match reply {
        Reply::Status(status) => StatusCode::from_u16(status).unwrap().into_response(),
        Reply::Redirect => (StatusCode::FOUND, [(header::LOCATION, "/redirected")]).into_response(),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            StatusCode::OK.into_response()
        }
        Reply::SlowOk(pause) => {
            tokio::time::sleep(pause).await;
            StatusCode::OK.into_response()
        }
    }
}

/// A request in flight, until its handler ends or is dropped (when the
/// sender gives up on it).
struct InFlight {
    recorded: Arc<Recorded>,
    id: String,
}

impl InFlight {
    fn enter(recorded: Arc<Recorded>, id: String) -> Self {
        let mut in_flight = recorded.in_flight.lock().unwrap();
        if in_flight.contains(&id) {
            *recorded.overlapped.lock().unwrap() = true;
        }
        in_flight.push(id.clone());
        drop(in_flight);
        Self { recorded, id }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut in_flight = self.recorded.in_flight.lock().unwrap();
        if let Some(position) = in_flight.iter().position(|other| *other == self.id) {
            in_flight.remove(position);
        }
    }
}
