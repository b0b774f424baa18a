//! What the tests exercised, from what the engine did on each record: the
//! rule that matched (and whether it was a schedule's `otherwise`), the
//! tier band the amount fell in, the bounds that changed a fee, the
//! notification rules that applied to a message, and the quiet windows
//! that held one.

use serde_json::{json, Value as Json};
use std::collections::BTreeSet;
use tollgate_runtime::eval::Component;
use tollgate_runtime::fee::{BoundApplied, FeeFormula};
use tollgate_runtime::notify::{Action, Decision, NotifyPolicy, Reason};
use tollgate_runtime::table::Table;
use tollgate_runtime::trace::{NotifyTrace, Saw};
use tollgate_runtime::value::Value;

/// One thing a test can exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Item {
    /// A rule of a fee schedule (or its `otherwise`) matched.
    Rule {
        /// The schedule's index.
        schedule: u32,
        /// The rule's index.
        rule: u32,
    },
    /// The amount fell in a tier band of a rule.
    Band {
        /// The schedule's index.
        schedule: u32,
        /// The rule's index.
        rule: u32,
        /// The band's index.
        band: usize,
    },
    /// A bound of a rule changed its fee.
    Bound {
        /// The schedule's index.
        schedule: u32,
        /// The rule's index.
        rule: u32,
        /// Which bound.
        bound: Bound,
    },
    /// A notification rule applied to a message.
    Applied {
        /// The rule's index.
        rule: u32,
    },
    /// A quiet window held a message (deferred or dropped it).
    Window {
        /// The quiet rule's index.
        rule: u32,
        /// The window's index.
        window: usize,
    },
}

/// The bounds of a fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bound {
    /// `min` of the percentage part.
    Min,
    /// `cap` of the percentage part.
    Cap,
    /// `total min`.
    TotalMin,
    /// `total cap`.
    TotalCap,
}

/// What the tests of one policy exercised.
#[derive(Debug, Default, Clone)]
pub struct Coverage {
    hit: BTreeSet<Item>,
}

impl Coverage {
    /// Notes what the fee engine did on `record`: its components.
    pub fn fees(&mut self, table: &Table, record: &[Value], components: &[Component]) {
        for c in components {
            let (schedule, rule) = (c.schedule, c.rule);
            self.hit.insert(Item::Rule {
                schedule: schedule.get(),
                rule: rule.get(),
            });
            let s = table.schedules().get(schedule.get() as usize);
            let formula = s
                .and_then(|s| s.rules().get(rule.get() as usize))
                .map(|r| &r.fee);
            let amount = s.and_then(|s| match record.get(s.base().get() as usize) {
                Some(Value::Num(d)) => Some(*d),
                _ => None,
            });
            if let Some(band) = formula.zip(amount).and_then(|(f, a)| f.band_of(a)) {
                self.hit.insert(Item::Band {
                    schedule: schedule.get(),
                    rule: rule.get(),
                    band,
                });
            }
            let bounds = [
                (c.fee.bound_applied, Bound::Min, Bound::Cap),
                (c.fee.total_bound_applied, Bound::TotalMin, Bound::TotalCap),
            ];
            for (applied, min, cap) in bounds {
                let bound = match applied {
                    Some(BoundApplied::Min) => min,
                    Some(BoundApplied::Cap) => cap,
                    None => continue,
                };
                self.hit.insert(Item::Bound {
                    schedule: schedule.get(),
                    rule: rule.get(),
                    bound,
                });
            }
        }
    }

    /// Notes what the notification engine did on a message it decided
    /// anew (not repeated), from its trace: the rules the decision
    /// consulted, and the quiet windows that held the message (of the rule
    /// that deferred or dropped it).
    pub fn message(&mut self, trace: &NotifyTrace, decision: Decision) {
        for rule in &trace.consulted {
            self.hit.insert(Item::Applied { rule: rule.get() });
        }
        let held = match decision {
            Decision::Defer { rule, .. }
            | Decision::Suppress {
                rule,
                reason: Reason::Quiet,
            } => rule,
            _ => return,
        };
        let saw = trace.rules.iter().find(|t| t.rule == held);
        if let Some(Some(Saw::Quiet { holding, .. })) = saw.map(|t| &t.saw) {
            for &window in holding {
                self.hit.insert(Item::Window {
                    rule: held.get(),
                    window,
                });
            }
        }
    }

    /// Whether `item` was exercised.
    pub fn has(&self, item: &Item) -> bool {
        self.hit.contains(item)
    }
}

/// One item of a policy, described for people and for tools.
#[derive(Debug, Clone)]
pub struct Described {
    /// The item.
    pub item: Item,
    /// `rule`, `otherwise`, `band`, `min`, `cap`, `total min`, `total
    /// cap`, `quiet window`.
    pub kind: &'static str,
    /// Its words: "rule `mdr.debit`", "cap 25.00 of `mdr.debit`".
    pub text: String,
}

/// Every item a fees policy's tests could exercise, in table order.
pub fn fee_items(table: &Table) -> Vec<Described> {
    let dp = crate::currency::display_decimals(table.currency());
    let money = |d| crate::compile::print::amount(d, dp);
    let mut out = Vec::new();
    for (si, s) in table.schedules().iter().enumerate() {
        let schedule = si as u32;
        for (ri, r) in s.rules().iter().enumerate() {
            let rule = ri as u32;
            let name = format!("`{}.{}`", s.name(), r.name);
            let (kind, text) = if r.otherwise {
                (
                    "otherwise",
                    format!("the `otherwise` of schedule `{}`", s.name()),
                )
            } else {
                ("rule", format!("rule {name}"))
            };
            out.push(Described {
                item: Item::Rule { schedule, rule },
                kind,
                text,
            });
            out.extend(
                bands(&r.fee, &money)
                    .into_iter()
                    .enumerate()
                    .map(|(band, limit)| Described {
                        item: Item::Band {
                            schedule,
                            rule,
                            band,
                        },
                        kind: "band",
                        text: format!("band `{limit}` of {name}"),
                    }),
            );
            let f = &r.fee;
            let bounds = [
                (f.min, Bound::Min, "min"),
                (f.cap, Bound::Cap, "cap"),
                (f.total_min, Bound::TotalMin, "total min"),
                (f.total_cap, Bound::TotalCap, "total cap"),
            ];
            for (value, bound, kind) in bounds {
                if let Some(v) = value {
                    out.push(Described {
                        item: Item::Bound {
                            schedule,
                            rule,
                            bound,
                        },
                        kind,
                        text: format!("{kind} {} of {name}", money(v)),
                    });
                }
            }
        }
    }
    out
}

/// The bands of a tiered fee as the policy writes their limits.
fn bands(f: &FeeFormula, money: &dyn Fn(rust_decimal::Decimal) -> String) -> Vec<String> {
    if f.tier_mode.is_none() {
        return Vec::new();
    }
    f.tiers
        .iter()
        .map(|b| {
            b.up_to
                .map_or("above".to_string(), |up| format!("up to {}", money(up)))
        })
        .collect()
}

/// Every item a notifications policy's tests could exercise.
pub fn notify_items(policy: &NotifyPolicy) -> Vec<Described> {
    let mut out = Vec::new();
    for (ri, r) in policy.rules().iter().enumerate() {
        let rule = ri as u32;
        out.push(Described {
            item: Item::Applied { rule },
            kind: "rule",
            text: format!("rule `{}`", r.name()),
        });
        if let Action::Quiet { windows, .. } = r.action() {
            for (window, &(a, b)) in windows.iter().enumerate() {
                out.push(Described {
                    item: Item::Window { rule, window },
                    kind: "quiet window",
                    text: format!("quiet window {}-{} of `{}`", hhmm(a), hhmm(b), r.name()),
                });
            }
        }
    }
    out
}

/// The coverage report of one policy as JSON.
pub fn to_json(policy: &str, file: &str, items: &[Described], coverage: &Coverage) -> Json {
    let missed: Vec<Json> = items
        .iter()
        .filter(|d| !coverage.has(&d.item))
        .map(|d| json!({ "kind": d.kind, "item": d.text }))
        .collect();
    json!({
        "policy": policy,
        "file": file,
        "items": items.len(),
        "exercised": items.len() - missed.len(),
        "rules_covered": items.iter().filter(|d| matches!(d.kind, "rule" | "otherwise")).all(|d| coverage.has(&d.item)),
        "not_exercised": missed,
    })
}

/// A time of day in seconds as `HH:MM` (`HH:MM:SS` when it has seconds).
fn hhmm(secs: u32) -> String {
    if secs.is_multiple_of(60) {
        format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
    } else {
        format!(
            "{:02}:{:02}:{:02}",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}
