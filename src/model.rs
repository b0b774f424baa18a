//! A checked policy: names resolved, values typed, units proven, fees in
//! normal form. The compiler and the reference interpreter start from here.

use crate::ast::CmpOp;
use crate::span::Span;
use rust_decimal::Decimal;
use tollgate_runtime::fee::FeeFormula;
use tollgate_runtime::rounding::Rounding;

/// What a policy decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// What a merchant pays per transaction.
    Fees,
    /// Which notifications may be sent, and when.
    Notifications,
}

impl PolicyKind {
    /// The kind's name in policy files.
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Fees => "fees",
            PolicyKind::Notifications => "notifications",
        }
    }
}

/// A checked policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `policy NAME`.
    pub name: String,
    /// `version N`.
    pub version: u32,
    /// `effective from A [until B]`; always, when absent.
    pub window: tollgate_runtime::activation::Window,
    /// Fees or notifications.
    pub kind: PolicyKind,
    /// ISO 4217 code of every amount (CNY by default).
    pub currency: String,
    /// IANA time zone of local times and calendar days (Asia/Shanghai by default).
    pub timezone: String,
    /// The record schema, in declaration order.
    pub fields: Vec<Field>,
    /// Schedules or notification rules.
    pub body: Body,
    /// Lint levels the file sets (`lint allow NAME`), in file order.
    pub lints: Vec<LintSetting>,
    /// The linter's work budget the file sets (`lint budget UNITS`).
    pub lint_budget: Option<u64>,
}

/// One lint level a policy file sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LintSetting {
    /// The lint.
    pub code: crate::diagnostic::Code,
    /// Its level in this file.
    pub level: crate::diagnostic::codes::Level,
    /// Where the file sets it.
    pub span: Span,
}

/// A part of a fee that a schedule may declare a range for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeePart {
    /// The rate (every band's rate, for tiered fees).
    Rate,
    /// The fixed amount.
    Fixed,
    /// The minimum.
    Min,
    /// The cap.
    Cap,
}

impl FeePart {
    /// The part's name in policy files.
    pub fn name(self) -> &'static str {
        match self {
            FeePart::Rate => "rate",
            FeePart::Fixed => "fixed",
            FeePart::Min => "min",
            FeePart::Cap => "cap",
        }
    }
}

/// `expect PART between LOW and HIGH [when COND]`: a range the fees of a
/// schedule's rules must stay in, checked by the linter.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// Which part of the fee.
    pub part: FeePart,
    /// Lowest allowed value (a fraction for rates: 0.51% is 0.0051).
    pub low: Decimal,
    /// Highest allowed value.
    pub high: Decimal,
    /// The records it covers: rules that can match one of them must comply.
    pub when: Cond,
    /// The declaration.
    pub span: Span,
}

/// One field of the record schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Its name in records.
    pub name: String,
    /// Its type.
    pub ty: FieldKind,
    /// The value when a record leaves it out; `None` makes the field required.
    pub default: Option<Constant>,
    /// Whether a money field accepts amounts below zero (`money with
    /// refunds`); a refund pays the negated fee of its magnitude.
    pub refunds: bool,
    /// The declaration.
    pub span: Span,
}

/// The type of a field: the runtime's own, so that the schema a policy
/// declares is the schema its compiled table carries.
pub use tollgate_runtime::table::FieldKind;

/// A typed constant value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Constant {
    /// An enum variant, by index into the field's variants.
    Enum(u32),
    /// An amount of money.
    Money(Decimal),
    /// A decimal number.
    Decimal(Decimal),
    /// A whole number.
    Integer(i64),
    /// A boolean.
    Bool(bool),
    /// Text.
    String(String),
}

/// A condition over one record, every leaf reading one field.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    /// What it tests.
    pub kind: CondKind,
    /// Where it was written (for a named condition, where it was used).
    pub span: Span,
}

/// The forms of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum CondKind {
    /// Always this value.
    Const(bool),
    /// A bool field is true.
    Field(usize),
    /// `field OP value`.
    Compare {
        /// Index into [`Policy::fields`].
        field: usize,
        /// The operator, with the field on the left.
        op: CmpOp,
        /// The value compared with.
        value: Constant,
    },
    /// `field in {...}`.
    In {
        /// Index into [`Policy::fields`].
        field: usize,
        /// The set.
        set: Vec<Constant>,
    },
    /// Negation.
    Not(Box<Cond>),
    /// All of these.
    All(Vec<Cond>),
    /// Any of these.
    Any(Vec<Cond>),
}

/// The decisions a policy makes.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A fee policy's schedules; the fee is the sum of their components.
    Fees(Vec<Schedule>),
    /// A notifications policy's rules.
    Notifications(Notifications),
}

/// How a schedule picks among matching rules: the runtime's own, so that
/// the checked schedule and its compiled table name it alike.
pub use tollgate_runtime::table::Hit;

/// One fee schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Its name, reported in fee components.
    pub name: String,
    /// How matching rules are chosen.
    pub hit: Hit,
    /// Index of the money field rates apply to.
    pub base: usize,
    /// How each fee is rounded.
    pub rounding: Rounding,
    /// The rules in order, `otherwise` last if present.
    pub rules: Vec<FeeRule>,
    /// Declared ranges its fees must stay in.
    pub expects: Vec<Expect>,
    /// Where its name is written.
    pub name_span: Span,
    /// The schedule's declaration.
    pub span: Span,
}

/// One rule of a schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeRule {
    /// Its name (`otherwise` for the fallback).
    pub name: String,
    /// When it applies; `Const(true)` for `otherwise`.
    pub when: Cond,
    /// Whether this is the `otherwise` rule.
    pub otherwise: bool,
    /// The fee it charges.
    pub fee: FeeFormula,
    /// The rule's text.
    pub span: Span,
}

/// A notifications policy's decision rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Notifications {
    /// Index of the timestamp field decisions are made at.
    pub clock: usize,
    /// How late a record may be, in seconds, measured per rule and key
    /// against the newest delivery recorded for that key.
    pub lateness_secs: u64,
    /// Index of the string field that identifies a message (`message id
    /// FIELD`), if the policy names one.
    pub message_id: Option<usize>,
    /// The rules in file order.
    pub rules: Vec<NotifyRule>,
}

impl Notifications {
    /// Each rule's condition with the rule's index, in file order: what
    /// the linter and the vectors lay out as boxes.
    pub fn conditions(&self) -> Vec<(u32, &Cond)> {
        self.rules
            .iter()
            .enumerate()
            .map(|(i, r)| (i as u32, &r.when))
            .collect()
    }
}

/// One notification rule.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyRule {
    /// Its name, reported in decisions.
    pub name: String,
    /// Which messages it applies to.
    pub when: Cond,
    /// What it does to them.
    pub action: Action,
    /// The rule's text.
    pub span: Span,
}

/// What a notification rule does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Deliver, exempt from every other rule, and count nowhere.
    AlwaysDeliver,
    /// Suppress every message it covers, with the stated reason.
    Suppress {
        /// Why, as the policy states it.
        reason: String,
    },
    /// Suppress a key seen within `window_secs` of its last delivery.
    Dedup {
        /// Indexes of the key fields.
        keys: Vec<usize>,
        /// The window in seconds.
        window_secs: u64,
    },
    /// Local wall-clock windows in which messages wait or are dropped.
    Quiet {
        /// `(start, end)` in seconds after midnight; start included, end
        /// excluded; `start > end` wraps past midnight.
        windows: Vec<(u32, u32)>,
        /// Defer to the window's end, or drop.
        mode: QuietMode,
    },
    /// At most `max` deliveries per period per key.
    Limit {
        /// The cap.
        max: CapAmount,
        /// Rolling or calendar.
        period: LimitPeriod,
        /// Indexes of the key fields; empty for one global counter.
        keys: Vec<usize>,
    },
}

/// What a quiet window does with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuietMode {
    /// Try again when the window ends.
    Defer,
    /// Drop the message.
    Drop,
}

/// The cap of a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CapAmount {
    /// Written in the policy.
    Fixed(u32),
    /// Read from an integer field, clamped to `low..=high`.
    Field {
        /// Index of the integer field.
        field: usize,
        /// Smallest allowed cap.
        low: u32,
        /// Largest allowed cap.
        high: u32,
    },
}

/// The period of a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitPeriod {
    /// Deliveries at t count while now − t < seconds.
    Rolling(u64),
    /// Deliveries count until local midnight in the policy's time zone.
    CalendarDay,
}
