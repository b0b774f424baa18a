//! The terminal's bounded throttle store allocates nothing after it is
//! created, whatever the stream; its eviction rule is the documented one.
//! The server's store's bytes per key are measured here too. (A counting
//! allocator lives in this test binary alone.)

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
use tollgate_runtime::bounded::BoundedState;
use tollgate_runtime::hashes::KeyHash;
use tollgate_runtime::notify::ThrottleState;
use tollgate_runtime::position::NotifyRuleIndex;
use tollgate_runtime::value::Value;

struct Counting;

// Allocations made by each thread (tests run on threads of their own).
thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<usize> = const { Cell::new(0) };
}

fn live_bytes() -> usize {
    LIVE_BYTES.with(Cell::get)
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is the only addition.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        let _ = LIVE_BYTES.try_with(|c| c.set(c.get() + layout.size()));
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

#[test]
fn deciding_with_the_bounded_store_allocates_only_in_the_engine() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/notifications/merchant_messages.toll"),
    )
    .unwrap();
    let (_, compiled) = common::notifications(&text);
    let mut store = BoundedState::new(&compiled, 4).unwrap();
    // Drive the store directly: 10,000 deliveries over many keys and rules.
    let before = allocations();
    for i in 0..10_000i64 {
        let rule = NotifyRuleIndex::new((i % 7) as u32);
        let key = KeyHash::new((i % 13) as u64);
        let _ = store.history(rule, key).len();
        store.record(rule, key, i * 60_000, i64::MIN);
    }
    let after = allocations();
    assert_eq!(after - before, 0, "the bounded store allocated after start");
    assert!(store.evictions() > 0, "13 keys in 4 slots must evict");
    // Records are typed once, before counting; deciding them with the
    // bounded store allocates nothing either (policies of up to 128 rules).
    let records: Vec<Vec<Value>> = (0..1_000)
        .map(|i| {
            let json = format!(
                r#"{{"kind":"{}","merchant":"m{}","terminal":"t{}","txn_id":"x{}","at":"2026-11-25T{:02}:{:02}:00+08:00"}}"#,
                ["promo", "txn_success", "network_status", "security", "txn_failure"][i % 5],
                i % 7,
                i % 3,
                i % 11,
                (i / 60) % 24,
                i % 60
            );
            tollgate::record::from_json(&json, compiled.fields()).unwrap()
        })
        .collect();
    let before = allocations();
    let mut deferred = 0;
    for record in &records {
        if let tollgate_runtime::notify::Decision::Defer { .. } =
            compiled.decide(record, &mut store).unwrap()
        {
            deferred += 1;
        }
    }
    assert_eq!(allocations() - before, 0, "deciding allocated");
    assert!(deferred > 0, "the stream crosses quiet hours");
}

#[test]
fn expired_entries_go_first_and_live_evictions_are_counted() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/notifications/merchant_messages.toll"),
    )
    .unwrap();
    let (_, compiled) = common::notifications(&text);
    let network = compiled
        .rules()
        .iter()
        .position(|r| r.name() == "network_cap")
        .map(|i| NotifyRuleIndex::new(i as u32))
        .unwrap();
    let mut store = BoundedState::new(&compiled, 1).unwrap();
    let minute = 60_000;
    store.record(network, KeyHash::new(1), 0, i64::MIN);
    // Key 2 arrives 75 minutes later: no record it could still be decided
    // with (down to 1h late) meets key 1's delivery (15m window).
    store.record(network, KeyHash::new(2), 75 * minute, i64::MIN);
    assert_eq!(store.evictions(), 0);
    assert!(store.history(network, KeyHash::new(1)).is_empty());
    assert_eq!(store.history(network, KeyHash::new(2)), &[75 * minute]);
    // Key 3 arrives while key 2 is live: key 2 is evicted, and counted.
    store.record(network, KeyHash::new(3), 76 * minute, i64::MIN);
    assert_eq!(store.evictions(), 1);
    assert_eq!(store.history(network, KeyHash::new(3)), &[76 * minute]);
    assert_eq!(BoundedState::entry_bytes(2), 26);
    assert_eq!(BoundedState::entry_bytes(1), 18);
}

/// The server's `MemoryState`, measured by the allocator: heap bytes per
/// (rule, key) with 100,000 keys holding from one to fifteen instants. A
/// rule's slots hold two instants inline (40 bytes), six (64) once more
/// than an eighth of its keys keep more than two, fourteen (128) once they
/// keep more than six; past that a key's instants go to the heap. The
/// figures are printed for BENCHMARKS.md (`cargo test --test bounded_alloc
/// -- --nocapture`) and held to the slot sizes the layout promises.
#[test]
fn memory_store_bytes_per_key() {
    use tollgate_runtime::notify::MemoryState;
    const KEYS: u64 = 100_000;
    let counts = [1i64, 2, 3, 6, 7, 14, 15];
    let mut per_key = Vec::new();
    for instants in counts {
        let before = live_bytes();
        let mut store = MemoryState::new();
        for key in 0..KEYS {
            for t in 0..instants {
                store.record(NotifyRuleIndex::new(0), KeyHash::new(key), t, i64::MIN);
            }
        }
        let bytes = (live_bytes() - before) as f64 / KEYS as f64;
        println!("MemoryState, {instants} instant(s) per key: {bytes:.1} bytes per key");
        per_key.push(bytes);
        drop(store);
    }
    // A slot and a control byte; the table is a power of two at most 7/8
    // full, so at most about twice that per key.
    let [one, two, three, six, seven, fourteen, fifteen] = per_key[..] else {
        unreachable!()
    };
    assert!(one <= 2.0 * 41.0, "{per_key:?}");
    assert_eq!(one, two, "two instants stay inline");
    assert_eq!(three, six, "up to six stay inline in a larger slot");
    assert!(three > two && three <= 2.0 * 65.0, "{per_key:?}");
    assert_eq!(
        seven, fourteen,
        "up to fourteen stay inline in the largest slot"
    );
    assert!(seven > six && seven <= 2.0 * 129.0, "{per_key:?}");
    assert!(fifteen > fourteen, "fifteen go to the heap");
}

fn compile(text: &str) -> tollgate_runtime::notify::NotifyPolicy {
    common::notifications(text).1
}

fn message(p: &tollgate_runtime::notify::NotifyPolicy, terminal: &str, secs: i64) -> Vec<Value> {
    let at = chrono::DateTime::from_timestamp(1_795_536_000 + secs, 0)
        .unwrap()
        .to_rfc3339();
    let json = format!(r#"{{"terminal":"{terminal}","at":"{at}"}}"#);
    tollgate::record::from_json(&json, p.fields()).unwrap()
}

const BIG_CAP: &str = "policy big version 1\nkind notifications\ntimezone \"Asia/Shanghai\"\n\
                       field terminal: string\nfield at: timestamp\n\
                       rule per_terminal when true => limit 300 per 24h by terminal\n";

/// A cap above 255 is enforced exactly by the terminal store: 300 of 400
/// messages in a day, as the server store decides.
#[test]
fn caps_above_255_are_enforced_by_the_bounded_store() {
    use tollgate_runtime::notify::{Decision, MemoryState};
    let p = compile(BIG_CAP);
    let mut bounded = BoundedState::new(&p, 4).unwrap();
    let mut memory = MemoryState::new();
    let (mut b, mut m) = (0, 0);
    for i in 0..400 {
        let rec = message(&p, "t1", i * 60);
        b += usize::from(matches!(
            p.decide(&rec, &mut bounded),
            Ok(Decision::Deliver { .. })
        ));
        m += usize::from(matches!(
            p.decide(&rec, &mut memory),
            Ok(Decision::Deliver { .. })
        ));
    }
    assert_eq!((b, m), (300, 300));
}

/// A cap no bounded store can keep exactly is refused when the store is
/// created, naming the rule.
#[test]
fn a_cap_the_store_cannot_keep_is_refused_naming_the_rule() {
    let p = compile(&BIG_CAP.replace("limit 300 per 24h", "limit 40000 per 1h"));
    let err = BoundedState::new(&p, 4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "rule `per_terminal` needs up to 80000 deliveries per key to enforce its cap exactly \
         (cap, period and lateness); the terminal store keeps at most 65535"
    );
}

/// With every entry live, a full table evicts the oldest (counted) or,
/// when created to fail closed, suppresses the new key's message and keeps
/// what it holds.
#[test]
fn a_full_store_evicts_or_refuses_as_chosen() {
    use tollgate_runtime::bounded::WhenFull;
    use tollgate_runtime::notify::{Decision, Reason};
    let p = compile(&BIG_CAP.replace("limit 300 per 24h", "limit 1 per 1h"));
    let mut open = BoundedState::with(&p, 1, WhenFull::EvictOldest).unwrap();
    let mut closed = BoundedState::with(&p, 1, WhenFull::RefuseNewKeys).unwrap();
    for store in [&mut open, &mut closed] {
        assert!(matches!(
            p.decide(&message(&p, "t1", 0), store),
            Ok(Decision::Deliver { .. })
        ));
    }
    assert!(matches!(
        p.decide(&message(&p, "t2", 60), &mut open),
        Ok(Decision::Deliver { .. })
    ));
    assert_eq!(open.evictions(), 1);
    assert_eq!(
        p.decide(&message(&p, "t2", 60), &mut closed),
        Ok(Decision::Suppress {
            rule: tollgate_runtime::position::NotifyRuleIndex::new(0),
            reason: Reason::StoreFull
        })
    );
    assert_eq!(closed.evictions(), 0);
    // t1 is still held by the closed store, and forgotten by the open one.
    assert!(matches!(
        p.decide(&message(&p, "t1", 120), &mut closed),
        Ok(Decision::Suppress { .. })
    ));
    assert!(matches!(
        p.decide(&message(&p, "t1", 120), &mut open),
        Ok(Decision::Deliver { .. })
    ));
    // Once no accepted record can meet t1's delivery (1h window, 1h late),
    // a new key takes its place even in the closed store.
    assert!(matches!(
        p.decide(&message(&p, "t3", 2 * 3_600 + 1), &mut closed),
        Ok(Decision::Deliver { .. })
    ));
}

/// A terminal with the bounded store allocates nothing from the moment its
/// successor is staged: routing, the swap at the activation (which carries
/// the state into the successor's, made at staging), and deciding on both
/// sides of it while the previous version is kept.
#[test]
fn a_bounded_terminal_swaps_and_decides_without_allocating() {
    use tollgate_runtime::staged::{Bounded, Terminal};
    let read = |rel: &str| {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
    };
    let v1 = compile(&read("tests/activation/messages_v1.toll"));
    let v2 = compile(&read("tests/activation/messages_v2.toll"));
    let sizes = Bounded {
        capacity: 4,
        id_capacity: 4,
        when_full: tollgate_runtime::bounded::WhenFull::EvictOldest,
    };
    let a1 = tollgate_runtime::artifact::encode_notify(&v1);
    let a2 = tollgate_runtime::artifact::encode_notify(&v2);
    let mut t = Terminal::install_with(&a1, &[], None, sizes).unwrap();
    t.stage(&a2).unwrap();
    // 2027-01-01T00:00:00+08:00, version 2's activation; messages every
    // minute from an hour before to an hour after, one in three 50 minutes
    // late, typed before counting.
    let midnight = 1_798_732_800_i64;
    let records: Vec<(i64, Vec<Value>)> = (0..120)
        .map(|i| {
            let late = if i % 3 == 0 { 50 * 60 } else { 0 };
            let secs = midnight - 3600 + i * 60 - late;
            let at = chrono::DateTime::from_timestamp(secs, 0)
                .unwrap()
                .to_rfc3339();
            let json = format!(r#"{{"at":"{at}","terminal":"t{}","kind":"promo"}}"#, i % 7);
            (
                secs * 1000,
                tollgate::record::from_json(&json, v1.fields()).unwrap(),
            )
        })
        .collect();
    let before = allocations();
    let mut versions = [0usize; 3];
    for (at_ms, record) in &records {
        let slot = t.route(*at_ms);
        let decided = t.decide(slot, record).unwrap();
        versions[decided.version as usize] += 1;
    }
    assert_eq!(allocations() - before, 0, "the terminal allocated");
    assert!(versions[1] > 0 && versions[2] > 0, "{versions:?}");
    assert_eq!(t.current().version(), 2);
}
