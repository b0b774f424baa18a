//! The checker: names, types, units, enum variants, duplicate definitions and
//! literal ranges. It reports every error in a file, then yields a
//! [`crate::model::Policy`] when there are none.

mod cond;
mod fees;
mod notify;
pub(crate) use notify::unsafe_in_a_line;
pub mod suggest;
mod values;

use crate::ast::{self, ConditionDecl, File, Ident, Item, Literal, TypeExpr};
use crate::diagnostic::codes::Level;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Body, Cond, Field, FieldKind, LintSetting, Policy, PolicyKind};
use crate::span::Span;
use std::collections::HashMap;
use tollgate_runtime::activation::Window;
use tollgate_runtime::rounding::{Rounding, RoundingMode};

/// The currency when a policy names none.
pub const DEFAULT_CURRENCY: &str = "CNY";
/// The time zone recorded in a fees policy that names none (fees never
/// read local time).
pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";
/// The time zone of a notifications policy that names none and has no rule
/// that reads local time: it only decides the offset instants are printed
/// with. A policy with quiet windows or calendar-day caps must name one.
pub const NOTIFY_DEFAULT_TIMEZONE: &str = "UTC";

/// Checks a parsed policy.
///
/// # Errors
/// Every error found, in file order as far as possible.
pub(crate) fn check(file: &File) -> Result<Policy, Vec<Diagnostic>> {
    let mut c = Checker::new(file);
    let policy = c.run();
    match policy {
        Some(p) if c.diags.is_empty() => Ok(p),
        _ => Err(once_each(c.diags)),
    }
}

/// `diagnostics` without repeats: a policy-wide `expect` line is checked in
/// every schedule that holds it, and its problems are reported once.
fn once_each(diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut seen = std::collections::HashSet::new();
    diagnostics
        .into_iter()
        .filter(|d| seen.insert((d.code, d.span(), d.message.clone())))
        .collect()
}

/// Where the check of a named condition stands.
#[derive(Clone)]
enum CondState {
    Todo,
    InProgress,
    Done(Option<Cond>),
}

/// The checker's state for one file.
struct Checker<'a> {
    file: &'a File,
    diags: Vec<Diagnostic>,
    currency: String,
    fields: Vec<Field>,
    field_index: HashMap<&'a str, usize>,
    consts: HashMap<&'a str, Option<&'a Literal>>,
    condition_index: HashMap<&'a str, usize>,
    condition_decls: Vec<&'a ConditionDecl>,
    cond_states: Vec<CondState>,
    /// Where each top-level name was first defined, for duplicate reports.
    defined: HashMap<&'a str, Span>,
}

/// The header settings, each with the span it was written at.
#[derive(Default)]
struct Header<'a> {
    kind: Option<&'a Ident>,
    currency: Option<&'a Ident>,
    timezone: Option<(&'a str, Span)>,
    rounding: Option<&'a ast::RoundingDecl>,
    clock: Option<&'a Ident>,
    lateness: Option<&'a ast::LatenessDecl>,
    lint_budget: Option<u64>,
    message_id: Option<&'a ast::MessageIdDecl>,
    effective: Option<&'a ast::EffectiveDecl>,
}

impl<'a> Checker<'a> {
    fn new(file: &'a File) -> Checker<'a> {
        Checker {
            file,
            diags: Vec::new(),
            currency: DEFAULT_CURRENCY.to_string(),
            fields: Vec::new(),
            field_index: HashMap::new(),
            consts: HashMap::new(),
            condition_index: HashMap::new(),
            condition_decls: Vec::new(),
            cond_states: Vec::new(),
            defined: HashMap::new(),
        }
    }

    fn run(&mut self) -> Option<Policy> {
        let header = self.header();
        let kind = self.kind(&header);
        let timezone = self.timezone(&header, kind);
        self.declarations();
        self.check_conditions();
        let body = match kind {
            Some(PolicyKind::Fees) => {
                if let Some(l) = header.lateness {
                    self.misplaced(
                        l.span,
                        "`late records`",
                        PolicyKind::Fees,
                        "lateness applies to notification records; remove it",
                    );
                }
                if let Some(m) = header.message_id {
                    self.misplaced(
                        m.span,
                        "`message id`",
                        PolicyKind::Fees,
                        "message ids identify notification messages; remove it",
                    );
                }
                self.fee_body(header.rounding, header.clock).map(Body::Fees)
            }
            Some(PolicyKind::Notifications) => self
                .notify_body(
                    header.rounding,
                    header.clock,
                    header.lateness,
                    header.message_id,
                )
                .map(Body::Notifications),
            None => None,
        };
        let lints = self.lint_settings();
        let window = self.window(header.effective);
        Some(Policy {
            window: window?,
            lints,
            lint_budget: header.lint_budget,
            name: self.file.name.name.clone(),
            version: self.file.version.node,
            kind: kind?,
            currency: self.currency.clone(),
            timezone: timezone?,
            fields: std::mem::take(&mut self.fields),
            body: body?,
        })
    }

    /// The activation window `effective from A [until B]` declares: each
    /// instant from 1970 to 9999, the end after the start.
    fn window(&mut self, decl: Option<&ast::EffectiveDecl>) -> Option<Window> {
        let Some(decl) = decl else {
            return Some(Window::ALWAYS);
        };
        let mut ok = true;
        for s in std::iter::once(&decl.from).chain(decl.until.iter()) {
            let w = Window {
                from: Some(s.node),
                until: None,
            };
            if w.validate().is_err() {
                ok = false;
                self.diags.push(
                    Diagnostic::error(
                        Code::E0203,
                        "an activation instant must lie between 1970 and 9999",
                        s.span,
                        "out of range",
                    )
                    .with_help("write the instant the policy takes effect (or ends)"),
                );
            }
        }
        let window = Window {
            from: Some(decl.from.node),
            until: decl.until.as_ref().map(|u| u.node),
        };
        if let (true, Some(until)) = (ok, &decl.until) {
            if until.node.unix_ms <= decl.from.node.unix_ms {
                ok = false;
                self.diags.push(
                    Diagnostic::error(
                        Code::E0203,
                        "the policy's window ends before it starts",
                        until.span,
                        "not after the start",
                    )
                    .with_label(decl.from.span, "the policy takes effect here")
                    .with_help(
                        "`until` is the first instant the policy no longer decides: \
                         write an instant after `from`",
                    ),
                );
            }
        }
        ok.then_some(window)
    }

    /// The `lint LEVEL NAME, ...` lines; an unknown level or lint is an error.
    fn lint_settings(&mut self) -> Vec<LintSetting> {
        let mut out = Vec::new();
        for item in &self.file.items {
            let Item::Lint(l) = item else { continue };
            if l.level.name == "budget" {
                // `lint budget WORD`: the grammar read the word as a lint.
                let span = l.names.first().map_or(l.level.span, |n| n.span);
                let word = l.names.first().map_or("", |n| n.name.as_str());
                self.diags.push(
                    Diagnostic::error(
                        Code::E0002,
                        format!("`lint budget` takes a whole number of work units, not `{word}`"),
                        span,
                        "not a whole number",
                    )
                    .with_help(
                        "write the units in digits, as in `lint budget 500000000` (docs/lints.md)",
                    ),
                );
                continue;
            }
            let Some(level) = Level::parse(&l.level.name) else {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0501,
                        format!("unknown lint level `{}`", l.level.name),
                        l.level.span,
                        "not a level",
                    )
                    .with_help("a lint line starts `lint allow`, `lint warn` or `lint deny`"),
                );
                continue;
            };
            for name in &l.names {
                match Code::lint(&name.name) {
                    Some(code) => out.push(LintSetting {
                        code,
                        level,
                        span: name.span,
                    }),
                    None => self.diags.push(
                        Diagnostic::error(
                            Code::E0501,
                            format!("unknown lint `{}`", name.name),
                            name.span,
                            "not a lint",
                        )
                        .with_help(suggest::lint_help(&name.name)),
                    ),
                }
            }
        }
        out
    }

    /// Records a definition of `name`; a second one is an error.
    fn define(&mut self, id: &'a Ident, what: &str) -> bool {
        if let Some(first) = self.defined.get(id.name.as_str()) {
            let d = duplicate(id, *first, what);
            self.diags.push(d);
            return false;
        }
        self.defined.insert(&id.name, id.span);
        true
    }

    fn header(&mut self) -> Header<'a> {
        let mut h = Header::default();
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let file = self.file;
        for item in &file.items {
            let (key, span) = match item {
                Item::Kind(id) => ("kind", id.span),
                Item::Currency(id) => ("currency", id.span),
                Item::Timezone(tz) => ("timezone", tz.span),
                Item::Rounding(r) => ("rounding", r.span),
                Item::Clock(id) => ("clock", id.span),
                Item::Lateness(l) => ("late records", l.span),
                Item::LintBudget(b) => ("lint budget", b.span),
                Item::MessageId(m) => ("message id", m.span),
                Item::Effective(e) => ("effective", e.span),
                _ => continue,
            };
            if let Some(first) = seen.get(key) {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0102,
                        format!("`{key}` is declared twice"),
                        span,
                        "second declaration",
                    )
                    .with_label(*first, "first declared here")
                    .with_help(format!("a policy has one `{key}`; remove one of them")),
                );
                continue;
            }
            seen.insert(key, span);
            match item {
                Item::Kind(id) => h.kind = Some(id),
                Item::Currency(id) => h.currency = Some(id),
                Item::Timezone(tz) => h.timezone = Some((tz.node.as_str(), tz.span)),
                Item::Rounding(r) => h.rounding = Some(r),
                Item::Clock(id) => h.clock = Some(id),
                Item::Lateness(l) => h.lateness = Some(l),
                Item::LintBudget(b) => h.lint_budget = Some(b.node),
                Item::MessageId(m) => h.message_id = Some(m),
                Item::Effective(e) => h.effective = Some(e),
                _ => {}
            }
        }
        if let Some(cur) = h.currency {
            let shaped = cur.name.len() == 3 && cur.name.chars().all(|c| c.is_ascii_uppercase());
            if crate::currency::minor_unit(&cur.name).is_some() {
                self.currency = cur.name.clone();
            } else if crate::currency::lacks_minor_unit(&cur.name) {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0206,
                        format!(
                            "`{}` is an ISO 4217 code without a minor unit (a metal, fund or \
                             test code): fees cannot be charged or rounded in it",
                            cur.name
                        ),
                        cur.span,
                        "no minor unit",
                    )
                    .with_help("write the code of the currency the fees are paid in, such as `CNY`, `USD` or `JPY`"),
                );
            } else if shaped {
                let upper = cur.name.to_ascii_uppercase();
                self.diags.push(
                    Diagnostic::error(
                        Code::E0206,
                        format!("`{}` is not an ISO 4217 currency code", cur.name),
                        cur.span,
                        "unknown currency",
                    )
                    .with_help(match crate::currency::common_name(&upper) {
                        Some(code) => format!("the ISO 4217 code of this currency is `{code}`"),
                        None => suggest::did_you_mean(&upper, crate::currency::codes())
                            .unwrap_or_else(|| {
                                "write an ISO 4217 code such as `CNY`, `USD` or `JPY`".to_string()
                            }),
                    }),
                );
            } else {
                let upper = cur.name.to_ascii_uppercase();
                let help = if crate::currency::minor_unit(&upper).is_some() {
                    format!("currency codes are written in capitals: `{upper}`")
                } else {
                    "write an ISO 4217 code such as `CNY`".to_string()
                };
                self.diags.push(
                    Diagnostic::error(
                        Code::E0206,
                        format!("`{}` is not a currency code", cur.name),
                        cur.span,
                        "expected three capital letters",
                    )
                    .with_help(help),
                );
            }
        }
        h
    }

    fn kind(&mut self, h: &Header<'a>) -> Option<PolicyKind> {
        let Some(id) = h.kind else {
            let guess = if self
                .file
                .items
                .iter()
                .any(|i| matches!(i, Item::Schedule(_)))
            {
                "fees"
            } else {
                "notifications"
            };
            self.diags.push(
                Diagnostic::error(
                    Code::E0302,
                    format!(
                        "policy `{}` does not say what it decides",
                        self.file.name.name
                    ),
                    self.file.name.span,
                    "no `kind` declared",
                )
                .with_help(format!(
                    "add `kind {guess}` (or the other of `fees` and `notifications`)"
                )),
            );
            return None;
        };
        match id.name.as_str() {
            "fees" => Some(PolicyKind::Fees),
            "notifications" => Some(PolicyKind::Notifications),
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0101,
                        format!("unknown policy kind `{}`", id.name),
                        id.span,
                        "not a kind",
                    )
                    .with_help(
                        suggest::did_you_mean(&id.name, ["fees", "notifications"]).unwrap_or_else(
                            || "a policy is `kind fees` or `kind notifications`".to_string(),
                        ),
                    ),
                );
                None
            }
        }
    }

    fn timezone(&mut self, h: &Header<'a>, kind: Option<PolicyKind>) -> Option<String> {
        let Some((name, span)) = h.timezone else {
            if kind != Some(PolicyKind::Notifications) {
                return Some(DEFAULT_TIMEZONE.to_string());
            }
            return match self.first_local_time_rule() {
                Some(d) => {
                    self.diags.push(d);
                    None
                }
                None => Some(NOTIFY_DEFAULT_TIMEZONE.to_string()),
            };
        };
        if name.parse::<chrono_tz::Tz>().is_ok() {
            return Some(name.to_string());
        }
        let exact_case = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|t| t.name())
            .find(|t| t.eq_ignore_ascii_case(name));
        let china = ["beijing", "china", "prc", "cst"]
            .iter()
            .any(|w| name.to_lowercase().contains(w));
        let help = exact_case
            .map(|t| format!("did you mean `{t}`? time zone names are case-sensitive"))
            .or_else(|| china.then(|| "China's time zone is `Asia/Shanghai`".to_string()))
            .or_else(|| {
                suggest::did_you_mean(name, chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()))
            })
            .unwrap_or_else(|| "use an IANA time zone name such as `Asia/Shanghai`".to_string());
        self.diags.push(
            Diagnostic::error(
                Code::E0205,
                format!("unknown time zone `{name}`"),
                span,
                "not an IANA time zone",
            )
            .with_help(help),
        );
        None
    }

    /// Fields, constants and named conditions: defined once, typed.
    fn declarations(&mut self) {
        let file = self.file;
        for item in &file.items {
            match item {
                Item::Field(f) => self.field(f),
                Item::Const(c) => {
                    if !self.define(&c.name, "constant") {
                        continue;
                    }
                    let lit = match &c.value {
                        ast::Operand::Literal(l) => Some(&l.node),
                        ast::Operand::Name(id) => {
                            self.diags.push(
                                Diagnostic::error(
                                    Code::E0201,
                                    format!("constant `{}` must be a literal value", c.name.name),
                                    id.span,
                                    "a name, not a value",
                                )
                                .with_help("write the value itself: a number, an amount, a rate, a duration..."),
                            );
                            None
                        }
                    };
                    self.consts.insert(&c.name.name, lit);
                }
                Item::Condition(c) if self.define(&c.name, "condition") => {
                    self.condition_index
                        .insert(&c.name.name, self.condition_decls.len());
                    self.condition_decls.push(c);
                    self.cond_states.push(CondState::Todo);
                }
                _ => {}
            }
        }
    }

    fn field(&mut self, f: &'a ast::FieldDecl) {
        if !self.define(&f.name, "field") {
            return;
        }
        let ty = match &f.ty {
            TypeExpr::Enum { variants, .. } => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for v in variants {
                    if let Some(first) = seen.get(v.name.as_str()) {
                        self.diags.push(duplicate(v, *first, "variant"));
                    } else {
                        seen.insert(&v.name, v.span);
                    }
                }
                FieldKind::Enum(variants.iter().map(|v| v.name.clone()).collect())
            }
            TypeExpr::Named(id) => match id.name.as_str() {
                "money" => FieldKind::Money,
                "decimal" => FieldKind::Decimal,
                "integer" => FieldKind::Integer,
                "bool" => FieldKind::Bool,
                "string" => FieldKind::String,
                "timestamp" => FieldKind::Timestamp,
                _ => {
                    self.diags.push(
                        Diagnostic::error(
                            Code::E0101,
                            format!("unknown type `{}`", id.name),
                            id.span,
                            "not a type",
                        )
                        .with_help(
                            suggest::did_you_mean(&id.name, FieldKind::NAMES).unwrap_or_else(
                                || {
                                    format!(
                                        "a field is one of: {}, or `enum {{ ... }}`",
                                        FieldKind::NAMES.join(", ")
                                    )
                                },
                            ),
                        ),
                    );
                    return;
                }
            },
        };
        let default = match &f.default {
            None => None,
            Some(v) => match self.coerce(v, &ty, &f.name.name) {
                Ok(v) => Some(v),
                Err(d) => {
                    self.diags.push(d);
                    None
                }
            },
        };
        if let Some(span) = f.refunds {
            if ty != FieldKind::Money {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0201,
                        format!(
                            "only money accepts refunds, but `{}` is {}",
                            f.name.name,
                            ty.name()
                        ),
                        span,
                        "not a money field",
                    )
                    .with_help(
                        "remove `with refunds`, or declare the field as `money with refunds`",
                    ),
                );
            }
        }
        if let (Some(crate::model::Constant::Money(d)), None, Some(v)) =
            (&default, f.refunds, &f.default)
        {
            if d.is_sign_negative() && !d.is_zero() {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0203,
                        format!("`{}` defaults to a negative amount", f.name.name),
                        v.span(),
                        "below zero",
                    )
                    .with_help(format!(
                        "amounts are not negative unless the field accepts refunds: `field {}: money with refunds`",
                        f.name.name
                    )),
                );
            }
        }
        self.field_index.insert(&f.name.name, self.fields.len());
        self.fields.push(Field {
            name: f.name.name.clone(),
            ty,
            default,
            refunds: f.refunds.is_some(),
            span: f.span,
        });
    }

    /// Checks a `rounding` declaration.
    fn rounding(&mut self, r: &'a ast::RoundingDecl) -> Option<Rounding> {
        let Some(mode) = RoundingMode::from_name(&r.mode.name) else {
            let names = RoundingMode::ALL.map(RoundingMode::name);
            self.diags.push(
                Diagnostic::error(
                    Code::E0101,
                    format!("unknown rounding mode `{}`", r.mode.name),
                    r.mode.span,
                    "not a rounding mode",
                )
                .with_help(
                    suggest::did_you_mean(&r.mode.name, names)
                        .unwrap_or_else(|| format!("rounding is one of: {}", names.join(", "))),
                ),
            );
            return None;
        };
        let step = match &r.step {
            // One minor unit of the policy's currency.
            None => crate::currency::minor_step(&self.currency)
                .unwrap_or_else(|| Rounding::half_up_fen().step),
            Some(v) => {
                let step = self.money(v, "a rounding step");
                let step = self.report(step)?;
                if step <= rust_decimal::Decimal::ZERO {
                    self.diags.push(
                        Diagnostic::error(
                            Code::E0203,
                            "rounding step must be above zero",
                            v.span(),
                            "not positive",
                        )
                        .with_help(
                            match crate::currency::minor_step(&self.currency) {
                                Some(unit) if self.currency == "CNY" => {
                                    format!("round to the fen with `to {unit}`")
                                }
                                Some(unit) => format!(
                                    "round to one minor unit of {} with `to {unit}`",
                                    self.currency
                                ),
                                None => "write a step above zero, such as `to 0.01`".to_string(),
                            },
                        ),
                    );
                    return None;
                }
                step
            }
        };
        Some(Rounding { mode, step })
    }

    /// Reports an item that has no place in a policy of this kind.
    fn misplaced(&mut self, span: Span, what: &str, kind: PolicyKind, help: &str) {
        self.diags.push(
            Diagnostic::error(
                Code::E0301,
                format!("{what} in a `{}` policy", kind.name()),
                span,
                format!("not allowed in a `{}` policy", kind.name()),
            )
            .with_help(help.to_string()),
        );
    }
}

/// The error for a second definition of a name.
fn duplicate(id: &Ident, first: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        Code::E0102,
        format!("`{}` is defined twice", id.name),
        id.span,
        format!("second {what} named `{}`", id.name),
    )
    .with_label(first, "first defined here")
    .with_help("rename one of them; names must be unique")
}
