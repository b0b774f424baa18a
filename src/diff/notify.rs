//! The diff of two notifications policies: rules added, removed, renamed
//! or changed, in words, each change with a message stream whose decision
//! changes, found by running both versions' engines on candidate streams.
//!
//! Candidate messages come from the linter's sweep over the changed
//! rule's rows in both versions (one record per region, so a condition
//! that now covers more or fewer messages is tried on both sides of the
//! change); candidate instants are the local times of day around every
//! quiet window's ends; candidate streams repeat one message at spacings
//! taken from the rule's windows and periods, up to one more message
//! than its cap. The first stream whose decisions differ is the example,
//! and it is what both engines decided on it, not a prediction.

use crate::compile::print_notify::{self, action_text, conditions, duration};
use crate::lint::budget::Budget;
use crate::lint::example;
use crate::lint::space::{sweep, Mode, Region, Space, Visitor};
use serde_json::Value as Json;
use tollgate_runtime::notify::{Action, MemoryState, NotifyPolicy, NotifyRule, Period};
use tollgate_runtime::table::{Cell, FieldKind};
use tollgate_runtime::value::Value;

/// The most decisions the example search makes per changed rule.
const SEARCH_BUDGET: usize = 200_000;

/// The local day examples are placed on: 2026-11-25, as days since 1970.
const EXAMPLE_DAY: i64 = 20_782;

/// The diff of two notifications policies.
#[derive(Debug, Clone)]
pub struct NotifyDiff {
    /// The old policy's name and version.
    pub old: (String, u32),
    /// The new policy's name and version.
    pub new: (String, u32),
    /// Changes to the policy's settings (zone, lateness, message id, clock, fields).
    pub settings: Vec<String>,
    /// The rules added, removed, renamed or changed, in the new version's order.
    pub rules: Vec<RuleChange>,
}

impl NotifyDiff {
    /// Whether any decision may change (renames alone change none).
    pub fn changed(&self) -> bool {
        !self.settings.is_empty()
            || self
                .rules
                .iter()
                .any(|r| !matches!(r.kind, ChangeKind::Renamed | ChangeKind::Reworded))
    }
}

/// What happened to a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Only the new version has it.
    Added,
    /// Only the old version has it.
    Removed,
    /// Both have it under one name, with another condition or action.
    Changed,
    /// The same condition and action under another name.
    Renamed,
    /// The same condition and a suppress action whose reason is worded
    /// otherwise: no decision changes, only the reason it gives.
    Reworded,
}

/// One rule's change.
#[derive(Debug, Clone)]
pub struct RuleChange {
    /// The rule's name (the new one for a renamed rule).
    pub name: String,
    /// The old name of a renamed rule.
    pub old_name: Option<String>,
    /// What happened.
    pub kind: ChangeKind,
    /// The old action, as the policy writes it.
    pub old: Option<String>,
    /// The new action.
    pub new: Option<String>,
    /// The differences in words: `window 15m -> 10m`, `cap 2 -> 1`.
    pub details: Vec<String>,
    /// A stream whose decisions differ, if one was found.
    pub example: Option<Example>,
}

/// A stream of messages on which the two versions decide differently.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The messages, as JSON records, in order.
    pub stream: Vec<String>,
    /// The first message (from 0) whose decision differs.
    pub at: usize,
    /// The old version's decision on it (an `eval` output line).
    pub old: Json,
    /// The new version's decision on it.
    pub new: Json,
}

/// The diff of two notifications policies.
pub fn diff(old: &NotifyPolicy, new: &NotifyPolicy) -> NotifyDiff {
    let mut settings = Vec::new();
    let same_fields = old.fields().len() == new.fields().len()
        && old
            .fields()
            .iter()
            .zip(new.fields())
            .all(|(a, b)| a.name == b.name && a.kind == b.kind);
    if !same_fields {
        settings.push("the record schema changed (fields added, removed or retyped): no example streams are searched".into());
    }
    if old.zone().name != new.zone().name {
        settings.push(format!(
            "time zone {} -> {}",
            old.zone().name,
            new.zone().name
        ));
    }
    if old.lateness_ms() != new.lateness_ms() {
        settings.push(format!(
            "late records within {} -> {}",
            duration(old.lateness_ms()),
            duration(new.lateness_ms())
        ));
    }
    let field = |p: &NotifyPolicy, i: Option<u32>| {
        i.and_then(|i| p.fields().get(i as usize))
            .map_or_else(|| "none".to_string(), |f| f.name.clone())
    };
    if field(old, old.message_id()) != field(new, new.message_id()) {
        settings.push(format!(
            "message id {} -> {}",
            field(old, old.message_id()),
            field(new, new.message_id())
        ));
    }
    if field(old, Some(old.clock())) != field(new, Some(new.clock())) {
        settings.push(format!(
            "clock {} -> {}",
            field(old, Some(old.clock())),
            field(new, Some(new.clock()))
        ));
    }
    let mut rules = Vec::new();
    let sig = |p: &NotifyPolicy, r: &NotifyRule| (conditions(p, r), action_text(p, r.action()));
    let unmatched_old: Vec<&NotifyRule> = old
        .rules()
        .iter()
        .filter(|r| !new.rules().iter().any(|n| n.name() == r.name()))
        .collect();
    let mut renamed_from: Vec<&str> = Vec::new();
    for n in new.rules() {
        let before = old.rules().iter().find(|o| o.name() == n.name());
        let mut change = match before {
            Some(o) if sig(old, o) == sig(new, n) => continue,
            Some(o) if reworded(old, o, new, n) => {
                rules.push(RuleChange {
                    name: n.name().into(),
                    old_name: None,
                    kind: ChangeKind::Reworded,
                    old: Some(action_text(old, o.action())),
                    new: Some(action_text(new, n.action())),
                    details: details(old, o, new, n),
                    example: None,
                });
                continue;
            }
            Some(o) => RuleChange {
                name: n.name().into(),
                old_name: None,
                kind: ChangeKind::Changed,
                old: Some(action_text(old, o.action())),
                new: Some(action_text(new, n.action())),
                details: details(old, o, new, n),
                example: None,
            },
            None => match unmatched_old
                .iter()
                .find(|o| sig(old, o) == sig(new, n) && !renamed_from.contains(&o.name()))
            {
                Some(o) => {
                    renamed_from.push(o.name());
                    rules.push(RuleChange {
                        name: n.name().into(),
                        old_name: Some(o.name().into()),
                        kind: ChangeKind::Renamed,
                        old: Some(action_text(old, o.action())),
                        new: Some(action_text(new, n.action())),
                        details: Vec::new(),
                        example: None,
                    });
                    continue;
                }
                None => RuleChange {
                    name: n.name().into(),
                    old_name: None,
                    kind: ChangeKind::Added,
                    old: None,
                    new: Some(action_text(new, n.action())),
                    details: vec![format!("applies when {}", conditions(new, n).join(" or "))],
                    example: None,
                },
            },
        };
        if same_fields {
            change.example = search(old, before, new, Some(n));
        }
        rules.push(change);
    }
    for o in unmatched_old {
        if renamed_from.contains(&o.name()) {
            continue;
        }
        let mut change = RuleChange {
            name: o.name().into(),
            old_name: None,
            kind: ChangeKind::Removed,
            old: Some(action_text(old, o.action())),
            new: None,
            details: vec![format!("applied when {}", conditions(old, o).join(" or "))],
            example: None,
        };
        if same_fields {
            change.example = search(old, Some(o), new, None);
        }
        rules.push(change);
    }
    NotifyDiff {
        old: (old.name().into(), old.version()),
        new: (new.name().into(), new.version()),
        settings,
        rules,
    }
}

/// Whether the two versions of a rule differ only in the wording of a
/// suppress reason.
fn reworded(op: &NotifyPolicy, o: &NotifyRule, np: &NotifyPolicy, n: &NotifyRule) -> bool {
    matches!(
        (o.action(), n.action()),
        (Action::Suppress { .. }, Action::Suppress { .. })
    ) && conditions(op, o) == conditions(np, n)
}

/// The differences between two versions of one rule, in words.
fn details(op: &NotifyPolicy, o: &NotifyRule, np: &NotifyPolicy, n: &NotifyRule) -> Vec<String> {
    let mut out = Vec::new();
    let (co, cn) = (conditions(op, o), conditions(np, n));
    if co != cn {
        out.push(format!(
            "applies when {} -> {}",
            co.join(" or "),
            cn.join(" or ")
        ));
    }
    let keys = |p: &NotifyPolicy, ks: &[u32]| {
        let names: Vec<&str> = ks
            .iter()
            .filter_map(|&k| p.fields().get(k as usize).map(|f| f.name.as_str()))
            .collect();
        format!("({})", names.join(", "))
    };
    match (o.action(), n.action()) {
        (
            Action::Dedup {
                keys: ka,
                window_ms: wa,
            },
            Action::Dedup {
                keys: kb,
                window_ms: wb,
            },
        ) => {
            if wa != wb {
                out.push(format!("window {} -> {}", duration(*wa), duration(*wb)));
            }
            if keys(op, ka) != keys(np, kb) {
                out.push(format!("keys {} -> {}", keys(op, ka), keys(np, kb)));
            }
        }
        (
            Action::Quiet {
                windows: wa,
                drop: da,
            },
            Action::Quiet {
                windows: wb,
                drop: db,
            },
        ) => {
            if wa != wb {
                out.push(format!("quiet {} -> {}", windows(wa), windows(wb)));
            }
            if da != db {
                let w = |d: bool| if d { "then drop" } else { "then defer" };
                out.push(format!("{} -> {}", w(*da), w(*db)));
            }
        }
        (
            Action::Limit {
                cap: ca,
                period: pa,
                keys: ka,
            },
            Action::Limit {
                cap: cb,
                period: pb,
                keys: kb,
            },
        ) => {
            let (ta, tb) = (action_text(op, o.action()), action_text(np, n.action()));
            let cap_word = |t: &str| {
                t.strip_prefix("limit ")
                    .and_then(|r| r.split(" per ").next())
                    .unwrap_or("")
                    .to_string()
            };
            if ca != cb || cap_word(&ta) != cap_word(&tb) {
                out.push(format!("cap {} -> {}", cap_word(&ta), cap_word(&tb)));
            }
            if pa != pb {
                out.push(format!("window {} -> {}", period(*pa), period(*pb)));
            }
            if keys(op, ka) != keys(np, kb) {
                out.push(format!("keys {} -> {}", keys(op, ka), keys(np, kb)));
            }
        }
        (Action::Suppress { reason: a }, Action::Suppress { reason: b }) => {
            if a != b {
                out.push(format!("reason {a:?} -> {b:?}"));
            }
        }
        (a, b) => {
            let (ta, tb) = (action_text(op, a), action_text(np, b));
            if ta != tb {
                out.push(format!("action {ta} -> {tb}"));
            }
        }
    }
    out
}

fn windows(ws: &[(u32, u32)]) -> String {
    ws.iter()
        .map(|&(a, b)| format!("{}-{}", print_notify::clock(a), print_notify::clock(b)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn period(p: Period) -> String {
    match p {
        Period::Rolling(ms) => duration(ms),
        Period::CalendarDay => "calendar day".into(),
    }
}

/// Records one per region of the rules' rows (both versions'), in the
/// policies' shared schema.
struct Records<'a> {
    space: &'a Space,
    fields: &'a [tollgate_runtime::table::FieldSpec],
    out: Vec<String>,
}

impl Visitor for Records<'_> {
    fn gap(&mut self, region: Region<'_>) {
        self.leaf(&[], true, region);
    }

    fn leaf(&mut self, active: &[u32], exact: bool, region: Region<'_>) {
        if self.out.len() >= 24 {
            return;
        }
        let within = if exact { None } else { active.first().copied() };
        let r = example::record(self.space, region, within, self.fields);
        if !self.out.contains(&r) {
            self.out.push(r);
        }
    }
}

/// Candidate records for the rules `a` (old) and `b` (new).
fn records(p: &NotifyPolicy, rules: &[&NotifyRule]) -> Vec<String> {
    let mut columns: Vec<usize> = rules
        .iter()
        .flat_map(|r| r.columns().iter().map(|&c| c as usize))
        .collect();
    columns.sort_unstable();
    columns.dedup();
    let rows: Vec<Vec<Cell>> = rules
        .iter()
        .flat_map(|r| {
            r.rows().iter().map(|row| {
                columns
                    .iter()
                    .map(|c| {
                        r.columns()
                            .iter()
                            .position(|&x| x as usize == *c)
                            .and_then(|i| row.get(i))
                            .cloned()
                            .unwrap_or(Cell::Any)
                    })
                    .collect()
            })
        })
        .collect();
    let kinds: Vec<&FieldKind> = columns
        .iter()
        .filter_map(|&c| p.fields().get(c).map(|f| &f.kind))
        .collect();
    let refs: Vec<&[Cell]> = rows.iter().map(Vec::as_slice).collect();
    let space = Space::new(columns, &kinds, &refs);
    let order: Vec<u32> = (0..rows.len() as u32).collect();
    let mut v = Records {
        space: &space,
        fields: p.fields(),
        out: Vec::new(),
    };
    // A budget spent early leaves fewer candidates, never a wrong example.
    let _ = sweep(
        &space,
        &order,
        Mode::Every,
        &mut v,
        &mut Budget::new(1_000_000),
    );
    if v.out.is_empty() {
        v.out.push(example::record(
            &space,
            Region {
                columns: &[],
                pieces: &[],
            },
            None,
            p.fields(),
        ));
    }
    v.out
}

/// Local times of day (seconds) worth trying: noon, 03:00, and around
/// each quiet window's start and end in either version.
fn times(policies: [&NotifyPolicy; 2]) -> Vec<u32> {
    let mut t: Vec<u32> = vec![12 * 3600, 3 * 3600];
    for p in policies {
        for r in p.rules() {
            if let Action::Quiet { windows, .. } = r.action() {
                for &(a, b) in windows {
                    for x in [a, b] {
                        t.push(x);
                        t.push((x + 86_400 - 60) % 86_400);
                    }
                }
            }
        }
    }
    let mut seen = Vec::new();
    t.retain(|x| {
        let fresh = !seen.contains(x);
        seen.push(*x);
        fresh
    });
    t
}

/// Spacings (ms) and stream lengths worth trying for these rules.
fn spacings(rules: &[&NotifyRule]) -> (Vec<i64>, usize) {
    let mut gaps: Vec<i64> = vec![1_000, 60_000];
    let mut most = 1usize;
    for r in rules {
        match r.action() {
            Action::Dedup { window_ms, .. } => {
                gaps.extend([*window_ms, window_ms - 1_000]);
                most = most.max(1);
            }
            Action::Limit { cap, period, .. } => {
                if let Period::Rolling(ms) = period {
                    gaps.extend([*ms, ms - 1_000]);
                } else {
                    gaps.push(3_600_000);
                }
                most = most.max(cap.most() as usize);
            }
            _ => {}
        }
    }
    gaps.retain(|&g| g > 0);
    gaps.sort_unstable();
    gaps.dedup();
    (gaps, (most + 1).min(40))
}

/// A stream on which the versions decide differently, if the candidates hold one.
fn search(
    old: &NotifyPolicy,
    o: Option<&NotifyRule>,
    new: &NotifyPolicy,
    n: Option<&NotifyRule>,
) -> Option<Example> {
    let mut rules_old: Vec<&NotifyRule> = o.into_iter().collect();
    let rules_new: Vec<&NotifyRule> = n.into_iter().collect();
    let mut cands = records(new, &rules_new);
    // The old rule's rows read the same schema: sweep them too.
    for r in records(old, &rules_old) {
        if !cands.contains(&r) {
            cands.push(r);
        }
    }
    rules_old.extend(rules_new.iter().copied());
    let (gaps, longest) = spacings(&rules_old);
    let tods = times([old, new]);
    let mut spent = 0usize;
    for len in 1..=longest {
        for rec in &cands {
            for &tod in &tods {
                let gap_list: &[i64] = if len == 1 { &[0] } else { &gaps };
                for &gap in gap_list {
                    spent += len * 2;
                    if spent > SEARCH_BUDGET {
                        return None;
                    }
                    let stream = Stream { rec, tod, gap, len };
                    if let Some(e) = try_stream(old, new, &stream, o, n) {
                        return Some(e);
                    }
                }
            }
        }
    }
    None
}

/// The UTC ms of local `tod` on the example day in `p`'s zone.
fn at(p: &NotifyPolicy, tod: u32) -> i64 {
    let local = EXAMPLE_DAY * 86_400 + i64::from(tod);
    let guess = local - i64::from(p.zone().offset_at(local));
    let utc = local - i64::from(p.zone().offset_at(guess));
    utc * 1000
}

/// A candidate stream: `len` copies of `rec`, `gap` ms apart from local
/// time of day `tod`.
struct Stream<'a> {
    rec: &'a str,
    tod: u32,
    gap: i64,
    len: usize,
}

/// What counts as a change in a decision: what happens to the message
/// (delivered, suppressed, deferred until when, refused with an error).
/// The rule named and the wording of the reason do not count.
pub(crate) fn verdict(line: &Json) -> (Option<&Json>, Option<&Json>, Option<&Json>) {
    (line.get("decision"), line.get("until"), line.get("error"))
}

/// Whether `line` was decided by the rule named `rule`.
fn decided_by(line: &Json, rule: Option<&NotifyRule>) -> bool {
    rule.is_some_and(|r| line.get("rule").and_then(Json::as_str) == Some(r.name()))
}

/// Runs both versions on the candidate stream; the example if some
/// decision differs, and the first that differs is decided by the changed
/// rule `o` (in the old version) or `n` (in the new one).
fn try_stream(
    old: &NotifyPolicy,
    new: &NotifyPolicy,
    cand: &Stream<'_>,
    o: Option<&NotifyRule>,
    n: Option<&NotifyRule>,
) -> Option<Example> {
    let Stream { rec, tod, gap, len } = *cand;
    let clock = new.fields().get(new.clock() as usize)?.name.clone();
    let start = at(new, tod);
    let mut stream = Vec::with_capacity(len);
    for i in 0..len {
        let ms = start + gap * i as i64;
        let Ok(Json::Object(mut map)) = serde_json::from_str::<Json>(rec) else {
            return None;
        };
        map.insert(
            clock.clone(),
            Json::String(crate::cli::notify_out::instant(new, ms)),
        );
        stream.push(Json::Object(map).to_string());
    }
    let run = |p: &NotifyPolicy| -> Vec<Json> {
        let mut state = MemoryState::new();
        stream
            .iter()
            .map(|line| decide(p, line, &mut state))
            .collect()
    };
    let (a, b) = (run(old), run(new));
    let i = a
        .iter()
        .zip(&b)
        .position(|(x, y)| verdict(x) != verdict(y))?;
    let (x, y) = (a.get(i)?, b.get(i)?);
    if !decided_by(x, o) && !decided_by(y, n) {
        return None;
    }
    Some(Example {
        stream,
        at: i,
        old: a.get(i)?.clone(),
        new: b.get(i)?.clone(),
    })
}

/// One message's decision by `p` as `eval` prints it (or its error line).
pub fn decide(p: &NotifyPolicy, line: &str, state: &mut MemoryState) -> Json {
    let record: Vec<Value> = match crate::record::from_json(line, p.fields()) {
        Ok(r) => r,
        Err(e) => return serde_json::json!({ "error": e }),
    };
    match p.answer(&record, state) {
        Ok(a) => crate::cli::notify_out::answer(p, a, None),
        Err(e) => serde_json::json!({ "error": crate::cli::notify_out::error(p, e) }),
    }
}
