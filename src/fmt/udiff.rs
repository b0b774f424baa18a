//! The unified diff `tollgate fmt --check` prints, in time linear in the
//! size of the files.
//!
//! A minimal diff (Myers) costs time proportional to the file's size times
//! the number of changed lines, which grows quadratically when a
//! formatting change touches every line of a large file. Here lines common
//! to the start and the end are set aside; the rest is cut at lines that
//! occur exactly once in each version, in the same order (the anchors of a
//! patience diff); a stretch between anchors no longer than [`GAP_LINES`]
//! gets a minimal diff, a longer one is cut at the same fractions of its
//! old and new lines into pieces of [`PIECE_LINES`], each diffed minimally.
//! The diff is always correct (applying it to the old text gives the new
//! one); only its minimality is bounded. The printed diff stops after
//! [`MAX_PRINTED_LINES`] changed or context lines, with a line saying how
//! many were left out.

use similar::{capture_diff_slices, group_diff_ops, Algorithm, DiffOp, DiffTag};
use std::collections::HashMap;
use std::ops::Range;

/// The longest stretch (old and new lines together) that gets a minimal
/// diff.
pub const GAP_LINES: usize = 2_000;

/// The size of the pieces a longer stretch is cut into.
pub const PIECE_LINES: usize = 200;

/// The most diff lines printed for one file.
pub const MAX_PRINTED_LINES: usize = 2_000;

/// Context lines around each change.
const CONTEXT: usize = 3;

/// The edit operations from `old` to `new` (lines, each with its line
/// break), in order, adjacent equal runs merged.
pub fn ops(old: &[&str], new: &[&str]) -> Vec<DiffOp> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let rest_old = old.get(prefix..).unwrap_or_default();
    let rest_new = new.get(prefix..).unwrap_or_default();
    let suffix = rest_old
        .iter()
        .rev()
        .zip(rest_new.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (old_end, new_end) = (old.len() - suffix, new.len() - suffix);
    let mut out = Ops::default();
    out.equal(prefix);
    for (a, b) in anchors(old, new, (prefix, old_end), (prefix, new_end)) {
        out.gap(old, new, (a, b));
        out.equal(1);
    }
    out.gap(old, new, (old_end, new_end));
    out.equal(suffix);
    out.ops
}

/// The unified diff from `old` to `new`, headed `--- name` and
/// `+++ name (formatted)`; empty when they are equal. At most
/// [`MAX_PRINTED_LINES`] lines of hunks are printed, then a line saying
/// how many were left out (a hunk cut short has a header that counts the
/// lines shown).
pub fn unified(name: &str, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let mut p = Printed {
        text: String::new(),
        budget: MAX_PRINTED_LINES,
        left_out: 0,
        terminated: old.ends_with('\n') || new.ends_with('\n'),
    };
    for group in group_diff_ops(ops(&a, &b), CONTEXT) {
        let Some(first) = group.first() else {
            continue;
        };
        if p.text.is_empty() {
            p.text
                .push_str(&format!("--- {name}\n+++ {name} (formatted)\n"));
        }
        let mut hunk = Hunk::default();
        for op in &group {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            if tag == DiffTag::Equal {
                p.lines(&mut hunk, ' ', &a, old_range);
            } else {
                p.lines(&mut hunk, '-', &a, old_range);
                p.lines(&mut hunk, '+', &b, new_range);
            }
        }
        if hunk.old + hunk.new > 0 {
            let old_start = first.old_range().start;
            let new_start = first.new_range().start;
            p.text.push_str(&format!(
                "@@ -{} +{} @@\n",
                range(old_start, hunk.old),
                range(new_start, hunk.new)
            ));
            p.text.push_str(&hunk.body);
        }
    }
    if p.left_out > 0 {
        let lines = if p.left_out == 1 { "line" } else { "lines" };
        p.text.push_str(&format!(
            "... {} more {lines} of this diff not shown (run `tollgate fmt` to apply it)\n",
            p.left_out
        ));
    }
    p.text
}

/// The diff text so far and what may still be printed.
struct Printed {
    /// The text printed.
    text: String,
    /// The lines that may still be printed.
    budget: usize,
    /// The lines not printed for want of budget.
    left_out: usize,
    /// Whether either text ends in a line break (a last line without one
    /// is then marked).
    terminated: bool,
}

/// One hunk's lines and how many old and new lines they cover.
#[derive(Default)]
struct Hunk {
    body: String,
    old: usize,
    new: usize,
}

impl Printed {
    /// Adds `lines[range]` to `hunk`, each behind `tag`, while the budget
    /// lasts; a last line with no line break is marked as such.
    fn lines(&mut self, hunk: &mut Hunk, tag: char, lines: &[&str], range: Range<usize>) {
        for line in lines.get(range).unwrap_or_default() {
            if self.budget == 0 {
                self.left_out += 1;
                continue;
            }
            self.budget -= 1;
            match tag {
                '-' => hunk.old += 1,
                '+' => hunk.new += 1,
                _ => {
                    hunk.old += 1;
                    hunk.new += 1;
                }
            }
            hunk.body.push(tag);
            hunk.body.push_str(line);
            if !line.ends_with('\n') {
                hunk.body.push('\n');
                if self.terminated {
                    hunk.body.push_str("\\ No newline at end of file\n");
                }
            }
        }
    }
}

/// A hunk header's range: the first line (1-based) and the count, the
/// count left out when it is 1, an empty range naming the line before it.
fn range(start: usize, len: usize) -> String {
    match len {
        1 => format!("{}", start + 1),
        0 => format!("{start},0"),
        _ => format!("{},{len}", start + 1),
    }
}

/// The ops under construction, each starting where the last ended, equal
/// runs merged.
#[derive(Default)]
struct Ops {
    ops: Vec<DiffOp>,
    /// Where the next op starts (old and new line index).
    at: (usize, usize),
}

impl Ops {
    /// `old_len` lines removed and `new_len` added (`equal`: the same
    /// lines kept) at the current position.
    fn push(&mut self, equal: bool, old_len: usize, new_len: usize) {
        let (old_index, new_index) = self.at;
        self.at = (old_index + old_len, new_index + new_len);
        if equal {
            if let Some(DiffOp::Equal { len, .. }) = self.ops.last_mut() {
                *len += old_len;
                return;
            }
        }
        let op = match (equal, old_len, new_len) {
            (_, 0, 0) => return,
            (true, len, _) => DiffOp::Equal {
                old_index,
                new_index,
                len,
            },
            (false, old_len, 0) => DiffOp::Delete {
                old_index,
                old_len,
                new_index,
            },
            (false, 0, new_len) => DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            },
            (false, old_len, new_len) => DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            },
        };
        self.ops.push(op);
    }

    /// `len` equal lines.
    fn equal(&mut self, len: usize) {
        self.push(true, len, len);
    }

    /// The ops up to `to` (old and new index), a stretch that holds no
    /// anchor.
    fn gap(&mut self, old: &[&str], new: &[&str], to: (usize, usize)) {
        let from = self.at;
        let (old_len, new_len) = (to.0 - from.0, to.1 - from.1);
        if old_len + new_len <= GAP_LINES {
            self.minimal(old, new, to);
            return;
        }
        // Too long for a minimal diff: cut both sides at the same fractions
        // into pieces of about `PIECE_LINES` lines, each diffed minimally.
        let pieces = (old_len + new_len).div_ceil(PIECE_LINES);
        for k in 1..=pieces {
            let next = (from.0 + old_len * k / pieces, from.1 + new_len * k / pieces);
            self.minimal(old, new, next);
        }
    }

    /// The minimal diff up to `to`.
    fn minimal(&mut self, old: &[&str], new: &[&str], to: (usize, usize)) {
        let from = self.at;
        if let (Some(a), Some(b)) = (old.get(from.0..to.0), new.get(from.1..to.1)) {
            for op in capture_diff_slices(Algorithm::Myers, a, b) {
                let (tag, o, n) = op.as_tag_tuple();
                self.push(tag == DiffTag::Equal, o.len(), n.len());
            }
        }
        self.at = to;
    }
}

/// Pairs of indices `(old, new)` within the given ranges of lines that
/// occur exactly once in each, increasing in both (the longest such chain,
/// found by patience sorting in `n log n`).
fn anchors(
    old: &[&str],
    new: &[&str],
    old_range: (usize, usize),
    new_range: (usize, usize),
) -> Vec<(usize, usize)> {
    // For each line: (count in old, index in old, count in new, index in new).
    let mut seen: HashMap<&str, (usize, usize, usize, usize)> = HashMap::new();
    for i in old_range.0..old_range.1 {
        if let Some(line) = old.get(i) {
            let e = seen.entry(line).or_insert((0, i, 0, 0));
            e.0 += 1;
        }
    }
    for j in new_range.0..new_range.1 {
        if let Some(line) = new.get(j) {
            if let Some(e) = seen.get_mut(line) {
                e.2 += 1;
                e.3 = j;
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = seen
        .values()
        .filter(|e| e.0 == 1 && e.2 == 1)
        .map(|e| (e.1, e.3))
        .collect();
    pairs.sort_unstable();
    longest_increasing(&pairs)
}

/// The longest subsequence of `pairs` (sorted by their first index) whose
/// second indices increase.
fn longest_increasing(pairs: &[(usize, usize)]) -> Vec<(usize, usize)> {
    // tails[k]: index into `pairs` of the smallest tail of a chain of k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut back: Vec<Option<usize>> = Vec::with_capacity(pairs.len());
    for (i, &(_, b)) in pairs.iter().enumerate() {
        let k = tails.partition_point(|&t| pairs.get(t).is_some_and(|p| p.1 < b));
        back.push(k.checked_sub(1).and_then(|p| tails.get(p).copied()));
        if k == tails.len() {
            tails.push(i);
        } else if let Some(t) = tails.get_mut(k) {
            *t = i;
        }
    }
    let mut chain = Vec::new();
    let mut at = tails.last().copied();
    while let Some(i) = at {
        if let Some(p) = pairs.get(i) {
            chain.push(*p);
        }
        at = back.get(i).copied().flatten();
    }
    chain.reverse();
    chain
}
