//! `tollgate serve` under load (BENCHMARKS.md, section 14): a load
//! generator that starts its own redis-server and two services (memory and
//! Redis backends) on loopback ports, drives them over HTTP/1.1 keep-alive
//! connections for a fixed time per workload, prints what it measured, and
//! stops them all. The load generator runs on the same machine as the
//! service and Redis, and takes its share of the cores.
//!
//! It also measures the Redis state step on its own: Tollgate's decision
//! (`RedisState::decide`, the engine's decision and the compare-and-set
//! script, as the service runs it), for `merchant_messages.toll` (with and
//! without its message ids) and for a policy of one cap, side by side with
//! the same step's Redis commands without its checks (the least an exact
//! step can cost) and a one-key GCRA limiter written as a Lua script, in
//! the style of redis-cell, through the same client at the same
//! concurrency, rounds interleaved. Each client configuration has keys of
//! its own.
//!
//! Run: `cargo bench --bench serve_load` (`TOLLGATE_BENCH_SECS` sets the
//! seconds each workload runs, 5 by default; `TOLLGATE_BENCH_ROUNDS` the
//! rounds of the Redis step comparison, 3 by default; `TOLLGATE_BENCH_ONLY`
//! `http` or `step` runs only that part).

// Benchmark setup failures end the run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

#[path = "../tests/common/services.rs"]
mod services;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use services::{Redis, Server};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tollgate::serve::redis_state::{FailMode, RedisState};
use tollgate_runtime::notify::NotifyPolicy;
use tollgate_runtime::value::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The machine's load averages, as `uptime` prints them.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// CPU time (user and system) process `pid` has used, in seconds.
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| f.get(i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    ticks / 100.0
}

/// The sample transactions of `examples/`, for fee quotes.
fn transactions() -> Vec<String> {
    std::fs::read_to_string(root().join("examples/transactions.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The first instant of the notification stream (2026-11-25T01:00:00Z,
/// 09:00 in the policy's zone: promotions are outside the quiet hours).
const BASE_MS: i64 = 1_795_568_400_000;
/// Distinct terminals and merchants the messages cycle over.
const TERMINALS: u64 = 100_000;
const MERCHANTS: u64 = 1_000;
const KINDS: [&str; 5] = [
    "txn_success",
    "promo",
    "network_status",
    "security",
    "txn_failure",
];

/// Message `i` for `merchant_messages.toll` as a JSON line: kinds cycle,
/// 100,000 terminals and 1,000 merchants, a fresh message id, 1 ms of
/// record time after message `i - 1`.
fn message(i: u64, out: &mut String) {
    let at = chrono::DateTime::from_timestamp_millis(BASE_MS + i as i64)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ");
    let _ = write!(
        out,
        r#"{{"kind":"{}","merchant":"m{}","terminal":"t{}","txn_id":"x{i}","msg_id":"g{i}","at":"{at}"}}"#,
        KINDS[(i % 5) as usize],
        i % MERCHANTS,
        (i * 7919) % TERMINALS,
    );
}

/// What one workload sends.
#[derive(Clone)]
enum Load {
    /// Fee quotes: the sample transactions, cycled.
    Fees(Arc<Vec<String>>),
    /// Notification decisions: fresh messages from a shared counter.
    Messages(Arc<AtomicU64>),
}

impl Load {
    /// A body of `n` records (one JSON object when `n` is 1).
    fn body(&self, n: usize, k: &mut usize) -> String {
        let mut out = String::new();
        for _ in 0..n {
            match self {
                Load::Fees(t) => out.push_str(&t[*k % t.len()]),
                Load::Messages(seq) => message(seq.fetch_add(1, Ordering::Relaxed), &mut out),
            }
            *k += 1;
            out.push('\n');
        }
        out
    }
}

/// What the connections of one workload measured.
#[derive(Default)]
struct Tally {
    requests: u64,
    records: u64,
    latencies_us: Vec<u32>,
    outcomes: std::collections::BTreeMap<String, u64>,
}

/// One keep-alive connection sending requests of `batch` records until
/// `until`, each waiting for the whole answer.
async fn connection(
    addr: SocketAddr,
    path: String,
    load: Load,
    batch: usize,
    until: Instant,
    start: usize,
) -> Tally {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut tally = Tally::default();
    let mut k = start;
    let content_type = if batch == 1 {
        "application/json"
    } else {
        "application/x-ndjson"
    };
    while Instant::now() < until {
        let body = load.body(batch, &mut k);
        let request = hyper::Request::post(path.as_str())
            .header(hyper::header::HOST, "bench")
            .header(hyper::header::CONTENT_TYPE, content_type)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let sent = Instant::now();
        sender.ready().await.unwrap();
        let answer = sender.send_request(request).await.unwrap();
        let status = answer.status();
        let bytes = answer.into_body().collect().await.unwrap().to_bytes();
        let took = sent.elapsed();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        let mut lines = 0;
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            lines += 1;
            let text = std::str::from_utf8(line).unwrap();
            assert!(!text.starts_with("{\"error\""), "{text}");
            if let Some(d) = text
                .split("\"decision\":\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
            {
                *tally.outcomes.entry(d.to_string()).or_default() += 1;
            }
        }
        assert_eq!(lines, batch, "one answer line per record");
        tally.requests += 1;
        tally.records += batch as u64;
        tally.latencies_us.push(took.as_micros() as u32);
    }
    tally
}

/// Runs `connections` connections of `batch`-record requests for `secs`
/// (after a one-second warm-up) and prints a table row.
async fn http_row(
    label: &str,
    addr: SocketAddr,
    path: &str,
    load: &Load,
    connections: usize,
    batch: usize,
    secs: f64,
) {
    for (phase, length) in [("warm", 1.0), ("measure", secs)] {
        let until = Instant::now() + Duration::from_secs_f64(length);
        let started = Instant::now();
        let tasks: Vec<_> = (0..connections)
            .map(|c| {
                tokio::spawn(connection(
                    addr,
                    path.to_string(),
                    load.clone(),
                    batch,
                    until,
                    c * 7,
                ))
            })
            .collect();
        let mut all = Tally::default();
        for t in tasks {
            let t = t.await.unwrap();
            all.requests += t.requests;
            all.records += t.records;
            all.latencies_us.extend(t.latencies_us);
            for (k, v) in t.outcomes {
                *all.outcomes.entry(k).or_default() += v;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        if phase == "warm" {
            continue;
        }
        all.latencies_us.sort_unstable();
        let pct = |p: f64| {
            let i = ((all.latencies_us.len() as f64 - 1.0) * p).round() as usize;
            f64::from(all.latencies_us[i]) / 1000.0
        };
        let outcomes: Vec<String> = all
            .outcomes
            .iter()
            .map(|(k, v)| format!("{k} {:.0}%", 100.0 * *v as f64 / all.records as f64))
            .collect();
        println!(
            "| {label} | {connections} | {batch} | {:.0} | {:.0} | {:.2} | {:.2} | {} | {} |",
            all.requests as f64 / elapsed,
            all.records as f64 / elapsed,
            pct(0.5),
            pct(0.99),
            outcomes.join(", "),
            loadavg(),
        );
    }
}

/// A one-key GCRA limiter in the style of redis-cell: the key holds the
/// theoretical arrival time (ms); `ARGV` is the record's time, the emission
/// interval and the burst tolerance, all in ms. Returns 1 when allowed.
const GCRA: &str = r"
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
if tat - now > tolerance then return 0 end
local new = tat + interval
redis.call('SET', KEYS[1], new, 'PX', new - now)
return 1
";

/// The one-cap policy of the Redis step comparison: the GCRA's own limit
/// (30 per terminal per hour) as the only stateful rule, no message id:
/// one key a decision, as the GCRA has.
const ONE_CAP: &str = "policy one_cap version 1\nkind notifications\ntimezone \"Asia/Shanghai\"\n\
field kind: enum { txn }\nfield terminal: string\nfield at: timestamp\n\
rule terminal_cap when kind == txn => limit 30 per 1h by terminal\n";

/// Builds message `i` of the direct Redis step as a typed record, from one
/// parsed template per kind (cheaper than parsing JSON in the timed loop).
struct StepRecords {
    /// What the table calls the policy.
    label: &'static str,
    policy: NotifyPolicy,
    templates: Vec<Vec<Value>>,
    /// The indices of the fields `merchant`, `terminal`, `txn_id`, `msg_id`
    /// and `at`, where the policy has them.
    fields: [Option<usize>; 5],
}

impl StepRecords {
    /// `merchant_messages.toll` on the notification stream of the HTTP
    /// workloads, named `merchant_messages_TAG`; without its `message id`
    /// line when `ids` is false (records are then decided as new, and no
    /// message id is kept in Redis).
    fn merchant_messages(tag: &str, ids: bool) -> StepRecords {
        let mut text =
            std::fs::read_to_string(root().join("policies/notifications/merchant_messages.toll"))
                .unwrap();
        if !ids {
            let with = text.clone();
            text = text.replacen("\nmessage id msg_id\n", "\n", 1);
            assert_ne!(
                text, with,
                "merchant_messages.toll has no `message id` line"
            );
        }
        let lines = (0..5)
            .map(|i| {
                let mut line = String::new();
                message(i, &mut line);
                line
            })
            .collect::<Vec<_>>();
        let label = if ids {
            "merchant_messages"
        } else {
            "merchant_messages, no message ids"
        };
        StepRecords::new(label, tag, &text, &lines)
    }

    /// [`ONE_CAP`] on the same terminals and times, named `one_cap_TAG`.
    fn one_cap(tag: &str) -> StepRecords {
        let line = format!(
            r#"{{"kind":"txn","terminal":"t0","at":"{}"}}"#,
            chrono::DateTime::from_timestamp_millis(BASE_MS)
                .unwrap()
                .to_rfc3339()
        );
        StepRecords::new("one cap", tag, ONE_CAP, &[line])
    }

    /// The policy `text`, its name suffixed with `_TAG` (so that each
    /// client configuration and each side has keys of its own in Redis:
    /// the one-instance configuration is then the only writer of its keys,
    /// as one service instance would be), on records made from `lines`.
    fn new(label: &'static str, tag: &str, text: &str, lines: &[String]) -> StepRecords {
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("policy "))
            .and_then(|t| t.split_whitespace().next())
            .unwrap();
        let text = text.replacen(
            &format!("policy {name} "),
            &format!("policy {name}_{tag} "),
            1,
        );
        let text = text.as_str();
        let options = tollgate::pipeline::Options::default();
        let policy = match tollgate::pipeline::compile(text, &options).map(|out| out.compiled) {
            Ok(tollgate_runtime::artifact::Compiled::Notifications(p)) => p,
            other => panic!("not a notifications policy: {other:?}"),
        };
        let templates = lines
            .iter()
            .map(|line| tollgate::record::from_json(line, policy.fields()).unwrap())
            .collect();
        let at = |name: &str| policy.fields().iter().position(|f| f.name == name);
        let fields = [
            at("merchant"),
            at("terminal"),
            at("txn_id"),
            at("msg_id"),
            at("at"),
        ];
        StepRecords {
            label,
            policy,
            templates,
            fields,
        }
    }

    /// Message `i`, as `message` writes it (the fields the policy has).
    fn record(&self, i: u64) -> Vec<Value> {
        let mut r = self.templates[(i % self.templates.len() as u64) as usize].clone();
        let [m, t, x, g, at] = self.fields;
        let mut set = |f: Option<usize>, v: Value| {
            if let Some(f) = f {
                r[f] = v;
            }
        };
        set(m, Value::Str(format!("m{}", i % MERCHANTS)));
        set(t, Value::Str(format!("t{}", (i * 7919) % TERMINALS)));
        set(x, Value::Str(format!("x{i}")));
        set(g, Value::Str(format!("g{i}")));
        set(
            at,
            Value::Time {
                unix_ms: BASE_MS + i as i64,
                offset_secs: 0,
            },
        );
        r
    }
}

/// One side of the Redis step comparison.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Tollgate,
    /// Tollgate's step with the same Redis commands but none of its checks
    /// (`RedisState::decide_unchecked`): the least an exact step costs.
    Unchecked,
    Gcra,
}

/// The clients of one configuration of the Redis step comparison, kept
/// from round to round: Tollgate's backends (each with its connection and
/// what it knows of the keys) and connections for the GCRA script.
struct Clients {
    states: Vec<Arc<RedisState>>,
    conns: Vec<redis::aio::ConnectionManager>,
}

impl Clients {
    async fn new(url: &str, n: usize) -> Clients {
        let client = redis::Client::open(url).unwrap();
        let mut states = Vec::new();
        let mut conns = Vec::new();
        for _ in 0..n {
            states.push(Arc::new(
                RedisState::new(url, Duration::from_secs(5), FailMode::Open).unwrap(),
            ));
            conns.push(
                redis::aio::ConnectionManager::new(client.clone())
                    .await
                    .unwrap(),
            );
        }
        Clients { states, conns }
    }
}

/// What one side of the Redis step comparison measured.
struct Step {
    /// Calls per second.
    rate: f64,
    /// CPU µs per call of redis-server, and of this process (the client).
    redis_us: f64,
    client_us: f64,
    /// Redis's own time in `EVALSHA` per call (`INFO commandstats`: the
    /// script's run, without reading the request and writing the answer),
    /// and the scripts run per call (more than 1 when a decision retried).
    script_us: f64,
    scripts_per_call: f64,
}

/// What a round of the Redis step comparison runs against.
struct Target<'a> {
    /// redis-server and its process id.
    redis: &'a Redis,
    pid: String,
    /// The clients of one configuration.
    clients: &'a Clients,
    /// How long each side runs.
    secs: f64,
}

/// Runs 50 tasks calling one side's step for `target.secs`, task `i`
/// through client `i` modulo their number, on records `recs` numbered
/// from `next`.
async fn step_round(
    target: &Target<'_>,
    side: Side,
    recs: &Arc<StepRecords>,
    next: &Arc<AtomicU64>,
) -> Step {
    target.redis.script_stats(true);
    let (r0, c0) = (cpu_secs(&target.pid), cpu_secs("self"));
    let calls = step_calls(target.clients, side, 50, target.secs, recs, next).await;
    let (r1, c1) = (cpu_secs(&target.pid), cpu_secs("self"));
    let (scripts, script_usec) = target.redis.script_stats(false);
    Step {
        rate: calls as f64 / target.secs,
        redis_us: (r1 - r0) * 1e6 / calls as f64,
        client_us: (c1 - c0) * 1e6 / calls as f64,
        script_us: script_usec / calls as f64,
        scripts_per_call: scripts as f64 / calls as f64,
    }
}

/// The calls `tasks` tasks made of one side's step in `secs`. The GCRA
/// script is called as Tollgate's is: an `EVALSHA` command built in one
/// buffer (the script loaded before the run).
async fn step_calls(
    clients: &Clients,
    side: Side,
    tasks: usize,
    secs: f64,
    recs: &Arc<StepRecords>,
    next: &Arc<AtomicU64>,
) -> u64 {
    let script = redis::Script::new(GCRA);
    let mut conn = clients.conns[0].clone();
    let _: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(GCRA)
        .query_async(&mut conn)
        .await
        .unwrap();
    let hash: Arc<str> = script.get_hash().into();
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let mut handles = Vec::new();
    for t in 0..tasks {
        let state = clients.states[t % clients.states.len()].clone();
        let mut conn = clients.conns[t % clients.conns.len()].clone();
        let (recs, next, hash) = (recs.clone(), next.clone(), hash.clone());
        handles.push(tokio::spawn(async move {
            let mut done = 0u64;
            let mut key = String::new();
            while Instant::now() < until {
                let i = next.fetch_add(1, Ordering::Relaxed);
                match side {
                    Side::Tollgate | Side::Unchecked => {
                        let record = recs.record(i);
                        let line = if side == Side::Tollgate {
                            state.decide(&recs.policy, &record, false).await
                        } else {
                            state.decide_unchecked(&recs.policy, &record).await
                        };
                        let line = line.unwrap().unwrap();
                        assert!(line.get("decision").is_some(), "{line}");
                    }
                    Side::Gcra => {
                        key.clear();
                        let _ = write!(
                            key,
                            "gcra:{{{}}}:t{}",
                            recs.policy.name(),
                            (i * 7919) % TERMINALS
                        );
                        let _: i64 = redis::cmd("EVALSHA")
                            .arg(&*hash)
                            .arg(1)
                            .arg(&key)
                            .arg(BASE_MS + i as i64)
                            .arg(120_000)
                            .arg(29 * 120_000)
                            .query_async(&mut conn)
                            .await
                            .unwrap();
                    }
                }
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await.unwrap();
    }
    total
}

fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve_load");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for p in [
        "policies/fees/acquirer_2026.toll",
        "policies/notifications/merchant_messages.toll",
    ] {
        let from = root().join(p);
        std::fs::copy(&from, dir.join(from.file_name().unwrap())).unwrap();
    }
    dir
}

fn env_number(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo test --benches` runs benches once as a test: nothing to check.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let secs = env_number("TOLLGATE_BENCH_SECS", 5.0);
    let rounds = env_number("TOLLGATE_BENCH_ROUNDS", 3.0) as usize;
    // `http` or `step`: only that part.
    let only = std::env::var("TOLLGATE_BENCH_ONLY").unwrap_or_default();
    let redis = Redis::start();
    let dir = scratch();
    let exe = env!("CARGO_BIN_EXE_tollgate");
    let memory = Server::start(exe, root(), &dir, &["--no-watch"]);
    let shared = Server::start(exe, root(), &dir, &["--no-watch", "--state", &redis.url()]);
    let (memory_addr, shared_addr): (SocketAddr, SocketAddr) =
        (memory.addr.parse().unwrap(), shared.addr.parse().unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fees = Load::Fees(Arc::new(transactions()));
    let messages = Load::Messages(Arc::new(AtomicU64::new(0)));
    runtime.block_on(async {
        println!("load average at start: {}", loadavg());
        println!();
        println!("| workload | connections | records per request | requests/s | records/s | p50 ms | p99 ms | outcomes | load (1, 5, 15 min) |");
        println!("|---|---|---|---|---|---|---|---|---|");
        if only != "step" {
            let fee_path = "/v1/policies/acquirer_2026/eval";
            let msg_path = "/v1/policies/merchant_messages/eval";
            http_row("fee quotes", memory_addr, fee_path, &fees, 64, 1, secs).await;
            http_row("fee quotes", memory_addr, fee_path, &fees, 8, 100, secs).await;
            http_row("notifications, memory", memory_addr, msg_path, &messages, 64, 1, secs).await;
            http_row("notifications, memory", memory_addr, msg_path, &messages, 8, 100, secs).await;
            http_row("notifications, Redis", shared_addr, msg_path, &messages, 64, 1, secs).await;
            http_row("notifications, Redis", shared_addr, msg_path, &messages, 8, 100, secs).await;
        }
        if only == "http" {
            return;
        }

        // The state step on its own, sides interleaved round by round.
        redis.flush();
        println!();
        println!("| round | clients | Tollgate's policy | Tollgate step/s | unchecked step/s | GCRA calls/s | ratio (Tollgate, unchecked) | Redis CPU µs per call (Tollgate / unchecked / GCRA) | EVALSHA µs per call (Tollgate / unchecked / GCRA) | scripts per Tollgate step | client CPU µs per call (Tollgate / unchecked / GCRA) | load (1, 5, 15 min) |");
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
        let next = Arc::new(AtomicU64::new(0));
        let gnext = Arc::new(AtomicU64::new(0));
        let configurations = [
            ("1 client shared by 50 tasks (one service instance)", Clients::new(&redis.url(), 1).await),
            ("50 clients, one per task (50 instances)", Clients::new(&redis.url(), 50).await),
        ];
        for r in 1..=rounds {
            for (c, (name, clients)) in configurations.iter().enumerate() {
                let tag = format!("c{c}");
                // Each workload twice: for the step, and (tagged `u`) for
                // its unchecked commands, on keys of their own.
                let workloads = |tag: &str| {
                    [
                        Arc::new(StepRecords::merchant_messages(tag, true)),
                        Arc::new(StepRecords::merchant_messages(&format!("{tag}n"), false)),
                        Arc::new(StepRecords::one_cap(tag)),
                    ]
                };
                let unchecked = workloads(&format!("{tag}u"));
                for (recs, urecs) in workloads(&tag).iter().zip(&unchecked) {
                    let target = Target {
                        redis: &redis,
                        pid: redis.pid().unwrap().to_string(),
                        clients,
                        secs,
                    };
                    let t = step_round(&target, Side::Tollgate, recs, &next).await;
                    let u = step_round(&target, Side::Unchecked, urecs, &next).await;
                    let g = step_round(&target, Side::Gcra, recs, &gnext).await;
                    println!(
                        "| {r} | {name} | {} | {:.0} | {:.0} | {:.0} | {:.2}×, {:.2}× | {:.1} / {:.1} / {:.1} | {:.1} / {:.1} / {:.1} | {:.3} | {:.1} / {:.1} / {:.1} | {} |",
                        recs.label,
                        t.rate,
                        u.rate,
                        g.rate,
                        t.rate / g.rate,
                        u.rate / g.rate,
                        t.redis_us,
                        u.redis_us,
                        g.redis_us,
                        t.script_us,
                        u.script_us,
                        g.script_us,
                        t.scripts_per_call,
                        t.client_us,
                        u.client_us,
                        g.client_us,
                        loadavg()
                    );
                }
            }
        }
    });
}
