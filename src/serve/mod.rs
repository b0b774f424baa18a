//! `tollgate serve`: fee quotes and notification decisions over HTTP, from
//! the policies in a directory (docs/serve.md).
//!
//! The parts: [`catalog`] loads the directory; [`shards`] keeps each
//! notifications policy's throttle state in memory, sharded; [`answer`]
//! answers one line exactly as `tollgate eval` would; [`http`] has the
//! endpoints; [`lines`] splits a JSON Lines body under its limits;
//! [`reload`] watches the directory; [`metrics`] counts.

pub mod answer;
pub mod catalog;
pub mod durable;
pub mod floors;
pub mod http;
pub mod lines;
pub mod metrics;
pub mod redis_state;
pub mod reload;
pub mod shards;

use catalog::{Catalog, Engine, Policy};
use shards::ShardedState;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::signal::unix::Signal;
use tokio::sync::OwnedRwLockReadGuard;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The policy directory.
    pub policies: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// A file holding the bearer token every endpoint but the health
    /// checks requires.
    pub token_file: Option<PathBuf>,
    /// The bounds on requests.
    pub limits: Limits,
    /// Watch the directory for changes (SIGHUP reloads either way).
    pub watch: bool,
    /// Keep each notifications policy's throttle state in this directory.
    pub state_dir: Option<PathBuf>,
    /// Keep throttle state in Redis instead (`--state redis://...`).
    pub redis: Option<RedisOptions>,
    /// Serve only artifacts signed by one of these keys (none: any
    /// policy file).
    pub trusted_keys: Vec<tollgate_runtime::artifact::trust::TrustedKey>,
}

/// The settings of the Redis backend.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// `redis://HOST:PORT/DB`.
    pub url: String,
    /// How long one call to Redis may take.
    pub timeout: Duration,
    /// The fail mode of policies not named below.
    pub default_mode: redis_state::FailMode,
    /// Policies that fail open.
    pub fail_open: Vec<String>,
    /// Policies that fail closed.
    pub fail_closed: Vec<String>,
    /// How many values of caps' keys the instance remembers
    /// (`--redis-known-keys`).
    pub known_keys: usize,
}

/// The bounds on requests and connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest request body, in bytes.
    pub max_body_bytes: u64,
    /// The longest record (line), in bytes.
    pub max_line_bytes: usize,
    /// The most bytes of request line and headers.
    pub max_header_bytes: usize,
    /// The most connections open at once.
    pub max_connections: usize,
}

/// The default of `--max-body-bytes`: 64 MiB.
pub const MAX_BODY_BYTES: u64 = 64 << 20;
/// The default of `--max-header-bytes`: 16 KiB.
pub const MAX_HEADER_BYTES: usize = 16 << 10;
/// The default of `--max-connections`.
pub const MAX_CONNECTIONS: usize = 1024;
/// How long shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A notifications policy and its throttle state: a request holds the
/// gate's read side for its whole body, so that a new version that
/// changes the state's layout (renumbers stateful rules, changes their
/// windows or keys; the state is carried over) never meets a request
/// halfway through. A new version with the same layout swaps in without
/// waiting: a request holds the version it started with.
pub struct Gate {
    /// The version deciding: replaced whole.
    pub policy: RwLock<Arc<Policy>>,
    /// Its throttle state.
    pub state: ShardedState,
    /// Where the state is kept on disk, with `--state-dir`.
    pub journal: Option<durable::Journal>,
}

/// The shared state of the service.
pub struct App {
    /// The policies served: replaced whole at a reload.
    catalog: RwLock<Arc<Catalog>>,
    /// The gates of notifications policies, by name: a name keeps its
    /// state across versions.
    gates: Mutex<HashMap<String, Arc<tokio::sync::RwLock<Gate>>>>,
    /// The bounds on requests.
    pub limits: Limits,
    /// The bearer token, when one is required.
    pub token: Option<Vec<u8>>,
    /// The metrics.
    pub metrics: metrics::Metrics,
    /// The policy directory.
    pub dir: PathBuf,
    /// Where throttle state is kept on disk, if it is.
    pub state_dir: Option<PathBuf>,
    /// Told when a reload left a new version waiting: try again soon.
    pub again: tokio::sync::Notify,
    /// The Redis backend, with `--state redis://...`.
    pub redis: Option<redis_state::RedisState>,
    /// Serve only artifacts signed by one of these keys (none: any
    /// policy file).
    pub trusted_keys: Vec<tollgate_runtime::artifact::trust::TrustedKey>,
}

/// The policy answering one request, held for its whole body.
pub enum Serving {
    /// A fees policy.
    Fees(Arc<Policy>),
    /// A notifications policy, its gate held, and its version then.
    Notify(OwnedRwLockReadGuard<Gate>, Arc<Policy>),
}

impl Gate {
    /// The version deciding now.
    pub fn current(&self) -> Arc<Policy> {
        self.policy
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Serving {
    /// The policy.
    pub fn policy(&self) -> &Policy {
        match self {
            Serving::Fees(p) => p,
            Serving::Notify(_, p) => p,
        }
    }

    /// The throttle state of a notifications policy.
    pub fn state(&self) -> Option<&ShardedState> {
        match self {
            Serving::Fees(_) => None,
            Serving::Notify(g, _) => Some(&g.state),
        }
    }

    /// The journal of a notifications policy's state kept on disk.
    pub fn journal(&self) -> Option<&durable::Journal> {
        match self {
            Serving::Fees(_) => None,
            Serving::Notify(g, _) => g.journal.as_ref(),
        }
    }
}

impl App {
    /// The current snapshot of the policies.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Where throttle state is kept, as `GET /v1/policies` names it.
    pub fn state_listing(&self) -> serde_json::Value {
        match (&self.redis, &self.state_dir) {
            (Some(r), _) => r.listing(),
            (None, Some(dir)) => {
                serde_json::json!({ "backend": "memory", "dir": dir.display().to_string() })
            }
            (None, None) => serde_json::json!({ "backend": "memory" }),
        }
    }

    /// The policy named `name`, held for one request.
    pub async fn serving(&self, name: &str) -> Option<Serving> {
        let policy = self.catalog().policies.get(name).cloned()?;
        if let Engine::Fees(_) = policy.engine {
            return Some(Serving::Fees(policy));
        }
        let gate = self
            .gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .cloned()?;
        let held = gate.read_owned().await;
        let policy = held.current();
        Some(Serving::Notify(held, policy))
    }
}

/// Starts the service and runs it until SIGTERM or SIGINT; the exit code.
pub fn run(options: &Options) -> u8 {
    let token = match &options.token_file {
        None => None,
        Some(path) => match crate::fsio::read_bounded(path, 4096) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).trim().to_string();
                if text.is_empty() {
                    eprintln!("error: the token file {} is empty", path.display());
                    return crate::cli::EXIT_USAGE;
                }
                Some(text.into_bytes())
            }
            Err(e) => {
                eprintln!("error: cannot read the token file {}: {e}", path.display());
                return crate::cli::EXIT_USAGE;
            }
        },
    };
    if !options.policies.is_dir() {
        eprintln!(
            "error: {} is not a directory of policies",
            options.policies.display()
        );
        return crate::cli::EXIT_USAGE;
    }
    if let Some(dir) = &options.state_dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!(
                "error: cannot create the state directory {}: {e}",
                dir.display()
            );
            return crate::cli::EXIT_USAGE;
        }
    }
    if options.redis.is_some() && options.state_dir.is_some() {
        eprintln!("error: --state-dir keeps the memory backend's state: it does not go with --state redis://");
        return crate::cli::EXIT_USAGE;
    }
    let redis = match &options.redis {
        None => None,
        Some(r) => match redis_state::RedisState::new(&r.url, r.timeout, r.default_mode) {
            Ok(state) => {
                let mut state = state.with_known_keys(r.known_keys);
                for name in &r.fail_open {
                    state
                        .modes
                        .insert(name.clone(), redis_state::FailMode::Open);
                }
                for name in &r.fail_closed {
                    state
                        .modes
                        .insert(name.clone(), redis_state::FailMode::Closed);
                }
                Some(state)
            }
            Err(e) => {
                eprintln!("error: {e}");
                return crate::cli::EXIT_USAGE;
            }
        },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the service's threads: {e}");
            return crate::cli::EXIT_USAGE;
        }
    };
    let app = Arc::new(App {
        catalog: RwLock::new(Arc::new(Catalog::default())),
        gates: Mutex::new(HashMap::new()),
        limits: options.limits,
        token,
        metrics: metrics::Metrics::new(),
        dir: options.policies.clone(),
        state_dir: options.state_dir.clone(),
        again: tokio::sync::Notify::new(),
        redis,
        trusted_keys: options.trusted_keys.clone(),
    });
    runtime.block_on(serve(app, options.clone()))
}

/// Loads the policies, listens and serves.
async fn serve(app: Arc<App>, options: Options) -> u8 {
    let listener = match tokio::net::TcpListener::bind(options.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", options.listen);
            return crate::cli::EXIT_USAGE;
        }
    };
    // The signals are the service's before it says that it listens: until
    // they are registered, SIGHUP and SIGTERM end the process.
    let mut signals = match Signals::register() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen for signals: {e}");
            return crate::cli::EXIT_USAGE;
        }
    };
    let addr = listener.local_addr().unwrap_or(options.listen);
    // The first line: tests and scripts read the port from it.
    eprintln!("listening on {addr}");
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    // The directory is watched from the start: a change made while the
    // first load runs (or waits) is loaded right after it.
    let watcher = reload::watch(app.clone(), options.watch, signals.hup);
    // The policies load in a task of their own, after the first line (the
    // load logs what it serves and what failed): a state in --state-dir
    // that another run holds makes the load wait (saying so on stderr),
    // connections wait for it in the listener's queue, and SIGTERM or
    // SIGINT still stops the service.
    let first_load = tokio::spawn({
        let app = app.clone();
        async move { reload::reload(&app).await }
    });
    let loaded = tokio::select! {
        loaded = first_load => loaded.map_err(std::io::Error::other).and_then(|r| r),
        _ = signals.term.recv() => stop_while_loading(),
        _ = signals.int.recv() => stop_while_loading(),
    };
    if let Err(e) = loaded {
        eprintln!("error: cannot read {}: {e}", options.policies.display());
        return crate::cli::EXIT_USAGE;
    }
    let router = http::router(app.clone());
    let code = connections(listener, router, options.limits, signals.term, signals.int).await;
    drop(watcher);
    let saved = save_states(&app).await;
    tracing::info!("stopped");
    if saved {
        code
    } else {
        crate::cli::EXIT_USAGE
    }
}

/// Ends the process on a stop signal that came while the policies were
/// loading: nothing was answered, so nothing is left to save, and the load
/// may be waiting for a state's lock, which ends with the process.
fn stop_while_loading() -> ! {
    eprintln!("stopped before the policies were loaded");
    std::process::exit(i32::from(crate::cli::EXIT_OK))
}

/// Saves every state kept on disk as a snapshot (its journal then starts
/// afresh); `false` when one could not be saved (its journal still holds
/// every delivery answered).
async fn save_states(app: &App) -> bool {
    let gates: Vec<_> = app
        .gates
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .values()
        .cloned()
        .collect();
    let mut ok = true;
    for gate in gates {
        let g = gate.write().await;
        let current = g.current();
        let (Some(journal), Engine::Notifications(policy)) = (&g.journal, &current.engine) else {
            continue;
        };
        let saved = tokio::task::block_in_place(|| journal.checkpoint(policy, &g.state, true));
        if let Err(e) = saved {
            tracing::error!(state = %journal.path().display(), error = %e, "cannot save the state; its journal keeps every delivery answered");
            ok = false;
        }
    }
    ok
}

/// The signals the service answers, registered before it announces that
/// it listens.
struct Signals {
    /// SIGTERM: stop.
    term: Signal,
    /// SIGINT: stop.
    int: Signal,
    /// SIGHUP: reload.
    hup: Signal,
}

impl Signals {
    /// Takes over SIGTERM, SIGINT and SIGHUP from their default actions.
    fn register() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }
}

/// Accepts connections until SIGTERM or SIGINT, then lets the requests in
/// flight finish.
async fn connections(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: Limits,
    mut term: Signal,
    mut int: Signal,
) -> u8 {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let open = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let service = hyper_util::service::TowerToHyperService::new(router);
    loop {
        let permit = tokio::select! {
            p = open.clone().acquire_owned() => p,
            _ = term.recv() => break,
            _ = int.recv() => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = term.recv() => break,
            _ = int.recv() => break,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .max_buf_size(limits.max_header_bytes.max(8192))
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30));
        let conn = builder.serve_connection(TokioIo::new(stream), service.clone());
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    tracing::info!("shutting down: finishing the requests in flight");
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the grace period were cut");
    }
    crate::cli::EXIT_OK
}
