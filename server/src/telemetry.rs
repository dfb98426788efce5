//! Logging: `tracing` to stderr, as text or JSON lines, filtered by `RUST_LOG`,
//! through a bounded buffer that a writer thread drains.
//!
//! Writing each line to stderr on the request's thread cost about 13 % of
//! `GET` throughput at `info` (one line per request). Here a request only
//! copies its line into memory. When the buffer is full (the reader of
//! stderr is slower than the server), `info` and more verbose lines are
//! dropped and counted, and a warning with the count follows; warnings and
//! errors wait for room, so they are never lost. [`LogGuard`], held by
//! `main`, writes out what is buffered when the process ends, SIGTERM
//! included. `tracing-appender` does the same, but a dependency for one
//! small buffer was not worth it, and its lossy mode cannot keep warnings.

use std::{
    io::{self, IsTerminal, Write},
    sync::{Arc, Condvar, Mutex, MutexGuard},
    thread,
};

use tracing::{Level, Metadata};
use tracing_subscriber::{EnvFilter, fmt, fmt::MakeWriter};

use crate::config::LogFormat;

/// How much the buffer holds: several thousand lines, a burst of seconds.
pub const BUFFER_BYTES: usize = 1024 * 1024;

/// Installs the global subscriber, logging to stderr through the buffer.
/// Logs go to stderr so that stdout stays free for what a command prints
/// (`org create` prints a token there). Keep the guard until the process ends.
pub fn init(format: LogFormat) -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let (writer, guard) = buffered(io::stderr(), BUFFER_BYTES, format);
    let builder = fmt().with_env_filter(filter).with_ansi(io::stderr().is_terminal()).with_writer(writer);
    // A second call (tests spawn many servers in one process) keeps the first
    // subscriber; this call's guard then has nothing to write.
    match format {
        LogFormat::Text => builder.try_init().ok(),
        LogFormat::Json => builder.json().try_init().ok(),
    };
    guard
}

/// How long the writer lets lines gather between two writes.
const GATHER: std::time::Duration = std::time::Duration::from_millis(1);

/// A buffer of `capacity` bytes in front of `sink`, drained by a thread of
/// its own. The writer goes to the subscriber; the guard ends the thread.
pub fn buffered<W: Write + Send + 'static>(sink: W, capacity: usize, format: LogFormat) -> (BufferedWriter, LogGuard) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State { lines: Vec::new(), dropped: 0, closed: false }),
        capacity,
        has_lines: Condvar::new(),
        has_room: Condvar::new(),
        sink: Mutex::new(Box::new(sink)),
    });
    let drained = Arc::clone(&shared);
    let thread = thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || drained.drain(format))
        .expect("spawn the log writer thread");
    (BufferedWriter { shared: Arc::clone(&shared) }, LogGuard { shared, thread: Some(thread) })
}

struct Shared {
    state: Mutex<State>,
    capacity: usize,
    has_lines: Condvar,
    has_room: Condvar,
    /// Written by the drain thread, and directly once the guard is gone.
    sink: Mutex<Box<dyn Write + Send>>,
}

struct State {
    lines: Vec<u8>,
    /// Dropped since the last warning about it.
    dropped: u64,
    closed: bool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain bytes behind: keep going.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_to_sink(&self, bytes: &[u8]) {
        let mut sink = self.sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Nothing sensible is left to do when stderr itself fails.
        let _ = sink.write_all(bytes).and_then(|()| sink.flush());
    }

    /// Queues one line; `lossy` lines are dropped when there is no room.
    fn push(&self, line: &[u8], lossy: bool) {
        let mut state = self.state();
        loop {
            if state.closed {
                drop(state);
                self.write_to_sink(line);
                return;
            }
            // A line longer than the whole buffer goes in alone.
            if state.lines.is_empty() || state.lines.len() + line.len() <= self.capacity {
                // The writer waits only on an empty buffer: waking it for
                // every line was a futex call and a context switch a request.
                let was_empty = state.lines.is_empty();
                state.lines.extend_from_slice(line);
                if was_empty {
                    self.has_lines.notify_one();
                }
                return;
            }
            if lossy {
                state.dropped += 1;
                return;
            }
            state = self.has_room.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// The writer thread: takes everything buffered, writes it out, and
    /// ends once the guard has closed the buffer and it is empty.
    fn drain(&self, format: LogFormat) {
        let mut batch = Vec::new();
        loop {
            let (dropped, closed) = {
                let mut state = self.state();
                while state.lines.is_empty() && state.dropped == 0 && !state.closed {
                    state = self.has_lines.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                std::mem::swap(&mut batch, &mut state.lines);
                self.has_room.notify_all();
                (std::mem::take(&mut state.dropped), state.closed)
            };
            if dropped > 0 {
                batch.extend_from_slice(dropped_notice(dropped, format).as_bytes());
            }
            self.write_to_sink(&batch);
            batch.clear();
            if closed && self.state().lines.is_empty() {
                return;
            }
            // Lets lines gather, so that a busy server wakes this thread and
            // writes to stderr about once a millisecond, not once a line.
            thread::sleep(GATHER);
        }
    }
}

/// The warning written after lines were dropped, in the log's own format.
fn dropped_notice(dropped: u64, format: LogFormat) -> String {
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let message = "log lines dropped: stderr was read slower than the server logged";
    match format {
        LogFormat::Text => format!("{timestamp}  WARN {}: {message} dropped={dropped}\n", module_path!()),
        LogFormat::Json => format!(
            "{}\n",
            serde_json::json!({
                "timestamp": timestamp,
                "level": "WARN",
                "fields": {"message": message, "dropped": dropped},
                "target": module_path!(),
            })
        ),
    }
}

/// The subscriber's writer: each event's line goes into the buffer.
#[derive(Clone)]
pub struct BufferedWriter {
    shared: Arc<Shared>,
}

/// One event's writer; `lossy` for `info`, `debug` and `trace`.
pub struct LineWriter {
    shared: Arc<Shared>,
    lossy: bool,
}

impl Write for LineWriter {
    // The fmt layer formats a whole event, then writes it with one call.
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        self.shared.push(line, self.lossy);
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BufferedWriter {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter { shared: Arc::clone(&self.shared), lossy: false }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> LineWriter {
        // More verbose levels compare greater: TRACE > DEBUG > INFO > WARN.
        LineWriter { shared: Arc::clone(&self.shared), lossy: *meta.level() >= Level::INFO }
    }
}

/// Writes out everything buffered when dropped, and from then on lets each
/// line go straight to stderr, so nothing logged during exit is lost.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.state().closed = true;
        self.shared.has_lines.notify_one();
        self.shared.has_room.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::mpsc, time::Duration};

    use super::*;

    /// A sink that collects what it is given and, until released, blocks
    /// its first write: a reader of stderr that has stalled.
    #[derive(Clone)]
    struct StalledSink {
        written: Arc<Mutex<Vec<u8>>>,
        release: Arc<Mutex<Option<mpsc::Receiver<()>>>>,
    }

    impl StalledSink {
        fn new() -> (Self, mpsc::Sender<()>) {
            let (release, released) = mpsc::channel();
            let sink = Self { written: Arc::default(), release: Arc::new(Mutex::new(Some(released))) };
            (sink, release)
        }

        fn text(&self) -> String {
            String::from_utf8(self.written.lock().unwrap().clone()).unwrap()
        }
    }

    impl Write for StalledSink {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if let Some(released) = self.release.lock().unwrap().take() {
                let _ = released.recv();
            }
            self.written.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn line(writer: &BufferedWriter, text: &str, lossy: bool) {
        let mut line = LineWriter { shared: Arc::clone(&writer.shared), lossy };
        line.write_all(text.as_bytes()).unwrap();
    }

    /// Waits until the drain thread has taken what is buffered and is
    /// writing it (stalled), so the buffer is empty again.
    fn wait_until_taken(writer: &BufferedWriter) {
        while !writer.shared.state().lines.is_empty() {
            thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn every_line_reaches_the_sink_in_order_once_the_guard_is_dropped() {
        let (sink, release) = StalledSink::new();
        release.send(()).unwrap();
        let (writer, guard) = buffered(sink.clone(), 1024, LogFormat::Text);
        for number in 0..100 {
            line(&writer, &format!("line {number}\n"), true);
        }
        drop(guard);
        let expected: String = (0..100).map(|number| format!("line {number}\n")).collect();
        assert_eq!(sink.text(), expected);
    }

    #[test]
    fn a_full_buffer_drops_and_counts_info_lines_and_says_so() {
        let (sink, release) = StalledSink::new();
        let (writer, guard) = buffered(sink.clone(), 20, LogFormat::Text);
        line(&writer, "first\n", true);
        wait_until_taken(&writer);
        line(&writer, "fills the buffer...\n", true);
        line(&writer, "dropped 1\n", true);
        line(&writer, "dropped 2\n", true);
        release.send(()).unwrap();
        drop(guard);
        let text = sink.text();
        assert!(text.starts_with("first\nfills the buffer...\n"), "{text}");
        assert!(!text.contains("dropped 1") && !text.contains("dropped 2"), "{text}");
        assert!(
            text.contains("WARN appdeck_server::telemetry: log lines dropped") && text.contains("dropped=2"),
            "{text}"
        );
    }

    #[test]
    fn a_full_buffer_makes_a_warning_wait_for_room_and_keeps_it() {
        let (sink, release) = StalledSink::new();
        let (writer, guard) = buffered(sink.clone(), 20, LogFormat::Json);
        line(&writer, "first\n", true);
        wait_until_taken(&writer);
        line(&writer, "fills the buffer...\n", true);
        let (sent, waited) = mpsc::channel();
        let warning_writer = writer.clone();
        let warning = thread::spawn(move || {
            line(&warning_writer, "a warning\n", false);
            sent.send(()).unwrap();
        });
        assert!(waited.recv_timeout(Duration::from_millis(200)).is_err(), "the warning waits while the buffer is full");
        release.send(()).unwrap();
        warning.join().unwrap();
        drop(guard);
        assert_eq!(sink.text(), "first\nfills the buffer...\na warning\n");
    }

    #[test]
    fn after_the_guard_is_dropped_lines_go_straight_to_the_sink() {
        let (sink, release) = StalledSink::new();
        release.send(()).unwrap();
        let (writer, guard) = buffered(sink.clone(), 1024, LogFormat::Text);
        drop(guard);
        line(&writer, "logged during exit\n", true);
        assert_eq!(sink.text(), "logged during exit\n");
    }

    #[test]
    fn the_json_notice_of_dropped_lines_is_one_json_line() {
        let notice = dropped_notice(7, LogFormat::Json);
        let value: serde_json::Value = serde_json::from_str(notice.trim_end()).unwrap();
        assert_eq!((value["level"].as_str(), value["fields"]["dropped"].as_u64()), (Some("WARN"), Some(7)));
        assert!(notice.ends_with('\n') && notice.matches('\n').count() == 1);
    }
}
