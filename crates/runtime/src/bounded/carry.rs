//! Carrying a terminal's [`BoundedState`] into the state of a policy's
//! next version at a swap, in place: the successor's state was allocated
//! when it was staged, so the swap itself allocates nothing.

use super::{BoundedState, Table};

impl BoundedState {
    /// Copies the deliveries `old` kept for rule `i` of its policy into
    /// rule `into[i]` of this state's policy (the plan of
    /// [`crate::state_file::carry_plan`]), replacing what those rules held;
    /// rules mapped to `None` start afresh. Where this state keeps fewer
    /// instants per key (a lower cap), each key keeps its newest; where it
    /// has fewer entries than `old` has live keys, the keys delivered to
    /// most recently are kept. The evictions counter carries over; message
    /// ids do not (their decisions name rules by number). Allocates
    /// nothing.
    pub fn carry_from(&mut self, old: &BoundedState, into: &[Option<u32>]) {
        self.evictions = old.evictions;
        for (from, to) in into.iter().enumerate() {
            let (Some(Some(src)), Some(to)) = (old.tables.get(from), to) else {
                continue;
            };
            if let Some(Some(dst)) = self.tables.get_mut(*to as usize) {
                copy_table(src, dst);
            }
        }
    }
}

/// Copies `src`'s live entries into `dst`, emptied first.
fn copy_table(src: &Table, dst: &mut Table) {
    dst.lens.iter_mut().for_each(|l| *l = 0);
    let live = src.lens.iter().filter(|&&l| l > 0).count();
    let mut next = 0;
    if live <= dst.keys.len() {
        for slot in 0..src.keys.len() {
            if copy_entry(src, slot, dst, next) {
                next += 1;
            }
        }
        return;
    }
    // Not all fit: take them newest last delivery first, by repeated
    // selection (no room to sort in).
    let mut below: Option<(i64, usize)> = None;
    while next < dst.keys.len() {
        let pick = (0..src.keys.len())
            .filter(|&s| src.lens.get(s).is_some_and(|&l| l > 0))
            .map(|s| (src.last(s), s))
            .filter(|&p| below.is_none_or(|b| p < b))
            .max();
        let Some(p) = pick else { break };
        below = Some(p);
        if copy_entry(src, p.1, dst, next) {
            next += 1;
        }
    }
}

/// Copies `src`'s entry `slot` (if live) into `dst`'s entry `at`, keeping
/// its newest instants when `dst` keeps fewer. `false` when nothing was
/// copied.
fn copy_entry(src: &Table, slot: usize, dst: &mut Table, at: usize) -> bool {
    let len = src.lens.get(slot).copied().unwrap_or(0) as usize;
    if len == 0 {
        return false;
    }
    let kept = len.min(dst.keep);
    let start = slot * src.keep + len - kept;
    let (Some(times), Some(out), Some(&key)) = (
        src.times.get(start..start + kept),
        dst.times.get_mut(at * dst.keep..at * dst.keep + kept),
        src.keys.get(slot),
    ) else {
        return false;
    };
    out.copy_from_slice(times);
    if let (Some(k), Some(l)) = (dst.keys.get_mut(at), dst.lens.get_mut(at)) {
        *k = key;
        *l = kept as u16;
    }
    true
}
