//! Durable throttle state (`tollgate eval --state`, `docs/durability.md`),
//! tested on the real binary: runs killed with SIGKILL at random points,
//! SIGTERM, output written to a full device or a pipe closed early, two
//! runs on one state file, and a state directory that does not exist. The
//! state is checked against the lines each run printed: it holds every
//! delivery that was printed, at most one batch more, and no cap is ever
//! exceeded in what was printed.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(unix)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use tollgate_oracle::generate::Rng;
use tollgate_runtime::notify::{MemoryState, NotifyPolicy, ThrottleState};
use tollgate_runtime::position::NotifyRuleIndex;
use tollgate_runtime::value::Value;

/// Promotions capped per merchant; notices delivered once per id, so that
/// the state says exactly which notices were delivered.
const POLICY: &str = r#"policy durable version 1
kind notifications
timezone "UTC"
late records within 12h

field kind: enum { promo, notice }
field merchant: string
field id: string default ""
field at: timestamp

rule promo_cap when kind == promo => limit 2 per 24h by merchant
rule notice_once when kind == notice => dedup by (id) within 30d
"#;

/// The most records a batch holds (`docs/durability.md`): after a crash the
/// state may hold the deliveries of at most this many unprinted records.
const BATCH: usize = 1024;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// One message of a stream.
#[derive(Debug, Clone)]
struct Message {
    promo: bool,
    merchant: String,
    id: String,
    at_ms: i64,
}

impl Message {
    fn line(&self) -> String {
        let at = chrono::DateTime::from_timestamp_millis(self.at_ms)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ");
        if self.promo {
            format!(
                "{{\"kind\":\"promo\",\"merchant\":\"{}\",\"at\":\"{at}\"}}\n",
                self.merchant
            )
        } else {
            format!(
                "{{\"kind\":\"notice\",\"merchant\":\"{}\",\"id\":\"{}\",\"at\":\"{at}\"}}\n",
                self.merchant, self.id
            )
        }
    }
}

/// `len` messages 20 s apart from 2026-11-25: half promotions for four
/// merchants, half notices with ids unique in the stream.
fn stream(seed: u64, len: usize) -> Vec<Message> {
    let mut r = Rng::new(seed);
    let start = 1_795_564_800_000; // 2026-11-25T00:00:00Z
    (0..len)
        .map(|i| Message {
            promo: r.below(2) == 0,
            merchant: format!("m{}", r.below(4)),
            id: format!("n{seed}-{i}"),
            at_ms: start + i as i64 * 20_000,
        })
        .collect()
}

fn text(messages: &[Message]) -> String {
    messages.iter().map(Message::line).collect()
}

fn compiled() -> NotifyPolicy {
    common::notifications(POLICY).1
}

fn spawn(dir: &Path, state: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["eval", "policy.toll", "--state"])
        .arg(state)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs to completion with `input` on stdin.
fn run(dir: &Path, state: &Path, input: &str) -> std::process::Output {
    let mut child = spawn(dir, state);
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Runs on `input` with the input left open (so that the run cannot end
/// on its own), reads `lines` answer lines and kills the run with SIGKILL:
/// the journal then holds the deliveries of every line printed. The bytes
/// read.
fn killed_after(dir: &Path, state: &Path, input: &str, lines: usize) -> Vec<u8> {
    let mut child = spawn(dir, state);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut read = Vec::new();
    for _ in 0..lines {
        out.read_until(b'\n', &mut read).unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    read
}

/// Whether each line delivered.
fn delivered(lines: &[String]) -> Vec<bool> {
    lines
        .iter()
        .map(|l| l.starts_with("{\"decision\":\"deliver\""))
        .collect()
}

/// The state at `state` as a fresh run would see it: its files are copied
/// aside and a run with no input folds the journal into the snapshot.
fn settled(dir: &Path, state: &Path, policy: &NotifyPolicy) -> MemoryState {
    let aside = dir.join("aside");
    let _ = std::fs::remove_dir_all(&aside);
    std::fs::create_dir_all(&aside).unwrap();
    let name = state.file_name().unwrap().to_str().unwrap();
    for suffix in ["", ".journal"] {
        let from = dir.join(format!("{name}{suffix}"));
        if from.exists() {
            std::fs::copy(&from, aside.join(format!("{name}{suffix}"))).unwrap();
        }
    }
    let copy = aside.join(name);
    let o = run(dir, &copy, "");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.stdout.is_empty());
    MemoryState::load(&std::fs::read(&copy).unwrap(), policy).unwrap()
}

/// Whether the state holds the delivery of notice `m`.
fn holds(state: &MemoryState, policy: &NotifyPolicy, m: &Message) -> bool {
    let (i, notice_once) = policy
        .rules()
        .iter()
        .enumerate()
        .find(|(_, r)| r.name() == "notice_once")
        .unwrap();
    let rule = NotifyRuleIndex::new(i as u32);
    let record = [
        Value::Enum(1),
        Value::Str(m.merchant.clone()),
        Value::Str(m.id.clone()),
        Value::Time {
            unix_ms: m.at_ms,
            offset_secs: 0,
        },
    ];
    !state
        .history(rule, notice_once.key_of(&record).unwrap())
        .is_empty()
}

/// No merchant got more than 2 promotions in any 24 hours.
fn assert_caps(promos: &BTreeMap<String, Vec<i64>>) {
    for (merchant, times) in promos {
        let mut times = times.clone();
        times.sort_unstable();
        for w in times.windows(3) {
            assert!(
                w[2] - w[0] >= DAY_MS,
                "{merchant} got 3 promotions within 24h: {w:?}"
            );
        }
    }
}

/// Complete lines of `bytes` (a line cut by the kill was not printed).
fn complete_lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    if lines.last().is_some_and(|l| !l.ends_with('\n')) {
        lines.pop();
    }
    lines
}

/// Checks one killed run: the state holds every notice printed as
/// delivered, and of those not printed, only notices among the next batch.
/// Returns how many unprinted notices it holds.
fn check_run(
    state: &MemoryState,
    policy: &NotifyPolicy,
    sent: &[Message],
    lines: &[String],
) -> usize {
    for (i, (m, d)) in sent.iter().zip(delivered(lines)).enumerate() {
        if !m.promo && d {
            assert!(holds(state, policy, m), "printed delivery {i} is lost");
        }
    }
    let mut more = 0;
    for (i, m) in sent.iter().enumerate().skip(lines.len()) {
        if !m.promo && holds(state, policy, m) {
            assert!(
                i < lines.len() + BATCH,
                "record {i} is in the state, more than a batch after the {} printed",
                lines.len()
            );
            more += 1;
        }
    }
    more
}

#[test]
fn runs_killed_at_random_points_keep_every_printed_delivery() {
    let dir = common::scratch("durability-kill");
    std::fs::write(dir.join("policy.toll"), POLICY).unwrap();
    let policy = compiled();
    let state = dir.join("throttle.state");
    let runs = common::cases(50) as usize;
    let all = stream(7, runs * 1500);
    let mut r = Rng::new(11);
    let mut next = 0;
    let mut promos: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut decided = 0;
    let mut unprinted = 0;
    for run_no in 0..runs {
        let chunk = &all[next..(next + 1500).min(all.len())];
        let mut child = spawn(&dir, &state);
        let mut stdin = child.stdin.take().unwrap();
        let input = text(chunk);
        // The input stays open until the kill, so that the run cannot end
        // on its own: the kill always lands before it exits.
        let (done, wait) = mpsc::channel::<()>();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
            let _ = wait.recv();
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let kill_after = 1 + r.below(chunk.len() - 1);
        let mut read = Vec::new();
        let mut seen = 0;
        while seen < kill_after {
            let n = out.read_until(b'\n', &mut read).unwrap();
            assert!(n > 0, "run {run_no} ended early");
            seen += 1;
        }
        child.kill().unwrap();
        out.read_to_end(&mut read).unwrap();
        drop(done);
        writer.join().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), None, "run {run_no} was killed");
        let lines = complete_lines(&read);
        assert!(lines.len() >= kill_after);
        let settled_state = settled(&dir, &state, &policy);
        unprinted += check_run(&settled_state, &policy, chunk, &lines);
        for (m, d) in chunk.iter().zip(delivered(&lines)) {
            if m.promo && d {
                promos.entry(m.merchant.clone()).or_default().push(m.at_ms);
            }
        }
        assert_caps(&promos);
        // A gateway sends again what was not answered.
        next += lines.len();
        decided += lines.len();
    }
    assert!(decided >= runs, "{decided} records decided");
    eprintln!(
        "{runs} runs killed: {decided} records decided, {unprinted} unprinted deliveries kept"
    );
    let total: usize = promos.values().map(Vec::len).sum();
    assert!(total > 10, "only {total} promotions delivered");
}

#[test]
fn sigterm_keeps_what_was_printed() {
    let dir = common::scratch("durability-term");
    std::fs::write(dir.join("policy.toll"), POLICY).unwrap();
    let policy = compiled();
    let state = dir.join("throttle.state");
    let sent = stream(3, 5000);
    let mut child = spawn(&dir, &state);
    let mut stdin = child.stdin.take().unwrap();
    let input = text(&sent);
    let (done, wait) = mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
        let _ = wait.recv();
    });
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut read = Vec::new();
    for _ in 0..2000 {
        out.read_until(b'\n', &mut read).unwrap();
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    out.read_to_end(&mut read).unwrap();
    drop(done);
    writer.join().unwrap();
    child.wait().unwrap();
    let lines = complete_lines(&read);
    let held = settled(&dir, &state, &policy);
    check_run(&held, &policy, &sent, &lines);
}

#[test]
fn two_runs_on_one_state_never_exceed_a_cap_together() {
    for round in 0..common::cases(3) {
        let dir = common::scratch(&format!("durability-two-{round}"));
        std::fs::write(dir.join("policy.toll"), POLICY).unwrap();
        let state = dir.join("throttle.state");
        // Promotions for five merchants within one hour, in each run.
        let promos = |seed: u64| -> String {
            let mut r = Rng::new(seed);
            let start = 1_795_600_000_000;
            (0..4000)
                .map(|i| {
                    Message {
                        promo: true,
                        merchant: format!("m{}", r.below(5)),
                        id: String::new(),
                        at_ms: start + i * 500,
                    }
                    .line()
                })
                .collect()
        };
        let (a, b) = (
            promos(u64::from(round) * 2),
            promos(u64::from(round) * 2 + 1),
        );
        let (dir_a, state_a) = (dir.clone(), state.clone());
        let first = std::thread::spawn(move || run(&dir_a, &state_a, &a));
        let second = run(&dir, &state, &b);
        let first = first.join().unwrap();
        let mut per_merchant: BTreeMap<String, usize> = BTreeMap::new();
        for o in [&first, &second] {
            assert_eq!(
                o.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
            let out = String::from_utf8_lossy(&o.stdout);
            assert_eq!(out.lines().count(), 4000);
            for line in out.lines() {
                assert!(!line.contains("error"), "{line}");
            }
        }
        // Which merchant each delivery was for: replay the inputs.
        for (o, seed) in [
            (&first, u64::from(round) * 2),
            (&second, u64::from(round) * 2 + 1),
        ] {
            let mut r = Rng::new(seed);
            for line in String::from_utf8_lossy(&o.stdout).lines() {
                let merchant = format!("m{}", r.below(5));
                if line.starts_with("{\"decision\":\"deliver\"") {
                    *per_merchant.entry(merchant).or_default() += 1;
                }
            }
        }
        for (merchant, n) in &per_merchant {
            assert!(
                *n <= 2,
                "{merchant} got {n} promotions in an hour (cap 2 per 24h)"
            );
        }
        assert_eq!(per_merchant.values().sum::<usize>(), 10);
        let left: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let expected: BTreeSet<String> = [
            "policy.toll",
            "throttle.state",
            "throttle.state.journal",
            "throttle.state.lock",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(left, expected, "files left beside the state");
    }
}

/// Notices with ids unique in the stream: a rerun of the same stream
/// delivers exactly those the state does not hold.
fn notices(seed: u64, n: usize) -> Vec<Message> {
    stream(seed, n * 3)
        .into_iter()
        .filter(|m| !m.promo)
        .take(n)
        .collect()
}

#[test]
fn a_full_device_leaves_no_delivery_in_the_state() {
    let dir = common::scratch("durability-full");
    std::fs::write(dir.join("policy.toll"), POLICY).unwrap();
    let state = dir.join("throttle.state");
    let sent = notices(5, 3000);
    let input = text(&sent);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["eval", "policy.toll", "--state"])
        .arg(&state)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    let again = run(&dir, &state, &text(&sent));
    assert_eq!(again.status.code(), Some(0));
    let lines: Vec<String> = String::from_utf8_lossy(&again.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), sent.len());
    assert!(
        delivered(&lines).iter().all(|&d| d),
        "a delivery nobody saw was kept"
    );
}

#[test]
fn a_pipe_closed_early_leaves_exactly_the_written_deliveries() {
    let dir = common::scratch("durability-closed");
    std::fs::write(dir.join("policy.toll"), POLICY).unwrap();
    let state = dir.join("throttle.state");
    let sent = notices(9, 60);
    let answered = 25;
    let mut child = spawn(&dir, &state);
    let mut stdin = child.stdin.take().unwrap();
    // The reader that goes away is another process (a shell that copies
    // `answered` lines, each at once, and ends), which holds the only read
    // end of the answers' pipe: a read end held by this process could also
    // be held, for a moment, by a child another test is starting (a fork
    // copies every open descriptor until it execs), and writes into it
    // would then succeed.
    let mut gateway = Command::new("sh")
        .arg("-c")
        .arg(
            "i=0; while [ \"$i\" -lt \"$1\" ] && IFS= read -r line; do \
             printf '%s\\n' \"$line\"; i=$((i + 1)); done",
        )
        .arg("sh")
        .arg(answered.to_string())
        .stdin(Stdio::from(child.stdout.take().unwrap()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let gateway_out = gateway.stdout.take().unwrap();
    // A gateway sends one message at a time and waits for its answer: each
    // must come at once. After `answered` answers it goes away.
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut out = BufReader::new(gateway_out);
        for _ in 0..answered {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let _ = tx.send(line);
        }
    });
    for m in &sent[..answered] {
        stdin.write_all(m.line().as_bytes()).unwrap();
        stdin.flush().unwrap();
        let answer = rx.recv_timeout(Duration::from_secs(30));
        if answer.is_err() {
            let _ = child.kill();
            panic!("no answer to a piped record within 30 s");
        }
    }
    reader.join().unwrap();
    // The shell has copied its lines and ended: the read end is closed, and
    // the next answer cannot be written.
    assert!(gateway.wait().unwrap().success());
    for m in &sent[answered..] {
        if stdin.write_all(m.line().as_bytes()).is_err() {
            break;
        }
    }
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let again = run(&dir, &state, &text(&sent));
    let lines: Vec<String> = String::from_utf8_lossy(&again.stdout)
        .lines()
        .map(String::from)
        .collect();
    let expected: Vec<bool> = (0..sent.len()).map(|i| i >= answered).collect();
    assert_eq!(delivered(&lines), expected);
}

#[test]
fn a_missing_state_directory_fails_before_any_decision() {
    let dir = common::scratch("durability-missing");
    std::fs::write(dir.join("policy.toll"), POLICY).unwrap();
    let state = dir.join("no-such-dir").join("throttle.state");
    let o = run(&dir, &state, &text(&notices(1, 10)));
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "decisions were printed");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("no-such-dir"), "{stderr}");
}

#[test]
fn a_second_run_waits_for_the_lock_and_says_so() {
    let dir = common::scratch("durability-wait");
    std::fs::write(dir.join("policy.toll"), POLICY).unwrap();
    let state = dir.join("throttle.state");
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("throttle.state.lock"))
        .unwrap();
    held.lock().unwrap();
    let mut child = spawn(&dir, &state);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text(&notices(2, 3)).as_bytes()).unwrap();
    drop(stdin);
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    stderr.read_line(&mut said).unwrap();
    assert!(
        said.contains("the state is held by another run; waiting for it to end"),
        "{said:?}"
    );
    drop(held);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let lines: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(delivered(&lines), vec![true; 3]);
}

#[test]
fn message_ids_decided_before_a_kill_are_answered_as_repeats() {
    let dir = common::scratch("durability-ids");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/notifications/merchant_messages.toll"),
        dir.join("policy.toll"),
    )
    .unwrap();
    let state = dir.join("throttle.state");
    let input: String = (0..40)
        .map(|i| {
            let kind = if i % 2 == 0 { "promo" } else { "txn_success" };
            format!(
                "{{\"kind\":\"{kind}\",\"merchant\":\"m{}\",\"terminal\":\"t1\",\"txn_id\":\"x{i}\",\"msg_id\":\"g{i}\",\"at\":\"2026-11-25T09:{i:02}:00+08:00\"}}\n",
                i % 3
            )
        })
        .collect();
    let first = complete_lines(&killed_after(&dir, &state, &input, 40));
    let again = run(&dir, &state, &input);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let again: Vec<String> = String::from_utf8_lossy(&again.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(again.len(), 40);
    for (before, after) in first.iter().zip(&again) {
        let before: serde_json::Value = serde_json::from_str(before).unwrap();
        let mut after: serde_json::Value = serde_json::from_str(after).unwrap();
        assert_eq!(after["repeat"], true, "{after}");
        after.as_object_mut().unwrap().remove("repeat");
        assert_eq!(before, after);
    }
}

#[test]
fn a_journal_that_is_a_fifo_is_refused_not_waited_on() {
    let dir = common::scratch("durability-fifo");
    std::fs::write(dir.join("policy.toll"), POLICY).unwrap();
    let state = dir.join("throttle.state");
    let made = Command::new("mkfifo")
        .arg(dir.join("throttle.state.journal"))
        .status()
        .unwrap();
    assert!(made.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["eval", "policy.toll", "--input", "/dev/null", "--state"])
        .arg(&state)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut waited = Duration::ZERO;
    while child.try_wait().unwrap().is_none() {
        if waited > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("still waiting on the FIFO after 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("is not a regular file"), "{stderr}");
}

/// A journal damaged in its middle (one byte overwritten after a killed
/// run, as a failing disk does) is not taken for a torn tail: the note says
/// the deliveries after the damage are lost, not that their decisions were
/// never printed.
#[test]
fn damage_in_the_middle_of_the_journal_is_not_called_a_torn_tail() {
    let dir = common::scratch("durability-damaged");
    std::fs::write(dir.join("policy.toll"), POLICY).unwrap();
    let state = dir.join("throttle.state");
    killed_after(&dir, &state, &text(&stream(5, 1500)), 1500);
    let journal = dir.join("throttle.state.journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    assert!(bytes.len() > 24_000, "a journal of {} bytes", bytes.len());
    bytes[20_000] ^= 0xff;
    std::fs::write(&journal, &bytes).unwrap();
    let again = run(&dir, &state, "");
    let note = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "{note}");
    assert!(note.contains("damaged at byte"), "{note}");
    assert!(
        note.contains("the deliveries they record are lost"),
        "{note}"
    );
    assert!(!note.contains("stopped before printing"), "{note}");

    // A torn tail keeps its own note.
    killed_after(&dir, &state, &text(&stream(6, 200)), 200);
    let len = std::fs::metadata(&journal).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&journal)
        .unwrap()
        .set_len(len - 5)
        .unwrap();
    let again = run(&dir, &state, "");
    let note = String::from_utf8_lossy(&again.stderr);
    assert!(note.contains("stopped before printing"), "{note}");
    assert!(!note.contains("damaged at byte"), "{note}");
}
