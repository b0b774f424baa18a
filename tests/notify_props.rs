//! Laws of notification throttling, on random message streams for
//! `merchant_messages.toll` (in Shanghai, and moved to New York so that
//! both daylight-saving transitions are crossed): the runtime's engine
//! agrees with the reference interpreter on every decision; deliveries per
//! key never exceed a cap in any rolling window; a de-duplication key is
//! never delivered twice within its window; no promotion is delivered inside
//! a quiet window; a merchant who opted out gets no promotion; security
//! messages are always delivered. Streams carry message ids, some sent
//! again (retries, reordered within the lateness, and some beyond it): a
//! repeat gets its id's first decision and changes no count, in the engine,
//! the reference interpreter and both stores alike.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
#[path = "common/late_streams.rs"]
mod late_streams;

use late_streams::{check_delivered, field, late_policy, shuffled, variant, LATENESS_MS};
use proptest::prelude::*;
use std::path::Path;
use tollgate::model::Policy;
use tollgate_oracle::generate::Rng;
use tollgate_runtime::bounded::{BoundedState, WhenFull};
use tollgate_runtime::ids::Answer;
use tollgate_runtime::notify::{
    Decision, MemoryState, NotifyError, NotifyPolicy, Reason, ThrottleState,
};
use tollgate_runtime::position::NotifyRuleIndex;
use tollgate_runtime::trace::{NotifyTrace, Saw};
use tollgate_runtime::value::Value;

fn load(zone: &str) -> (Policy, NotifyPolicy) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/notifications/merchant_messages.toll"),
    )
    .unwrap()
    .replace(
        "timezone \"Asia/Shanghai\"",
        &format!("timezone \"{zone}\""),
    );
    let (policy, compiled) = common::notifications(&text);
    (policy, compiled)
}

const KINDS: [&str; 5] = [
    "txn_success",
    "txn_failure",
    "promo",
    "network_status",
    "security",
];

/// A random stream: mostly increasing instants with gaps from 0 s to 5 h.
fn stream(
    seed: u64,
    len: usize,
    start_ms: i64,
    fields: &[tollgate_runtime::table::FieldSpec],
) -> Vec<Vec<Value>> {
    let mut r = Rng::new(seed);
    let mut t = start_ms;
    (0..len)
        .map(|_| {
            t += [0, 1_000, 59_000, 600_000, 900_000, 3_600_000, 18_000_000][r.below(7)]
                + (r.below(1000) as i64) * 1000;
            let kind = KINDS[r.below(5)];
            let merchant = ["m1", "m2", "m3"][r.below(3)];
            let terminal = ["t1", "t2"][r.below(2)];
            let stamp = chrono::DateTime::from_timestamp_millis(t)
                .unwrap()
                .to_rfc3339();
            let mut json = serde_json::json!({
                "kind": kind,
                "merchant": merchant,
                "terminal": terminal,
                "at": stamp,
            });
            if r.chance(70) {
                let txn = ["x1", "x2", "x3"][r.below(3)];
                json["txn_id"] = serde_json::json!(txn);
            }
            if r.chance(40) {
                let cap = [-1, 0, 1, 2, 5][r.below(5)];
                json["promo_cap"] = serde_json::json!(cap);
            }
            if r.chance(30) {
                json["promo_opt_out"] = serde_json::json!(r.chance(50));
            }
            // Ids from a pool a third the stream's length: many are sent
            // again, some within the lateness (repeats), some beyond it.
            if r.chance(80) {
                json["msg_id"] = serde_json::json!(format!("g{}", r.below(len / 3 + 1)));
            }
            tollgate::record::from_json(&json.to_string(), fields).unwrap()
        })
        .collect()
}

fn check_laws(zone: &str, seed: u64, len: usize, start_ms: i64) {
    let (policy, compiled) = load(zone);
    let records = stream(seed, len, start_ms, compiled.fields());
    let mut state = MemoryState::new();
    let mut history = tollgate_oracle::interp_notify::History::default();
    let mut delivered: Vec<&Vec<Value>> = Vec::new();
    let opt_out = field(&compiled, "promo_opt_out");
    let (kind, merchant, terminal, txn, at) = (
        field(&compiled, "kind"),
        field(&compiled, "merchant"),
        field(&compiled, "terminal"),
        field(&compiled, "txn_id"),
        field(&compiled, "at"),
    );
    let ms = |r: &Vec<Value>| match &r[at] {
        Value::Time { unix_ms, .. } => *unix_ms,
        _ => unreachable!(),
    };
    // The same stream decided with a trace: the same answers and state.
    let (mut traced_state, mut trace) = (MemoryState::new(), NotifyTrace::default());
    for rec in &records {
        let before = state.clone();
        let answer = compiled.answer(rec, &mut state);
        let expected = tollgate_oracle::interp_notify::answer(&policy, rec, &mut history).unwrap();
        assert_eq!(answer, expected, "{zone} seed {seed}: {rec:?}");
        let traced = compiled.answer_traced(rec, &mut traced_state, &mut trace);
        assert_eq!(traced, answer, "tracing changed the answer: {rec:?}");
        assert_eq!(traced_state, state, "tracing changed the state: {rec:?}");
        if let Ok(a) = answer {
            trace_explains(&compiled, &trace, a);
        }
        if let Ok(Answer { repeat: true, .. }) = answer {
            assert_eq!(state, before, "a repeat changes nothing");
            continue;
        }
        let got = answer.map(|a| a.decision);
        assert_within_span(&compiled, ms(rec), &got);
        let Ok(got) = got else {
            assert_ne!(rec[kind], Value::Enum(4), "security must be delivered");
            continue;
        };
        if rec[kind] == Value::Enum(4) {
            assert!(
                matches!(got, Decision::Deliver { .. }),
                "security must be delivered"
            );
        }
        if rec[kind] == Value::Enum(2) && rec[opt_out] == Value::Bool(true) {
            assert!(
                matches!(got, Decision::Suppress { .. }),
                "a promotion to a merchant who opted out must be suppressed: {got:?}"
            );
        }
        if let Decision::Deliver { .. } = got {
            if rec[kind] == Value::Enum(2) {
                let tod = compiled.zone().time_of_day(ms(rec).div_euclid(1000));
                let quiet = (39_600..46_800).contains(&tod)
                    || (61_200..72_000).contains(&tod)
                    || !(28_800..75_600).contains(&tod);
                assert!(!quiet, "promotion delivered in a quiet window at {tod}");
            }
            delivered.push(rec);
        }
    }
    // Caps and de-duplication, checked on the deliveries alone.
    for (i, a) in delivered.iter().enumerate() {
        let window = |k: u32, d: i64, same: &dyn Fn(&Vec<Value>) -> bool| {
            delivered[..=i]
                .iter()
                .filter(|b| b[kind] == Value::Enum(k) && same(b) && ms(a) - ms(b) < d)
                .count()
        };
        if a[kind] == Value::Enum(2) {
            assert!(
                window(2, 86_400_000, &|b| b[merchant] == a[merchant]) <= 2,
                "more than 2 promotions in 24h"
            );
        }
        if a[kind] == Value::Enum(3) {
            assert!(
                window(3, 900_000, &|b| b[terminal] == a[terminal]) <= 1,
                "more than 1 network message in 15m"
            );
        }
        if a[kind] == Value::Enum(0) || a[kind] == Value::Enum(1) {
            let dup = window(variant(&a[kind]), 600_000, &|b| {
                b[terminal] == a[terminal] && b[txn] == a[txn]
            });
            assert_eq!(
                dup, 1,
                "a transaction notice delivered twice within 10 minutes"
            );
        }
        let all = delivered[..=i]
            .iter()
            .filter(|b| {
                b[kind] != Value::Enum(4) && b[terminal] == a[terminal] && ms(a) - ms(b) < 3_600_000
            })
            .count();
        assert!(
            a[kind] == Value::Enum(4) || all <= 30,
            "more than 30 messages per terminal per hour"
        );
    }
}

/// The engine's trace of an answer explains it: a repeat names the
/// decision it repeats and consults no rule; a decision anew lists every
/// rule once, in file order, and the rule that decided (always deliver
/// excepted) was consulted and saw what the decision says: the duplicate,
/// the window that holds the message, the count that reached the cap.
fn trace_explains(compiled: &NotifyPolicy, trace: &NotifyTrace, a: Answer) {
    assert_eq!(trace.repeat_of.is_some(), a.repeat, "{trace:?}");
    if a.repeat {
        assert!(trace.consulted.is_empty(), "a repeat consults no rule");
        return;
    }
    let listed: Vec<u32> = trace.rules.iter().map(|r| r.rule.get()).collect();
    let all: Vec<u32> = (0..compiled.rules().len() as u32).collect();
    assert_eq!(listed, all, "every rule, in file order");
    let saw = |rule: NotifyRuleIndex| {
        assert!(
            trace.consulted.contains(&rule),
            "{rule:?} decided unconsulted"
        );
        trace.rules[rule.get() as usize].saw.clone()
    };
    match a.decision {
        Decision::Deliver { .. } => {
            for t in &trace.rules {
                if let Some(Saw::Limit { admits, .. }) = t.saw {
                    assert!(admits || !trace.consulted.contains(&t.rule), "{t:?}");
                }
            }
        }
        Decision::Defer { rule, .. }
        | Decision::Suppress {
            rule,
            reason: Reason::Quiet,
        } => {
            let Some(Saw::Quiet { holding, .. }) = saw(rule) else {
                panic!("not a quiet rule: {trace:?}")
            };
            assert!(!holding.is_empty(), "no window holds the message");
        }
        Decision::Suppress {
            rule,
            reason: Reason::Duplicate { last_ms },
        } => {
            let Some(Saw::Dedup { duplicate_of, .. }) = saw(rule) else {
                panic!("not a dedup rule: {trace:?}")
            };
            assert_eq!(duplicate_of, Some(last_ms));
        }
        Decision::Suppress {
            rule,
            reason:
                Reason::CapReached {
                    count,
                    cap,
                    clamped_from,
                },
        } => {
            let Some(Saw::Limit {
                count: seen,
                cap: allowed,
                clamped_from: asked,
                admits,
            }) = saw(rule)
            else {
                panic!("not a limit: {trace:?}")
            };
            assert_eq!(
                (seen as u32, allowed, asked, admits),
                (count, cap, clamped_from, false)
            );
        }
        Decision::Suppress { rule, .. } => {
            saw(rule);
        }
    }
}

/// What the span of the zone requires of a decision at `now_ms`: a record
/// outside it is refused (unless an always-deliver or suppress rule took
/// it), and no
/// decision defers to an instant outside it.
fn assert_within_span(compiled: &NotifyPolicy, now_ms: i64, got: &Result<Decision, NotifyError>) {
    let zone = &compiled.zone();
    let covers = |ms: i64| zone.covers(ms.div_euclid(1000));
    match got {
        Err(NotifyError::OutsideZoneSpan { at_ms, rule: None }) => {
            assert_eq!(*at_ms, now_ms);
            assert!(!covers(now_ms), "{now_ms} refused inside the span");
        }
        Err(NotifyError::OutsideZoneSpan {
            at_ms,
            rule: Some(_),
        }) => {
            assert!(covers(now_ms) && !covers(*at_ms), "{now_ms}: {got:?}");
        }
        Ok(Decision::Defer { until_ms, .. }) => {
            assert!(covers(now_ms) && covers(*until_ms), "{now_ms}: {got:?}");
        }
        // Always-deliver and suppress rules read no time.
        Ok(
            Decision::Deliver { .. }
            | Decision::Suppress {
                reason: Reason::Declared,
                ..
            },
        ) => {}
        _ => assert!(covers(now_ms), "{now_ms} decided outside the span: {got:?}"),
    }
}

/// The first instant (ms) of each end of the span compiled zones are built
/// for: 2000-01-01 and 2100-01-01, UTC.
const SPAN_ENDS_MS: [i64; 2] = [946_684_800_000, 4_102_444_800_000];

/// Saving the state mid-stream and restoring it changes no decision.
fn save_restore_changes_nothing(seed: u64, split: usize) {
    let (_, compiled) = load("Asia/Shanghai");
    let records = stream(seed, 200, 1_795_536_000_000, compiled.fields());
    let mut straight = MemoryState::new();
    let expected: Vec<Decision> = records
        .iter()
        .map(|r| compiled.decide(r, &mut straight).unwrap())
        .collect();
    let mut first = MemoryState::new();
    let mut got: Vec<Decision> = records[..split]
        .iter()
        .map(|r| compiled.decide(r, &mut first).unwrap())
        .collect();
    let bytes = first.save(&compiled);
    let mut restored = MemoryState::load(&bytes, &compiled).unwrap();
    assert_eq!(restored, first);
    assert!(first.len() <= 200);
    got.extend(
        records[split..]
            .iter()
            .map(|r| compiled.decide(r, &mut restored).unwrap()),
    );
    assert_eq!(got, expected);
}

/// On a stream in time order, pruning the store before any record (at that
/// record's time) changes no decision, and leaves it no larger.
fn pruning_changes_nothing(seed: u64, every: usize) {
    let (_, compiled) = load("Asia/Shanghai");
    let records = stream(seed, 300, 1_795_536_000_000, compiled.fields());
    let clock = compiled.clock() as usize;
    let mut straight = MemoryState::new();
    let mut pruned = MemoryState::new();
    for (i, r) in records.iter().enumerate() {
        if i % every == 0 {
            let Value::Time { unix_ms, .. } = r[clock] else {
                panic!("no clock")
            };
            pruned.prune(&compiled, unix_ms);
            assert!(pruned.len() <= straight.len());
        }
        assert_eq!(
            compiled.decide(r, &mut pruned).unwrap(),
            compiled.decide(r, &mut straight).unwrap(),
            "record {i}"
        );
    }
}

/// A damaged saved state is rejected with an error, never a panic; half
/// the damage gets a recomputed checksum so that it reaches the decoder.
fn damaged_states_are_rejected(seed: u64) {
    let (_, compiled) = load("Asia/Shanghai");
    let records = stream(seed, 200, 1_795_536_000_000, compiled.fields());
    let mut state = MemoryState::new();
    for r in &records {
        compiled.decide(r, &mut state).unwrap();
    }
    let good = state.save(&compiled);
    let mut r = Rng::new(seed);
    for i in 0..2_000 {
        let mut bytes = good.clone();
        match r.below(3) {
            0 => bytes.truncate(r.below(bytes.len())),
            1 => {
                let at = r.below(bytes.len());
                bytes[at] ^= 1 << r.below(8);
            }
            _ => {
                let at = r.below(bytes.len().saturating_sub(4)).max(1);
                let end = (at + 4).min(bytes.len());
                bytes[at..end].copy_from_slice(&u32::MAX.to_le_bytes()[..end - at]);
            }
        }
        if i % 2 == 0 && bytes.len() >= 4 {
            let n = bytes.len() - 4;
            let crc = common::crc32(&bytes[..n]);
            bytes[n..].copy_from_slice(&crc.to_le_bytes());
        }
        if let Ok(loaded) = MemoryState::load(&bytes, &compiled) {
            // Whatever loads is a state the engine can use.
            let mut loaded = loaded;
            // (Replayed records may now be too late: an error, not a panic.)
            for rec in records.iter().take(20) {
                let _ = compiled.decide(rec, &mut loaded);
            }
        }
    }
    let mut parts = compiled.clone().into_parts();
    parts.name.push('x');
    let other = NotifyPolicy::new(parts).unwrap();
    assert!(
        MemoryState::load(&good, &other).is_err(),
        "a state of another policy is refused"
    );
}

/// With room for every key, the terminal's bounded store decides exactly
/// as the server's in-memory store, and never evicts.
fn bounded_matches_memory(seed: u64) {
    let (_, compiled) = load("Asia/Shanghai");
    let records = stream(seed, 300, 1_795_536_000_000, compiled.fields());
    let mut memory = MemoryState::new();
    let mut bounded = BoundedState::new(&compiled, 64).unwrap();
    for r in &records {
        assert_eq!(
            compiled.decide(r, &mut bounded).unwrap(),
            compiled.decide(r, &mut memory).unwrap()
        );
    }
    assert_eq!(bounded.evictions(), 0);
}

/// A terminal that saves its bounded store to bytes, "reboots" (a fresh
/// store of the same capacity) and restores them at any point decides the
/// rest of the stream as one that never rebooted.
fn saved_state_carries_on(seed: u64) {
    let (_, compiled) = load("Asia/Shanghai");
    let records = stream(seed, 200, 1_795_536_000_000, compiled.fields());
    let reboot_at = (seed % 200) as usize;
    let mut steady = BoundedState::with_ids(&compiled, 4, WhenFull::EvictOldest, 16).unwrap();
    let mut rebooted = steady.clone();
    for (i, r) in records.iter().enumerate() {
        if i == reboot_at {
            let mut buf = vec![0u8; rebooted.saved_len(&compiled)];
            let short = rebooted.save_into(&compiled, &mut buf[1..]).unwrap_err();
            assert_eq!(short.needed, buf.len());
            let n = rebooted.save_into(&compiled, &mut buf).unwrap();
            assert_eq!(n, buf.len());
            let mut fresh =
                BoundedState::with_ids(&compiled, 4, WhenFull::EvictOldest, 16).unwrap();
            let mut damaged = buf.clone();
            damaged[n / 2] ^= 1;
            assert!(fresh.restore(&compiled, &damaged).is_err());
            let other = compiled.clone().with_version(compiled.version() + 1);
            assert!(fresh.restore(&other, &buf).is_err());
            let mut smaller =
                BoundedState::with_ids(&compiled, 3, WhenFull::EvictOldest, 16).unwrap();
            assert!(smaller.restore(&compiled, &buf).is_err());
            fresh.restore(&compiled, &buf).unwrap();
            rebooted = fresh;
        }
        assert_eq!(
            compiled.answer(r, &mut rebooted),
            compiled.answer(r, &mut steady),
            "record {i}, reboot at {reboot_at}"
        );
    }
    assert_eq!(rebooted.evictions(), steady.evictions());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(64), ..ProptestConfig::default() })]

    #[test]
    fn the_bounded_store_decides_like_the_memory_store(seed in any::<u64>()) {
        bounded_matches_memory(seed);
    }

    #[test]
    fn a_restored_terminal_state_decides_as_if_never_saved(seed in any::<u64>()) {
        saved_state_carries_on(seed);
    }

    #[test]
    fn saving_and_restoring_mid_stream_changes_no_decision(seed in any::<u64>(), split in 0usize..200) {
        save_restore_changes_nothing(seed, split);
    }

    #[test]
    fn pruning_an_ordered_stream_changes_no_decision(seed in any::<u64>(), every in 1usize..40) {
        pruning_changes_nothing(seed, every);
    }

    #[test]
    fn damaged_saved_states_never_panic(seed in any::<u64>()) {
        damaged_states_are_rejected(seed);
    }

    #[test]
    fn shanghai_streams_obey_the_laws(seed in any::<u64>()) {
        // 2026-11-25T00:00:00+08:00
        check_laws("Asia/Shanghai", seed, 300, 1_795_536_000_000);
    }

    #[test]
    fn new_york_streams_cross_both_transitions(seed in any::<u64>(), spring in any::<bool>()) {
        // Two days before each 2026 transition: 6 March and 30 October.
        let start = if spring { 1_772_755_200_000 } else { 1_793_318_400_000 };
        check_laws("America/New_York", seed, 300, start);
    }

    #[test]
    fn streams_across_an_end_of_the_zone_span_are_refused_outside_it(
        seed in any::<u64>(),
        new_york in any::<bool>(),
        end in 0usize..2,
    ) {
        // About twelve days of messages, starting six days before the end.
        let zone = if new_york { "America/New_York" } else { "Asia/Shanghai" };
        check_laws(zone, seed, 300, SPAN_ENDS_MS[end] - 6 * 86_400_000);
    }
}

/// Pruning at the last instant a delivery still counts keeps it; one
/// millisecond later it goes.
#[test]
fn pruning_keeps_a_delivery_until_its_window_ends() {
    let text = "policy cap version 1\nkind notifications\nfield kind: enum { msg }\n\
                field terminal: string\nfield at: timestamp\n\
                rule per_terminal when kind == msg => limit 2 per 1h by terminal\n";
    let (_, compiled) = common::notifications(text);
    let at = |ms: i64| {
        let stamp = chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let json = format!(r#"{{"kind":"msg","terminal":"t1","at":"{stamp}"}}"#);
        tollgate::record::from_json(&json, compiled.fields()).unwrap()
    };
    let t0 = 1_795_536_000_000;
    let hour = 3_600_000;
    for (prune_at, expect_deliver) in [(t0 + hour - 1, false), (t0 + hour, true)] {
        let mut state = MemoryState::new();
        for t in [t0, t0 + 1] {
            assert!(matches!(
                compiled.decide(&at(t), &mut state).unwrap(),
                Decision::Deliver { .. }
            ));
        }
        state.prune(&compiled, prune_at);
        assert_eq!(state.len(), 1);
        let d = compiled.decide(&at(prune_at), &mut state).unwrap();
        assert_eq!(
            matches!(d, Decision::Deliver { .. }),
            expect_deliver,
            "{d:?}"
        );
    }
}

/// Shuffled streams: the engine agrees with the reference interpreter on
/// every decision (errors included), the bounded store with the memory
/// store (decisions and kept instants, never more than the bound), and the
/// delivered set obeys the laws.
fn late_streams_agree(zone: &str, seed: u64, bulk: usize, too_late: usize, start_ms: i64) {
    let (policy, compiled) = late_policy(zone);
    let records = shuffled(seed, 400, start_ms, bulk, too_late, 0, compiled.fields());
    let at = field(&compiled, "at");
    let ms = |r: &Vec<Value>| match &r[at] {
        Value::Time { unix_ms, .. } => *unix_ms,
        _ => unreachable!(),
    };
    let mut memory = MemoryState::new();
    let mut bounded = BoundedState::new(&compiled, 8).unwrap();
    let mut history = tollgate_oracle::interp_notify::History::default();
    let mut delivered = Vec::new();
    let most: Vec<usize> = bounded.instants_per_key();
    assert_eq!(most[4], 900, "cap 300 per 1h, 2h late: 300 × 3");
    for rec in &records {
        let got = compiled.decide(rec, &mut memory);
        let expected = tollgate_oracle::interp_notify::decide(&policy, rec, &mut history).unwrap();
        assert_eq!(got, expected, "{zone} seed {seed}: {rec:?}");
        assert_within_span(&compiled, ms(rec), &got);
        assert_eq!(compiled.decide(rec, &mut bounded), got, "bounded store");
        for (i, r) in compiled.rules().iter().enumerate() {
            if let Some(key) = r.key_of(rec) {
                let kept = memory.history((i as u32).into(), key);
                assert_eq!(
                    bounded.history((i as u32).into(), key),
                    kept,
                    "rule {}",
                    r.name()
                );
                assert!(
                    kept.len() <= most[i],
                    "rule {} keeps {}",
                    r.name(),
                    kept.len()
                );
            }
        }
        if let Ok(Decision::Deliver { .. }) = got {
            delivered.push(rec);
        }
    }
    assert_eq!(bounded.evictions(), 0);
    check_delivered(&compiled, zone, &delivered);
}

/// A policy with an activation window decides like the reference
/// interpreter on a shuffled stream with retried ids that starts before the
/// window and ends after it: records outside it refused (E0702 before the
/// start, E0701 from the end on) unless a rule that reads no time decides
/// them, repeats within the lateness answered as before; the bounded store
/// agrees throughout.
fn windowed_streams_agree(seed: u64, from_at: usize, until_at: usize) {
    let zone = "Asia/Shanghai";
    let plain = late_policy(zone).1;
    let records = shuffled(seed, 300, 1_795_536_000_000, 10, 5, 20, plain.fields());
    let at = field(&plain, "at");
    let ms = |r: &Vec<Value>| match &r[at] {
        Value::Time { unix_ms, .. } => *unix_ms,
        _ => unreachable!(),
    };
    // The window's bounds: the instants (to the second) of two records, in
    // time order, among those stamped by a right clock (some are 80 years
    // off, beyond what a window may name).
    let mut times: Vec<i64> = records
        .iter()
        .map(ms)
        .filter(|t| (0..4_102_444_800_000).contains(t))
        .collect();
    times.sort_unstable();
    let stamp = |i: usize| {
        let t = times[i.min(times.len() - 1)].div_euclid(1000) * 1000;
        chrono::DateTime::from_timestamp_millis(t)
            .unwrap()
            .to_rfc3339()
    };
    let (from, until) = (stamp(from_at), stamp(until_at));
    if from >= until {
        return;
    }
    let text = late_streams::late_policy_text(zone).replace(
        "late records within 2h",
        &format!("late records within 2h\neffective from {from} until {until}"),
    );
    let (policy, compiled) = common::notifications(&text);
    assert!(!compiled.window().is_always());
    let mut memory = MemoryState::new();
    let mut bounded = BoundedState::with_ids(&compiled, 8, WhenFull::EvictOldest, 1024).unwrap();
    let mut history = tollgate_oracle::interp_notify::History::default();
    let mut outside = 0;
    for rec in &records {
        let got = compiled.answer(rec, &mut memory);
        let expected = tollgate_oracle::interp_notify::answer(&policy, rec, &mut history).unwrap();
        assert_eq!(got, expected, "seed {seed} window {from}..{until}: {rec:?}");
        assert_eq!(compiled.answer(rec, &mut bounded), got, "bounded store");
        outside += usize::from(matches!(
            got,
            Err(NotifyError::Expired { .. } | NotifyError::NotYetEffective { .. })
        ));
    }
    assert!(
        outside > 0 || from_at == 0,
        "seed {seed}: nothing outside {from}..{until}"
    );
}

/// On a shuffled stream within the lateness, with retried message ids,
/// pruning every `every` records at the earliest time among them (as
/// `tollgate eval` does) changes no decision and no repeat, even with one
/// record dated two days ahead among them.
fn pruning_late_streams_changes_nothing(seed: u64, every: usize, skew_at: usize) {
    let (_, compiled) = late_policy("Asia/Shanghai");
    let mut records = shuffled(seed, 400, 1_795_536_000_000, 20, 0, 30, compiled.fields());
    let at = field(&compiled, "at");
    let skew_at = skew_at % records.len();
    if let Value::Time { unix_ms, .. } = &mut records[skew_at][at] {
        *unix_ms += 2 * 86_400_000;
    }
    let mut straight = MemoryState::new();
    let mut pruned = MemoryState::new();
    let mut earliest = i64::MAX;
    for (i, r) in records.iter().enumerate() {
        if let Value::Time { unix_ms, .. } = r[at] {
            earliest = earliest.min(unix_ms);
        }
        if i % every == every - 1 {
            pruned.prune(&compiled, earliest);
            earliest = i64::MAX;
        }
        let mut full = straight.clone();
        let (got, expected) = (
            compiled.answer(r, &mut pruned),
            compiled.answer(r, &mut full),
        );
        // Pruning changes no decision; at worst a very late record (earlier
        // than where the pruned store forgot a key or an id, less the
        // lateness) becomes an error line there (docs/notifications.md,
        // Pruning). Then neither store takes it, so that both go on
        // holding the same decisions.
        if got == expected {
            straight = full;
        } else {
            let Value::Time { unix_ms, .. } = r[at] else {
                panic!("record {i} has no time")
            };
            let forgot = match got {
                Err(NotifyError::IdForgotten { forgotten_ms }) => forgotten_ms,
                Err(NotifyError::TooLate { newest_ms, .. }) => newest_ms,
                _ => panic!("record {i}: {got:?} where the full store answers {expected:?}"),
            };
            assert!(
                unix_ms < forgot - compiled.lateness_ms(),
                "record {i}: {got:?} where the full store answers {expected:?}"
            );
        }
    }
    assert!(pruned.len() <= straight.len());
    assert!(pruned.ids().len() <= straight.ids().len());
}

/// A stream found by the property test below: records stamped outside the
/// zone's span carry ids, and the pruned store had forgotten ids earlier
/// than them. Such a record is decided without its id, in every store.
#[test]
fn a_record_outside_the_zone_span_is_decided_without_its_id() {
    pruning_late_streams_changes_nothing(2_309_167_023_994_123_702, 2, 0);
}

/// A stream found by the long form of the property test below: records
/// earlier than where the pruned store forgot keys or ids, less the
/// lateness, are refused there as too late (one the full store refuses
/// too, others it delivers), as documented; no decision changes.
#[test]
fn very_late_records_after_pruning_become_error_lines_not_other_decisions() {
    pruning_late_streams_changes_nothing(13_650_135_840_061_450_144, 2, 258_541_063_923_104_439);
}

/// Shuffled streams with retried message ids: the engine agrees with the
/// reference interpreter on every answer (repeats and errors included),
/// the bounded store with the memory store; a repeat changes nothing in
/// the store, and the deliveries that are not repeats obey the laws.
fn retried_streams_agree(zone: &str, seed: u64, retries: usize, too_late: usize, start_ms: i64) {
    let (policy, compiled) = late_policy(zone);
    let records = shuffled(
        seed,
        400,
        start_ms,
        10,
        too_late,
        retries,
        compiled.fields(),
    );
    let mut memory = MemoryState::new();
    let mut bounded = BoundedState::with_ids(&compiled, 8, WhenFull::EvictOldest, 1024).unwrap();
    let mut history = tollgate_oracle::interp_notify::History::default();
    let mut delivered = Vec::new();
    let mut repeats = 0;
    for rec in &records {
        let before = memory.clone();
        let got = compiled.answer(rec, &mut memory);
        let expected = tollgate_oracle::interp_notify::answer(&policy, rec, &mut history).unwrap();
        assert_eq!(got, expected, "{zone} seed {seed}: {rec:?}");
        assert_eq!(compiled.answer(rec, &mut bounded), got, "bounded store");
        for (i, r) in compiled.rules().iter().enumerate() {
            if let Some(key) = r.key_of(rec) {
                assert_eq!(
                    bounded.history((i as u32).into(), key),
                    memory.history((i as u32).into(), key),
                    "rule {}",
                    r.name()
                );
            }
        }
        match got {
            Ok(Answer { repeat: true, .. }) => {
                repeats += 1;
                assert_eq!(memory, before, "a repeat changes nothing");
            }
            Ok(Answer {
                decision: Decision::Deliver { .. },
                ..
            }) => delivered.push(rec),
            _ => {}
        }
    }
    assert!(repeats > 0, "the stream repeats some ids");
    assert_eq!(bounded.evictions(), 0);
    check_delivered(&compiled, zone, &delivered);
}

/// A terminal store with room for few ids fails safe: it never forgets an
/// id a record could still repeat, so the same id is never decided afresh
/// within the lateness of its first decision; a message it has no room for
/// is not decided; and its deliveries obey the laws.
fn a_full_id_table_fails_safe(seed: u64, room: usize) {
    let (_, compiled) = late_policy("Asia/Shanghai");
    let records = shuffled(seed, 400, 1_795_536_000_000, 10, 0, 40, compiled.fields());
    let mut bounded = BoundedState::with_ids(&compiled, 8, WhenFull::EvictOldest, room).unwrap();
    assert_eq!(bounded.id_capacity(), room);
    let (id, at) = (field(&compiled, "msg_id"), field(&compiled, "at"));
    let mut fresh: std::collections::HashMap<Value, Vec<i64>> = Default::default();
    let mut delivered = Vec::new();
    for rec in &records {
        let Value::Time { unix_ms: t, .. } = rec[at] else {
            panic!("no clock")
        };
        match compiled.answer(rec, &mut bounded) {
            Ok(Answer {
                decision,
                repeat: false,
            }) => {
                if rec[id] != Value::Str(String::new()) {
                    let earlier = fresh.entry(rec[id].clone()).or_default();
                    assert!(
                        earlier.iter().all(|&a| (t - a).abs() > LATENESS_MS),
                        "{:?} decided afresh within the lateness of {earlier:?}",
                        rec[id]
                    );
                    earlier.push(t);
                }
                if let Decision::Deliver { .. } = decision {
                    delivered.push(rec);
                }
            }
            Ok(_) | Err(NotifyError::IdMemoryFull | NotifyError::OutsideZoneSpan { .. }) => {}
            Err(e) => panic!("only a full id table refuses records here: {e:?}"),
        }
    }
    check_delivered(&compiled, "Asia/Shanghai", &delivered);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(48), ..ProptestConfig::default() })]

    #[test]
    fn retried_ids_in_shanghai_are_repeats(seed in any::<u64>(), retries in 10usize..60, too_late in 0usize..30) {
        retried_streams_agree("Asia/Shanghai", seed, retries, too_late, 1_795_536_000_000);
    }

    #[test]
    fn retried_ids_across_new_york_transitions(seed in any::<u64>(), spring in any::<bool>()) {
        let start = if spring { 1_772_755_200_000 } else { 1_793_318_400_000 };
        retried_streams_agree("America/New_York", seed, 30, 0, start);
    }

    #[test]
    fn a_full_id_table_never_decides_a_repeat_twice(seed in any::<u64>(), room in 1usize..6) {
        a_full_id_table_fails_safe(seed, room);
    }

    #[test]
    fn shuffled_streams_in_shanghai_obey_the_laws(seed in any::<u64>(), bulk in 0usize..60, too_late in 0usize..30) {
        late_streams_agree("Asia/Shanghai", seed, bulk, too_late, 1_795_536_000_000);
    }

    #[test]
    fn shuffled_streams_across_new_york_transitions(seed in any::<u64>(), spring in any::<bool>(), too_late in 0usize..30) {
        let start = if spring { 1_772_755_200_000 } else { 1_793_318_400_000 };
        late_streams_agree("America/New_York", seed, 10, too_late, start);
    }

    #[test]
    fn shuffled_streams_across_an_end_of_the_zone_span(seed in any::<u64>(), new_york in any::<bool>(), end in 0usize..2) {
        // About ten days of messages, starting five days before the end.
        let zone = if new_york { "America/New_York" } else { "Asia/Shanghai" };
        late_streams_agree(zone, seed, 10, 5, SPAN_ENDS_MS[end] - 5 * 86_400_000);
    }

    #[test]
    fn windowed_streams_agree_with_the_reference(seed in any::<u64>(), from_at in 0usize..150, until_at in 150usize..300) {
        windowed_streams_agree(seed, from_at, until_at);
    }

    #[test]
    fn caps_above_255_hold_in_both_stores(seed in any::<u64>()) {
        late_streams_agree("Asia/Shanghai", seed, 95, 0, 1_795_536_000_000);
    }

    #[test]
    fn pruning_shuffled_streams_changes_no_decision(seed in any::<u64>(), every in 2usize..60, skew_at in any::<usize>()) {
        pruning_late_streams_changes_nothing(seed, every, skew_at);
    }
}

/// What a saved state carries into another version of its policy: rules
/// unchanged but for the cap keep their deliveries; a change of key types
/// (enum variants included), lateness or zone drops them, each with its
/// reason; another policy's state is refused.
#[test]
fn saved_state_carries_rule_by_rule() {
    use tollgate_runtime::state_file::Dropped;
    let text = |version: u32, extra: &str, zone: &str, variants: &str, cap: u32| {
        format!(
            "policy carry version {version}\nkind notifications\ntimezone \"{zone}\"\n{extra}\n\
             field kind: enum {{ {variants} }}\nfield merchant: string\nfield at: timestamp\n\
             rule by_kind when true => dedup by kind within 10m\n\
             rule per_merchant when true => limit {cap} per 1h by merchant\n"
        )
    };
    let compile = |t: String| common::notifications(&t).1;
    let v1 = compile(text(1, "", "Asia/Shanghai", "a, b", 2));
    let mut state = MemoryState::new();
    let rec = tollgate::record::from_json(
        r#"{"kind":"a","merchant":"m1","at":"2026-11-25T09:00:00+08:00"}"#,
        v1.fields(),
    )
    .unwrap();
    v1.decide(&rec, &mut state).unwrap();
    let saved = state.save(&v1);
    let carried = |p: &NotifyPolicy| MemoryState::load_carried(&saved, p).unwrap().1;
    let c = carried(&compile(text(2, "", "Asia/Shanghai", "a, b", 5)));
    assert_eq!((c.from_version, c.kept.len()), (1, 2), "{c:?}");
    let c = carried(&compile(text(2, "", "Asia/Shanghai", "b, a", 2)));
    assert_eq!(c.kept, ["per_merchant"]);
    assert_eq!(c.dropped, [("by_kind".to_string(), Dropped::Keys)]);
    let c = carried(&compile(text(
        2,
        "late records within 2h",
        "Asia/Shanghai",
        "a, b",
        2,
    )));
    assert!(c.kept.is_empty() && c.dropped.iter().all(|(_, d)| *d == Dropped::Lateness));
    let c = carried(&compile(text(2, "", "Asia/Tokyo", "a, b", 2)));
    assert!(c.kept.is_empty() && c.dropped.iter().all(|(_, d)| *d == Dropped::Zone));
    let other = compile(text(1, "", "Asia/Shanghai", "a, b", 2).replace("carry", "other"));
    assert!(MemoryState::load(&saved, &other).is_err());
    // A kept rule's delivery still decides: the same key within 10m is a duplicate.
    let v2 = compile(text(2, "", "Asia/Shanghai", "a, b", 5));
    let mut loaded = MemoryState::load(&saved, &v2).unwrap();
    assert!(matches!(
        v2.decide(&rec, &mut loaded),
        Ok(Decision::Suppress { rule, .. }) if rule.get() == 0
    ));
}

/// The policy a terminal loads from `compiled`'s artifact.
fn through_artifact(compiled: &NotifyPolicy) -> NotifyPolicy {
    use tollgate_runtime::artifact;
    let bytes = artifact::encode_notify(compiled);
    let loaded = artifact::decode_notify(&bytes).unwrap();
    assert_eq!(&loaded, compiled, "the artifact changes nothing");
    assert_eq!(artifact::encode_notify(&loaded), bytes, "one encoding");
    loaded
}

/// The policy's answers to `records` from its source and from its
/// artifact, each with a store of its own, are the same, and so are the
/// stores they leave.
fn artifact_decides_like_source(compiled: &NotifyPolicy, records: &[Vec<Value>]) {
    let loaded = through_artifact(compiled);
    let (mut from_source, mut from_artifact) = (MemoryState::new(), MemoryState::new());
    for (i, r) in records.iter().enumerate() {
        assert_eq!(
            loaded.answer(r, &mut from_artifact),
            compiled.answer(r, &mut from_source),
            "record {i}"
        );
    }
    assert_eq!(from_artifact, from_source);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(32), ..ProptestConfig::default() })]

    #[test]
    fn an_artifact_decides_like_its_source(seed in any::<u64>(), start in 0usize..3) {
        // Shanghai; New York two days before each 2026 transition.
        let (zone, start_ms) = [
            ("Asia/Shanghai", 1_795_536_000_000),
            ("America/New_York", 1_772_755_200_000),
            ("America/New_York", 1_793_318_400_000),
        ][start];
        let (_, compiled) = load(zone);
        artifact_decides_like_source(&compiled, &stream(seed, 300, start_ms, compiled.fields()));
        // Reordered and late records with retried ids, across the same transitions.
        let (_, late) = late_policy(zone);
        let records = shuffled(seed, 300, start_ms, 10, 5, 20, late.fields());
        artifact_decides_like_source(&late, &records);
    }
}

/// Quiet rules whose windows meet chain a message from one to the next
/// when it is sent again at the instant its defer names. The engine and
/// the reference interpreter agree on every minute of the last two days of
/// the zone's span, and no defer names an instant at which the message,
/// sent again, is refused.
#[test]
fn defers_across_meeting_quiet_windows_stay_inside_the_span() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/notifications/chained_quiet.toll"),
    )
    .unwrap();
    let (policy, compiled) = common::notifications(&text);
    let (kind, clock) = (field(&compiled, "kind"), field(&compiled, "at"));
    let record = |ms: i64| {
        let mut r = vec![Value::Bool(false); compiled.fields().len()];
        r[kind] = Value::Enum(1);
        r[clock] = Value::Time {
            unix_ms: ms,
            offset_secs: 8 * 3600,
        };
        r
    };
    let end_ms = compiled.zone().until * 1000;
    let mut at = end_ms - 2 * 86_400_000;
    while at < end_ms {
        let rec = record(at);
        let got = compiled.decide(&rec, &mut MemoryState::new());
        let expected =
            tollgate_oracle::interp_notify::decide(&policy, &rec, &mut Default::default()).unwrap();
        assert_eq!(got, expected, "at {at}");
        if let Ok(Decision::Defer { until_ms, .. }) = got {
            let again = compiled.decide(&record(until_ms), &mut MemoryState::new());
            assert!(again.is_ok(), "deferred from {at} to {until_ms}: {again:?}");
        }
        at += 60_000;
    }
}
