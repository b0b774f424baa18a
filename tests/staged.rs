//! The staged successor and swap of `tollgate_runtime::staged::Terminal`:
//! verify-and-stage (a refused stage changes nothing), routing by each
//! record's instant across the activation, decisions naming the version
//! that made them, the previous policy kept for late records and dropped
//! after the lateness, throttle state carried across the swap, and fees
//! priced by the schedule in effect at the transaction's instant.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;
use tollgate::signing::SecretKey;
use tollgate_oracle::generate::Rng;
use tollgate_runtime::artifact::trust::TrustedKey;
use tollgate_runtime::artifact::{self, ArtifactErrorKind};
use tollgate_runtime::bounded::WhenFull;
use tollgate_runtime::notify::{Decision, NotifyError, Reason};
use tollgate_runtime::staged::{Bounded, Slot, StageError, Store, Terminal, TerminalError};
use tollgate_runtime::value::Value;
use tollgate_runtime::Decimal;

/// 2027-01-01T00:00:00+08:00 in Unix ms: version 2's activation.
const NEW_YEAR_MS: i64 = 1_798_732_800_000;
const MIN: i64 = 60_000;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

fn notify_artifact(source: &str) -> Vec<u8> {
    artifact::encode_notify(&common::notifications(source).1)
}

fn v1() -> String {
    read("tests/activation/messages_v1.toll")
}

fn v2() -> String {
    read("tests/activation/messages_v2.toll")
}

/// A message record of the test policies: at, terminal, kind (0 security,
/// 1 promo).
fn message(at_ms: i64, terminal: &str, kind: u32) -> Vec<Value> {
    vec![
        Value::Time {
            unix_ms: at_ms,
            offset_secs: 8 * 3600,
        },
        Value::Str(terminal.into()),
        Value::Enum(kind),
    ]
}

const PROMO: u32 = 1;

/// Routes and decides one message; the version and decision.
fn send<S: Store>(
    t: &mut Terminal<S>,
    at_ms: i64,
    terminal: &str,
) -> Result<(u32, Decision), TerminalError> {
    let slot = t.route(at_ms);
    t.decide(slot, &message(at_ms, terminal, PROMO))
        .map(|d| (d.version, d.answer.decision))
}

fn delivered(r: Result<(u32, Decision), TerminalError>) -> Option<u32> {
    match r {
        Ok((v, Decision::Deliver { .. })) => Some(v),
        _ => None,
    }
}

fn capped(r: Result<(u32, Decision), TerminalError>) -> Option<u32> {
    match r {
        Ok((
            v,
            Decision::Suppress {
                reason: Reason::CapReached { .. },
                ..
            },
        )) => Some(v),
        _ => None,
    }
}

#[test]
fn the_successor_takes_over_at_its_activation_with_the_state_carried() {
    let mut t = Terminal::install(&notify_artifact(&v1()), &[], None).unwrap();
    t.stage(&notify_artifact(&v2())).unwrap();
    assert_eq!(t.staged().unwrap().version(), 2);
    assert_eq!(t.staged().unwrap().activation_ms(), NEW_YEAR_MS);
    // Before midnight: version 1, two promotions an hour.
    assert_eq!(
        delivered(send(&mut t, NEW_YEAR_MS - 30 * MIN, "t1")),
        Some(1)
    );
    assert_eq!(
        delivered(send(&mut t, NEW_YEAR_MS - 20 * MIN, "t1")),
        Some(1)
    );
    assert_eq!(
        t.current().version(),
        1,
        "not swapped before the activation"
    );
    // Midnight: version 2 (one an hour) decides, and sees the two
    // deliveries version 1 made (the rule of the same name was carried).
    assert_eq!(capped(send(&mut t, NEW_YEAR_MS, "t1")), Some(2));
    assert_eq!(t.current().version(), 2);
    assert_eq!(t.previous().unwrap().version(), 1);
    assert_eq!(t.carried().unwrap().kept, ["promo_cap"]);
    // A late record from before midnight: decided by version 1, which was
    // in effect at its instant (its cap of two reached).
    assert_eq!(capped(send(&mut t, NEW_YEAR_MS - 10 * MIN, "t1")), Some(1));
    // Another terminal: a late delivery by version 1 counts for version 2.
    assert_eq!(
        delivered(send(&mut t, NEW_YEAR_MS - 5 * MIN, "t2")),
        Some(1)
    );
    assert_eq!(capped(send(&mut t, NEW_YEAR_MS + 10 * MIN, "t2")), Some(2));
    // And a delivery by version 2 counts for version 1's late records.
    assert_eq!(
        delivered(send(&mut t, NEW_YEAR_MS + 30 * MIN, "t3")),
        Some(2)
    );
    // (version 1 counts it: the hour from 23:45 holds two.)
    assert_eq!(
        delivered(send(&mut t, NEW_YEAR_MS - 20 * MIN, "t3")),
        Some(1)
    );
    assert_eq!(capped(send(&mut t, NEW_YEAR_MS - 15 * MIN, "t3")), Some(1));
    // Past the lateness (1h) after the activation, version 1 is dropped; a
    // record before midnight is then refused by version 2.
    assert_eq!(
        delivered(send(&mut t, NEW_YEAR_MS + 61 * MIN, "t4")),
        Some(2)
    );
    assert!(t.previous().is_none());
    assert_eq!(
        send(&mut t, NEW_YEAR_MS - MIN, "t5"),
        Err(TerminalError::Notify(NotifyError::NotYetEffective {
            from_ms: NEW_YEAR_MS
        }))
    );
}

#[test]
fn without_a_successor_a_record_after_the_window_is_refused_and_security_delivered() {
    let mut t = Terminal::install(&notify_artifact(&v1()), &[], None).unwrap();
    assert_eq!(
        send(&mut t, NEW_YEAR_MS, "t1"),
        Err(TerminalError::Notify(NotifyError::Expired {
            until_ms: NEW_YEAR_MS
        }))
    );
    let slot = t.route(NEW_YEAR_MS);
    let d = t.decide(slot, &message(NEW_YEAR_MS, "t1", 0)).unwrap();
    assert_eq!(d.version, 1);
    assert!(matches!(d.answer.decision, Decision::Deliver { .. }));
}

#[test]
fn an_explicit_swap_before_midnight_still_routes_by_instant() {
    let mut t = Terminal::install(&notify_artifact(&v1()), &[], None).unwrap();
    assert!(!t.swap(), "nothing staged");
    t.stage(&notify_artifact(&v2())).unwrap();
    assert!(t.swap());
    assert_eq!(t.current().version(), 2);
    // A record at 23:50 is version 1's, kept as previous.
    assert_eq!(t.route(NEW_YEAR_MS - 10 * MIN), Slot::Previous);
    assert_eq!(
        delivered(send(&mut t, NEW_YEAR_MS - 10 * MIN, "t1")),
        Some(1)
    );
    // Decided in the wrong slot: refused, nothing counted.
    assert_eq!(
        t.decide(Slot::Current, &message(NEW_YEAR_MS - 9 * MIN, "t1", PROMO)),
        Err(TerminalError::Misrouted)
    );
}

#[test]
fn a_refused_stage_changes_nothing() {
    let key = SecretKey::generate().unwrap();
    let keys: Vec<TrustedKey> = vec![tollgate::signing::parse_public(&key.public_text()).unwrap()];
    let signed = |text: &str| key.sign(&notify_artifact(text)).unwrap();
    let mut t = Terminal::install(&signed(&v1()), &keys, None).unwrap();
    t.stage(&signed(&v2())).unwrap();
    let before = (t.current().hash(), t.staged().unwrap().hash());
    let v3 = v2().replace("version 2", "version 3");
    let attempts: Vec<(Vec<u8>, StageError)> = vec![
        // Unsigned.
        (
            notify_artifact(&v3),
            StageError::Artifact(artifact::ArtifactError {
                kind: ArtifactErrorKind::Unsigned,
                offset: 10,
            }),
        ),
        // Version 1 again: a rollback below the staged version 2.
        (signed(&v1()), StageError::NotNewer { held: 2 }),
        // Version 2 changed: a reused version.
        (
            signed(&v2().replace("limit 1 per", "limit 3 per")),
            StageError::NotNewer { held: 2 },
        ),
        // Version 2 again, unchanged.
        (signed(&v2()), StageError::NotNewer { held: 2 }),
        // Another policy.
        (
            signed(&v3.replace("policy messages", "policy other")),
            StageError::OtherPolicy,
        ),
        // Damaged.
        (signed(&v3)[..40].to_vec(), StageError::NotNewer { held: 0 }),
    ];
    for (i, (bytes, want)) in attempts.iter().enumerate() {
        let got = t.stage(bytes).unwrap_err();
        match (&got, want) {
            (StageError::Artifact(_), StageError::NotNewer { held: 0 }) => {}
            (StageError::Artifact(e), StageError::NotNewer { .. }) => assert!(
                matches!(
                    e.kind,
                    ArtifactErrorKind::Rollback { .. } | ArtifactErrorKind::VersionReused(2)
                ),
                "attempt {i}: {e}"
            ),
            _ => assert_eq!(got, *want, "attempt {i}"),
        }
        assert_eq!(
            (t.current().hash(), t.staged().unwrap().hash()),
            before,
            "attempt {i} changed what is held"
        );
    }
    // A newer successor replaces the staged one.
    t.stage(&signed(&v3)).unwrap();
    assert_eq!(t.staged().unwrap().version(), 3);
    // The floor to persist is the current version's: after a restart the
    // terminal installs it again, and stages version 3 again.
    assert_eq!(t.floor().version, 1);
    let floor = t.floor();
    let again = Terminal::install(&signed(&v1()), &keys, Some(&floor)).unwrap();
    assert_eq!(again.current().version(), 1);
}

#[test]
fn fees_are_priced_by_the_schedule_in_effect_at_the_transaction() {
    let lakala = read("policies/fees/lakala.toll");
    let old = lakala.replacen(
        "kind fees",
        "kind fees\neffective from 2026-01-01T00:00:00+08:00 until 2027-01-01T00:00:00+08:00",
        1,
    );
    let new = old
        .replace("version 1", "version 2")
        .replace(
            "effective from 2026-01-01T00:00:00+08:00 until 2027-01-01T00:00:00+08:00",
            "effective from 2027-01-01T00:00:00+08:00",
        )
        .replace("const card_rate = 0.60%", "const card_rate = 0.55%");
    let fees = |text: &str| artifact::encode(&tollgate::compile_source(text).unwrap().1);
    let mut t = Terminal::install(&fees(&old), &[], None).unwrap();
    t.stage(&fees(&new)).unwrap();
    // channel credit_card (variant 0), 10,000.00.
    let record = vec![Value::Enum(0), Value::Num(Decimal::new(1_000_000, 2))];
    let mut price = |at: i64| {
        let slot = t.route(at);
        t.price(slot, at, &record, &mut Vec::new())
            .map(|d| (d.version, d.answer))
    };
    assert_eq!(price(NEW_YEAR_MS - 1), Ok((1, Decimal::new(6000, 2))));
    assert_eq!(price(NEW_YEAR_MS), Ok((2, Decimal::new(5500, 2))));
    // Late, within the hour: the old schedule.
    assert_eq!(price(NEW_YEAR_MS - 2), Ok((1, Decimal::new(6000, 2))));
    // After the hour, the old schedule is gone: refused, not repriced.
    assert_eq!(
        price(NEW_YEAR_MS + 3_600_001),
        Ok((2, Decimal::new(5500, 2)))
    );
    assert_eq!(
        price(NEW_YEAR_MS - 2),
        Err(TerminalError::NotYetEffective {
            from_ms: NEW_YEAR_MS
        })
    );
}

/// Each version's cap holds across the swap, records arriving out of order
/// within the lateness: in every stream, no rolling hour holds more than
/// the cap of promotions delivered to one terminal (both versions cap at
/// two, so the carried rule is one limit throughout), and every record is
/// decided by the version in effect at its own instant.
#[test]
fn caps_hold_and_each_record_is_decided_by_the_version_of_its_instant() {
    let two = v2().replace("limit 1 per", "limit 2 per");
    let a1 = notify_artifact(&v1());
    let a2 = notify_artifact(&two);
    let mut r = Rng::new(0x005a_4b1e);
    for case in 0..common::cases(200) {
        let mut t = Terminal::install(&a1, &[], None).unwrap();
        t.stage(&a2).unwrap();
        // Records over two hours around midnight, each up to 50 minutes
        // late against the newest so far (within the 1h lateness).
        let mut newest = NEW_YEAR_MS - 60 * MIN;
        let mut deliveries: Vec<(String, i64)> = Vec::new();
        for _ in 0..60 {
            newest += (r.below(2 * 60) as i64) * 1000;
            let at = newest - (r.below(50 * 60) as i64) * 1000 * i64::from(r.below(2) == 0);
            let terminal = format!("t{}", r.below(8));
            match send(&mut t, at, &terminal) {
                Ok((version, decision)) => {
                    let want = if at < NEW_YEAR_MS { 1 } else { 2 };
                    assert_eq!(version, want, "case {case}: record at {at}");
                    if matches!(decision, Decision::Deliver { .. }) {
                        deliveries.push((terminal, at));
                    }
                }
                Err(e) => panic!("case {case}: record at {at} refused: {e}"),
            }
        }
        for (terminal, start) in &deliveries {
            let in_hour = deliveries
                .iter()
                .filter(|(k, at)| k == terminal && *at >= *start && *at < start + 60 * MIN)
                .count();
            assert!(
                in_hour <= 2,
                "case {case}: {in_hour} deliveries to {terminal} in the hour from {start}"
            );
        }
    }
}

/// The terminal's fixed-capacity store decides as the server's does across
/// a swap, with room for every key: the same version and decision for
/// every record of every stream around the activation, records late
/// within the lateness, the successor's cap lower (so each key keeps fewer
/// instants after the carry). The bounded successor's state is made when it
/// is staged.
#[test]
fn a_bounded_terminal_decides_as_the_memory_one_across_the_swap() {
    let a1 = notify_artifact(&v1());
    let a2 = notify_artifact(&v2());
    let sizes = Bounded {
        capacity: 8,
        id_capacity: 8,
        when_full: WhenFull::RefuseNewKeys,
    };
    let mut r = Rng::new(0x0b0_0dd5);
    for case in 0..common::cases(100) {
        let mut memory = Terminal::install(&a1, &[], None).unwrap();
        let mut bounded = Terminal::install_with(&a1, &[], None, sizes).unwrap();
        memory.stage(&a2).unwrap();
        bounded.stage(&a2).unwrap();
        assert!(bounded.staged().unwrap().state().is_some());
        let mut newest = NEW_YEAR_MS - 60 * MIN;
        for i in 0..60 {
            newest += (r.below(2 * 60) as i64) * 1000;
            let at = newest - (r.below(50 * 60) as i64) * 1000 * i64::from(r.below(2) == 0);
            let terminal = format!("t{}", r.below(8));
            let m = send(&mut memory, at, &terminal);
            let b = send(&mut bounded, at, &terminal);
            assert_eq!(b, m, "case {case}, record {i} at {at} for {terminal}");
        }
        assert_eq!(bounded.current().version(), memory.current().version());
        assert_eq!(bounded.carried(), memory.carried());
    }
}

/// A bounded store too small for the successor's cap refuses the stage,
/// naming the rule, and changes nothing.
#[test]
fn a_successor_the_bounded_store_cannot_hold_is_not_staged() {
    let big = v2().replace("limit 1 per 1h", "limit 60000 per 1h");
    let sizes = Bounded {
        capacity: 2,
        id_capacity: 2,
        when_full: WhenFull::EvictOldest,
    };
    let mut t = Terminal::install_with(&notify_artifact(&v1()), &[], None, sizes).unwrap();
    match t.stage(&notify_artifact(&big)) {
        Err(StageError::Capacity(e)) => assert!(e.to_string().contains("promo_cap"), "{e}"),
        other => panic!("staged: {other:?}"),
    }
    assert!(t.staged().is_none());
    assert_eq!(t.current().version(), 1);
}
