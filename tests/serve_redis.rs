//! `tollgate serve --state redis://...`: each test starts its own
//! redis-server on a free loopback port (no persistence) and services on
//! other ports, talks to them over HTTP, and stops them all.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::root;
#[path = "common/late_streams.rs"]
mod late_streams;
#[path = "common/services.rs"]
mod services;

use services::{agent, Redis, Server};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Starts `tollgate serve --policies DIR --state REDIS` with `args`.
fn shared(dir: &Path, redis: &Redis, args: &[&str]) -> Server {
    let url = redis.url();
    let mut all = vec!["--state", url.as_str()];
    all.extend_from_slice(args);
    Server::start(env!("CARGO_BIN_EXE_tollgate"), root(), dir, &all)
}

/// Posts `body` and returns the status and the body of the answer.
fn post(agent: &ureq::Agent, url: &str, content_type: &str, body: &[u8]) -> (u16, String) {
    let mut r = agent
        .post(url)
        .header("Content-Type", content_type)
        .send(body)
        .unwrap();
    let text = r.body_mut().read_to_string().unwrap();
    (r.status().as_u16(), text)
}

/// A scratch directory holding a copy of `policy`.
fn policy_dir(name: &str, policy: &str) -> PathBuf {
    let dir = common::scratch(name);
    let from = root().join(policy);
    std::fs::copy(&from, dir.join(from.file_name().unwrap())).unwrap();
    dir
}

/// The policy name on a source's `policy NAME version N` line.
fn policy_name(file: &str) -> String {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let line = text.lines().find(|l| l.starts_with("policy ")).unwrap();
    line.split_whitespace().nth(1).unwrap().to_string()
}

const MERCHANT: &str = "policies/notifications/merchant_messages.toll";

#[test]
fn every_notification_scenario_gets_eval_s_lines_through_redis_and_two_instances() {
    let redis = Redis::start();
    let mut files: Vec<_> = std::fs::read_dir(root().join("tests/notifications"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let agent = agent();
    for file in files {
        let all: Vec<serde_json::Value> = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let policy = all
            .first()
            .and_then(|h| h.get("policy"))
            .and_then(|p| p.as_str())
            .unwrap_or(MERCHANT)
            .to_string();
        let records: Vec<String> = all
            .iter()
            .filter_map(|v| v.get("record"))
            .map(|r| format!("{r}\n"))
            .collect();
        let input: String = records.concat();
        let out = common::tollgate_stdin(&["eval", &policy], &input);
        let expected = String::from_utf8(out.stdout).unwrap();
        assert_eq!(expected.lines().count(), records.len());
        let name = policy_name(&policy);
        let scenario = file.file_stem().unwrap().to_str().unwrap().to_string();
        let dir = policy_dir(&scenario, &policy);
        let a = shared(&dir, &redis, &[]);
        let b = shared(&dir, &redis, &[]);
        let path = format!("/v1/policies/{name}/eval");
        // The whole stream as JSON Lines to one instance.
        redis.flush();
        let (status, got) = post(
            &agent,
            &a.url(&path),
            "application/x-ndjson",
            input.as_bytes(),
        );
        assert_eq!(status, 200, "{scenario}");
        assert_eq!(got, expected, "{scenario}: JSON Lines");
        // One request per record, in order, alternating between the two
        // instances: the state they share decides as one.
        redis.flush();
        for (i, (record, line)) in records.iter().zip(expected.lines()).enumerate() {
            let url = if i % 2 == 0 {
                a.url(&path)
            } else {
                b.url(&path)
            };
            let (_, got) = post(&agent, &url, "application/json", record.as_bytes());
            let line = line.replace(&format!("\"record\":{}}}", i + 1), "\"record\":1}");
            assert_eq!(got.trim_end(), line, "{scenario}: {record}");
        }
    }
}

#[test]
fn caps_and_dedup_hold_across_four_instances_sharing_redis() {
    let redis = Redis::start();
    let dir = policy_dir("concurrency", MERCHANT);
    let servers: Vec<Server> = (0..4).map(|_| shared(&dir, &redis, &[])).collect();
    let urls: Vec<String> = servers
        .iter()
        .map(|s| s.url("/v1/policies/merchant_messages/eval"))
        .collect();
    let threads = 32;
    let per_thread = 20;
    // Two terminals, distinct transactions within half an hour, in bursts
    // of 10 to every instance at once: `terminal_cap` (30 per hour)
    // delivers exactly 30 for each.
    let delivered = Arc::new(Mutex::new([0usize; 2]));
    let mut handles = Vec::new();
    for t in 0..threads {
        let url = urls[t % urls.len()].clone();
        let delivered = delivered.clone();
        handles.push(std::thread::spawn(move || {
            let agent = agent();
            for batch in 0..per_thread / 10 {
                let mut body = String::new();
                for i in 0..10 {
                    let n = t * per_thread + batch * 10 + i;
                    let terminal = n % 2;
                    body.push_str(&format!(
                        "{{\"kind\":\"txn_success\",\"merchant\":\"m\",\"terminal\":\"cap{terminal}\",\"txn_id\":\"c{n}\",\"at\":\"2026-11-25T14:{:02}:{:02}+08:00\"}}\n",
                        n % 30,
                        n % 60
                    ));
                }
                let (status, got) = post(&agent, &url, "application/x-ndjson", body.as_bytes());
                assert_eq!(status, 200);
                for (line, i) in got.lines().zip(0..) {
                    let v: serde_json::Value = serde_json::from_str(line).unwrap();
                    assert!(v.get("degraded").is_none(), "{line}");
                    let terminal = (t * per_thread + batch * 10 + i) % 2;
                    match v["decision"].as_str() {
                        Some("deliver") => delivered.lock().unwrap()[terminal] += 1,
                        Some("suppress") => assert_eq!(v["rule"], "terminal_cap", "{line}"),
                        _ => panic!("{line}"),
                    }
                }
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*delivered.lock().unwrap(), [30, 30]);
    // Dedup and message ids: each transaction notice sent by every thread
    // at once through every instance, one terminal per transaction, with
    // its message id: one delivery each, and every other answer is either
    // `txn_dedup`'s suppression or a repeat of that delivery.
    let txns = 20;
    let fresh = Arc::new(Mutex::new(vec![0usize; txns]));
    let mut handles = Vec::new();
    for t in 0..threads {
        let url = urls[t % urls.len()].clone();
        let fresh = fresh.clone();
        handles.push(std::thread::spawn(move || {
            let agent = agent();
            for x in 0..txns {
                let id = if t % 2 == 0 { format!("\"msg_id\":\"x{x}\",") } else { String::new() };
                let body = format!(
                    "{{\"kind\":\"txn_failure\",\"merchant\":\"m\",\"terminal\":\"d{x}\",\"txn_id\":\"x{x}\",{id}\"at\":\"2026-11-25T15:00:00+08:00\"}}"
                );
                let (status, got) = post(&agent, &url, "application/json", body.as_bytes());
                assert_eq!(status, 200);
                let v: serde_json::Value = serde_json::from_str(&got).unwrap();
                if v["decision"] == "deliver" {
                    if v.get("repeat").is_none() {
                        fresh.lock().unwrap()[x] += 1;
                    }
                } else {
                    assert_eq!(v["rule"], "txn_dedup", "{got}");
                }
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*fresh.lock().unwrap(), vec![1; txns]);
}

#[test]
fn redis_stopped_mid_run_follows_each_fail_mode_and_the_service_recovers() {
    let mut redis = Redis::start();
    let dir = policy_dir("outage", MERCHANT);
    let open = shared(&dir, &redis, &["--redis-timeout-ms", "200"]);
    let closed = shared(
        &dir,
        &redis,
        &[
            "--redis-timeout-ms",
            "200",
            "--fail-closed",
            "merchant_messages",
        ],
    );
    // Each names its backend and fail modes (without credentials).
    let lister = agent();
    let modes = [
        (&open, "open", vec![]),
        (&closed, "closed", vec!["merchant_messages"]),
    ];
    for (server, mode, named_closed) in modes {
        let mut r = lister.get(&server.url("/v1/policies")).call().unwrap();
        let listing: serde_json::Value =
            serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        let state = &listing["state"];
        assert_eq!(state["backend"], "redis", "{listing}");
        assert_eq!(state["server"], format!("127.0.0.1:{}/0", redis.port));
        assert_eq!(state["timeout_ms"], 200);
        assert_eq!(state["fail_mode"], "open");
        assert_eq!(state["fail_closed"], serde_json::json!(named_closed));
        assert_eq!(listing["policies"][0]["fail_mode"], mode, "{listing}");
    }
    let path = "/v1/policies/merchant_messages/eval";
    let servers = [open.url(path), closed.url(path)];
    // Clients keep sending network-status messages (one per 15 minutes per
    // terminal) to both instances all along.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for c in 0..4 {
        let url = servers[c % 2].clone();
        let (stop, answered) = (stop.clone(), answered.clone());
        clients.push(std::thread::spawn(move || {
            let agent = agent();
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let body = format!(
                    "{{\"kind\":\"network_status\",\"merchant\":\"m\",\"terminal\":\"bg{c}-{n}\",\"at\":\"2026-11-25T14:00:00+08:00\"}}"
                );
                let (status, got) = post(&agent, &url, "application/json", body.as_bytes());
                assert_eq!(status, 200, "{got}");
                let v: serde_json::Value = serde_json::from_str(&got).unwrap();
                assert!(v["decision"].is_string(), "{got}");
                answered.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }));
    }
    let agent = agent();
    let send = |url: &str, terminal: &str, minute: u32| -> serde_json::Value {
        let body = format!(
            "{{\"kind\":\"network_status\",\"merchant\":\"m\",\"terminal\":\"{terminal}\",\"at\":\"2026-11-25T14:{minute:02}:00+08:00\"}}"
        );
        let (status, got) = post(&agent, url, "application/json", body.as_bytes());
        assert_eq!(status, 200, "{got}");
        serde_json::from_str(&got).unwrap()
    };
    // With Redis up, the cap holds across the two instances.
    assert_eq!(send(&servers[0], "t", 0)["decision"], "deliver");
    assert_eq!(send(&servers[1], "t", 1)["decision"], "suppress");
    redis.stop();
    // Down: open delivers, closed suppresses, both marked degraded.
    let v = send(&servers[0], "t", 2);
    assert_eq!(v["decision"], "deliver", "{v}");
    assert_eq!(v["degraded"], true, "{v}");
    let v = send(&servers[1], "u", 2);
    assert_eq!(v["decision"], "suppress", "{v}");
    assert_eq!(v["reason"], "state_unavailable", "{v}");
    assert_eq!(v["degraded"], true, "{v}");
    // A security message is always delivered: without a message id it
    // needs no state; with one, failing closed still delivers it.
    for id in ["", r#""msg_id":"s1","#] {
        let security = format!(
            r#"{{"kind":"security","merchant":"m","terminal":"t",{id}"at":"2026-11-25T14:03:00+08:00"}}"#
        );
        let (_, got) = post(&agent, &servers[1], "application/json", security.as_bytes());
        let v: serde_json::Value = serde_json::from_str(&got).unwrap();
        assert_eq!(v["decision"], "deliver", "{v}");
        assert_eq!(v.get("degraded").is_some(), !id.is_empty(), "{v}");
    }
    std::thread::sleep(Duration::from_millis(500));
    redis.restart();
    // Back: both instances recover by themselves, and share state again.
    let deadline = Instant::now() + Duration::from_secs(30);
    for (i, url) in servers.iter().enumerate() {
        loop {
            let v = send(url, &format!("back{i}"), 10);
            if v.get("degraded").is_none() {
                assert_eq!(v["decision"], "deliver", "{v}");
                break;
            }
            assert!(Instant::now() < deadline, "no recovery: {v}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    assert_eq!(send(&servers[1], "back0", 11)["decision"], "suppress");
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    assert!(answered.load(Ordering::Relaxed) > 0);
    // The failures are counted by fail mode.
    let metrics = |s: &Server| {
        let mut r = agent.get(&s.url("/metrics")).call().unwrap();
        r.body_mut().read_to_string().unwrap()
    };
    let m = metrics(&open);
    assert!(
        m.contains("tollgate_state_failures_total{policy=\"merchant_messages\",mode=\"open\"}"),
        "{m}"
    );
    let m = metrics(&closed);
    assert!(
        m.contains("tollgate_state_failures_total{policy=\"merchant_messages\",mode=\"closed\"}"),
        "{m}"
    );
    // Nothing panicked: both are still running.
    let mut open = open;
    let mut closed = closed;
    assert!(open.child.try_wait().unwrap().is_none());
    assert!(closed.child.try_wait().unwrap().is_none());
}

/// Once Redis answers again, the next decision uses it: the first call
/// after a restart meets the connection the restart broke (or the refusal
/// of a reconnection tried while Redis was down), and is sent once more
/// on a new connection instead of failing the decision. Both when no
/// decision was made while Redis was down and when some were.
#[test]
fn the_first_decision_after_redis_restarts_is_not_degraded() {
    let mut redis = Redis::start();
    let dir = policy_dir("restart", MERCHANT);
    let server = shared(
        &dir,
        &redis,
        &[
            "--redis-timeout-ms",
            "1000",
            "--fail-closed",
            "merchant_messages",
        ],
    );
    let url = server.url("/v1/policies/merchant_messages/eval");
    let agent = agent();
    let send = |terminal: &str| -> serde_json::Value {
        let body = format!(
            r#"{{"kind":"network_status","merchant":"m","terminal":"{terminal}","at":"2026-11-25T14:00:00+08:00"}}"#
        );
        let (status, got) = post(&agent, &url, "application/json", body.as_bytes());
        assert_eq!(status, 200, "{got}");
        serde_json::from_str(&got).unwrap()
    };
    assert_eq!(send("a")["decision"], "deliver");
    // Restarted between two decisions.
    redis.stop();
    redis.restart();
    std::thread::sleep(Duration::from_millis(300));
    let v = send("b");
    assert_eq!(v["decision"], "deliver", "{v}");
    assert!(v.get("degraded").is_none(), "{v}");
    // Decisions made while it was down are degraded; the first one after
    // it is back is not.
    redis.stop();
    for t in ["c", "d"] {
        let v = send(t);
        assert_eq!(v["degraded"], true, "{v}");
        std::thread::sleep(Duration::from_millis(200));
    }
    redis.restart();
    std::thread::sleep(Duration::from_millis(300));
    let v = send("e");
    assert_eq!(v["decision"], "deliver", "{v}");
    assert!(v.get("degraded").is_none(), "{v}");
}

/// A Redis that refuses the connection is told as such in each degraded
/// line, not as one that did not answer in time (a retry's delay used to
/// outlast the timeout and hide the refusal), and each fail mode holds.
#[test]
fn a_refused_connection_is_told_as_refused_and_follows_the_fail_mode() {
    // A port just freed: nothing listens there, the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let dir = policy_dir("refused", MERCHANT);
    let agent = agent();
    for (timeout, mode) in [("100", "open"), ("250", "closed")] {
        let server = Server::start(
            env!("CARGO_BIN_EXE_tollgate"),
            root(),
            &dir,
            &[
                "--state",
                &url,
                "--redis-timeout-ms",
                timeout,
                "--fail-mode",
                mode,
            ],
        );
        let url = server.url("/v1/policies/merchant_messages/eval");
        for terminal in ["t1", "t2"] {
            let body = format!(
                "{{\"kind\":\"network_status\",\"merchant\":\"m\",\"terminal\":\"{terminal}\",\"at\":\"2026-11-25T14:00:00+08:00\"}}"
            );
            let (status, got) = post(&agent, &url, "application/json", body.as_bytes());
            assert_eq!(status, 200, "{got}");
            let v: serde_json::Value = serde_json::from_str(&got).unwrap();
            assert_eq!(v["degraded"], true, "{v}");
            let why = v["state_error"].as_str().unwrap();
            assert!(
                why.starts_with(&format!("Redis at 127.0.0.1:{port} refused the connection")),
                "{mode}: {why}"
            );
            match mode {
                "open" => assert_eq!(v["decision"], "deliver", "{v}"),
                _ => {
                    assert_eq!(v["decision"], "suppress", "{v}");
                    assert_eq!(v["reason"], "state_unavailable", "{v}");
                }
            }
        }
    }
}

/// Decides `records` one after the other through `RedisState::decide`,
/// record `i` by instance `pick(i)` of `instances` (each with its own
/// connection and its own belief of what the keys hold), and returns each
/// answer as `eval` prints it: the line, or the error's message.
fn decide_through(
    redis: &Redis,
    policy: &tollgate_runtime::notify::NotifyPolicy,
    records: &[Vec<tollgate_runtime::value::Value>],
    instances: usize,
    pick: impl Fn(usize) -> usize,
) -> Vec<String> {
    use tollgate::serve::redis_state::{FailMode, RedisState};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let states: Vec<RedisState> = (0..instances)
        .map(|_| RedisState::new(&redis.url(), Duration::from_secs(10), FailMode::Closed).unwrap())
        .collect();
    runtime.block_on(async {
        let mut out = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let state = &states[pick(i) % instances];
            let answer = state.decide(policy, record, false).await.unwrap();
            out.push(match answer {
                Ok(line) => line.to_string(),
                Err(message) => message,
            });
        }
        out
    })
}

/// What `tollgate eval` prints for each line of `stream` under the policy
/// `text`: the line, or an error line's message.
fn eval_answers(name: &str, text: &str, stream: &[String]) -> Vec<String> {
    let dir = common::scratch(name);
    let file = dir.join("policy.toll");
    std::fs::write(&file, text).unwrap();
    let input: String = stream.iter().map(|l| format!("{l}\n")).collect();
    let out = common::tollgate_stdin(&["eval", file.to_str().unwrap()], &input);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            match v.get("error") {
                Some(e) => e.as_str().unwrap().to_string(),
                None => l.to_string(),
            }
        })
        .collect()
}

/// A shuffled stream (late records, bursts, retried message ids, records
/// too late, stamps outside the zone's span) decided record by record
/// through the Redis step, by instances picked at random (so that what an
/// instance believes a key holds is often stale, and the script must find
/// it changed and the decision be made again), gets exactly `eval`'s
/// answers: the Redis step decides as the memory store does. `sorted`:
/// the stream (none too late) sorted by its stamps, in order but for
/// retried message ids and stamps outside the zone's span, where a stale
/// belief of a cap's key is met by the script deciding whether the
/// decision stands on what the key holds and writing the delivery itself.
fn redis_step_decides_as_eval(seed: u64, instances: usize, redis: &Redis, sorted: bool) {
    let zone = "Asia/Shanghai";
    let (_, compiled) = late_streams::late_policy(zone);
    let (too_late, retries) = if sorted { (0, 5) } else { (5, 30) };
    let mut json = late_streams::shuffled_json(seed, 300, 1_795_536_000_000, 10, too_late, retries);
    if sorted {
        json.sort_by_key(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            chrono::DateTime::parse_from_rfc3339(v["at"].as_str().unwrap())
                .unwrap()
                .timestamp_millis()
        });
    }
    let records: Vec<_> = json
        .iter()
        .map(|l| tollgate::record::from_json(l, compiled.fields()).unwrap())
        .collect();
    // A scratch directory of each test's own: the two run at once.
    let scratch = if sorted {
        "redis_step_sorted"
    } else {
        "redis_step"
    };
    let expected = eval_answers(scratch, &late_streams::late_policy_text(zone), &json);
    assert_eq!(expected.len(), records.len());
    redis.flush();
    let mut rng = tollgate_oracle::generate::Rng::new(seed ^ 0x5eed);
    let picks: Vec<usize> = (0..records.len()).map(|_| rng.below(instances)).collect();
    let got = decide_through(redis, &compiled, &records, instances, |i| picks[i]);
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "seed {seed}, record {i}: {}", json[i]);
    }
}

/// [`redis_step_decides_as_eval`] on random seeds, through `instances`.
fn redis_step_cases(instances: std::ops::Range<usize>, sorted: bool) {
    let redis = Redis::start();
    let config = proptest::test_runner::Config {
        cases: common::cases(12),
        ..Default::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    runner
        .run(&(proptest::num::u64::ANY, instances), |(seed, n)| {
            redis_step_decides_as_eval(seed, n, &redis, sorted);
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_redis_step_decides_shuffled_streams_as_eval_through_one_to_three_instances() {
    redis_step_cases(1..4, false);
}

#[test]
fn the_redis_step_decides_sorted_streams_as_eval_through_two_to_four_instances() {
    redis_step_cases(2..5, true);
}

/// `EVALSHA` calls that ran the script since Redis's statistics were last
/// reset; `reset` resets them.
fn scripts_run(redis: &Redis, reset: bool) -> u64 {
    redis.script_stats(reset).0
}

/// A policy of one cap, `limit LIMIT per 1h by terminal`.
fn one_cap(limit: u32) -> String {
    format!(
        "policy one_cap version 1\nkind notifications\ntimezone \"Asia/Shanghai\"\n\
         field kind: enum {{ txn }}\nfield terminal: string\nfield at: timestamp\n\
         rule terminal_cap when kind == txn => limit {limit} per 1h by terminal\n"
    )
}

/// A record of [`one_cap`] for `terminal`, `minute` minutes after 09:00.
fn one_cap_record(terminal: usize, minute: usize) -> String {
    format!(
        "{{\"kind\":\"txn\",\"terminal\":\"t{terminal}\",\"at\":\"2026-11-25T09:{minute:02}:00+08:00\"}}"
    )
}

/// Two instances take turns on one terminal, in order: each time, the
/// cap's key holds a delivery the deciding instance has not seen, and the
/// delivery still takes one script (the script finds the cap admits it on
/// what the key holds); once the cap is reached on a value the instance
/// has not seen, the decision is refused and made again (two scripts),
/// and answers exactly as `eval` does.
#[test]
fn a_cap_s_key_another_instance_changed_takes_a_delivery_in_one_script() {
    let redis = Redis::start();
    let text = one_cap(4);
    let (_, compiled) = common::notifications(&text);
    let json: Vec<String> = (0..6).map(|m| one_cap_record(0, m)).collect();
    let records: Vec<_> = json
        .iter()
        .map(|l| tollgate::record::from_json(l, compiled.fields()).unwrap())
        .collect();
    let expected = eval_answers("one_cap_turns", &text, &json);
    scripts_run(&redis, true);
    let got = decide_through(&redis, &compiled, &records[..4], 2, |i| i % 2);
    assert_eq!(got, expected[..4], "four deliveries");
    assert!(got.iter().all(|l| l.contains("deliver")), "{got:?}");
    assert_eq!(scripts_run(&redis, false), 4, "one script a delivery");
    // Fresh instances (believing the key empty) meet the full cap: the
    // decision cannot stand, and is made again on what the key holds.
    scripts_run(&redis, true);
    let got = decide_through(&redis, &compiled, &records[4..], 2, |i| i % 2);
    assert_eq!(got, expected[4..]);
    assert!(got.iter().all(|l| l.contains("suppress")), "{got:?}");
    assert_eq!(scripts_run(&redis, false), 4, "two scripts a suppression");
}

/// In-order streams that reach a cap again and again (one cap of 3 per
/// hour, two terminals, a record every 0 to 20 minutes), decided through
/// two to four instances picked at random: where an instance's belief is
/// stale, the decision stands or is made again exactly where `eval`'s
/// answers say, one over the cap never delivered.
#[test]
fn in_order_streams_that_reach_a_cap_decide_as_eval_through_two_to_four_instances() {
    let redis = Redis::start();
    let text = one_cap(3);
    let (_, compiled) = common::notifications(&text);
    let config = proptest::test_runner::Config {
        cases: common::cases(12),
        ..Default::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    runner
        .run(
            &(proptest::num::u64::ANY, 2usize..5),
            |(seed, instances)| {
                let mut rng = tollgate_oracle::generate::Rng::new(seed);
                let mut at = 1_795_568_400_000i64;
                let json: Vec<String> = (0..200)
                    .map(|_| {
                        at += rng.below(20 * 60_000) as i64;
                        let stamp = chrono::DateTime::from_timestamp_millis(at)
                            .unwrap()
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                        format!(
                            "{{\"kind\":\"txn\",\"terminal\":\"t{}\",\"at\":\"{stamp}\"}}",
                            rng.below(2)
                        )
                    })
                    .collect();
                let records: Vec<_> = json
                    .iter()
                    .map(|l| tollgate::record::from_json(l, compiled.fields()).unwrap())
                    .collect();
                let expected = eval_answers("one_cap_in_order", &text, &json);
                assert!(expected.iter().any(|l| l.contains("cap reached")));
                redis.flush();
                let picks: Vec<usize> = (0..json.len()).map(|_| rng.below(instances)).collect();
                let got = decide_through(&redis, &compiled, &records, instances, |i| picks[i]);
                for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                    assert_eq!(g, e, "seed {seed}, record {i}: {}", json[i]);
                }
                Ok(())
            },
        )
        .unwrap();
}

/// `--redis-known-keys N` reaches the service's Redis state and bounds
/// what it remembers: listed under `state`, and an instance that can
/// remember 32 caps' keys, deciding 200 terminals twice, finds most of
/// them forgotten on the second pass (each such suppression costs a
/// second script), where the default remembers them all (one script each).
#[test]
fn redis_known_keys_reaches_the_state_and_bounds_it() {
    let redis = Redis::start();
    let dir = common::scratch("known_keys");
    std::fs::write(dir.join("one_cap.toll"), one_cap(1)).unwrap();
    let agent = agent();
    let terminals = 200;
    let pass = |minute: usize| -> String {
        (0..terminals)
            .map(|t| format!("{}\n", one_cap_record(t, minute)))
            .collect()
    };
    let mut scripts = Vec::new();
    for args in [&["--redis-known-keys", "32"][..], &[][..]] {
        redis.flush();
        let server = shared(&dir, &redis, args);
        let mut listing = agent.get(&server.url("/v1/policies")).call().unwrap();
        let listing: serde_json::Value =
            serde_json::from_str(&listing.body_mut().read_to_string().unwrap()).unwrap();
        let bound = if args.is_empty() { 524_288 } else { 32 };
        assert_eq!(listing["state"]["known_keys"], bound, "{listing}");
        let url = server.url("/v1/policies/one_cap/eval");
        let (status, first) = post(&agent, &url, "application/x-ndjson", pass(0).as_bytes());
        assert_eq!(status, 200);
        assert_eq!(first.matches("\"deliver\"").count(), terminals, "{first}");
        scripts_run(&redis, true);
        let (status, second) = post(&agent, &url, "application/x-ndjson", pass(1).as_bytes());
        assert_eq!(status, 200);
        assert_eq!(
            second.matches("\"suppress\"").count(),
            terminals,
            "{second}"
        );
        scripts.push(scripts_run(&redis, false));
    }
    let [bounded, default] = scripts[..] else {
        panic!("{scripts:?}")
    };
    assert_eq!(default, terminals as u64, "all remembered: one script each");
    assert!(
        bounded >= 2 * terminals as u64 - 32,
        "at most 32 remembered: {bounded} scripts"
    );
}

/// A key of another type at one of a decision's names (written by
/// something other than Tollgate): the step fails (the caller follows the
/// fail mode) and leaves no change behind, though the keys before it in
/// the script were already written when it met it.
#[test]
fn a_key_of_another_type_fails_the_step_and_undoes_its_writes() {
    let redis = Redis::start();
    let (_, compiled) = late_streams::late_policy("Asia/Shanghai");
    let line = r#"{"kind":"note","merchant":"m1","terminal":"t1","at":"2026-11-25T09:00:00+08:00","msg_id":"w1"}"#;
    let record = tollgate::record::from_json(line, compiled.fields()).unwrap();
    // Decided once on an empty Redis: its keys are the rules' and the id's.
    let first = decide_through(&redis, &compiled, std::slice::from_ref(&record), 1, |_| 0);
    assert!(first[0].contains("deliver"), "{first:?}");
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let mut names: Vec<String> = redis::cmd("KEYS")
        .arg("tollgate:*")
        .query(&mut conn)
        .unwrap();
    names.sort();
    assert_eq!(
        names.len(),
        3,
        "note_dedup, terminal_cap, the id: {names:?}"
    );
    let id = names.iter().find(|n| n.contains(":id:")).unwrap().clone();
    // The id's name holds a hash: the step writes the rules' keys first,
    // then meets the id.
    redis.flush();
    redis::cmd("HSET")
        .arg(&id)
        .arg("f")
        .arg("v")
        .exec(&mut conn)
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let state = tollgate::serve::redis_state::RedisState::new(
        &redis.url(),
        Duration::from_secs(10),
        tollgate::serve::redis_state::FailMode::Closed,
    )
    .unwrap();
    let got = runtime.block_on(state.decide(&compiled, &record, false));
    let err = got.unwrap_err();
    assert!(err.contains("WRONGTYPE"), "{err}");
    let left: Vec<String> = redis::cmd("KEYS")
        .arg("tollgate:*")
        .query(&mut conn)
        .unwrap();
    assert_eq!(left, vec![id.clone()], "the rules' keys were undone");
    // Once the name is free again, the same step goes through.
    redis::cmd("DEL").arg(&id).exec(&mut conn).unwrap();
    let again = runtime.block_on(state.decide(&compiled, &record, false));
    assert_eq!(again.unwrap().unwrap().to_string(), first[0]);
}

/// Every key in Redis and what it holds, sorted by name.
fn redis_contents(redis: &Redis) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let mut names: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut conn).unwrap();
    names.sort();
    names
        .into_iter()
        .map(|k| {
            let v: Vec<u8> = redis::cmd("GET").arg(&k).query(&mut conn).unwrap();
            (k, v)
        })
        .collect()
}

/// The benchmark's floor (`RedisState::decide_unchecked`, BENCHMARKS.md
/// section 14) sends the step's own commands: for one instance deciding
/// alone a stream of fresh transactions and message ids (every belief
/// right, no key believed empty found full), it answers `eval`'s lines and
/// leaves in Redis exactly what the checked step leaves.
#[test]
fn the_unchecked_step_writes_what_the_step_writes_for_one_instance() {
    use tollgate::serve::redis_state::{FailMode, RedisState};
    let redis = Redis::start();
    let text = std::fs::read_to_string(root().join(MERCHANT)).unwrap();
    let compiled =
        match tollgate::pipeline::compile(&text, &Default::default()).map(|out| out.compiled) {
            Ok(tollgate_runtime::artifact::Compiled::Notifications(p)) => p,
            other => panic!("not a notifications policy: {other:?}"),
        };
    let kinds = [
        "txn_success",
        "txn_failure",
        "promo",
        "network_status",
        "security",
    ];
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-25T09:00:00+08:00").unwrap();
    let json: Vec<String> = (0..400i64)
        .map(|i| {
            let at = base + chrono::Duration::seconds(97 * i);
            format!(
                r#"{{"kind":"{}","merchant":"m{}","terminal":"t{}","txn_id":"x{i}","msg_id":"g{i}","at":"{}"}}"#,
                kinds[(i % 5) as usize],
                i % 3,
                (i * 7) % 13,
                at.to_rfc3339()
            )
        })
        .collect();
    let records: Vec<_> = json
        .iter()
        .map(|l| tollgate::record::from_json(l, compiled.fields()).unwrap())
        .collect();
    let expected = eval_answers("unchecked_step", &text, &json);
    for outcome in ["deliver", "suppress", "defer"] {
        let tag = format!(r#""decision":"{outcome}""#);
        assert!(expected.iter().any(|l| l.contains(&tag)), "no {outcome}");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut contents = Vec::new();
    for checked in [true, false] {
        redis.flush();
        let state =
            RedisState::new(&redis.url(), Duration::from_secs(10), FailMode::Closed).unwrap();
        let got: Vec<String> = runtime.block_on(async {
            let mut out = Vec::new();
            for record in &records {
                let answer = if checked {
                    state.decide(&compiled, record, false).await
                } else {
                    state.decide_unchecked(&compiled, record).await
                };
                out.push(match answer.unwrap() {
                    Ok(line) => line.to_string(),
                    Err(message) => message,
                });
            }
            out
        });
        assert_eq!(got, expected, "checked: {checked}");
        contents.push(redis_contents(&redis));
    }
    assert!(contents[0].len() > 10, "{:?}", contents[0].len());
    assert_eq!(contents[0], contents[1]);
}

/// A proxy in front of `redis` on a free loopback port that flips the
/// first byte of the first answer to an `EVALSHA` (to `T`, which starts
/// no RESP value) and passes everything else through; its port.
fn corrupting_proxy(redis: &Redis) -> u16 {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = redis.port;
    let corrupted = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
            let asked = Arc::new(AtomicBool::new(false));
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let flag = asked.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n @ 1..) = c_in.read(&mut buf) {
                    if buf[..n].windows(7).any(|w| w == b"EVALSHA") {
                        flag.store(true, Ordering::SeqCst);
                    }
                    if s_out.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
            let (mut s_in, mut c_out) = (server, client);
            let corrupted = corrupted.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n @ 1..) = s_in.read(&mut buf) {
                    if asked.load(Ordering::SeqCst) && !corrupted.swap(true, Ordering::SeqCst) {
                        buf[0] = b'T';
                    }
                    if c_out.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// An answer that is not Redis's protocol fails its decision (the fail
/// mode), and the next decision is made on a new connection, not on the
/// one whose answers can no longer be read.
#[test]
fn an_answer_that_is_not_resp_fails_one_decision_and_the_next_reconnects() {
    let redis = Redis::start();
    let port = corrupting_proxy(&redis);
    let dir = policy_dir("not_resp", MERCHANT);
    let url = format!("redis://127.0.0.1:{port}/0");
    let server = Server::start(
        env!("CARGO_BIN_EXE_tollgate"),
        root(),
        &dir,
        &["--state", &url, "--fail-closed", "merchant_messages"],
    );
    let eval = server.url("/v1/policies/merchant_messages/eval");
    let agent = agent();
    let send = |terminal: &str| -> serde_json::Value {
        let body = format!(
            r#"{{"kind":"network_status","merchant":"m","terminal":"{terminal}","at":"2026-11-25T14:00:00+08:00"}}"#
        );
        let (status, got) = post(&agent, &eval, "application/json", body.as_bytes());
        assert_eq!(status, 200, "{got}");
        serde_json::from_str(&got).unwrap()
    };
    let v = send("a");
    assert_eq!(v["degraded"], true, "{v}");
    for t in ["b", "c", "d"] {
        let v = send(t);
        assert_eq!(v["decision"], "deliver", "{v}");
        assert!(v.get("degraded").is_none(), "{v}");
    }
}
