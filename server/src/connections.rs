//! Serving connections: a small HTTP/1 accept loop over hyper, in place of
//! `axum::serve`, which sets no timer (so no header-read timeout), caps
//! nothing, and waits for every connection when it drains.
//!
//! - A client has `header_read_timeout` to send a request's headers, on a
//!   new connection or between requests (hyper's own timer).
//! - A connection idle for `keep_alive_timeout` after an answer is closed.
//! - At most `max_connections` are open. Past it, the loop stops accepting:
//!   new connections wait in the kernel's listen queue, costing this process
//!   no file descriptor, until one closes. Closing them instead would refuse
//!   a legitimate client as readily as a slow one, and the timeouts above
//!   free the slots that slow clients hold.
//! - On shutdown the listener closes; a connection answering a request
//!   finishes that answer, and every other connection (idle, or part-way
//!   through sending a request) is closed at once. What is still open after
//!   `drain_timeout` is closed too.

use std::{
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::ConnectInfo,
    http::Request,
};
use hyper::{
    body::{Frame, Incoming, SizeHint},
    server::conn::http1,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
    task::JoinSet,
};
use tower::ServiceExt;

/// The limits on connections, from `Config`.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionSettings {
    pub header_read_timeout: Duration,
    pub keep_alive_timeout: Duration,
    pub max_connections: usize,
    pub drain_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown` completes, then drains.
/// Handlers find the peer's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: ConnectionSettings,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let (drain, draining) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &permits) => accepted,
        };
        while connections.try_join_next().is_some() {}
        if let Some((stream, peer, permit)) = accepted {
            connections.spawn(serve_connection(stream, peer, router.clone(), settings, draining.clone(), permit));
        }
    }
    drop(listener);
    drain.send_replace(true);
    let drained =
        tokio::time::timeout(settings.drain_timeout, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "the drain deadline passed: closing the connections still open"
        );
        connections.shutdown().await;
    }
}

/// Waits for a free slot, then for a connection. `None` when accepting failed.
async fn accept(
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
) -> Option<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    let permit = permits.clone().acquire_owned().await.expect("the connection semaphore is never closed");
    match listener.accept().await {
        Ok((stream, peer)) => Some((stream, peer, permit)),
        Err(error) if is_connection_error(&error) => None,
        Err(error) => {
            // Out of file descriptors, say: accepting again at once would spin.
            tracing::error!(%error, "cannot accept connections");
            tokio::time::sleep(Duration::from_secs(1)).await;
            None
        }
    }
}

/// Errors of one connection, which leave the listener fine.
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(error.kind(), ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset)
}

/// What one connection is doing, as the keep-alive timeout and the drain see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activity {
    /// No request has been read yet: hyper's header-read timeout applies.
    New,
    /// A request is being answered (until its response body has been sent).
    Answering,
    /// The last answer ended then.
    IdleSince(Instant),
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    settings: ConnectionSettings,
    mut draining: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let (activity, watched) = watch::channel(Activity::New);
    let activity = Arc::new(activity);
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let answering = Answering::begin(activity.clone());
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await?;
            Ok::<_, std::convert::Infallible>(response.map(|body| AnsweringBody { body, answering: Some(answering) }))
        }
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(settings.header_read_timeout).keep_alive(true);
    let mut connection = std::pin::pin!(builder.serve_connection(TokioIo::new(stream), service));
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, %peer, "connection closed with an error");
            }
            return;
        }
        () = idle_for(watched.clone(), settings.keep_alive_timeout) => return,
        _ = draining.wait_for(|draining| *draining) => {}
    }
    if *watched.borrow() != Activity::Answering {
        return;
    }
    // Finish the answer under way, then close instead of keeping alive.
    connection.as_mut().graceful_shutdown();
    if let Err(error) = connection.await {
        tracing::debug!(%error, %peer, "connection closed with an error while draining");
    }
}

/// Completes once the connection has been idle, after an answer, for `timeout`.
async fn idle_for(mut activity: watch::Receiver<Activity>, timeout: Duration) {
    loop {
        let current = *activity.borrow_and_update();
        let changed = match current {
            Activity::IdleSince(since) => tokio::select! {
                () = tokio::time::sleep_until((since + timeout).into()) => return,
                changed = activity.changed() => changed,
            },
            Activity::New | Activity::Answering => activity.changed().await,
        };
        if changed.is_err() {
            // The connection's service is gone, and so is the connection.
            return std::future::pending().await;
        }
    }
}

/// Marks the connection as answering while it lives.
struct Answering(Arc<watch::Sender<Activity>>);

impl Answering {
    fn begin(activity: Arc<watch::Sender<Activity>>) -> Self {
        activity.send_replace(Activity::Answering);
        Self(activity)
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.send_replace(Activity::IdleSince(Instant::now()));
    }
}

/// A response body that keeps its connection marked as answering until the
/// body's last frame has been produced.
struct AnsweringBody {
    body: Body,
    answering: Option<Answering>,
}

impl hyper::body::Body for AnsweringBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(context);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            this.answering = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
