//! `tollgate serve`: each test starts the service on a free loopback port
//! (it names the address on its first line of stderr), talks to it over
//! HTTP, and stops it.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::root;
#[path = "common/services.rs"]
mod services;

use services::{agent, signal, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Starts `tollgate serve --policies DIR` with `args`.
fn start(dir: &Path, args: &[&str]) -> Server {
    Server::start(env!("CARGO_BIN_EXE_tollgate"), root(), dir, args)
}

/// An answer: status, the policy headers, and the body.
struct Answer {
    status: u16,
    content_type: String,
    hash: String,
    version: String,
    body: String,
}

fn post(agent: &ureq::Agent, url: &str, content_type: &str, body: &[u8]) -> Answer {
    let mut r = agent
        .post(url)
        .header("Content-Type", content_type)
        .send(body)
        .unwrap();
    answer(&mut r)
}

fn answer(r: &mut ureq::http::Response<ureq::Body>) -> Answer {
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (content_type, hash, version) = (
        header("content-type"),
        header("tollgate-policy-hash"),
        header("tollgate-policy-version"),
    );
    let body = r
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_string()
        .unwrap();
    Answer {
        status: r.status().as_u16(),
        content_type,
        hash,
        version,
        body,
    }
}

fn get(agent: &ureq::Agent, url: &str) -> Answer {
    let mut r = agent.get(url).call().unwrap();
    answer(&mut r)
}

/// What `tollgate eval POLICY` prints for `input`.
fn eval(policy: &str, input: &str) -> String {
    let out = common::tollgate_stdin(&["eval", policy], input);
    String::from_utf8(out.stdout).unwrap()
}

/// A scratch directory holding copies of `files`.
fn policy_dir(name: &str, files: &[PathBuf]) -> PathBuf {
    let dir = common::scratch(name);
    for f in files {
        std::fs::copy(root().join(f), dir.join(f.file_name().unwrap())).unwrap();
    }
    dir
}

/// The policy name on a source's `policy NAME version N` line.
fn policy_name(file: &Path) -> String {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("policy "))
        .unwrap()
        .to_string();
    line.split_whitespace().nth(1).unwrap().to_string()
}

/// Line `i` (0-based) of a stream as a request of that record alone
/// answers it: an error line names record 1.
fn alone(line: &str, i: usize) -> String {
    line.replace(&format!("\"record\":{}}}", i + 1), "\"record\":1}")
}

#[test]
fn every_notification_scenario_gets_the_lines_eval_prints() {
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
            .unwrap_or("policies/notifications/merchant_messages.toll")
            .to_string();
        let records: Vec<String> = all
            .iter()
            .filter_map(|v| v.get("record"))
            .map(|r| format!("{r}\n"))
            .collect();
        let input: String = records.concat();
        let expected = eval(&policy, &input);
        assert_eq!(expected.lines().count(), records.len());
        let name = policy_name(Path::new(&policy));
        let scenario = file.file_stem().unwrap().to_str().unwrap().to_string();
        // The whole stream as JSON Lines, on a fresh service.
        let dir = policy_dir(&scenario, &[PathBuf::from(&policy)]);
        let server = start(&dir, &[]);
        let url = server.url(&format!("/v1/policies/{name}/eval"));
        let got = post(&agent, &url, "application/x-ndjson", input.as_bytes());
        assert_eq!(got.status, 200, "{scenario}");
        assert_eq!(got.content_type, "application/x-ndjson");
        assert_eq!(got.body, expected, "{scenario}: JSON Lines");
        drop(server);
        // One request per record, in order, on another fresh service.
        let server = start(&dir, &[]);
        let url = server.url(&format!("/v1/policies/{name}/eval"));
        for (i, (record, line)) in records.iter().zip(expected.lines()).enumerate() {
            let got = post(&agent, &url, "application/json", record.as_bytes());
            assert_eq!(got.content_type, "application/json");
            assert_eq!(got.body.trim_end(), alone(line, i), "{scenario}: {record}");
            let error = line.starts_with("{\"error\"");
            assert_eq!(got.status, if error { 400 } else { 200 }, "{line}");
        }
    }
}

#[test]
fn every_fee_case_gets_the_line_eval_prints() {
    let cases: Vec<serde_json::Value> =
        std::fs::read_to_string(root().join("tests/fees/cases.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let mut by_policy: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for c in &cases {
        by_policy
            .entry(c["policy"].as_str().unwrap().to_string())
            .or_default()
            .push(format!("{}\n", c["record"]));
    }
    // Every policy in one directory: one service serves them all.
    let files: Vec<PathBuf> = by_policy.keys().map(PathBuf::from).collect();
    let dir = policy_dir("fees", &files);
    let server = start(&dir, &[]);
    let agent = agent();
    for (policy, records) in &by_policy {
        let name = policy_name(Path::new(policy));
        let input = records.concat();
        let expected = eval(policy, &input);
        let url = server.url(&format!("/v1/policies/{name}/eval"));
        let got = post(&agent, &url, "application/x-ndjson", input.as_bytes());
        assert_eq!(got.status, 200);
        assert_eq!(got.body, expected, "{policy}");
        for (i, (record, line)) in records.iter().zip(expected.lines()).enumerate() {
            let got = post(&agent, &url, "application/json", record.as_bytes());
            assert_eq!(got.body.trim_end(), alone(line, i), "{policy}: {record}");
        }
    }
}

#[test]
fn error_lines_and_an_overlong_line_are_answered_as_eval_answers_them() {
    let dir = policy_dir("errors", &[PathBuf::from("policies/fees/lakala.toll")]);
    let server = start(&dir, &[]);
    let agent = agent();
    let good = r#"{"channel":"credit_card","amount":"100.00"}"#;
    let long = format!(
        r#"{{"channel":"credit_card","amount":"100.00","pad":"{}"}}"#,
        "x".repeat(1 << 20)
    );
    let input = format!("\u{feff}{good}\n\nnot json\n{long}\n{{\"amount\":\"1\"}}\n{good}");
    let expected = eval("policies/fees/lakala.toll", &input);
    assert!(expected.contains("record is longer than 1048576 bytes"));
    let url = server.url("/v1/policies/lakala/eval");
    let got = post(&agent, &url, "application/x-ndjson", input.as_bytes());
    assert_eq!(got.body, expected);
    // A single malformed record: 400, with eval's error line.
    let got = post(&agent, &url, "application/json", b"{\"amount\":");
    assert_eq!(got.status, 400);
    let line: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(line["record"], 1);
    assert_eq!(got.body, eval("policies/fees/lakala.toll", "{\"amount\":"));
}

#[test]
fn a_line_over_a_lower_limit_gets_an_error_line_and_the_stream_goes_on() {
    let dir = policy_dir("line_limit", &[PathBuf::from("policies/fees/lakala.toll")]);
    let server = start(&dir, &["--max-line-bytes", "60"]);
    let agent = agent();
    let good = r#"{"channel":"credit_card","amount":"100.00"}"#;
    let long = format!(
        r#"{{"channel":"credit_card","amount":"100.00","x":"{}"}}"#,
        "y".repeat(40)
    );
    let input = format!("{good}\n{long}\n{good}\n");
    let got = post(
        &agent,
        &server.url("/v1/policies/lakala/eval"),
        "application/x-ndjson",
        input.as_bytes(),
    );
    let lines: Vec<&str> = got.body.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[1],
        r#"{"error":"record is longer than 60 bytes","record":2}"#
    );
    assert_eq!(lines[0], lines[2]);
}

#[test]
fn a_declared_body_over_the_limit_is_refused_with_413_before_any_answer() {
    let dir = policy_dir("too_large", &[PathBuf::from("policies/fees/lakala.toll")]);
    let server = start(&dir, &["--max-body-bytes", "1000"]);
    let agent = agent();
    let good = "{\"channel\":\"credit_card\",\"amount\":\"100.00\"}\n";
    let input = good.repeat(40);
    let got = post(
        &agent,
        &server.url("/v1/policies/lakala/eval"),
        "application/x-ndjson",
        input.as_bytes(),
    );
    assert_eq!(got.status, 413);
    assert!(!got.body.contains("fee"), "{}", got.body);
    let error: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    assert!(error["error"].as_str().unwrap().contains("1000 bytes"));
    // Under the limit, the same lines are answered.
    let got = post(
        &agent,
        &server.url("/v1/policies/lakala/eval"),
        "application/x-ndjson",
        good.repeat(10).as_bytes(),
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.body.lines().count(), 10);
    // A chunked body has no declared length: it is cut at the limit with an
    // error line after the answers so far.
    let mut reader = input.as_bytes();
    let mut r = agent
        .post(server.url("/v1/policies/lakala/eval"))
        .header("Content-Type", "application/x-ndjson")
        .send(ureq::SendBody::from_reader(&mut reader))
        .unwrap();
    let got = answer(&mut r);
    assert_eq!(got.status, 200);
    let last = got.body.lines().last().unwrap();
    assert!(
        last.contains("longer than the limit of 1000 bytes"),
        "{last}"
    );
}

/// Sends `chunks` as the chunks of one JSON Lines request to `path`, each
/// written apart (a moment between them, so that the service reads them
/// apart), while the answer is read; returns the answer's body, its chunks
/// joined. The service may end the answer before every chunk was sent.
fn send_chunked(addr: &str, path: &str, chunks: Vec<Vec<u8>>) -> String {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_nodelay(true).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = conn.try_clone().unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let sender = std::thread::spawn(move || {
        let mut wire = vec![head.into_bytes()];
        for c in chunks {
            let mut frame = format!("{:x}\r\n", c.len()).into_bytes();
            frame.extend_from_slice(&c);
            frame.extend_from_slice(b"\r\n");
            wire.push(frame);
        }
        wire.push(b"0\r\n\r\n".to_vec());
        for frame in wire {
            // A service that ended the answer may have closed the connection.
            if writer.write_all(&frame).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"\r\n0\r\n\r\n") {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    sender.join().unwrap();
    let text = String::from_utf8(got).unwrap();
    let (head, mut rest) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked"));
    let mut body = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size, 16).unwrap();
        if size == 0 {
            return body;
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
}

/// A chunked body that passes `--max-body-bytes`: every line whose line
/// end lies within the limit is answered as `eval` answers it, and one
/// error line names the first record not wholly within it (counted as an
/// error line), wherever the chunks begin and end. It used to cut at the
/// first chunk that passed the limit: the lines before the limit in that
/// chunk were lost and the error named the wrong record.
#[test]
fn a_chunked_body_over_the_limit_is_answered_up_to_it_however_it_is_chunked() {
    // Six records of 44 bytes each, line ends included: 264 bytes, the
    // fourth ending at byte 176.
    let records: Vec<String> = (1..=6)
        .map(|i| format!("{{\"channel\":\"credit_card\",\"amount\":\"100.0{i}\"}}\n"))
        .collect();
    assert!(records.iter().all(|r| r.len() == 44));
    let body = records.concat().into_bytes();
    let expected = eval("policies/fees/lakala.toll", &records.concat());
    let expected: Vec<&str> = expected.lines().collect();
    // Chunk boundaries: every `n` bytes, or at these places.
    let every = |n: usize| -> Vec<Vec<u8>> { body.chunks(n).map(<[u8]>::to_vec).collect() };
    let at = |cuts: &[usize]| -> Vec<Vec<u8>> {
        let mut from = 0;
        let mut out = Vec::new();
        for &c in cuts.iter().chain([&body.len()]) {
            out.push(body[from..c].to_vec());
            from = c;
        }
        out
    };
    let chunkings = [
        ("whole", every(body.len())),
        ("three lines", every(132)),
        ("a line", every(44)),
        ("a byte", every(1)),
        ("seven bytes", every(7)),
        ("at 175/176/177", at(&[175, 176, 177])),
        ("at 199/200/201", at(&[199, 200, 201])),
    ];
    let dir = policy_dir("chunked_cut", &[PathBuf::from("policies/fees/lakala.toll")]);
    let agent = agent();
    // Limit: what is answered, and the record the error line names.
    for (limit, answered) in [(200usize, 4usize), (176, 4), (175, 3), (44, 1), (43, 0)] {
        let server = start(&dir, &["--max-body-bytes", &limit.to_string()]);
        let mut want: Vec<String> = expected[..answered]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        want.push(format!(
            "{{\"error\":\"the request body is longer than the limit of {limit} bytes; the rest is not read\",\"record\":{}}}\n",
            answered + 1
        ));
        for (how, chunks) in &chunkings {
            let got = send_chunked(&server.addr, "/v1/policies/lakala/eval", chunks.clone());
            assert_eq!(got, want.concat(), "limit {limit}, chunks of {how}");
        }
        let text = get(&agent, &server.url("/metrics")).body;
        let sample = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let requests = chunkings.len() as f64;
        assert_eq!(
            sample(r#"tollgate_record_errors_total{policy="lakala"}"#),
            requests,
            "limit {limit}: {text}"
        );
        assert_eq!(
            sample(r#"tollgate_decisions_total{policy="lakala",outcome="priced",rule=""}"#),
            requests * answered as f64,
            "limit {limit}: {text}"
        );
    }
}

#[test]
fn unknown_policies_answer_404_and_the_listing_shows_failures() {
    let dir = policy_dir(
        "listing",
        &[
            PathBuf::from("policies/fees/lakala.toll"),
            PathBuf::from("policies/notifications/merchant_messages.toll"),
            PathBuf::from("tests/notifications/versions_v1.toll"),
            PathBuf::from("tests/notifications/versions_v2.toll"),
        ],
    );
    std::fs::write(
        dir.join("broken.toll"),
        "policy broken version 1\nkind fees\nfield amount: money\nschedule s {\n",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a policy").unwrap();
    // Sparse files over their limits, never read: a policy source (8 MiB)
    // and an artifact (64 MiB; told by its magic bytes, whatever its name).
    let huge = std::fs::File::create(dir.join("huge.toll")).unwrap();
    huge.set_len((8 << 20) + 1).unwrap();
    let mut big = std::fs::File::create(dir.join("big.bin")).unwrap();
    big.write_all(b"TOLLGATE").unwrap();
    big.set_len((64 << 20) + 1).unwrap();
    drop((huge, big));
    let server = start(&dir, &[]);
    let agent = agent();
    let got = post(
        &agent,
        &server.url("/v1/policies/nope/eval"),
        "application/json",
        b"{}",
    );
    assert_eq!(got.status, 404);
    assert!(got.body.contains("no policy named `nope`"));
    let listing: serde_json::Value =
        serde_json::from_str(&get(&agent, &server.url("/v1/policies")).body).unwrap();
    let names: Vec<&str> = listing["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lakala", "merchant_messages"]);
    // The state backend in use: the memory, without a directory.
    assert_eq!(listing["state"], serde_json::json!({ "backend": "memory" }));
    let lakala = &listing["policies"][0];
    assert_eq!(lakala["kind"], "fees");
    assert_eq!(lakala["version"], 1);
    assert_eq!(lakala["hash"].as_str().unwrap().len(), 16);
    assert!(lakala["file"].as_str().unwrap().ends_with("lakala.toll"));
    assert!(lakala["loaded_at"].as_str().unwrap().ends_with('Z'));
    let failed = listing["failed"].as_array().unwrap();
    let files: Vec<&str> = failed
        .iter()
        .map(|f| f["file"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "big.bin",
            "broken.toll",
            "huge.toll",
            "versions_v1.toll",
            "versions_v2.toll"
        ]
    );
    assert!(
        failed[0]["error"].as_str().unwrap().ends_with(
            "big.bin: artifact of 67108865 bytes is larger than the limit of 67108864 bytes"
        ),
        "{}",
        failed[0]
    );
    // The diagnostics of the broken file and of the source over the limit
    // (E0004) are those `check --format json` prints.
    for (i, file) in [(1, "broken.toll"), (2, "huge.toll")] {
        let check = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(["check", "--format", "json"])
            .arg(dir.join(file))
            .output()
            .unwrap();
        let check: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
        assert_eq!(failed[i]["diagnostics"], check["diagnostics"], "{file}");
    }
    assert_eq!(failed[2]["diagnostics"][0]["code"], "E0004");
    assert!(failed[3]["error"]
        .as_str()
        .unwrap()
        .contains("policy `versions` is also defined in"));
    assert_eq!(get(&agent, &server.url("/readyz")).status, 200);
    assert_eq!(get(&agent, &server.url("/healthz")).status, 200);
}

#[test]
fn caps_and_dedup_hold_under_concurrent_requests() {
    let dir = policy_dir(
        "concurrency",
        &[PathBuf::from(
            "policies/notifications/merchant_messages.toll",
        )],
    );
    let server = start(&dir, &[]);
    let url = server.url("/v1/policies/merchant_messages/eval");
    let threads = 16;
    let per_thread = 40;
    // Cap: one terminal, many distinct transactions within half an hour:
    // exactly 30 delivered (`terminal_cap`, 30 per hour).
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for t in 0..threads {
        let url = url.clone();
        let delivered = delivered.clone();
        handles.push(std::thread::spawn(move || {
            let agent = agent();
            for batch in 0..per_thread / 10 {
                let mut body = String::new();
                for i in 0..10 {
                    let n = t * per_thread + batch * 10 + i;
                    body.push_str(&format!(
                        "{{\"kind\":\"txn_success\",\"merchant\":\"m\",\"terminal\":\"cap\",\"txn_id\":\"c{n}\",\"at\":\"2026-11-25T14:{:02}:{:02}+08:00\"}}\n",
                        n % 30,
                        n % 60
                    ));
                }
                let got = post(&agent, &url, "application/x-ndjson", body.as_bytes());
                assert_eq!(got.status, 200);
                for line in got.body.lines() {
                    let v: serde_json::Value = serde_json::from_str(line).unwrap();
                    match v["decision"].as_str() {
                        Some("deliver") => delivered.lock().unwrap().push(line.to_string()),
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
    assert_eq!(delivered.lock().unwrap().len(), 30);
    // Dedup: each transaction notice sent by every thread at once, one
    // terminal per transaction: each is delivered exactly once.
    let txns = 25;
    let delivered = Arc::new(Mutex::new(vec![0usize; txns]));
    let mut handles = Vec::new();
    for _ in 0..threads {
        let url = url.clone();
        let delivered = delivered.clone();
        handles.push(std::thread::spawn(move || {
            let agent = agent();
            for x in 0..txns {
                let body = format!(
                    "{{\"kind\":\"txn_failure\",\"merchant\":\"m\",\"terminal\":\"d{x}\",\"txn_id\":\"x{x}\",\"at\":\"2026-11-25T15:00:00+08:00\"}}"
                );
                let got = post(&agent, &url, "application/json", body.as_bytes());
                assert_eq!(got.status, 200);
                let v: serde_json::Value = serde_json::from_str(&got.body).unwrap();
                if v["decision"] == "deliver" {
                    delivered.lock().unwrap()[x] += 1;
                } else {
                    assert_eq!(v["rule"], "txn_dedup", "{}", got.body);
                }
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*delivered.lock().unwrap(), vec![1; txns]);
}

/// Sends `head` (a request head, blank line included) on `stream`, then,
/// a moment later, `body`, as a client that writes them apart does; reads
/// one answer: its status and body.
fn exchange(stream: &mut TcpStream, head: &str, body: &[u8]) -> (u16, String) {
    stream.write_all(head.as_bytes()).unwrap();
    if !body.is_empty() {
        std::thread::sleep(Duration::from_millis(50));
        stream.write_all(body).unwrap();
    }
    let mut got: Vec<u8> = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).unwrap();
        assert_eq!(
            n,
            1,
            "the connection closed: {}",
            String::from_utf8_lossy(&got)
        );
        got.push(byte[0]);
    }
    let head = String::from_utf8(got).unwrap();
    let status: u16 = head[9..12].parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().unwrap())
        })
        .unwrap();
    let mut answer = vec![0u8; length];
    stream.read_exact(&mut answer).unwrap();
    (status, String::from_utf8(answer).unwrap())
}

/// A refusal made without reading the body (no such policy, no token)
/// still reads it, so that the connection carries the client's next
/// request: it was closed under the client when the body arrived after
/// the head, a cause of the connections reset seen under load.
#[test]
fn a_refused_request_leaves_its_connection_to_the_next_request() {
    let dir = policy_dir("refused", &[PathBuf::from("policies/fees/lakala.toll")]);
    let token = dir.join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    let sub = dir.join("policies");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::rename(dir.join("lakala.toll"), sub.join("lakala.toll")).unwrap();
    let open = start(&sub, &[]);
    let guarded = start(&sub, &["--token-file", token.to_str().unwrap()]);
    for (server, path, refused) in [
        (&open, "/v1/policies/nope/eval", 404),
        (&guarded, "/v1/policies/lakala/eval", 401),
    ] {
        let mut stream = TcpStream::connect(&server.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        for _ in 0..3 {
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
            );
            assert_eq!(exchange(&mut stream, &head, b"{}").0, refused);
            let (status, body) =
                exchange(&mut stream, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", b"");
            assert_eq!(status, 200, "{body}");
        }
    }
}

/// Splits a shell command line into words: white space separates them,
/// single quotes keep a word whole (the README's curl lines need no more).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// The README's "The service" section starts the service on the bundled
/// policies and calls it with curl: each of those calls, made as curl
/// makes it (`-d`, `--data-binary @FILE`, `-H`), gets a 200 and the answer
/// it shows (JSON, JSON Lines, or the metrics' text), so that the README's
/// commands cannot drift from the service.
#[test]
fn the_readme_s_curl_calls_get_answers() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme.split("\n## The service\n").nth(1).unwrap();
    let block = section.split("```sh\n").nth(1).unwrap();
    let block = block.split("```").next().unwrap().replace("\\\n", " ");
    let mut lines = block.lines();
    let first = lines.next().unwrap();
    assert_eq!(
        first,
        "cargo run --release -- serve --policies policies --listen 127.0.0.1:8080"
    );
    let server = start(Path::new("policies"), &[]);
    let agent = agent();
    let mut calls = 0;
    for line in lines.filter(|l| l.starts_with("curl ")) {
        let words = shell_words(line.split(" # ").next().unwrap());
        let mut url = None;
        let mut body: Option<Vec<u8>> = None;
        let mut content_type = "application/x-www-form-urlencoded".to_string();
        let mut w = words.iter().skip(1);
        while let Some(word) = w.next() {
            match word.as_str() {
                "-s" => {}
                "-d" => body = Some(w.next().unwrap().as_bytes().to_vec()),
                "--data-binary" => {
                    let file = w.next().unwrap().strip_prefix('@').unwrap();
                    body = Some(std::fs::read(root().join(file)).unwrap());
                }
                "-H" => {
                    let (k, v) = w.next().unwrap().split_once(": ").unwrap();
                    assert!(k.eq_ignore_ascii_case("content-type"), "{line}");
                    content_type = v.to_string();
                }
                other => {
                    let path = other.strip_prefix("localhost:8080").unwrap();
                    url = Some(server.url(path));
                }
            }
        }
        let url = url.unwrap();
        let got = match body {
            Some(body) => post(&agent, &url, &content_type, &body),
            None => get(&agent, &url),
        };
        assert_eq!(got.status, 200, "{line}: {}", got.body);
        if url.ends_with("/metrics") {
            assert!(got.body.contains("# EOF"), "{}", got.body);
        } else {
            for l in got.body.lines() {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                assert!(v.get("error").is_none(), "{line}: {l}");
            }
        }
        calls += 1;
    }
    assert_eq!(calls, 5, "the README shows five calls");
}

#[test]
fn a_token_guards_every_endpoint_but_the_health_checks() {
    let dir = policy_dir("token", &[PathBuf::from("policies/fees/lakala.toll")]);
    let token = dir.join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    let sub = dir.join("policies");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::rename(dir.join("lakala.toll"), sub.join("lakala.toll")).unwrap();
    let server = start(&sub, &["--token-file", token.to_str().unwrap()]);
    let agent = agent();
    let url = server.url("/v1/policies/lakala/eval");
    let body = br#"{"channel":"credit_card","amount":"100.00"}"#;
    let none = post(&agent, &url, "application/json", body);
    assert_eq!(none.status, 401);
    assert!(
        none.body.contains("a bearer token is required"),
        "{}",
        none.body
    );
    // The scheme's name is case-insensitive (RFC 9110, section 11.1); a
    // wrong token is told as refused, and not repeated.
    for (auth, status, says) in [
        ("Bearer wrong-guess", 401, "the bearer token was refused"),
        ("bearer wrong-guess", 401, "the bearer token was refused"),
        ("Bearer s3cret-token", 200, "fee"),
        ("bearer s3cret-token", 200, "fee"),
        ("BEARER  s3cret-token", 200, "fee"),
        ("s3cret-token", 401, "a bearer token is required"),
        ("Basic s3cret-token", 401, "a bearer token is required"),
        ("Bearer", 401, "a bearer token is required"),
    ] {
        let mut r = agent
            .post(&url)
            .header("Authorization", auth)
            .send(&body[..])
            .unwrap();
        let challenge = r
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_string());
        let got = answer(&mut r);
        assert_eq!(got.status, status, "{auth}");
        assert!(got.body.contains(says), "{auth}: {}", got.body);
        assert!(!got.body.contains("wrong-guess"), "{auth}: {}", got.body);
        let refused = says.contains("refused");
        let want = match status {
            200 => None,
            _ if refused => Some("Bearer error=\"invalid_token\"".to_string()),
            _ => Some("Bearer".to_string()),
        };
        assert_eq!(challenge, want, "{auth}");
    }
    assert_eq!(get(&agent, &server.url("/v1/policies")).status, 401);
    assert_eq!(get(&agent, &server.url("/metrics")).status, 401);
    assert_eq!(get(&agent, &server.url("/healthz")).status, 200);
    assert_eq!(get(&agent, &server.url("/readyz")).status, 200);
}

#[test]
fn metrics_parse_and_count_decisions() {
    let dir = policy_dir(
        "metrics",
        &[
            PathBuf::from("policies/fees/lakala.toll"),
            PathBuf::from("policies/notifications/merchant_messages.toll"),
        ],
    );
    let server = start(&dir, &[]);
    let agent = agent();
    let good = "{\"channel\":\"credit_card\",\"amount\":\"100.00\"}\n";
    post(
        &agent,
        &server.url("/v1/policies/lakala/eval"),
        "application/x-ndjson",
        format!("{}nope\n", good.repeat(7)).as_bytes(),
    );
    let msg = |txn: &str| {
        format!("{{\"kind\":\"txn_success\",\"merchant\":\"m\",\"terminal\":\"t\",\"txn_id\":\"{txn}\",\"at\":\"2026-11-25T14:00:00+08:00\"}}\n")
    };
    post(
        &agent,
        &server.url("/v1/policies/merchant_messages/eval"),
        "application/x-ndjson",
        format!("{}{}{}", msg("a"), msg("a"), msg("b")).as_bytes(),
    );
    // Refusals: no such policy, no such path (with or without a body), a
    // method an endpoint does not answer.
    for (path, body, says) in [
        (
            "/v1/policies/nope/eval",
            Some("{}"),
            "no policy named `nope`",
        ),
        ("/nothing", None, "no endpoint at `/nothing`"),
        ("/v2/nothing", Some("{}"), "no endpoint at `/v2/nothing`"),
    ] {
        let url = server.url(path);
        let got = match body {
            Some(b) => post(&agent, &url, "application/json", b.as_bytes()),
            None => get(&agent, &url),
        };
        assert_eq!(got.status, 404, "{path}");
        assert!(got.body.contains(says), "{path}: {}", got.body);
    }
    let mut r = agent
        .get(&server.url("/v1/policies/lakala/eval"))
        .call()
        .unwrap();
    assert_eq!(r.headers().get("allow").unwrap(), "POST");
    let wrong = answer(&mut r);
    assert_eq!(wrong.status, 405);
    let error: serde_json::Value = serde_json::from_str(&wrong.body).unwrap();
    assert!(error["error"].as_str().unwrap().contains("GET"), "{error}");
    let text = get(&agent, &server.url("/metrics")).body;
    let mut samples = std::collections::BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (name, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        samples.insert(name.to_string(), value);
    }
    assert_eq!(text.lines().last(), Some("# EOF"));
    let at = |k: &str| {
        samples
            .get(k)
            .copied()
            .unwrap_or_else(|| panic!("{k} in {text}"))
    };
    assert_eq!(
        at(r#"tollgate_decisions_total{policy="lakala",outcome="priced",rule=""}"#),
        7.0
    );
    assert_eq!(at(r#"tollgate_record_errors_total{policy="lakala"}"#), 1.0);
    assert_eq!(
        at(r#"tollgate_decisions_total{policy="merchant_messages",outcome="deliver",rule=""}"#),
        2.0
    );
    assert_eq!(
        at(
            r#"tollgate_decisions_total{policy="merchant_messages",outcome="suppress",rule="txn_dedup"}"#
        ),
        1.0
    );
    assert_eq!(at(r#"tollgate_requests_refused_total{status="404"}"#), 3.0);
    assert_eq!(at(r#"tollgate_requests_refused_total{status="405"}"#), 1.0);
    assert_eq!(at("tollgate_eval_duration_seconds_count"), 2.0);
    assert_eq!(at("tollgate_policies"), 2.0);
    assert_eq!(at("tollgate_reloads_total"), 1.0);
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let dir = policy_dir("sigterm", &[PathBuf::from("policies/fees/lakala.toll")]);
    let server = start(&dir, &[]);
    let mut conn = TcpStream::connect(&server.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let line = "{\"channel\":\"credit_card\",\"amount\":\"100.00\"}\n";
    write!(
        conn,
        "POST /v1/policies/lakala/eval HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{line}\r\n",
        line.len()
    )
    .unwrap();
    // The first answer arrives while the body is still open.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("\"fee\"") {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "closed early");
        seen.extend_from_slice(&buf[..n]);
    }
    let pid = server.child.id();
    signal(pid, "TERM");
    std::thread::sleep(Duration::from_millis(300));
    write!(conn, "{:x}\r\n{line}\r\n0\r\n\r\n", line.len()).unwrap();
    loop {
        let n = conn.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&seen).contains("\r\n0\r\n\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert_eq!(
        text.matches("{\"fee\":\"0.60\",\"components\"").count(),
        2,
        "{text}"
    );
    assert_eq!(server.terminate(), Some(0));
}

/// The cause of a reset connection once seen in the reload test below:
/// SIGHUP sent right after the service's first line ended the process
/// (the signal's default action) when the handler was not registered yet.
/// The window was short, so it is tried ten times.
#[test]
fn a_sighup_as_soon_as_the_service_listens_reloads_it_and_never_ends_it() {
    let dir = common::scratch("early_hup");
    std::fs::copy(
        root().join("policies/fees/lakala.toll"),
        dir.join("lakala.toll"),
    )
    .unwrap();
    let agent = agent();
    for _ in 0..10 {
        let mut server = start(&dir, &["--no-watch"]);
        signal(server.child.id(), "HUP");
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            server.child.try_wait().unwrap().is_none(),
            "SIGHUP ended the service"
        );
        assert_eq!(get(&agent, &server.url("/healthz")).status, 200);
    }
}

#[test]
fn a_reload_under_load_swaps_versions_whole_and_keeps_the_last_good_one() {
    let dir = common::scratch("reload");
    let v1 = std::fs::read_to_string(root().join("policies/fees/lakala.toll")).unwrap();
    let v2 = v1.replace("policy lakala version 1", "policy lakala version 2");
    assert_ne!(v1, v2);
    let file = dir.join("lakala.toll");
    std::fs::write(&file, &v1).unwrap();
    let server = start(&dir, &[]);
    let agent = agent();
    let url = server.url("/v1/policies/lakala/eval?trace=1");
    let hash_of = |version: u32| -> String {
        let listing: serde_json::Value =
            serde_json::from_str(&get(&agent, &server.url("/v1/policies")).body).unwrap();
        let p = &listing["policies"][0];
        assert_eq!(p["version"], version);
        p["hash"].as_str().unwrap().to_string()
    };
    let old = hash_of(1);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (url, stop, seen) = (url.clone(), stop.clone(), seen.clone());
        clients.push(std::thread::spawn(move || {
            let agent = self::agent();
            let body = "{\"channel\":\"credit_card\",\"amount\":\"100.00\"}\n".repeat(50);
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || n == 0 {
                let got = post(&agent, &url, "application/x-ndjson", body.as_bytes());
                assert_eq!(got.status, 200, "{}", got.body);
                let lines: Vec<serde_json::Value> = got
                    .body
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                assert_eq!(lines.len(), 50);
                for l in &lines {
                    assert_eq!(l["fee"], "0.60");
                    assert_eq!(
                        l["policy"]["hash"],
                        got.hash.as_str(),
                        "one version per answer"
                    );
                    assert_eq!(l["policy"]["version"].to_string(), got.version);
                }
                seen.lock().unwrap().push(got.hash);
                n += 1;
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    // A broken file: the old version keeps serving, the failure is listed.
    let write = |text: &str| {
        let tmp = dir.join(".lakala.toll.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &file).unwrap();
    };
    write("policy lakala version 2\nkind fees\nschedule {\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listing: serde_json::Value =
            serde_json::from_str(&get(&agent, &server.url("/v1/policies")).body).unwrap();
        if !listing["failed"].as_array().unwrap().is_empty() {
            assert_eq!(listing["policies"][0]["hash"], old.as_str());
            break;
        }
        assert!(Instant::now() < deadline, "the failure never showed");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    write(&v2);
    let deadline = Instant::now() + Duration::from_secs(20);
    let new = loop {
        let listing: serde_json::Value =
            serde_json::from_str(&get(&agent, &server.url("/v1/policies")).body).unwrap();
        if listing["policies"][0]["version"] == 2 {
            assert!(listing["failed"].as_array().unwrap().is_empty());
            break listing["policies"][0]["hash"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "the new version never loaded");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_ne!(new, old);
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|h| *h == old || *h == new));
    assert_eq!(seen.last(), Some(&new));
    // SIGHUP reloads too: a change made with the watcher off (a new
    // version: the old one back would be a rollback, refused).
    drop(server);
    let server = start(&dir, &["--no-watch"]);
    write(&v1.replace("policy lakala version 1", "policy lakala version 3"));
    signal(server.child.id(), "HUP");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = post(
            &agent,
            &server.url("/v1/policies/lakala/eval"),
            "application/json",
            br#"{"channel":"credit_card","amount":"1.00"}"#,
        );
        if got.version == "3" {
            assert_ne!(got.hash, old);
            assert_ne!(got.hash, new);
            break;
        }
        assert!(Instant::now() < deadline, "SIGHUP did not reload");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(server
        .log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("SIGHUP")));
}

#[test]
fn throttle_state_survives_a_new_version_of_the_policy() {
    carry(false);
}

#[test]
fn throttle_state_kept_on_disk_survives_a_new_version_and_a_crash() {
    carry(true);
}

/// A delivery, then a version that renumbers the rules: the state is
/// carried by rule name (and, kept on disk, survives kill -9 after that).
fn carry(on_disk: bool) {
    let dir = common::scratch(if on_disk { "carry_disk" } else { "carry" });
    let state = common::scratch(if on_disk {
        "carry_disk_state"
    } else {
        "carry_state"
    });
    let v1 = std::fs::read_to_string(root().join("policies/notifications/merchant_messages.toll"))
        .unwrap();
    let file = dir.join("merchant_messages.toll");
    std::fs::write(&file, &v1).unwrap();
    let mut args = vec!["--no-watch"];
    if on_disk {
        args.extend(["--state-dir", state.to_str().unwrap()]);
    }
    let server = start(&dir, &args);
    let agent = agent();
    let url = server.url("/v1/policies/merchant_messages/eval");
    let msg = r#"{"kind":"network_status","merchant":"m","terminal":"t","at":"2026-11-25T14:00:00+08:00"}"#;
    let got = post(&agent, &url, "application/json", msg.as_bytes());
    assert!(got.body.contains("deliver"), "{}", got.body);
    // Version 2 adds a rule before the others: the rules are renumbered,
    // and `network_cap` keeps its deliveries by name.
    let v2 = v1
        .replace("version 1", "version 2")
        .replace(
            "rule security_always",
            "rule quiet_security when kind == security and promo_opt_out => suppress \"test\"\nrule security_always",
        );
    std::fs::write(&file, v2).unwrap();
    signal(server.child.id(), "HUP");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = post(
            &agent,
            &url,
            "application/json",
            msg.replace("14:00:00", "14:05:00").as_bytes(),
        );
        if got.version == "2" {
            assert!(got.body.contains("network_cap"), "{}", got.body);
            break;
        }
        assert!(got.body.contains("network_cap"), "{}", got.body);
        assert!(Instant::now() < deadline, "SIGHUP did not reload");
        std::thread::sleep(Duration::from_millis(50));
    }
    if on_disk {
        drop(server);
        let server = start(&dir, &args);
        let url = server.url("/v1/policies/merchant_messages/eval");
        let got = post(
            &agent,
            &url,
            "application/json",
            msg.replace("14:00:00", "14:10:00").as_bytes(),
        );
        assert_eq!(got.version, "2");
        assert!(got.body.contains("network_cap"), "{}", got.body);
    }
}

#[test]
fn serve_refuses_a_backend_it_does_not_have() {
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args([
            "serve",
            "--policies",
            "policies",
            "--state",
            "etcd://127.0.0.1:2379",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown state backend `etcd://"));
}

/// Fail-mode flags that cannot do what they say are refused: a policy
/// named both open and closed, or a fail mode with the memory backend
/// (which never fails). A name that is no notifications policy loaded is
/// warned about in the log.
#[test]
fn serve_refuses_fail_modes_that_cannot_hold_and_warns_of_unknown_names() {
    // A service that accepts the flags would run on: it is stopped after
    // 20 seconds and the test fails.
    let refused = |args: &[&str], says: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(["serve", "--policies", "policies", "--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{args:?}: the service started");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };
    let redis = "redis://127.0.0.1:1/0";
    refused(
        &[
            "--state",
            redis,
            "--fail-open",
            "merchant_messages",
            "--fail-closed",
            "merchant_messages",
        ],
        "error: `merchant_messages` is named by both --fail-open and --fail-closed",
    );
    refused(
        &["--fail-closed", "merchant_messages"],
        "error: --fail-closed goes with --state redis://",
    );
    refused(
        &["--fail-mode", "closed"],
        "error: --fail-mode goes with --state redis://",
    );
    // Redis is never called: nothing is decided.
    let dir = policy_dir(
        "fail_names",
        &[PathBuf::from(
            "policies/notifications/merchant_messages.toll",
        )],
    );
    let server = start(
        &dir,
        &[
            "--state",
            redis,
            "--fail-closed",
            "merchant_mesages",
            "--fail-open",
            "merchant_messages",
        ],
    );
    let ready = agent().get(&server.url("/readyz")).call().unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = server.log.lock().unwrap().join("\n");
        if log.contains("--fail-closed names no notifications policy loaded") {
            assert!(log.contains("merchant_mesages"), "{log}");
            assert!(!log.contains("--fail-open names"), "{log}");
            break;
        }
        assert!(Instant::now() < deadline, "{log}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The next message of `terminal` (network status, capped at one per 15
/// minutes per terminal) at 14:MM.
fn network_status(terminal: &str, minute: u32) -> String {
    format!(
        r#"{{"kind":"network_status","merchant":"m","terminal":"{terminal}","at":"2026-11-25T14:{minute:02}:00+08:00"}}"#
    )
}

/// A state another run holds makes the service wait for it, after its
/// first line still names the address (scripts read the port from it):
/// the next line says it waits, connections wait in the queue and are
/// answered once the state is free, and SIGTERM stops a waiting service.
#[test]
fn a_service_waiting_for_a_held_state_names_its_address_first() {
    let dir = policy_dir(
        "held_state",
        &[PathBuf::from(
            "policies/notifications/merchant_messages.toll",
        )],
    );
    let state = common::scratch("held_state_dir");
    let args = ["--state-dir", state.to_str().unwrap()];
    let holder = start(&dir, &args);
    // Answered once its policies are loaded and its state locked.
    let ready = agent().get(&holder.url("/readyz")).call().unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let waits = |server: &Server| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = server.log.lock().unwrap().join("\n");
            if log.contains("held by another run; waiting for it to end") {
                return;
            }
            assert!(Instant::now() < deadline, "{log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // A waiting service stops on SIGTERM.
    let stopped = start(&dir, &args);
    waits(&stopped);
    assert_eq!(stopped.terminate(), Some(0));
    // Another answers once the holder is gone.
    let waiting = start(&dir, &args);
    waits(&waiting);
    let url = waiting.url("/v1/policies/merchant_messages/eval");
    let asked = std::thread::spawn(move || {
        post(
            &agent(),
            &url,
            "application/json",
            network_status("t0", 0).as_bytes(),
        )
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!asked.is_finished());
    assert_eq!(holder.terminate(), Some(0));
    let got = asked.join().unwrap();
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(got.body.contains("deliver"), "{}", got.body);
}

#[test]
fn with_a_state_dir_an_answered_delivery_survives_kill_9() {
    let dir = policy_dir(
        "durable",
        &[PathBuf::from(
            "policies/notifications/merchant_messages.toll",
        )],
    );
    let state = common::scratch("durable_state");
    let args = ["--state-dir", state.to_str().unwrap()];
    let server = start(&dir, &args);
    let agent = agent();
    let url = server.url("/v1/policies/merchant_messages/eval");
    // One delivery per terminal, record by record and in a stream.
    for t in 0..5 {
        let got = post(
            &agent,
            &url,
            "application/json",
            network_status(&format!("t{t}"), 0).as_bytes(),
        );
        assert!(got.body.contains("deliver"), "{}", got.body);
    }
    let stream: String = (5..10)
        .map(|t| network_status(&format!("t{t}"), 0) + "\n")
        .collect();
    let got = post(&agent, &url, "application/x-ndjson", stream.as_bytes());
    assert_eq!(got.body.matches("deliver").count(), 5, "{}", got.body);
    // kill -9: nothing is saved at the end, the journal holds it all.
    drop(server);
    let server = start(&dir, &args);
    let url = server.url("/v1/policies/merchant_messages/eval");
    for t in 0..10 {
        let got = post(
            &agent,
            &url,
            "application/json",
            network_status(&format!("t{t}"), 5).as_bytes(),
        );
        assert!(
            got.body.contains("\"rule\":\"network_cap\""),
            "t{t}: {}",
            got.body
        );
    }
    let got = post(
        &agent,
        &url,
        "application/json",
        network_status("new", 5).as_bytes(),
    );
    assert!(got.body.contains("deliver"), "{}", got.body);
    // SIGTERM saves a snapshot; `eval --state` reads the same state and
    // decides as the service would.
    assert_eq!(server.terminate(), Some(0));
    let file = state.join("merchant_messages.state");
    assert!(file.is_file());
    let out = common::tollgate_stdin(
        &[
            "eval",
            "policies/notifications/merchant_messages.toll",
            "--state",
            file.to_str().unwrap(),
        ],
        &format!(
            "{}\n{}\n",
            network_status("new", 10),
            network_status("other", 10)
        ),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("network_cap"), "{text}");
    assert!(lines[1].contains("deliver"), "{text}");
}

#[test]
fn with_a_state_dir_concurrent_deliveries_are_journaled_exactly_once() {
    let dir = policy_dir(
        "durable_concurrent",
        &[PathBuf::from(
            "policies/notifications/merchant_messages.toll",
        )],
    );
    let state = common::scratch("durable_concurrent_state");
    let args = ["--state-dir", state.to_str().unwrap()];
    let server = start(&dir, &args);
    let url = server.url("/v1/policies/merchant_messages/eval");
    let delivered = Arc::new(Mutex::new(0usize));
    let mut handles = Vec::new();
    for t in 0..8 {
        let (url, delivered) = (url.clone(), delivered.clone());
        handles.push(std::thread::spawn(move || {
            let agent = self::agent();
            for batch in 0..3 {
                let body: String = (0..5)
                    .map(|i| {
                        let n = t * 100 + batch * 10 + i;
                        format!(
                            "{{\"kind\":\"txn_success\",\"merchant\":\"m\",\"terminal\":\"cap\",\"txn_id\":\"c{n}\",\"msg_id\":\"g{n}\",\"at\":\"2026-11-25T14:{:02}:00+08:00\"}}\n",
                            n % 30
                        )
                    })
                    .collect();
                let got = post(&agent, &url, "application/x-ndjson", body.as_bytes());
                *delivered.lock().unwrap() += got.body.matches("\"deliver\"").count();
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*delivered.lock().unwrap(), 30);
    // kill -9, then the state the journal rebuilds counts exactly 30, and
    // remembers the decision of each message id.
    drop(server);
    let server = start(&dir, &args);
    let agent = agent();
    let url = server.url("/v1/policies/merchant_messages/eval");
    let next = r#"{"kind":"txn_success","merchant":"m","terminal":"cap","txn_id":"z","at":"2026-11-25T14:40:00+08:00"}"#;
    let got = post(&agent, &url, "application/json", next.as_bytes());
    assert!(
        got.body.contains("cap reached: 30 delivered in 1h, cap 30"),
        "{}",
        got.body
    );
    let again = r#"{"kind":"txn_success","merchant":"m","terminal":"cap","txn_id":"c0","msg_id":"g0","at":"2026-11-25T14:00:00+08:00"}"#;
    let got = post(&agent, &url, "application/json", again.as_bytes());
    assert!(got.body.contains("\"repeat\":true"), "{}", got.body);
}

/// A stream whose decisions cannot be journaled ends with one error line
/// (docs/serve.md), and that line counts in `tollgate_record_errors_total`
/// like every error line. The service runs with a file-size limit of
/// 4 KiB (SIGXFSZ ignored, so a write past it fails, as on a full disk).
#[test]
fn with_a_state_dir_the_error_line_of_an_unwritable_journal_is_counted() {
    let dir = policy_dir(
        "durable_full",
        &[PathBuf::from(
            "policies/notifications/merchant_messages.toll",
        )],
    );
    let state = common::scratch("durable_full_state");
    let limited = state.join("limited.sh");
    std::fs::write(
        &limited,
        format!(
            "#!/bin/sh\ntrap '' XFSZ\nulimit -f 8\nexec '{}' \"$@\"\n",
            env!("CARGO_BIN_EXE_tollgate")
        ),
    )
    .unwrap();
    let status = Command::new("chmod")
        .arg("+x")
        .arg(&limited)
        .status()
        .unwrap();
    assert!(status.success());
    let states = state.join("states");
    std::fs::create_dir(&states).unwrap();
    let server = Server::start(
        limited.to_str().unwrap(),
        root(),
        &dir,
        &["--state-dir", states.to_str().unwrap()],
    );
    let agent = agent();
    // Every message delivered (another terminal each): far more than 4 KiB
    // of journal entries.
    let body: String = (0..500)
        .map(|n| {
            format!(
                "{{\"kind\":\"txn_success\",\"merchant\":\"m\",\"terminal\":\"t{n}\",\"txn_id\":\"x{n}\",\"msg_id\":\"g{n}\",\"at\":\"2026-11-25T14:00:00+08:00\"}}\n"
            )
        })
        .collect();
    let got = post(
        &agent,
        &server.url("/v1/policies/merchant_messages/eval"),
        "application/x-ndjson",
        body.as_bytes(),
    );
    let last = got.body.lines().last().unwrap_or_default().to_string();
    assert!(
        last.contains("cannot write the journal") && last.contains("not answered"),
        "{}",
        got.body
    );
    let errors = got.body.lines().filter(|l| l.contains("\"error\"")).count();
    assert_eq!(errors, 1, "{}", got.body);
    let text = get(&agent, &server.url("/metrics")).body;
    let counted = text.lines().find_map(|l| {
        l.strip_prefix(r#"tollgate_record_errors_total{policy="merchant_messages"} "#)
    });
    assert_eq!(counted, Some("1"), "{text}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn notification_versions_swap_under_load_with_state_on_disk() {
    let dir = common::scratch("notify_reload");
    let state = common::scratch("notify_reload_state");
    let v1 = std::fs::read_to_string(root().join("policies/notifications/merchant_messages.toll"))
        .unwrap();
    // Version 2 keeps the state's layout (a quiet window moves); version 3
    // renumbers the stateful rules.
    let v2 = v1
        .replace("version 1", "version 2")
        .replace("quiet 11:00-13:00", "quiet 11:30-13:00");
    let v3 = v2.replace("version 2", "version 3").replace(
        "rule security_always",
        "rule quiet_security when kind == security and promo_opt_out => suppress \"test\"\nrule security_always",
    );
    let file = dir.join("merchant_messages.toll");
    let write = |text: &str| {
        let tmp = dir.join(".merchant_messages.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &file).unwrap();
    };
    write(&v1);
    let args = ["--state-dir", state.to_str().unwrap()];
    let server = start(&dir, &args);
    let url = server.url("/v1/policies/merchant_messages/eval?trace=1");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hashes = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let mut clients = Vec::new();
    for c in 0..4 {
        let (url, stop, hashes) = (url.clone(), stop.clone(), hashes.clone());
        clients.push(std::thread::spawn(move || {
            let agent = self::agent();
            let mut round = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || round == 0 {
                let body: String = (0..20)
                    .map(|i| {
                        network_status(&format!("c{c}r{round}t{}", i % 10), (i / 10) as u32) + "\n"
                    })
                    .collect();
                let got = post(&agent, &url, "application/x-ndjson", body.as_bytes());
                assert_eq!(got.status, 200, "{}", got.body);
                let lines: Vec<serde_json::Value> = got
                    .body
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                assert_eq!(lines.len(), 20, "{}", got.body);
                for (i, l) in lines.iter().enumerate() {
                    assert_eq!(
                        l["policy"]["hash"],
                        got.hash.as_str(),
                        "one version per answer"
                    );
                    let expect = if i < 10 { "deliver" } else { "suppress" };
                    assert_eq!(l["decision"], expect, "{l}");
                }
                hashes.lock().unwrap().insert(got.hash);
                round += 1;
            }
        }));
    }
    let agent = agent();
    let wait_for = |version: u32| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let listing: serde_json::Value =
                serde_json::from_str(&get(&agent, &server.url("/v1/policies")).body).unwrap();
            if listing["policies"][0]["version"] == version {
                return;
            }
            assert!(Instant::now() < deadline, "version {version} never loaded");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    std::thread::sleep(Duration::from_millis(200));
    write(&v2);
    wait_for(2);
    std::thread::sleep(Duration::from_millis(200));
    write("policy merchant_messages version 4\nkind notifications\nrule {\n");
    std::thread::sleep(Duration::from_millis(300));
    write(&v3);
    wait_for(3);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    assert!(hashes.lock().unwrap().len() >= 2);
    // kill -9, and the state on disk is the last version's.
    drop(server);
    let server = start(&dir, &args);
    let got = post(
        &agent,
        &server.url("/v1/policies/merchant_messages/eval"),
        "application/json",
        network_status("c0r0t0", 5).as_bytes(),
    );
    assert_eq!(got.version, "3");
    assert!(got.body.contains("network_cap"), "{}", got.body);
}

#[test]
fn a_layout_change_held_up_by_a_long_stream_waits_and_then_takes_over() {
    let dir = common::scratch("held_up");
    let v1 = std::fs::read_to_string(root().join("policies/notifications/merchant_messages.toll"))
        .unwrap();
    let v2 = v1.replace("version 1", "version 2").replace(
        "rule security_always",
        "rule quiet_security when kind == security and promo_opt_out => suppress \"test\"\nrule security_always",
    );
    let file = dir.join("merchant_messages.toll");
    std::fs::write(&file, &v1).unwrap();
    let server = start(&dir, &["--no-watch"]);
    // A stream that stays open, deciding with version 1.
    let mut conn = TcpStream::connect(&server.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let line = network_status("long", 0) + "\n";
    write!(
        conn,
        "POST /v1/policies/merchant_messages/eval HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{line}\r\n",
        line.len()
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("deliver") {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    std::fs::write(&file, &v2).unwrap();
    signal(server.child.id(), "HUP");
    // The new version gives up after its wait; version 1 is still listed.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server
        .log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("held the old version too long"))
    {
        assert!(Instant::now() < deadline, "no give-up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let agent = agent();
    let listing: serde_json::Value =
        serde_json::from_str(&get(&agent, &server.url("/v1/policies")).body).unwrap();
    assert_eq!(listing["policies"][0]["version"], 1);
    // The stream ends; the retry takes over without another signal.
    conn.write_all(b"0\r\n\r\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = post(
            &agent,
            &server.url("/v1/policies/merchant_messages/eval"),
            "application/json",
            network_status("other", 0).as_bytes(),
        );
        assert_eq!(got.status, 200);
        if got.version == "2" {
            break;
        }
        assert!(Instant::now() < deadline, "version 2 never took over");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The listing of `server` once `done` holds for it (or a panic after 20s).
fn listing_when(
    agent: &ureq::Agent,
    server: &Server,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listing: serde_json::Value =
            serde_json::from_str(&get(agent, &server.url("/v1/policies")).body).unwrap();
        if done(&listing) {
            return listing;
        }
        assert!(Instant::now() < deadline, "{what}: {listing}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_reload_refuses_a_rollback_and_a_changed_policy_that_kept_its_version() {
    let dir = common::scratch("floor");
    let v1 = std::fs::read_to_string(root().join("policies/fees/lakala.toll")).unwrap();
    let v2 = v1.replace("policy lakala version 1", "policy lakala version 2");
    let file = dir.join("lakala.toll");
    let write = |text: &str| {
        let tmp = dir.join(".lakala.toll.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &file).unwrap();
    };
    write(&v2);
    let server = start(&dir, &[]);
    let agent = agent();
    let first = listing_when(&agent, &server, "v2 serving", |l| {
        l["policies"][0]["version"] == 2
    });
    let serving = first["policies"][0]["hash"].as_str().unwrap().to_string();
    let fee = |agent: &ureq::Agent| {
        post(
            agent,
            &server.url("/v1/policies/lakala/eval"),
            "application/json",
            br#"{"channel":"credit_card","amount":"100.00"}"#,
        )
    };
    // Version 1 again: a rollback, refused; version 2 keeps serving.
    write(&v1);
    let l = listing_when(&agent, &server, "the rollback listed", |l| {
        l["failed"].as_array().is_some_and(|f| !f.is_empty())
    });
    let error = l["failed"][0]["error"].as_str().unwrap().to_string();
    assert!(
        error.contains(
            "rollback refused: version 1 of policy `lakala` is older than the version 2 serving"
        ),
        "{error}"
    );
    assert_eq!(l["policies"][0]["hash"], serving.as_str());
    let got = fee(&agent);
    assert_eq!(
        (got.version.as_str(), got.hash.as_str()),
        ("2", serving.as_str())
    );
    // Version 2 changed: refused and reported, the old one keeps serving.
    write(&v2.replace("const card_rate = 0.60%", "const card_rate = 0.65%"));
    let l = listing_when(&agent, &server, "the reused version listed", |l| {
        l["failed"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("changed without a new version"))
    });
    assert_eq!(l["policies"][0]["hash"], serving.as_str());
    let got = fee(&agent);
    assert_eq!(got.hash, serving);
    assert!(got.body.contains("\"0.60\""), "{}", got.body);
    // The log says so too.
    let log = server.log.lock().unwrap().join("\n");
    assert!(log.contains("rollback refused"), "{log}");
    assert!(log.contains("changed without a new version"), "{log}");
    // A new version takes over.
    write(
        &v2.replace("version 2", "version 3")
            .replace("const card_rate = 0.60%", "const card_rate = 0.65%"),
    );
    let l = listing_when(&agent, &server, "v3 serving", |l| {
        l["policies"][0]["version"] == 3
    });
    assert!(l["failed"].as_array().unwrap().is_empty());
    assert!(fee(&agent).body.contains("\"0.65\""));
}

#[test]
fn with_a_trusted_key_serve_runs_only_signed_artifacts() {
    let dir = common::scratch("serve_trusted");
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    let tollgate = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let key = dir.join("release.key");
    let public = tollgate(&["keygen".as_ref(), "--out".as_ref(), key.as_os_str()])
        .lines()
        .find_map(|l| l.strip_prefix("public key: ").map(str::to_string))
        .unwrap();
    let lakala = root().join("policies/fees/lakala.toll");
    let signed = policies.join("lakala.tga");
    tollgate(&[
        "compile".as_ref(),
        lakala.as_os_str(),
        "-o".as_ref(),
        signed.as_os_str(),
        "--sign".as_ref(),
        key.as_os_str(),
    ]);
    let unsigned = policies.join("jpy.tga");
    tollgate(&[
        "compile".as_ref(),
        root().join("tests/fees/jpy.toll").as_os_str(),
        "-o".as_ref(),
        unsigned.as_os_str(),
    ]);
    std::fs::copy(
        root().join("policies/notifications/merchant_messages.toll"),
        policies.join("merchant_messages.toll"),
    )
    .unwrap();
    let server = start(&policies, &["--trusted-key", &public]);
    let agent = agent();
    let l = listing_when(&agent, &server, "the refusals listed", |l| {
        l["failed"].as_array().is_some_and(|f| f.len() == 2)
    });
    let names: Vec<&str> = l["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lakala"]);
    let errors: Vec<&str> = l["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["error"].as_str().unwrap())
        .collect();
    assert!(errors[0].contains("not signed"), "{errors:?}");
    assert!(
        errors[1].contains("a policy source is not a signed artifact"),
        "{errors:?}"
    );
}

/// With `--state-dir`, the floor of each policy served is persisted
/// (`NAME.floor`, written whole) and applied at the next start: a restart
/// on an older file refuses it as a rollback, and on the floor's version
/// changed as a reused version, each listed under `failed` and not served;
/// a newer version serves and moves the floor.
#[test]
fn with_a_state_dir_the_floor_survives_a_restart() {
    let dir = common::scratch("floor_persisted");
    let policies = dir.join("policies");
    let state = dir.join("state");
    std::fs::create_dir_all(&policies).unwrap();
    let v1 = std::fs::read_to_string(root().join("policies/fees/lakala.toll")).unwrap();
    let v2 = v1.replace("policy lakala version 1", "policy lakala version 2");
    let file = policies.join("lakala.toll");
    let args = ["--state-dir", state.to_str().unwrap()];
    let agent = agent();
    let floor = || std::fs::read_to_string(state.join("lakala.floor")).unwrap();
    std::fs::write(&file, &v2).unwrap();
    let server = start(&policies, &args);
    let l = listing_when(&agent, &server, "v2 serving", |l| {
        l["policies"][0]["version"] == 2
    });
    let hash = l["policies"][0]["hash"].as_str().unwrap().to_string();
    assert_eq!(floor(), format!("2 {hash}\n"));
    assert_eq!(server.terminate(), Some(0));
    // Restarted on version 1: a rollback, not served.
    std::fs::write(&file, &v1).unwrap();
    let server = start(&policies, &args);
    let l = listing_when(&agent, &server, "the rollback listed", |l| {
        l["failed"].as_array().is_some_and(|f| !f.is_empty())
    });
    assert_eq!(l["policies"], serde_json::json!([]), "{l}");
    let error = l["failed"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("rollback refused: version 1 of policy `lakala` is older than the version 2 served before"),
        "{error}"
    );
    assert_eq!(
        floor(),
        format!("2 {hash}\n"),
        "a refused file moves no floor"
    );
    assert_eq!(server.terminate(), Some(0));
    // Restarted on version 2 changed: refused too.
    std::fs::write(&file, v2.replace("0.60%", "0.65%")).unwrap();
    let server = start(&policies, &args);
    let l = listing_when(&agent, &server, "the reused version listed", |l| {
        l["failed"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("changed without a new version"))
    });
    assert_eq!(l["policies"], serde_json::json!([]), "{l}");
    assert_eq!(server.terminate(), Some(0));
    // Version 3 serves, and becomes the floor.
    std::fs::write(
        &file,
        v2.replace("version 2", "version 3")
            .replace("0.60%", "0.65%"),
    )
    .unwrap();
    let server = start(&policies, &args);
    let l = listing_when(&agent, &server, "v3 serving", |l| {
        l["policies"][0]["version"] == 3
    });
    let hash = l["policies"][0]["hash"].as_str().unwrap().to_string();
    assert_eq!(floor(), format!("3 {hash}\n"));
    assert_eq!(server.terminate(), Some(0));
}
