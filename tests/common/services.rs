//! A redis-server and `tollgate serve` instances started by a test or a
//! benchmark on free loopback ports, and stopped when dropped: shared by
//! tests/serve.rs, tests/serve_redis.rs, tests/serve_streams.rs and
//! benches/serve_load.rs.

// Not everything that includes this uses all of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sends signal `name` (`TERM`, `HUP`, …) to process `pid`.
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// A redis-server of the caller's own (no persistence), killed when
/// dropped.
pub struct Redis {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Redis {
    /// Starts redis-server on a free loopback port: a port found free by
    /// binding port 0 may be taken before Redis binds it, so a server that
    /// does not come up is tried again on another.
    pub fn start() -> Redis {
        for _ in 0..20 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut redis = Redis { child: None, port };
            if redis.spawn() {
                return redis;
            }
        }
        panic!("could not start redis-server (is it installed? .ci/run installs it)");
    }

    /// Starts the server on `self.port`; whether it came up.
    fn spawn(&mut self) -> bool {
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                self.child = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server (its data goes with it).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.spawn() {
            assert!(Instant::now() < deadline, "redis-server did not restart");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Empties every database.
    pub fn flush(&self) {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_connection().unwrap();
        redis::cmd("FLUSHALL").exec(&mut conn).unwrap();
    }

    /// The `EVALSHA` calls that ran a script since the statistics were
    /// last reset (calls less failed ones: the first call to a Redis
    /// without the script fails, and the script is loaded), and Redis's
    /// microseconds in them, from `INFO commandstats`; with `reset`,
    /// resets the statistics (`CONFIG RESETSTAT`) and answers zeros.
    pub fn script_stats(&self, reset: bool) -> (u64, f64) {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_connection().unwrap();
        if reset {
            redis::cmd("CONFIG")
                .arg("RESETSTAT")
                .exec(&mut conn)
                .unwrap();
            return (0, 0.0);
        }
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query(&mut conn)
            .unwrap();
        let line = info
            .lines()
            .find_map(|l| l.strip_prefix("cmdstat_evalsha:"))
            .unwrap_or("");
        let field = |name: &str| {
            line.split(',')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .map_or(0.0, |v| v.parse::<f64>().unwrap())
        };
        let ran = field("calls") - field("failed_calls");
        (ran as u64, field("usec"))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running `tollgate serve`, killed when dropped.
pub struct Server {
    /// The process.
    pub child: Child,
    /// The address it listens on (`HOST:PORT`).
    pub addr: String,
    /// Every line it wrote to stderr so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `tollgate serve --policies DIR --listen 127.0.0.1:0` with
    /// `args`, run from `cwd`, as the binary `exe`.
    pub fn start(exe: &str, cwd: &Path, dir: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(exe)
            .args(["serve", "--policies"])
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .to_string();
        // Keep reading, so that the service never blocks on a full pipe.
        let log = Arc::new(Mutex::new(vec![first]));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { return };
                sink.lock().unwrap().push(line);
            }
        });
        Server { child, addr, log }
    }

    /// Sends SIGTERM and waits for the exit code.
    pub fn terminate(mut self) -> Option<i32> {
        signal(self.child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the service did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://HOST:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client for the services: answers of every status come back as
/// answers (not errors), and a request gives up after a minute.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}
