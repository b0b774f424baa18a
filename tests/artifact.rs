//! The artifact loader trusts nothing: 100,000+ mutated artifacts of each
//! kind (bit flips, truncations, insertions, overwritten lengths), half of
//! them with the checksum and hash recomputed so the damage reaches the
//! decoder, all give either an error or a policy that validates and decides
//! without panic, and decoding allocates at most a small multiple of the
//! input's size. Fee artifacts of format version 2 still load.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use tollgate_oracle::generate::{self, Rng, Shape};
use tollgate_runtime::artifact::{self, ArtifactErrorKind, FORMAT_VERSION, MAGIC};
use tollgate_runtime::notify::{MemoryState, NotifyPolicy};
use tollgate_runtime::table::Table;

struct Counting;

// Live and peak bytes of each thread (tests run on threads of their own).
thread_local! {
    static LIVE_BYTES: Cell<usize> = const { Cell::new(0) };
    static PEAK_BYTES: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are the only addition.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LIVE_BYTES.try_with(|c| {
            c.set(c.get() + layout.size());
            let _ = PEAK_BYTES.try_with(|p| p.set(p.get().max(c.get())));
        });
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = LIVE_BYTES.try_with(|c| c.set(c.get().saturating_sub(layout.size())));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result with the most bytes it held at once.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let live = LIVE_BYTES.with(Cell::get);
    PEAK_BYTES.with(|p| p.set(live));
    let out = f();
    (out, PEAK_BYTES.with(Cell::get).saturating_sub(live))
}

fn artifacts() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/fees");
    let mut out: Vec<Vec<u8>> = tollgate::source::discover(&root)
        .unwrap()
        .iter()
        .map(|p| {
            let (_, table) =
                tollgate::compile_source(&std::fs::read_to_string(p).unwrap()).unwrap();
            artifact::encode(&table)
        })
        .collect();
    // An activation window: format 4.
    let lakala = std::fs::read_to_string(root.join("lakala.toll")).unwrap();
    let windowed = lakala.replacen(
        "kind fees",
        "kind fees\neffective from 2027-01-01T00:00:00+08:00",
        1,
    );
    assert_ne!(windowed, lakala);
    out.push(artifact::encode(
        &tollgate::compile_source(&windowed).unwrap().1,
    ));
    for seed in 0..4 {
        let text = generate::policy(
            seed,
            Shape {
                rules: 20,
                schedules: 2,
                unique: true,
                specific: seed % 2 == 0,
            },
        );
        out.push(artifact::encode(
            &tollgate::compile_source(&text).unwrap().1,
        ));
    }
    out
}

/// Recomputes the content hash and checksum over damaged bytes, so that the
/// damage reaches the body decoder.
fn reseal(bytes: &mut [u8]) {
    if bytes.len() < 28 {
        return;
    }
    let body_len = (bytes.len() - 28) as u32;
    bytes[12..16].copy_from_slice(&body_len.to_le_bytes());
    let body_end = bytes.len() - 12;
    let hash = artifact::content_hash(&bytes[16..body_end]);
    bytes[body_end..body_end + 8].copy_from_slice(&hash.to_le_bytes());
    let crc_at = bytes.len() - 4;
    let crc = common::crc32(&bytes[..crc_at]);
    bytes[crc_at..].copy_from_slice(&crc.to_le_bytes());
}

fn mutate(r: &mut Rng, bytes: &mut Vec<u8>) {
    let len = bytes.len().max(1);
    match r.below(7) {
        0 => {
            let i = r.below(len);
            if let Some(b) = bytes.get_mut(i) {
                *b ^= 1 << r.below(8);
            }
        }
        1 => bytes.truncate(r.below(len)),
        2 => {
            let at = r.below(len).min(bytes.len());
            let n = 1 + r.below(16);
            let junk: Vec<u8> = (0..n).map(|_| r.next_u64() as u8).collect();
            bytes.splice(at..at, junk);
        }
        3 => {
            // Overwrite four bytes with a large or boundary count.
            let at = r.below(len.saturating_sub(4).max(1));
            let v: u32 = *r
                .pick(&[u32::MAX, 0x7fff_ffff, 0x0100_0000, 65, 64, 0, 1])
                .unwrap();
            if at + 4 <= bytes.len() {
                bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
        4 => {
            let at = r.below(len);
            let end = (at + 1 + r.below(32)).min(bytes.len());
            if at < end {
                bytes.drain(at..end);
            }
        }
        5 => {
            let i = r.below(len);
            if let Some(b) = bytes.get_mut(i) {
                *b = r.next_u64() as u8;
            }
        }
        _ => {
            let at = r.below(len);
            let end = (at + 1 + r.below(64)).min(bytes.len());
            if at < end {
                let copy = bytes[at..end].to_vec();
                bytes.splice(end..end, copy);
            }
        }
    }
}

/// A table that loaded must encode to an artifact that loads as itself,
/// and evaluate without panicking.
fn exercise(table: &Table, r: &mut Rng) {
    assert_eq!(&artifact::decode(&artifact::encode(table)).unwrap(), table);
    let mut out = Vec::new();
    for _ in 0..4 {
        let record = generate::record(r, table.fields());
        let _ = table.fee(&record, &mut out);
    }
}

#[test]
fn mutated_artifacts_never_panic() {
    let originals = artifacts();
    let mut r = Rng::new(0x7011_6a7e);
    let (mut rejected, mut sealed, mut loaded) = (0usize, 0usize, 0usize);
    let total = 120_000;
    for i in 0..total {
        let mut bytes = originals[i % originals.len()].clone();
        for _ in 0..1 + r.below(3) {
            mutate(&mut r, &mut bytes);
        }
        if i % 2 == 0 {
            reseal(&mut bytes);
            sealed += 1;
        }
        match artifact::decode(&bytes) {
            Ok(table) => {
                loaded += 1;
                exercise(&table, &mut r);
            }
            Err(e) => {
                rejected += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert_eq!(rejected + loaded, total);
    assert!(sealed >= total / 2);
    // Most damage is caught; what loads is a valid (if different) table.
    assert!(
        rejected > total * 9 / 10,
        "only {rejected} of {total} rejected"
    );
}

#[test]
fn round_trip_and_identity() {
    for bytes in artifacts() {
        let table = artifact::decode(&bytes).unwrap();
        assert_eq!(artifact::encode(&table), bytes, "encoding is deterministic");
        let (name, version, hash) = artifact::identify(&bytes).unwrap();
        assert_eq!((name.as_str(), version), (table.name(), table.version()));
        assert_eq!(hash, artifact::content_hash(&bytes[16..bytes.len() - 12]));
    }
}

#[test]
fn each_kind_of_damage_has_its_error() {
    let good = artifacts().remove(0);
    let kind = |bytes: &[u8]| artifact::decode(bytes).unwrap_err().kind;
    assert_eq!(kind(&good[..10]), ArtifactErrorKind::TooShort);
    let mut b = good.clone();
    b[0] = b'X';
    assert_eq!(kind(&b), ArtifactErrorKind::BadMagic);
    let mut b = good.clone();
    b[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert_eq!(
        kind(&b),
        ArtifactErrorKind::UnsupportedVersion(FORMAT_VERSION + 1)
    );
    // Flag 1 is "signed" (docs/releases.md); 0x80 is no flag.
    let mut b = good.clone();
    b[10] = 0x80;
    assert_eq!(kind(&b), ArtifactErrorKind::UnknownFlags);
    assert_eq!(
        kind(&good[..good.len() - 1]),
        ArtifactErrorKind::LengthMismatch
    );
    let mut b = good.clone();
    b[20] ^= 0x40;
    assert_eq!(kind(&b), ArtifactErrorKind::ChecksumMismatch);
    // Damage the hash and reseal only the CRC.
    let mut b = good.clone();
    let at = b.len() - 12;
    b[at] ^= 1;
    let crc_at = b.len() - 4;
    let crc = common::crc32(&b[..crc_at]);
    b[crc_at..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(kind(&b), ArtifactErrorKind::ContentHashMismatch);
    // A body with a lying count (the policy name's, after the kind byte).
    let mut b = good.clone();
    b[17..21].copy_from_slice(&u32::MAX.to_le_bytes());
    reseal(&mut b);
    assert_eq!(kind(&b), ArtifactErrorKind::CountTooLarge);
    assert!(good.starts_with(MAGIC));
}

/// Notifications policies: the reference one in Shanghai and in New York
/// (daylight saving), and every policy of the notification scenarios.
fn notify_policies() -> Vec<NotifyPolicy> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let compile = |text: &str| common::notifications(text).1;
    let reference =
        std::fs::read_to_string(root.join("policies/notifications/merchant_messages.toll"))
            .unwrap();
    let mut out = vec![
        compile(&reference),
        compile(&reference.replace("Asia/Shanghai", "America/New_York")),
        // An activation window: format 4.
        compile(&reference.replacen(
            "kind notifications",
            "kind notifications\neffective from 2026-01-01T00:00:00+08:00 until 2027-01-01T00:00:00+08:00",
            1,
        )),
    ];
    for p in tollgate::source::discover(&root.join("tests/notifications")).unwrap() {
        out.push(compile(&std::fs::read_to_string(p).unwrap()));
    }
    out
}

/// A notifications policy that loaded must validate and decide without
/// panicking, on records of any instant.
fn exercise_notify(policy: &NotifyPolicy, r: &mut Rng) {
    NotifyPolicy::new(policy.clone().into_parts()).unwrap();
    let mut state = MemoryState::new();
    for _ in 0..4 {
        let mut record = generate::record(r, policy.fields());
        if let Some(tollgate_runtime::value::Value::Time { unix_ms, .. }) =
            record.get_mut(policy.clock() as usize)
        {
            *unix_ms = 1_795_536_000_000 + r.below(86_400_000) as i64;
        }
        let _ = policy.answer(&record, &mut state);
    }
}

#[test]
fn mutated_notification_artifacts_never_panic() {
    let originals: Vec<Vec<u8>> = notify_policies()
        .iter()
        .map(artifact::encode_notify)
        .collect();
    let mut r = Rng::new(0x0707_1f1e);
    let (mut rejected, mut sealed, mut loaded) = (0usize, 0usize, 0usize);
    let total = common::cases(100_000) as usize;
    for i in 0..total {
        let mut bytes = originals[i % originals.len()].clone();
        for _ in 0..1 + r.below(3) {
            mutate(&mut r, &mut bytes);
        }
        if i % 2 == 0 {
            reseal(&mut bytes);
            sealed += 1;
        }
        let (decoded, peak) = peak_of(|| artifact::decode_any(&bytes));
        assert!(
            peak <= 64 * bytes.len() + 4096,
            "decoding {} bytes held {peak} bytes at once",
            bytes.len()
        );
        match decoded {
            Ok(artifact::Compiled::Notifications(policy)) => {
                loaded += 1;
                exercise_notify(&policy, &mut r);
            }
            Ok(artifact::Compiled::Fees(table)) => {
                loaded += 1;
                exercise(&table, &mut r);
            }
            Err(e) => {
                rejected += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert_eq!(rejected + loaded, total);
    assert!(sealed >= total / 2);
    assert!(
        rejected > total * 9 / 10,
        "only {rejected} of {total} rejected"
    );
}

#[test]
fn notification_artifacts_round_trip_and_are_told_from_fee_artifacts() {
    for policy in notify_policies() {
        let bytes = artifact::encode_notify(&policy);
        let loaded = artifact::decode_notify(&bytes).unwrap();
        assert_eq!(loaded, policy);
        assert_eq!(artifact::encode_notify(&loaded), bytes);
        let (name, version, _) = artifact::identify(&bytes).unwrap();
        assert_eq!((name, version), (policy.name().into(), policy.version()));
        assert_eq!(
            artifact::decode(&bytes).unwrap_err().kind,
            ArtifactErrorKind::WrongKind
        );
    }
    let fees = artifacts().remove(0);
    assert_eq!(
        artifact::decode_notify(&fees).unwrap_err().kind,
        ArtifactErrorKind::WrongKind
    );
}

#[test]
fn fee_artifacts_of_format_version_2_still_load() {
    for bytes in artifacts() {
        if bytes[8..10] != artifact::PLAIN_VERSION.to_le_bytes() {
            continue; // an activation window, which format 2 cannot carry
        }
        let table = artifact::decode(&bytes).unwrap();
        // Version 2: the same body without its kind byte.
        let mut old = bytes.clone();
        assert_eq!(old[16], 0, "the kind byte of a fee artifact");
        old.remove(16);
        old[8..10].copy_from_slice(&2u16.to_le_bytes());
        reseal(&mut old);
        assert_eq!(artifact::decode(&old).unwrap(), table);
        assert_eq!(
            artifact::identify(&old).unwrap().0,
            artifact::identify(&bytes).unwrap().0
        );
    }
}

#[test]
fn inconsistent_notification_policies_are_refused() {
    use tollgate_runtime::notify::{Action, Cap, NotifyParts, NotifyRule, Period};
    let good = notify_policies().remove(1);
    // The policy's parts and its rules' parts, changed, then built again
    // through the constructors the artifact loader ends in.
    struct Rule {
        name: String,
        columns: Vec<u32>,
        rows: Vec<Vec<tollgate_runtime::table::Cell>>,
        action: Action,
    }
    struct Draft {
        parts: tollgate_runtime::notify::NotifyParts,
        rules: Vec<Rule>,
    }
    let refused = |change: &dyn Fn(&mut Draft)| {
        let parts = good.clone().into_parts();
        let rules = (parts.rules.iter())
            .map(|r| Rule {
                name: r.name().into(),
                columns: r.columns().to_vec(),
                rows: r.rows().to_vec(),
                action: r.action().clone(),
            })
            .collect();
        let mut p = Draft { parts, rules };
        change(&mut p);
        let built = (p.rules.into_iter())
            .map(|r| NotifyRule::new(r.name, r.columns, r.rows, r.action))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|rules| NotifyPolicy::new(NotifyParts { rules, ..p.parts }));
        let e = built.unwrap_err();
        assert!(matches!(e.kind, ArtifactErrorKind::Invalid(_)), "{e}");
        assert!(e.to_string().starts_with("inconsistent policy: "), "{e}");
    };
    refused(&|p| p.parts.clock = 0);
    refused(&|p| p.parts.clock = 99);
    refused(&|p| p.parts.message_id = Some(0));
    refused(&|p| p.parts.lateness_ms = 7 * 86_400_000 + 1);
    refused(&|p| p.parts.lateness_ms = -1);
    refused(&|p| p.parts.zone.until = p.parts.zone.from);
    refused(&|p| p.parts.zone.changes.swap(0, 1));
    refused(&|p| p.parts.zone.changes[0].0 = p.parts.zone.from - 1);
    refused(&|p| p.parts.zone.initial = 86_400);
    refused(&|p| p.rules[1].name = p.rules[0].name.clone());
    refused(&|p| p.rules[0].columns[0] = 99);
    refused(&|p| p.rules[0].rows[0][0] = tollgate_runtime::table::Cell::Bool(true));
    for (i, rule) in good.rules().iter().enumerate() {
        match rule.action() {
            Action::Dedup { .. } => {
                refused(&|p| {
                    if let Action::Dedup { window_ms, .. } = &mut p.rules[i].action {
                        *window_ms = 0;
                    }
                });
                refused(&|p| {
                    if let Action::Dedup { keys, .. } = &mut p.rules[i].action {
                        keys.push(keys[0]);
                    }
                });
            }
            Action::Quiet { .. } => {
                refused(&|p| {
                    if let Action::Quiet { windows, .. } = &mut p.rules[i].action {
                        windows[0].1 = 86_400;
                    }
                });
                refused(&|p| {
                    if let Action::Quiet { windows, .. } = &mut p.rules[i].action {
                        windows.clear();
                    }
                });
            }
            Action::Limit { cap, period, .. } => {
                if let Cap::Field { .. } = cap {
                    refused(&|p| {
                        if let Action::Limit {
                            cap: Cap::Field { low, high, .. },
                            ..
                        } = &mut p.rules[i].action
                        {
                            (*low, *high) = (3, 2);
                        }
                    });
                    refused(&|p| {
                        if let Action::Limit {
                            cap: Cap::Field { field, .. },
                            ..
                        } = &mut p.rules[i].action
                        {
                            *field = p.parts.clock;
                        }
                    });
                }
                if let Period::Rolling(_) = period {
                    refused(&|p| {
                        if let Action::Limit { period, .. } = &mut p.rules[i].action {
                            *period = Period::Rolling(1_500);
                        }
                    });
                }
            }
            Action::Suppress { .. } => refused(&|p| {
                p.rules[i].action = Action::Suppress {
                    reason: "two\nlines".into(),
                }
            }),
            Action::AlwaysDeliver => {}
        }
    }
}
