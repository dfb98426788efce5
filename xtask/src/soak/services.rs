//! The soak's own PostgreSQL cluster and Redis server, on free ports under
//! `<target>/soak`: the machine's shared 5432 and 6379 are never touched,
//! because the soak stops and restarts what it runs.

use std::{
    fs,
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::bench::process::{Process, free_address};

/// A PostgreSQL cluster made with `initdb` for this run, run by `pg_ctl`.
pub struct PostgresCluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    pub address: SocketAddr,
}

impl PostgresCluster {
    /// `initdb` in `data_dir` (emptied first), then `pg_ctl start`.
    pub fn create(data_dir: &Path) -> Result<Self, String> {
        let bin_dir = postgres_bin_dir()?;
        if data_dir.exists() {
            fs::remove_dir_all(data_dir).map_err(|error| format!("cannot empty {}: {error}", data_dir.display()))?;
        }
        fs::create_dir_all(data_dir).map_err(|error| format!("cannot create {}: {error}", data_dir.display()))?;
        if is_root() {
            // PostgreSQL refuses to run as root: its files belong to `postgres`.
            run(Command::new("chown").args(["postgres:postgres", &data_dir.display().to_string()]))?;
        }
        let cluster = Self { bin_dir, data_dir: data_dir.to_owned(), address: free_address()? };
        // `--no-sync` only skips flushing the files initdb writes; the server
        // itself runs with PostgreSQL's defaults (`fsync`, `synchronous_commit` on).
        cluster.run_tool("initdb", &["--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync", "-D"])?;
        cluster.start()?;
        Ok(cluster)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@{}/postgres", self.address)
    }

    pub fn start(&self) -> Result<(), String> {
        let options = format!(
            "-c listen_addresses={} -p {} -k {}",
            self.address.ip(),
            self.address.port(),
            self.data_dir.display()
        );
        let log = self.data_dir.join("postgres.log").display().to_string();
        self.run_tool("pg_ctl", &["-w", "-t", "60", "-l", &log, "-o", &options, "start", "-D"])
    }

    /// A fast shutdown: sessions are terminated (SQLSTATE 57P01), as when an
    /// operator restarts the database under a running server.
    pub fn stop(&self) -> Result<(), String> {
        self.run_tool("pg_ctl", &["-w", "-t", "60", "-m", "fast", "stop", "-D"])
    }

    /// Runs `tool ARGS DATA_DIR` from the cluster's binaries, as `postgres`
    /// when this runs as root.
    fn run_tool(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin_dir.join(tool).display().to_string();
        let data_dir = self.data_dir.display().to_string();
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", &program]);
            command
        } else {
            Command::new(&program)
        };
        command.args(args).arg(&data_dir);
        run(&mut command)
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        let _ = self.run_tool("pg_ctl", &["-w", "-m", "immediate", "stop", "-D"]);
    }
}

/// A `redis-server` child without persistence, restartable on its port.
pub struct Redis {
    process: Option<Process>,
    pub address: SocketAddr,
    log: PathBuf,
}

impl Redis {
    pub fn start(log: &Path) -> Result<Self, String> {
        let mut redis = Self { process: None, address: free_address()?, log: log.to_owned() };
        let _ = fs::remove_file(log);
        redis.spawn()?;
        Ok(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://{}", self.address)
    }

    /// Kills the server, as a crash or an operator's restart would.
    pub fn stop(&mut self) {
        self.process = None;
    }

    pub fn spawn(&mut self) -> Result<(), String> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|error| format!("cannot open {}: {error}", self.log.display()))?;
        let child = Command::new("redis-server")
            .args(["--bind", &self.address.ip().to_string(), "--port", &self.address.port().to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot start redis-server (is it installed?): {error}"))?;
        self.process = Some(Process::new(child, "redis-server"));
        let started = Instant::now();
        while !redis_answers(self.address) {
            if started.elapsed() > Duration::from_secs(20) {
                return Err(format!("redis-server did not answer PING within 20 s; see {}", self.log.display()));
            }
            thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

fn redis_answers(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0; 7];
    stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

/// The newest `/usr/lib/postgresql/VERSION/bin` (Debian's layout), or the
/// directory of `pg_ctl` on the `PATH`.
fn postgres_bin_dir() -> Result<PathBuf, String> {
    let versions = fs::read_dir("/usr/lib/postgresql").into_iter().flatten().flatten();
    let newest = versions
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse::<u32>().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin)| bin.join("pg_ctl").exists())
        .max_by_key(|(version, _)| *version);
    if let Some((_, bin)) = newest {
        return Ok(bin);
    }
    let output = Command::new("pg_config").arg("--bindir").output().map_err(|_| {
        "no PostgreSQL server binaries: install the Debian package postgresql (initdb and pg_ctl)".to_owned()
    })?;
    Ok(PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|error| format!("cannot run {command:?}: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}
