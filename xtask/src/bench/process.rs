//! The processes under test: spawning them, waiting until they answer, and
//! reading their memory from `/proc`.

use std::{
    fs,
    io::{BufRead, BufReader},
    net::{SocketAddr, TcpListener},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use super::http;

/// A child process, killed when dropped so a failed run leaves nothing behind.
pub struct Process {
    child: Child,
    name: &'static str,
}

impl Process {
    pub fn new(child: Child, name: &'static str) -> Self {
        Self { child, name }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now (`VmRSS`) and at its peak so far (`VmHWM`), in KiB.
    pub fn memory_kib(&self) -> Result<(u64, u64), String> {
        memory_kib(self.pid()).ok_or_else(|| format!("cannot read /proc/{}/status of {}", self.pid(), self.name))
    }

    /// Fails with the log if the process has already exited.
    fn check_alive(&mut self, log: &Path) -> Result<(), String> {
        if let Ok(Some(status)) = self.child.try_wait() {
            let log = fs::read_to_string(log).unwrap_or_default();
            return Err(format!("{} exited ({status}); its log:\n{log}", self.name));
        }
        Ok(())
    }

    /// `error`, plus how the process ended if it is no longer running: a
    /// refused connection then means the server died, not that it is slow.
    pub fn explain(&mut self, error: String) -> String {
        match self.child.try_wait() {
            Ok(Some(status)) => format!("{error}\n{} had exited: {status}", self.name),
            _ => error,
        }
    }
}

impl Process {
    /// SIGKILL, and waits until the process is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits up to `deadline` for the process to exit;
    /// `None` if it was still running then (it is killed when dropped).
    pub fn terminate(&mut self, deadline: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        let started = Instant::now();
        while started.elapsed() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `appdeck-server serve`, with how long it took from spawn to its first
/// `200` from `/readyz`.
pub struct Server {
    pub process: Process,
    pub address: SocketAddr,
    pub start_to_ready: Duration,
}

/// Starts `appdeck-server serve` with `environment` on a free port and waits
/// until `/readyz` answers 200. Its stderr goes to `log`.
pub fn start_server(binary: &Path, environment: &[(&str, String)], log: &Path) -> Result<Server, String> {
    // The server could bind port 0 itself, but then its address is only in an
    // info-level log line, which a caller would have to parse: the port is
    // picked here and released just before spawning. Each run starts a new log.
    let _ = fs::remove_file(log);
    start_server_at(binary, environment, log, free_address()?)
}

/// A loopback address with a port nothing listens on right now.
pub fn free_address() -> Result<SocketAddr, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|error| format!("cannot find a free port: {error}"))
}

/// Like [`start_server`], on a given address (a restarted server keeps its
/// port, so its clients find it again). The log is appended to.
pub fn start_server_at(
    binary: &Path,
    environment: &[(&str, String)],
    log: &Path,
    address: SocketAddr,
) -> Result<Server, String> {
    let log_file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|error| format!("cannot create {}: {error}", log.display()))?;
    let started = Instant::now();
    let child = Command::new(binary)
        .arg("serve")
        .envs(environment.iter().map(|(name, value)| (name, value)))
        .env("APPDECK_BIND", address.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
    let mut process = Process { child, name: "appdeck-server" };
    loop {
        if let Ok(response) = http::send(address, "GET", "/readyz", None, None)
            && response.status == 200
        {
            return Ok(Server { process, address, start_to_ready: started.elapsed() });
        }
        process.check_alive(log)?;
        if started.elapsed() > Duration::from_secs(30) {
            return Err(format!("appdeck-server was not ready after 30 s; see {}", log.display()));
        }
        thread::sleep(Duration::from_millis(2));
    }
}

/// Starts the ceiling serving the app's and the list page's bodies; it
/// prints its address on stdout.
pub fn start_ceiling(binary: &Path, app_file: &Path, list_file: &Path) -> Result<(Process, SocketAddr), String> {
    let mut child = Command::new(binary)
        .arg(app_file)
        .arg(list_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let process = Process { child, name: "bench-ceiling" };
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).map_err(|error| format!("bench-ceiling: {error}"))?;
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|address| address.parse().ok())
        .ok_or_else(|| format!("bench-ceiling did not say where it listens: {line:?}"))?;
    Ok((process, address))
}

fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status.lines().find_map(|line| line.strip_prefix(name)?.trim().strip_suffix("kB")?.trim().parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Samples a process's `VmRSS` while a scenario runs, so each scenario gets
/// its own peak (`VmHWM` only ever grows over the process's life).
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    sampler: thread::JoinHandle<u64>,
}

impl RssSampler {
    pub fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let sampler = thread::spawn(move || {
            let mut peak = 0;
            while !stopped.load(Ordering::Relaxed) {
                if let Some((rss, _)) = memory_kib(pid) {
                    peak = peak.max(rss);
                }
                thread::sleep(Duration::from_millis(50));
            }
            peak
        });
        Self { stop, sampler }
    }

    /// The highest `VmRSS` seen, in KiB.
    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler.join().expect("the sampler thread does not panic")
    }
}
