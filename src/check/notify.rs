//! Checking notification rules.

use super::values::{unit_error, Resolved};
use super::{duplicate, suggest, Checker};
use crate::ast::{self, Ident, Item, Literal, Outcome};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{
    Action, CapAmount, FieldKind, LimitPeriod, Notifications, NotifyRule, PolicyKind, QuietMode,
};
use crate::span::Span;
use std::collections::HashMap;

/// The longest reason a `suppress` action may state, in bytes.
pub const MAX_REASON_BYTES: usize = 200;

/// A whole number of seconds as a policy writes it: `30d`, `2h`, `90s`.
fn written(secs: u64) -> String {
    [(86_400, "d"), (3_600, "h"), (60, "m")]
        .iter()
        .find(|(unit, _)| secs.is_multiple_of(*unit))
        .map_or_else(
            || format!("{secs}s"),
            |(unit, u)| format!("{}{u}", secs / unit),
        )
}

/// How late a record may be when the policy does not say: one hour.
pub const DEFAULT_LATENESS_SECS: u64 = 3_600;
/// The longest lateness a policy may declare: seven days.
pub const MAX_LATENESS_SECS: u64 = 7 * 86_400;

impl<'a> Checker<'a> {
    /// Checks a notifications policy's rules.
    pub(super) fn notify_body(
        &mut self,
        rounding: Option<&'a ast::RoundingDecl>,
        clock: Option<&'a Ident>,
        lateness: Option<&'a ast::LatenessDecl>,
        message_id: Option<&'a ast::MessageIdDecl>,
    ) -> Option<Notifications> {
        if let Some(r) = rounding {
            self.misplaced(
                r.span,
                "`rounding`",
                PolicyKind::Notifications,
                "rounding applies to fees; remove it",
            );
        }
        let clock = self.clock(clock);
        let lateness = match lateness {
            Some(l) => self.lateness(l),
            None => Some(DEFAULT_LATENESS_SECS),
        };
        let message_id = message_id.map(|m| self.message_id(m));
        let file = self.file;
        let errors_before = self.diags.len();
        let mut rules = Vec::new();
        let mut names: HashMap<&str, Span> = HashMap::new();
        for item in &file.items {
            match item {
                Item::Schedule(s) => self.misplaced(
                    s.name.span,
                    "a fee schedule",
                    PolicyKind::Notifications,
                    "fee schedules belong in a `kind fees` policy of their own",
                ),
                Item::Rule(r) => {
                    if let Some(first) = names.get(r.name.name.as_str()) {
                        self.diags.push(duplicate(&r.name, *first, "rule"));
                        continue;
                    }
                    names.insert(&r.name.name, r.name.span);
                    let when = r.when.as_ref().and_then(|e| self.cond(e));
                    let action = match &r.outcome {
                        Outcome::Action(a) => self.action(a),
                        Outcome::Fee(f) => {
                            self.misplaced(
                                f.span,
                                "a fee",
                                PolicyKind::Notifications,
                                "a notification rule ends in `always deliver`, `suppress \"REASON\"`, `dedup ...`, `quiet ...` or `limit ...`",
                            );
                            None
                        }
                    };
                    if let (Some(when), Some(action)) = (when, action) {
                        rules.push(NotifyRule {
                            name: r.name.name.clone(),
                            when,
                            action,
                            span: r.span,
                        });
                    }
                }
                _ => {}
            }
        }
        if file.items.iter().all(|i| !matches!(i, Item::Rule(_))) {
            self.diags.push(
                Diagnostic::error(
                    Code::E0302,
                    format!("notifications policy `{}` has no rules", file.name.name),
                    file.name.span,
                    "every message would be delivered",
                )
                .with_help("add `rule NAME when CONDITION => ACTION`"),
            );
        }
        if self.diags.len() > errors_before {
            return None;
        }
        Some(Notifications {
            clock: clock?,
            lateness_secs: lateness?,
            message_id: match message_id {
                Some(field) => Some(field?),
                None => None,
            },
            rules,
        })
    }

    /// The error for a notifications policy without `timezone` whose rules
    /// read local time (quiet windows, calendar-day caps), at the first
    /// such rule; `None` when no rule does.
    pub(super) fn first_local_time_rule(&self) -> Option<Diagnostic> {
        let (rule, what, span) = self.file.items.iter().find_map(|item| {
            let Item::Rule(r) = item else { return None };
            match &r.outcome {
                Outcome::Action(ast::Action::Quiet { span, .. }) => {
                    Some((r, "quiet windows are local times of day", *span))
                }
                Outcome::Action(ast::Action::Limit {
                    period: ast::Period::CalendarDay(span),
                    ..
                }) => Some((r, "calendar days end at local midnight", *span)),
                _ => None,
            }
        })?;
        Some(
            Diagnostic::error(
                Code::E0302,
                format!(
                    "rule `{}` reads local time, but the policy has no `timezone`",
                    rule.name.name
                ),
                span,
                format!("{what}: in which zone?"),
            )
            .with_help(
                "add the zone of the terminals these rules are for, after the `kind` line: \
                 `timezone \"Asia/Shanghai\"` (an IANA name, such as `America/New_York`)",
            ),
        )
    }

    /// `late records within DURATION`: zero (records in order per key) up
    /// to [`MAX_LATENESS_SECS`].
    fn lateness(&mut self, l: &'a ast::LatenessDecl) -> Option<u64> {
        let r = match self.resolve(&l.within) {
            Resolved::Lit(Literal::Duration(secs), span) if *secs > MAX_LATENESS_SECS => {
                Err(Diagnostic::error(
                    Code::E0203,
                    format!("a lateness of {} is too long", written(*secs)),
                    span,
                    "longer than 7d",
                )
                .with_help(
                    "state grows with the lateness: each key keeps every delivery that a record \
                     this late could meet; accept at most `late records within 7d`",
                ))
            }
            Resolved::Lit(Literal::Duration(secs), _) => Ok(*secs),
            Resolved::Lit(lit @ Literal::Number(_), span) => {
                Err(unit_error("a lateness", "a duration", lit, span).with_help(
                    "add a unit: `late records within 1h` (or `0s` for records in order)",
                ))
            }
            Resolved::Lit(lit, span) => Err(unit_error("a lateness", "a duration", lit, span)
                .with_help("write a duration: `late records within 1h`")),
            Resolved::Field(i, span) => Err(Diagnostic::error(
                Code::E0201,
                format!(
                    "a lateness must be written in the policy, not read from `{}`",
                    self.field_name(i)
                ),
                span,
                "a field",
            )),
            Resolved::Unknown(id) => Err(self.unknown_name(id, "constant")),
        };
        self.report(r)
    }

    /// `message id FIELD`: a declared string field.
    fn message_id(&mut self, m: &'a ast::MessageIdDecl) -> Option<usize> {
        match self.resolve_name(&m.field) {
            Resolved::Field(i, _)
                if self
                    .fields
                    .get(i)
                    .is_some_and(|f| f.ty == FieldKind::String) =>
            {
                Some(i)
            }
            Resolved::Field(i, span) => {
                let ty = self.fields.get(i).map_or("?", |f| f.ty.name());
                self.diags.push(
                    Diagnostic::error(
                        Code::E0201,
                        format!(
                            "a message id must be a string field, but `{}` is {ty}",
                            m.field.name
                        ),
                        span,
                        "not a string",
                    )
                    .with_help(
                        "declare the field the gateway identifies messages by as \
                         `field NAME: string` (with `default \"\"` when some messages have none)",
                    ),
                );
                None
            }
            _ => {
                let d = self.unknown_name(&m.field, "field");
                self.diags.push(d);
                None
            }
        }
    }

    /// The timestamp field decisions are made at.
    fn clock(&mut self, declared: Option<&'a Ident>) -> Option<usize> {
        let stamps: Vec<usize> = (0..self.fields.len())
            .filter(|&i| {
                self.fields
                    .get(i)
                    .is_some_and(|f| f.ty == FieldKind::Timestamp)
            })
            .collect();
        if let Some(id) = declared {
            return match self.resolve_name(id) {
                Resolved::Field(i, _) if stamps.contains(&i) => Some(i),
                Resolved::Field(i, span) => {
                    let ty = self.fields.get(i).map_or("?", |f| f.ty.name());
                    self.diags.push(
                        Diagnostic::error(
                            Code::E0201,
                            format!("the clock must be a timestamp, but `{}` is {ty}", id.name),
                            span,
                            "not a timestamp",
                        )
                        .with_help("declare it `field NAME: timestamp`"),
                    );
                    None
                }
                _ => {
                    let d = self.unknown_name(id, "field");
                    self.diags.push(d);
                    None
                }
            };
        }
        match stamps.as_slice() {
            [one] => Some(*one),
            [] => {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0302,
                        "notifications policy has no timestamp field",
                        self.file.name.span,
                        "decisions need the time each message is sent",
                    )
                    .with_help("declare one: `field at: timestamp`"),
                );
                None
            }
            several => {
                let names: Vec<&str> = several.iter().map(|&i| self.field_name(i)).collect();
                let d = Diagnostic::error(
                    Code::E0302,
                    "notifications policy has several timestamp fields and no `clock`",
                    self.file.name.span,
                    "which time decides?",
                )
                .with_help(format!("say which: `clock {}`", names.join("` or `clock ")));
                self.diags.push(d);
                None
            }
        }
    }

    fn action(&mut self, a: &'a ast::Action) -> Option<Action> {
        match a {
            ast::Action::AlwaysDeliver(_) => Some(Action::AlwaysDeliver),
            ast::Action::Suppress { reason, .. } => self
                .suppress_reason(reason)
                .map(|reason| Action::Suppress { reason }),
            ast::Action::Dedup { keys, within, .. } => {
                let keys = self.keys(keys);
                let window = self.duration(within, "a de-duplication window");
                let window = self.report(window);
                Some(Action::Dedup {
                    keys: keys?,
                    window_secs: window?,
                })
            }
            ast::Action::Quiet { windows, then, .. } => {
                let mut out = Vec::with_capacity(windows.len());
                let mut ok = true;
                for (start, end) in windows {
                    match (self.time_of_day(start), self.time_of_day(end)) {
                        (Some(s), Some(e)) if s == e => {
                            self.diags.push(
                                Diagnostic::error(Code::E0305, "quiet window starts and ends at the same time", start.span().to(end.span()), "empty window")
                                    .with_help("a window runs from its start (included) to its end (excluded); `21:00-08:00` wraps past midnight"),
                            );
                            ok = false;
                        }
                        (Some(s), Some(e)) => out.push((s, e)),
                        _ => ok = false,
                    }
                }
                let mode = match then.name.as_str() {
                    "defer" => Some(QuietMode::Defer),
                    "drop" => Some(QuietMode::Drop),
                    _ => {
                        self.diags.push(
                            Diagnostic::error(Code::E0101, format!("unknown quiet mode `{}`", then.name), then.span, "not a quiet mode")
                                .with_help(suggest::did_you_mean(&then.name, ["defer", "drop"]).unwrap_or_else(|| {
                                    "`then defer` sends the message when the window ends; `then drop` discards it".to_string()
                                })),
                        );
                        None
                    }
                };
                ok.then_some(Action::Quiet {
                    windows: out,
                    mode: mode?,
                })
            }
            ast::Action::Limit {
                max,
                bounds,
                period,
                keys,
                ..
            } => {
                let max = self.cap_amount(max, bounds.as_ref());
                let period = match period {
                    ast::Period::CalendarDay(_) => Some(LimitPeriod::CalendarDay),
                    ast::Period::Rolling(v) => {
                        let d = self.duration(v, "a limit's period");
                        self.report(d).map(LimitPeriod::Rolling)
                    }
                };
                let keys = self.keys(keys);
                Some(Action::Limit {
                    max: max?,
                    period: period?,
                    keys: keys?,
                })
            }
        }
    }

    /// The reason of a `suppress` action: a non-empty string written in the
    /// policy (directly or through a constant), on one line.
    fn suppress_reason(&mut self, v: &'a ast::Operand) -> Option<String> {
        let help = "state why in double quotes: `suppress \"merchant opted out\"`";
        match self.resolve(v) {
            Resolved::Lit(Literal::String(text), span) => {
                if text.trim().is_empty() {
                    self.diags.push(
                        Diagnostic::error(
                            Code::E0302,
                            "`suppress` states no reason",
                            span,
                            "empty reason",
                        )
                        .with_help(help),
                    );
                    return None;
                }
                if let Some(c) = text
                    .chars()
                    .find(|&c| c.is_control() || unsafe_in_a_line(c))
                {
                    let what = match c {
                        '\t' => "a tab",
                        '\n' | '\r' => "a line break",
                        '\u{2028}' | '\u{2029}' => "the line-separating",
                        c if !c.is_control() => "the text-direction",
                        _ => "the",
                    };
                    self.diags.push(
                        Diagnostic::error(
                            Code::E0203,
                            format!(
                                "a `suppress` reason contains {what} control character U+{:04X}",
                                u32::from(c)
                            ),
                            span,
                            "control character",
                        )
                        .with_help(
                            "the reason is printed in every decision it makes: write it as plain \
                             text on one line, with spaces",
                        ),
                    );
                    return None;
                }
                if text.len() > MAX_REASON_BYTES {
                    self.diags.push(
                        Diagnostic::error(
                            Code::E0203,
                            format!(
                                "a `suppress` reason is one line of at most {MAX_REASON_BYTES} bytes"
                            ),
                            span,
                            "too long",
                        )
                        .with_help("it is printed in every decision it makes: say why in a few words"),
                    );
                    return None;
                }
                Some(text.clone())
            }
            Resolved::Lit(lit, span) => {
                self.diags
                    .push(unit_error("a `suppress` reason", "a string", lit, span).with_help(help));
                None
            }
            Resolved::Field(_, span) => {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0201,
                        "a `suppress` reason must be written in the policy",
                        span,
                        "a field",
                    )
                    .with_help(help),
                );
                None
            }
            Resolved::Unknown(id) => {
                let d = self.unknown_name(id, "constant");
                self.diags.push(d);
                None
            }
        }
    }

    /// Key fields: declared, distinct, and of a type that makes a key.
    fn keys(&mut self, keys: &'a [Ident]) -> Option<Vec<usize>> {
        let mut out = Vec::with_capacity(keys.len());
        let mut ok = true;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for k in keys {
            if let Some(first) = seen.get(k.name.as_str()) {
                self.diags.push(duplicate(k, *first, "key"));
                ok = false;
                continue;
            }
            seen.insert(&k.name, k.span);
            match self.resolve_name(k) {
                Resolved::Field(i, span) => {
                    let ty = self.fields.get(i).map(|f| f.ty.clone());
                    if matches!(
                        ty,
                        Some(
                            FieldKind::Enum(_)
                                | FieldKind::String
                                | FieldKind::Integer
                                | FieldKind::Bool
                        )
                    ) {
                        out.push(i);
                    } else {
                        self.diags.push(
                            Diagnostic::error(
                                Code::E0201,
                                format!("`{}` is {} and can't be a key", k.name, ty.map_or("?", |t| t.name())),
                                span,
                                "not a key type",
                            )
                            .with_help("keys are string, enum, integer or bool fields, such as a terminal or merchant id"),
                        );
                        ok = false;
                    }
                }
                _ => {
                    let d = self.unknown_name(k, "field");
                    self.diags.push(d);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn time_of_day(&mut self, v: &'a ast::Operand) -> Option<u32> {
        match self.resolve(v) {
            Resolved::Lit(Literal::TimeOfDay(t), _) => Some(*t),
            Resolved::Lit(lit, span) => {
                self.diags.push(
                    unit_error("a quiet window", "a time of day", lit, span)
                        .with_help("write local times as `HH:MM`, e.g. `11:00-13:00`"),
                );
                None
            }
            Resolved::Field(_, span) => {
                self.diags.push(Diagnostic::error(
                    Code::E0201,
                    "a quiet window must be written in the policy",
                    span,
                    "a field",
                ));
                None
            }
            Resolved::Unknown(id) => {
                let d = self.unknown_name(id, "constant");
                self.diags.push(d);
                None
            }
        }
    }

    /// A limit's cap: a count written in the policy, or an integer field
    /// clamped to bounds.
    fn cap_amount(
        &mut self,
        max: &'a ast::Operand,
        bounds: Option<&'a (ast::Operand, ast::Operand)>,
    ) -> Option<CapAmount> {
        match self.resolve(max) {
            Resolved::Lit(lit, span) => {
                if let Some((lo, _)) = bounds {
                    self.diags.push(
                        Diagnostic::error(
                            Code::E0301,
                            "bounds on a cap written in the policy",
                            lo.span(),
                            "bounds apply only to a cap read from a field",
                        )
                        .with_help("remove `within LO..HI`, or read the cap from an integer field"),
                    );
                    return None;
                }
                let n = self.count(lit, span, "a cap");
                self.report(n).map(CapAmount::Fixed)
            }
            Resolved::Field(field, span) => {
                let ty = self.fields.get(field).map(|f| f.ty.clone());
                if ty != Some(FieldKind::Integer) {
                    self.diags.push(Diagnostic::error(
                        Code::E0201,
                        format!(
                            "a cap read from a field needs an integer, but `{}` is {}",
                            self.field_name(field),
                            ty.map_or("?", |t| t.name())
                        ),
                        span,
                        "not an integer field",
                    ));
                    return None;
                }
                let Some((lo, hi)) = bounds else {
                    let name = self.field_name(field).to_string();
                    self.diags.push(
                        Diagnostic::error(
                            Code::E0302,
                            format!("cap read from `{name}` has no bounds"),
                            span,
                            "merchants could set any value",
                        )
                        .with_help(format!(
                            "say what a merchant may choose: `limit {name} within 0..5 per ...`"
                        )),
                    );
                    return None;
                };
                let low = self.bound(lo);
                let high = self.bound(hi);
                let (low, high) = (low?, high?);
                if low > high {
                    self.diags.push(
                        Diagnostic::error(
                            Code::E0203,
                            format!("bounds {low}..{high} are reversed"),
                            lo.span().to(hi.span()),
                            "low above high",
                        )
                        .with_help(format!("write `within {high}..{low}`")),
                    );
                    return None;
                }
                Some(CapAmount::Field { field, low, high })
            }
            Resolved::Unknown(id) => {
                let d = self.unknown_name(id, "field or constant");
                self.diags.push(d);
                None
            }
        }
    }

    fn bound(&mut self, v: &'a ast::Operand) -> Option<u32> {
        let r = match self.resolve(v) {
            Resolved::Lit(lit, span) => self.count(lit, span, "a bound"),
            Resolved::Field(_, span) => Err(Diagnostic::error(
                Code::E0201,
                "a bound must be written in the policy",
                span,
                "a field",
            )),
            Resolved::Unknown(id) => Err(self.unknown_name(id, "constant")),
        };
        self.report(r)
    }
}

/// Characters that are not control characters to Unicode, yet break a
/// line (U+2028, U+2029) or reorder how text is shown (the bidirectional
/// marks, embeddings, overrides and isolates): a reason holding one would
/// split a log line or show a merchant something other than its bytes.
pub(crate) fn unsafe_in_a_line(c: char) -> bool {
    matches!(
        c,
        '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}
