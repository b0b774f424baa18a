//! The RAM a terminal spends on Tollgate, measured by a counting allocator:
//! the Lakala and merchant-messages policies once loaded from their
//! artifacts, and the throttle state per key and per message id at the
//! policy's lateness. The figures are printed for BENCHMARKS.md (`cargo
//! test --test terminal_memory -- --nocapture`) and held to a ceiling.

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
use tollgate_runtime::artifact::{self, Compiled};
use tollgate_runtime::bounded::{BoundedState, WhenFull};

struct Counting;

// Bytes live on each thread (tests run on threads of their own).
thread_local! {
    static LIVE_BYTES: Cell<usize> = const { Cell::new(0) };
}

fn live_bytes() -> usize {
    LIVE_BYTES.with(Cell::get)
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is the only addition.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
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

/// The artifact bytes of a reference policy, compiled by the host.
fn artifact_of(policy: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(policy)).unwrap();
    match common::compiled(&text).1 {
        Compiled::Fees(table) => artifact::encode(&table),
        Compiled::Notifications(policy) => artifact::encode_notify(&policy),
    }
}

/// A loaded policy and the heap bytes it holds.
fn load(bytes: &[u8]) -> (Compiled, usize) {
    let before = live_bytes();
    let compiled = artifact::decode_any(bytes).unwrap();
    (compiled, live_bytes() - before)
}

/// Heap bytes of a bounded state with `keys` keys per stateful rule and
/// `ids` message ids.
fn state_bytes(policy: &tollgate_runtime::notify::NotifyPolicy, keys: usize, ids: usize) -> usize {
    let before = live_bytes();
    let state = BoundedState::with_ids(policy, keys, WhenFull::EvictOldest, ids).unwrap();
    let bytes = live_bytes() - before;
    drop(state);
    bytes
}

#[test]
fn loaded_policies_and_their_state_fit_a_terminal() {
    let lakala = artifact_of("policies/fees/lakala.toll");
    let messages = artifact_of("policies/notifications/merchant_messages.toll");
    let (_fees, fee_bytes) = load(&lakala);
    let (loaded, notify_bytes) = load(&messages);
    let Compiled::Notifications(policy) = loaded else {
        panic!("not a notifications policy")
    };
    let stateful = policy.rules().iter().filter(|r| r.span().is_some()).count();
    // A state needs room for one key and one id at least.
    let base = state_bytes(&policy, 1, 1);
    let per_key = (state_bytes(&policy, 1025, 1) - base) as f64 / 1024.0;
    let per_id = (state_bytes(&policy, 1, 1025) - base) as f64 / 1024.0;
    let terminal = state_bytes(&policy, 64, 256);
    let kept = BoundedState::new(&policy, 1).unwrap().instants_per_key();
    let per_rule: Vec<String> = policy
        .rules()
        .iter()
        .zip(&kept)
        .filter(|(r, _)| r.span().is_some())
        .map(|(r, k)| format!("{} keeps {k} instants", r.name()))
        .collect();
    println!("per key and rule: {}", per_rule.join(", "));
    println!(
        "lakala.toll: artifact {} bytes, loaded {fee_bytes} bytes of heap",
        lakala.len()
    );
    println!(
        "merchant_messages.toll: artifact {} bytes, loaded {notify_bytes} bytes of heap",
        messages.len()
    );
    println!(
        "state (lateness {} s, {stateful} stateful rules): {base} bytes at one key and one id, \
         {per_key:.1} bytes per key (all stateful rules), {per_id:.1} bytes per message id, \
         {terminal} bytes at 64 keys and 256 ids (the C example's)",
        policy.lateness_ms() / 1000
    );
    // Ceilings well above today's figures: a regression, not noise.
    assert!(fee_bytes < 16 * 1024, "{fee_bytes}");
    assert!(notify_bytes < 16 * 1024, "{notify_bytes}");
    assert!(per_key < 1024.0, "{per_key}");
    assert!(per_id < 64.0, "{per_id}");
}
