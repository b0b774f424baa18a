//! The conformance pack: for every reference policy, the vectors
//! (`tollgate::vectors`, answered by `tollgate-oracle`'s interpreters, as
//! the `tollgate-vectors` program writes them) hold records with the
//! answers the reference interpreters give; the compiled artifact, run by
//! `tollgate eval` (the runtime), must print those answers byte for byte,
//! group by group from a fresh state. An artifact that rounds half-even
//! where the policy says half-up, or caps messages at another count, fails
//! them. (The program's own arguments and messages are tested in
//! `crates/oracle/tests/vectors_cli.rs`.)

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::tollgate;

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use tollgate_oracle::reference::Interpreters;
use tollgate_runtime::artifact::{self, Compiled};
use tollgate_runtime::notify::{Action, Cap, NotifyPolicy, NotifyRule};
use tollgate_runtime::rounding::RoundingMode;

/// A vectors file: its header and its groups of (record, expected line).
struct Vectors {
    header: Json,
    groups: Vec<(String, Vec<(String, String)>)>,
}

fn read(path: &Path) -> Vectors {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap());
    let header = lines.next().unwrap();
    let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in lines {
        if let Some(about) = line.get("reset") {
            groups.push((about.as_str().unwrap().to_string(), Vec::new()));
            continue;
        }
        let record = line["record"].to_string();
        let expect = line["expect"].as_str().unwrap().to_string();
        groups.last_mut().unwrap().1.push((record, expect));
    }
    Vectors { header, groups }
}

/// Writes the vectors and the artifact of `policy` into `dir`, a
/// notifications zone built for `years`.
fn make(policy: &str, dir: &Path, years: Option<(i32, i32)>) -> (Vectors, PathBuf) {
    let stem = Path::new(policy).file_stem().unwrap().to_str().unwrap();
    let vectors = dir.join(format!("{stem}.vectors.jsonl"));
    let artifact = dir.join(format!("{stem}.tgc"));
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(policy)).unwrap();
    let pack = tollgate::vectors::generate(&Interpreters, &text, years)
        .unwrap_or_else(|e| panic!("{policy}: {e:?}"));
    std::fs::write(&vectors, pack.jsonl()).unwrap();
    let years = years.map(|(a, b)| format!("{a}..{b}"));
    let mut args = vec!["compile", policy, "-o", artifact.to_str().unwrap()];
    if let Some(years) = &years {
        args.extend(["--zone-years", years.as_str()]);
    }
    let o = tollgate(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (read(&vectors), artifact)
}

/// Replays every group through `tollgate eval ARTIFACT`; the mismatches,
/// as (group, record number, expected, got).
fn replay(v: &Vectors, artifact: &Path) -> Vec<(String, usize, String, String)> {
    let mut wrong = Vec::new();
    for (about, vectors) in &v.groups {
        let input: String = vectors.iter().map(|(r, _)| format!("{r}\n")).collect();
        let o = common::tollgate_stdin(&["eval", artifact.to_str().unwrap()], &input);
        let out = String::from_utf8(o.stdout).unwrap();
        let got: Vec<&str> = out.lines().collect();
        assert_eq!(got.len(), vectors.len(), "{about}: one line per record");
        for (i, ((_, expect), got)) in vectors.iter().zip(got).enumerate() {
            if expect != got {
                wrong.push((about.clone(), i + 1, expect.clone(), got.to_string()));
            }
        }
    }
    wrong
}

fn hash_of(artifact: &Path) -> String {
    let bytes = std::fs::read(artifact).unwrap();
    format!("{:016x}", artifact::identify(&bytes).unwrap().2)
}

/// Every `.toll` policy (not test files) under `policies/`.
fn reference_policies() -> Vec<String> {
    let mut out = Vec::new();
    for kind in ["fees", "notifications"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("policies")
            .join(kind);
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".toll") && !name.ends_with(".test.toll") {
                out.push(format!("policies/{kind}/{name}"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_reference_policy_replays_its_vectors_byte_for_byte() {
    let dir = common::scratch("vectors_reference");
    let policies = reference_policies();
    assert!(policies.len() >= 4);
    for policy in policies {
        let (v, artifact) = make(&policy, &dir, None);
        assert_eq!(v.header["tollgate_vectors"], 1);
        assert_eq!(v.header["artifact"].as_str().unwrap(), hash_of(&artifact));
        let count: usize = v.groups.iter().map(|g| g.1.len()).sum();
        assert_eq!(v.header["vectors"], count);
        assert!(count >= 10, "{policy}: {count} vectors");
        let wrong = replay(&v, &artifact);
        assert!(
            wrong.is_empty(),
            "{policy}: {:#?}",
            &wrong[..wrong.len().min(5)]
        );
    }
}

#[test]
fn new_york_vectors_cross_both_offset_changes_of_the_chosen_years() {
    let dir = common::scratch("vectors_new_york");
    let policy = "tests/notifications/new_york.toll";
    let (v, artifact) = make(policy, &dir, Some((2026, 2035)));
    assert_eq!(v.header["zone_years"], "2026..2035");
    let changes: Vec<&Vec<(String, String)>> = v
        .groups
        .iter()
        .filter(|(about, _)| about.starts_with("offset change"))
        .map(|(_, g)| g)
        .collect();
    assert!(!changes.is_empty());
    let all: String = changes
        .iter()
        .flat_map(|g| g.iter())
        .map(|(r, _)| r.clone())
        .collect();
    // Spring forward (2026-03-08 07:00Z) and fall back (2026-11-01 06:00Z).
    for instant in [
        "2026-03-08T01:59:59-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-11-01T01:59:59-04:00",
        "2026-11-01T01:00:00-05:00",
    ] {
        assert!(all.contains(instant), "no record at {instant}");
    }
    // The ends of the chosen years: just outside is refused.
    let ends = v
        .groups
        .iter()
        .find(|(a, _)| a.starts_with("the ends"))
        .unwrap();
    assert!(ends.1[0].1.contains("outside the years"), "{:?}", ends.1[0]);
    assert!(!ends.1[1].1.contains("error"), "{:?}", ends.1[1]);
    let wrong = replay(&v, &artifact);
    assert!(wrong.is_empty(), "{:#?}", &wrong[..wrong.len().min(5)]);
}

/// A quiet window that ends inside the hour clocks repeat: asked after its
/// first end, the vectors expect the second (the same day), as `eval`
/// answers.
#[test]
fn vectors_of_a_window_ending_in_the_repeated_hour_replay() {
    let dir = common::scratch("vectors_repeated_hour");
    let policy = "tests/notifications/repeated_hour.toll";
    let (v, artifact) = make(policy, &dir, Some((2026, 2027)));
    let all: String = v
        .groups
        .iter()
        .flat_map(|(_, g)| g.iter())
        .map(|(r, e)| format!("{r} {e}\n"))
        .collect();
    assert!(
        all.contains("2026-11-01T01:00:00-05:00"),
        "no record at the second 01:00"
    );
    let wrong = replay(&v, &artifact);
    assert!(wrong.is_empty(), "{:#?}", &wrong[..wrong.len().min(5)]);
}

/// Rewrites the artifact at `path` through `change` (re-encoded, so valid).
fn mutate(path: &Path, change: impl FnOnce(&mut Compiled)) {
    let bytes = std::fs::read(path).unwrap();
    let mut compiled = artifact::decode_any(&bytes).unwrap();
    change(&mut compiled);
    let bytes = match &compiled {
        Compiled::Fees(t) => artifact::encode(t),
        Compiled::Notifications(p) => artifact::encode_notify(p),
    };
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_runtime_rounding_half_even_fails_the_half_up_vectors() {
    let dir = common::scratch("vectors_broken_rounding");
    let (v, artifact) = make("policies/fees/lakala.toll", &dir, None);
    assert!(replay(&v, &artifact).is_empty());
    mutate(&artifact, |c| {
        let Compiled::Fees(t) = c else {
            panic!("not fees")
        };
        assert!(t
            .schedules()
            .iter()
            .all(|s| s.rounding().mode == RoundingMode::HalfUp));
        *t = common::rounded_as(t, RoundingMode::HalfEven);
    });
    assert_ne!(v.header["artifact"].as_str().unwrap(), hash_of(&artifact));
    let wrong = replay(&v, &artifact);
    assert!(!wrong.is_empty(), "half-even rounding passed the vectors");
    // A midpoint: 7.50 at 0.60% is exactly 0.045, half-up 0.05, half-even 0.04.
    assert!(
        wrong
            .iter()
            .any(|(_, _, e, g)| e.contains("\"0.05\"") && g.contains("\"0.04\"")),
        "{wrong:#?}"
    );
}

#[test]
fn a_runtime_counting_one_message_too_many_fails_the_vectors() {
    let dir = common::scratch("vectors_broken_cap");
    let (v, artifact) = make("policies/notifications/merchant_messages.toll", &dir, None);
    mutate(&artifact, |c| {
        let Compiled::Notifications(p) = c else {
            panic!("not notifications")
        };
        let mut parts = p.clone().into_parts();
        for r in &mut parts.rules {
            if let Action::Limit {
                cap: Cap::Fixed(n),
                period,
                keys,
            } = r.action()
            {
                let action = Action::Limit {
                    cap: Cap::Fixed(n + 1),
                    period: *period,
                    keys: keys.clone(),
                };
                let (columns, rows) = (r.columns().to_vec(), r.rows().to_vec());
                *r = NotifyRule::new(r.name().into(), columns, rows, action).unwrap();
            }
        }
        *p = NotifyPolicy::new(parts).unwrap();
    });
    assert!(
        !replay(&v, &artifact).is_empty(),
        "a loosened cap passed the vectors"
    );
}

/// The vectors of a policy with an activation window expect what `eval`
/// answers outside it (E0702 before, E0701 from the end on, always-deliver
/// messages still delivered): the reference interpreter knows windows.
#[test]
fn a_windowed_policy_replays_its_vectors_with_records_outside_the_window() {
    let dir = common::scratch("vectors_windowed");
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/notifications/merchant_messages.toll"),
    )
    .unwrap()
    .replace(
        "kind notifications\n",
        "kind notifications\neffective from 2026-11-25T10:00:00+08:00 until 2026-11-26T10:00:00+08:00\n",
    );
    let policy = dir.join("windowed.toll");
    std::fs::write(&policy, source).unwrap();
    let (v, artifact) = make(policy.to_str().unwrap(), &dir, None);
    let expects: Vec<&String> = v
        .groups
        .iter()
        .flat_map(|g| g.1.iter().map(|(_, e)| e))
        .collect();
    for code in ["E0701", "E0702"] {
        assert!(
            expects.iter().any(|e| e.contains(code)),
            "no vector expects {code}"
        );
    }
    let wrong = replay(&v, &artifact);
    assert!(wrong.is_empty(), "{:#?}", &wrong[..wrong.len().min(5)]);
}
