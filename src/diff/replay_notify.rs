//! Replaying a stream of messages through both versions of a
//! notifications policy: each version's engine decides the whole stream in
//! order (each from an empty throttle state, as `tollgate eval` does), and
//! per group of the `--by` fields' values the replay counts the messages
//! whose decision changes. A decision changes when what happens to the
//! message changes (delivered, suppressed, deferred and until when, or
//! refused with an error), as in the diff's examples.

use super::history::{self, Entry};
use super::replay::{spec, ReplayError};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::io::BufRead;
use tollgate_runtime::notify::{MemoryState, NotifyPolicy};

/// How many changed messages are listed.
pub const LISTED: usize = 10;

/// The counts of one group (or of the whole stream).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Messages read.
    pub messages: u64,
    /// Messages whose decision changes.
    pub changed: u64,
    /// Messages each version delivers (old, new).
    pub delivered: (u64, u64),
    /// Messages each version refuses with an error (old, new).
    pub refused: (u64, u64),
}

/// A message whose decision changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedMessage {
    /// Its line number.
    pub line: u64,
    /// The message as read.
    pub message: String,
    /// The old version's decision, as `eval` prints it.
    pub old: Json,
    /// The new version's decision.
    pub new: Json,
}

/// What the replay found.
#[derive(Debug, Clone, Default)]
pub struct NotifyReplay {
    /// The fields messages are grouped by.
    pub by: Vec<String>,
    /// Over the whole stream.
    pub total: Counts,
    /// Per group.
    pub groups: BTreeMap<Vec<String>, Counts>,
    /// The first messages whose decision changes, in order.
    pub first_changed: Vec<ChangedMessage>,
}

/// One message's decision by `p` as `eval` prints it (or its error line).
fn decide(p: &NotifyPolicy, e: &Entry, state: &mut MemoryState) -> Json {
    match e.typed(p.fields()) {
        Err(err) => json!({ "error": err }),
        Ok(record) => match p.answer(&record, state) {
            Ok(a) => crate::cli::notify_out::answer(p, a, None),
            Err(err) => json!({ "error": crate::cli::notify_out::error(p, err) }),
        },
    }
}

/// Replays `input` through `old` and `new`, grouped by `by`.
///
/// # Errors
/// When reading fails.
pub fn replay(
    old: &NotifyPolicy,
    new: &NotifyPolicy,
    input: Box<dyn BufRead>,
    kind: history::Kind,
    by: &[String],
) -> Result<NotifyReplay, ReplayError> {
    let mut r = NotifyReplay {
        by: by.to_vec(),
        ..NotifyReplay::default()
    };
    let (mut sa, mut sb) = (MemoryState::new(), MemoryState::new());
    let mut each = |e: Entry| -> Result<(), String> {
        let (a, b) = (decide(old, &e, &mut sa), decide(new, &e, &mut sb));
        let changed = super::notify::verdict(&a) != super::notify::verdict(&b);
        let key: Vec<String> =
            r.by.iter()
                .map(|f| e.group_value(f, spec(f, old.fields(), new.fields())))
                .collect();
        for c in [&mut r.total, r.groups.entry(key).or_default()] {
            c.messages += 1;
            c.changed += u64::from(changed);
            c.delivered.0 += u64::from(delivered(&a));
            c.delivered.1 += u64::from(delivered(&b));
            c.refused.0 += u64::from(a.get("error").is_some());
            c.refused.1 += u64::from(b.get("error").is_some());
        }
        if changed && r.first_changed.len() < LISTED {
            r.first_changed.push(ChangedMessage {
                line: e.line,
                message: e.text,
                old: a,
                new: b,
            });
        }
        Ok(())
    };
    history::read(input, kind, &mut each).map_err(ReplayError)?;
    Ok(r)
}

fn delivered(line: &Json) -> bool {
    line.get("decision").and_then(Json::as_str) == Some("deliver")
}

/// The replay in words.
pub fn text(r: &NotifyReplay, input: &str) -> String {
    let mut s = String::new();
    let t = &r.total;
    let _ = writeln!(
        s,
        "\nreplay of {input}: {} messages, {} decided differently",
        t.messages, t.changed
    );
    let _ = writeln!(
        s,
        "  delivered: {} by the old version, {} by the new one",
        t.delivered.0, t.delivered.1
    );
    let _ = writeln!(
        s,
        "  refused: {} by the old version, {} by the new one",
        t.refused.0, t.refused.1
    );
    if !r.by.is_empty() {
        let _ = writeln!(s, "  by {}:", r.by.join(", "));
        for (key, c) in &r.groups {
            let _ = writeln!(
                s,
                "    {}: {} messages, {} decided differently; delivered {} -> {}; refused {} -> {}",
                super::render_replay::group_name(key),
                c.messages,
                c.changed,
                c.delivered.0,
                c.delivered.1,
                c.refused.0,
                c.refused.1
            );
        }
    }
    if !r.first_changed.is_empty() {
        let _ = writeln!(
            s,
            "  the first {} messages decided differently:",
            r.first_changed.len()
        );
        for c in &r.first_changed {
            let _ = writeln!(s, "    line {}: {}", c.line, c.message);
            let _ = writeln!(s, "      old: {}", c.old);
            let _ = writeln!(s, "      new: {}", c.new);
        }
    }
    s
}

fn counts_json(c: &Counts) -> Json {
    json!({
        "messages": c.messages,
        "changed": c.changed,
        "delivered": {"old": c.delivered.0, "new": c.delivered.1},
        "refused": {"old": c.refused.0, "new": c.refused.1},
    })
}

/// The replay as JSON.
pub fn json(r: &NotifyReplay, input: &str) -> Json {
    let groups: Vec<Json> = r
        .groups
        .iter()
        .map(|(key, c)| {
            let mut v = counts_json(c);
            if let Json::Object(m) = &mut v {
                let values: serde_json::Map<String, Json> =
                    r.by.iter()
                        .zip(key)
                        .map(|(f, v)| (f.clone(), Json::String(v.clone())))
                        .collect();
                m.insert("group".into(), Json::Object(values));
            }
            v
        })
        .collect();
    json!({
        "input": input,
        "by": r.by,
        "total": counts_json(&r.total),
        "groups": groups,
        "first_changed": r.first_changed.iter().map(|c| json!({
            "line": c.line,
            "message": serde_json::from_str::<Json>(&c.message).unwrap_or(Json::String(c.message.clone())),
            "old": c.old,
            "new": c.new,
        })).collect::<Vec<_>>(),
    })
}
