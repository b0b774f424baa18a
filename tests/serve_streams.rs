//! Shuffled notification streams as a server receives them (late records,
//! bursts, retried message ids: tests/common/late_streams.rs, the streams
//! of tests/notify_props.rs), with rules keyed by different fields (the
//! terminal, the merchant, the message id), through `tollgate serve` with
//! both state backends: a memory instance, and three instances sharing one
//! redis-server started by the test.
//!
//! Sent in a fixed order, every answer is the line `tollgate eval` prints.
//! Sent by many concurrent clients to both backends at once, the
//! deliveries obey the policy's laws whatever order they were decided in
//! (no cap exceeded in any rolling window or calendar day, no
//! de-duplicated note twice within its window, no promotion at night), and
//! no message id is decided afresh within the lateness of its first
//! decision. `TOLLGATE_LONG` multiplies the streams.

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

use late_streams::{check_delivered, field, late_policy, late_policy_text, shuffled_json};
use services::{agent, Redis, Server};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tollgate_runtime::value::Value;

const ZONE: &str = "Asia/Shanghai";
const START_MS: i64 = 1_795_536_000_000;
const PATH: &str = "/v1/policies/late_mix/eval";

/// A scratch directory holding the stream's policy as `late_mix.toll`.
fn policy_dir(name: &str) -> PathBuf {
    let dir = common::scratch(name);
    std::fs::write(dir.join("late_mix.toll"), late_policy_text(ZONE)).unwrap();
    dir
}

fn start(dir: &Path, args: &[&str]) -> Server {
    Server::start(env!("CARGO_BIN_EXE_tollgate"), root(), dir, args)
}

/// Posts `body` and returns the body of the answer (status 200 or 400: an
/// error line is an answer too).
fn post(agent: &ureq::Agent, url: &str, content_type: &str, body: &str) -> String {
    let mut r = agent
        .post(url)
        .header("Content-Type", content_type)
        .send(body.as_bytes())
        .unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    assert!(status == 200 || status == 400, "{status}: {text}");
    text
}

/// The lines `tollgate eval` prints for `records` in this order.
fn eval_lines(dir: &Path, records: &[String]) -> Vec<String> {
    let policy = dir.join("late_mix.toll");
    let out = common::tollgate_stdin(
        &["eval", policy.to_str().unwrap()],
        &(records.join("\n") + "\n"),
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A single record's answer in the form of its line in a stream: the
/// record number of an error line is the line's in the stream.
fn as_line(answer: &str, n: usize) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(answer).unwrap();
    if v.get("error").is_some() {
        v["record"] = serde_json::json!(n);
    }
    v
}

#[test]
fn shuffled_streams_sent_in_order_get_eval_s_lines_from_both_backends() {
    let redis = Redis::start();
    let dir = policy_dir("in_order");
    let url = redis.url();
    let shared: Vec<Server> = (0..3)
        .map(|_| start(&dir, &["--state", url.as_str()]))
        .collect();
    let agent = agent();
    for seed in 0..u64::from(common::cases(2)) {
        let records = shuffled_json(seed, 300, START_MS, 10, 5, 20);
        let expected = eval_lines(&dir, &records);
        assert_eq!(expected.len(), records.len());
        // The memory backend: the stream as one JSON Lines body, to a
        // fresh instance.
        let memory = start(&dir, &[]);
        let body = records.join("\n") + "\n";
        let got = post(&agent, &memory.url(PATH), "application/x-ndjson", &body);
        let got: Vec<&str> = got.lines().collect();
        assert_eq!(got, expected, "memory backend, seed {seed}");
        // Redis: one record per request, in order, round the instances.
        redis.flush();
        for (i, (record, line)) in records.iter().zip(&expected).enumerate() {
            let server = &shared[i % shared.len()];
            let answer = post(&agent, &server.url(PATH), "application/json", record);
            assert_eq!(
                as_line(&answer, i + 1),
                serde_json::from_str::<serde_json::Value>(line).unwrap(),
                "Redis backend, seed {seed}, record {}: {record}",
                i + 1
            );
        }
    }
}

/// Each record's answer from one backend, by the record's place in the
/// stream.
type Answers = Arc<Mutex<Vec<Option<serde_json::Value>>>>;

/// `clients` threads take the records of `stream` in turn (so that they
/// arrive roughly in the stream's order, interleaved by the race) and send
/// each, alone, to one of `urls`.
fn race(
    stream: &Arc<Vec<String>>,
    urls: Vec<String>,
    clients: usize,
) -> (Vec<std::thread::JoinHandle<()>>, Answers) {
    let answers: Answers = Arc::new(Mutex::new(vec![None; stream.len()]));
    let next = Arc::new(AtomicUsize::new(0));
    let handles = (0..clients)
        .map(|c| {
            let (stream, answers, next) = (stream.clone(), answers.clone(), next.clone());
            let url = urls[c % urls.len()].clone();
            std::thread::spawn(move || {
                let agent = agent();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(record) = stream.get(i) else { return };
                    let answer = post(&agent, &url, "application/json", record);
                    answers.lock().unwrap()[i] = Some(serde_json::from_str(&answer).unwrap());
                }
            })
        })
        .collect();
    (handles, answers)
}

/// The laws on one backend's answers to `stream`: the deliveries that are
/// not repeats obey the policy's laws, and no message id is decided afresh
/// within the lateness of an earlier fresh decision.
fn check_answers(backend: &str, stream: &[String], answers: &[Option<serde_json::Value>]) {
    let (_, compiled) = late_policy(ZONE);
    let (id, at) = (field(&compiled, "msg_id"), field(&compiled, "at"));
    let records: Vec<Vec<Value>> = stream
        .iter()
        .map(|l| tollgate::record::from_json(l, compiled.fields()).unwrap())
        .collect();
    let mut delivered = Vec::new();
    let mut fresh: HashMap<&Value, Vec<i64>> = HashMap::new();
    let mut repeats = 0;
    for (rec, answer) in records.iter().zip(answers) {
        let answer = answer.as_ref().unwrap();
        assert!(answer.get("degraded").is_none(), "{backend}: {answer}");
        if answer.get("error").is_some() {
            continue;
        }
        if answer.get("repeat") == Some(&serde_json::Value::Bool(true)) {
            repeats += 1;
            continue;
        }
        if answer["decision"] == "deliver" {
            delivered.push(rec);
        }
        if rec[id] != Value::Str(String::new()) {
            let Value::Time { unix_ms: t, .. } = rec[at] else {
                panic!("no clock")
            };
            let earlier = fresh.entry(&rec[id]).or_default();
            assert!(
                earlier
                    .iter()
                    .all(|&a| (t - a).abs() > late_streams::LATENESS_MS),
                "{backend}: message id {:?} decided afresh twice within the lateness",
                rec[id]
            );
            earlier.push(t);
        }
    }
    assert!(repeats > 0, "{backend}: the stream repeats some ids");
    assert!(!delivered.is_empty(), "{backend}: something is delivered");
    check_delivered(&compiled, ZONE, &delivered);
}

#[test]
fn concurrent_clients_on_both_backends_at_once_keep_every_law() {
    let redis = Redis::start();
    let dir = policy_dir("race");
    let url = redis.url();
    let shared: Vec<Server> = (0..3)
        .map(|_| start(&dir, &["--state", url.as_str()]))
        .collect();
    for seed in 0..u64::from(common::cases(1)) {
        let memory = start(&dir, &[]);
        redis.flush();
        let stream = Arc::new(shuffled_json(100 + seed, 600, START_MS, 20, 5, 30));
        // Both backends at once: 12 clients on the memory instance, 12
        // spread over the three Redis instances.
        let (mut clients, on_memory) = race(&stream, vec![memory.url(PATH)], 12);
        let (more, on_redis) = race(&stream, shared.iter().map(|s| s.url(PATH)).collect(), 12);
        clients.extend(more);
        for c in clients {
            c.join().unwrap();
        }
        check_answers("memory", &stream, &on_memory.lock().unwrap());
        check_answers("Redis", &stream, &on_redis.lock().unwrap());
    }
}
