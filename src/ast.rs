//! The owned syntax tree of one policy file, with byte spans.
//!
//! It says what was written, not yet what it means: names are unresolved and
//! values untyped. The checker ([`crate::check`]) turns it into a
//! [`crate::model::Policy`].

use crate::span::{Span, Spanned};
use rust_decimal::Decimal;

/// A name as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A whole policy file.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    /// `policy NAME`.
    pub name: Ident,
    /// `version N`.
    pub version: Spanned<u32>,
    /// Everything after the header, in file order.
    pub items: Vec<Item>,
}

/// One top-level declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `kind fees` or `kind notifications`.
    Kind(Ident),
    /// `currency CNY`.
    Currency(Ident),
    /// `timezone "Asia/Shanghai"`.
    Timezone(Spanned<String>),
    /// `rounding half_up to 0.01` (policy-wide default).
    Rounding(RoundingDecl),
    /// `clock at`: the timestamp field notifications are decided at.
    Clock(Ident),
    /// `late records within 1h`: how late a notification record may be.
    Lateness(LatenessDecl),
    /// `message id FIELD`: the field that identifies a notification message.
    MessageId(MessageIdDecl),
    /// `effective from A [until B]`: when the policy decides records.
    Effective(EffectiveDecl),
    /// `field NAME: TYPE [default VALUE]`.
    Field(FieldDecl),
    /// `const NAME = VALUE`.
    Const(ConstDecl),
    /// `condition NAME = EXPR`.
    Condition(ConditionDecl),
    /// `schedule NAME [on FIELD] { ... }`.
    Schedule(ScheduleDecl),
    /// `rule NAME when EXPR => OUTCOME` at the top level.
    Rule(Box<RuleDecl>),
    /// `lint LEVEL NAME, ...`.
    Lint(LintDecl),
    /// `lint budget UNITS`: the linter's work budget for this file.
    LintBudget(Spanned<u64>),
}

/// `late records within DURATION`: how late a notification record may
/// arrive, per rule and key.
#[derive(Debug, Clone, PartialEq)]
pub struct LatenessDecl {
    /// The lateness allowed.
    pub within: Operand,
    /// The whole declaration.
    pub span: Span,
}

/// `effective from A [until B]`: the instants from which, and until which,
/// the policy decides records.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveDecl {
    /// The first instant it decides.
    pub from: Spanned<tollgate_runtime::activation::Stamp>,
    /// The first instant it no longer decides.
    pub until: Option<Spanned<tollgate_runtime::activation::Stamp>>,
    /// The whole declaration.
    pub span: Span,
}

/// `message id FIELD`: the string field a gateway identifies each message
/// by, so that a message decided before is answered as a repeat.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageIdDecl {
    /// The field.
    pub field: Ident,
    /// The whole declaration.
    pub span: Span,
}

/// `lint LEVEL NAME, ...`: lint levels for this file.
#[derive(Debug, Clone, PartialEq)]
pub struct LintDecl {
    /// `allow`, `warn` or `deny`.
    pub level: Ident,
    /// The lints, by name or code.
    pub names: Vec<Ident>,
    /// The whole declaration.
    pub span: Span,
}

/// `expect PART between LOW and HIGH [when EXPR]` in a schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectDecl {
    /// `rate`, `fixed`, `min` or `cap`.
    pub part: Ident,
    /// The lowest allowed value.
    pub low: Operand,
    /// The highest allowed value.
    pub high: Operand,
    /// Which records' rules it covers; every rule when absent.
    pub when: Option<Expr>,
    /// The whole declaration.
    pub span: Span,
}

/// `rounding MODE [to STEP]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundingDecl {
    /// `half_up`, `half_even`, `toward_zero` or `away_from_zero`.
    pub mode: Ident,
    /// The step, 0.01 when absent.
    pub step: Option<Operand>,
    /// The whole declaration.
    pub span: Span,
}

/// `field NAME: TYPE [default VALUE]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    /// The field's name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
    /// The value used when a record leaves the field out.
    pub default: Option<Operand>,
    /// `with refunds`, where written: the field accepts amounts below zero.
    pub refunds: Option<Span>,
    /// The whole declaration.
    pub span: Span,
}

/// A field's type as written.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    /// `enum { a, b, c }`.
    Enum {
        /// The variants in order.
        variants: Vec<Ident>,
        /// The whole type.
        span: Span,
    },
    /// A type name: `money`, `decimal`, `integer`, `bool`, `string`, `timestamp`.
    Named(Ident),
}

/// `const NAME = VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstDecl {
    /// The constant's name.
    pub name: Ident,
    /// Its value.
    pub value: Operand,
}

/// `condition NAME = EXPR`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionDecl {
    /// The condition's name.
    pub name: Ident,
    /// What it means.
    pub expr: Expr,
}

/// `schedule NAME [on FIELD] { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleDecl {
    /// The schedule's name.
    pub name: Ident,
    /// The money field rates apply to.
    pub base: Option<Ident>,
    /// `hit first` / `hit unique`, each one written.
    pub hits: Vec<Ident>,
    /// `rounding ...` lines inside the schedule.
    pub roundings: Vec<RoundingDecl>,
    /// `expect ...` lines: ranges its fees must stay in.
    pub expects: Vec<ExpectDecl>,
    /// Rules and `otherwise` in order.
    pub rules: Vec<RuleDecl>,
    /// The whole schedule.
    pub span: Span,
}

/// `rule NAME when EXPR => OUTCOME`, or `otherwise => FEE`.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDecl {
    /// The rule's name (`otherwise` for an otherwise rule).
    pub name: Ident,
    /// Its condition; `None` for `otherwise`.
    pub when: Option<Expr>,
    /// What it does.
    pub outcome: Outcome,
    /// The whole rule.
    pub span: Span,
}

/// The right side of `=>`.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A fee (in a schedule).
    Fee(Fee),
    /// A notification action (at the top level).
    Action(Action),
}

/// A fee as written: terms added together, then bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Fee {
    /// The terms joined by `+`.
    pub terms: Vec<FeeTerm>,
    /// `min X` and `cap X`, then `total min X` and `total cap X`, in order.
    pub bounds: Vec<FeeBound>,
    /// The whole fee.
    pub span: Span,
}

/// One term of a fee.
#[derive(Debug, Clone, PartialEq)]
pub enum FeeTerm {
    /// A rate, an amount or a constant; `of FIELD` makes a rate into money.
    Operand {
        /// The value.
        value: Operand,
        /// `of FIELD`, if written.
        of: Option<Ident>,
    },
    /// `tiered MODE { ... }`.
    Tiered(Tiered),
}

/// `tiered MODE { up to X => RATE ... above => RATE }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiered {
    /// `whole` or `marginal`.
    pub mode: Ident,
    /// The bands in order.
    pub bands: Vec<BandDecl>,
    /// The whole construct.
    pub span: Span,
}

/// One band of a tiered fee.
#[derive(Debug, Clone, PartialEq)]
pub struct BandDecl {
    /// `up to X`; `None` for `above`.
    pub up_to: Option<Operand>,
    /// The band's rate.
    pub rate: Operand,
    /// The whole band.
    pub span: Span,
}

/// Which bound a fee sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundKind {
    /// `min`.
    Min,
    /// `cap`.
    Cap,
}

/// `min X` or `cap X`, or after `total` a bound of the whole fee.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeBound {
    /// Which bound.
    pub kind: BoundKind,
    /// Whether it bounds the whole fee (`total min X`), after the fixed
    /// amounts are added, rather than the percentage part.
    pub total: bool,
    /// Its value.
    pub value: Operand,
    /// The whole bound.
    pub span: Span,
}

/// A notification action.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `always deliver`.
    AlwaysDeliver(Span),
    /// `suppress "REASON"`: never send, stating why.
    Suppress {
        /// The reason: a string or a constant naming one.
        reason: Operand,
        /// The whole action.
        span: Span,
    },
    /// `dedup by KEYS within DURATION`.
    Dedup {
        /// The key fields.
        keys: Vec<Ident>,
        /// The window.
        within: Operand,
        /// The whole action.
        span: Span,
    },
    /// `quiet A-B, C-D then MODE`.
    Quiet {
        /// The windows, each `start - end`.
        windows: Vec<(Operand, Operand)>,
        /// `defer` or `drop`.
        then: Ident,
        /// The whole action.
        span: Span,
    },
    /// `limit N [within LO..HI] per PERIOD [by KEYS]`.
    Limit {
        /// The cap: a number, a constant or a field.
        max: Operand,
        /// Bounds for a cap read from a field.
        bounds: Option<(Operand, Operand)>,
        /// The period.
        period: Period,
        /// The key fields; empty for one global counter.
        keys: Vec<Ident>,
        /// The whole action.
        span: Span,
    },
}

/// The period of a limit.
#[derive(Debug, Clone, PartialEq)]
pub enum Period {
    /// `per calendar day`.
    CalendarDay(Span),
    /// `per DURATION` (rolling).
    Rolling(Operand),
}

/// A condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a or b or ...`.
    Or(Vec<Expr>, Span),
    /// `a and b and ...`.
    And(Vec<Expr>, Span),
    /// `not a`.
    Not(Box<Expr>, Span),
    /// `a OP b`.
    Compare {
        /// Left side.
        left: Operand,
        /// The operator.
        op: Spanned<CmpOp>,
        /// Right side.
        right: Operand,
        /// The whole comparison.
        span: Span,
    },
    /// `a [not] in { ... }`.
    Member {
        /// The tested value.
        value: Operand,
        /// `not in`.
        negated: bool,
        /// The set.
        set: Vec<Operand>,
        /// The whole test.
        span: Span,
    },
    /// `a between lo and hi` (both ends included).
    Between {
        /// The tested value.
        value: Operand,
        /// Lower bound.
        low: Operand,
        /// Upper bound.
        high: Operand,
        /// The whole test.
        span: Span,
    },
    /// `true` or `false`.
    Bool(bool, Span),
    /// A named condition or a bool field.
    Name(Ident),
}

impl Expr {
    /// Where the condition was written.
    pub fn span(&self) -> Span {
        match self {
            Expr::Or(_, s) | Expr::And(_, s) | Expr::Not(_, s) | Expr::Bool(_, s) => *s,
            Expr::Compare { span, .. } | Expr::Member { span, .. } | Expr::Between { span, .. } => {
                *span
            }
            Expr::Name(id) => id.span,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// The operator with its sides swapped: `a < b` is `b > a`.
    pub fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }
}

/// An operand as written: a literal or a name (the checker resolves a name
/// to a field, a constant or an enum variant).
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A literal with its unit.
    Literal(Spanned<Literal>),
    /// A field, a constant or an enum variant; the checker decides which.
    Name(Ident),
}

impl Operand {
    /// Where the value was written.
    pub fn span(&self) -> Span {
        match self {
            Operand::Literal(l) => l.span,
            Operand::Name(id) => id.span,
        }
    }
}

/// A literal value with its unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// A plain number: `2`, `20.00`, `-1`.
    Number(Decimal),
    /// Money with a currency mark: `¥20.00`, `20.00 USD`.
    Money {
        /// The amount.
        amount: Decimal,
        /// The ISO 4217 code written after the number; `None` for the yen
        /// and yuan sign (`¥`, `￥`), which means the policy's currency when
        /// that is JPY or CNY.
        currency: Option<String>,
    },
    /// A rate as a fraction: `0.6%` is `0.006`, `38bp` is `0.0038`.
    Rate(Decimal),
    /// A duration in seconds: `10m` is 600.
    Duration(u64),
    /// A time of day in seconds after midnight: `11:00` is 39600.
    TimeOfDay(u32),
    /// A string: `"m-001"`.
    String(String),
    /// `true` or `false`.
    Bool(bool),
}

impl Literal {
    /// What kind of value this is, for messages: "a rate", "money", ...
    pub fn describe(&self) -> &'static str {
        match self {
            Literal::Number(d) if d.scale() == 0 => "a whole number",
            Literal::Number(_) => "a number",
            Literal::Money { .. } => "money",
            Literal::Rate(_) => "a rate",
            Literal::Duration(_) => "a duration",
            Literal::TimeOfDay(_) => "a time of day",
            Literal::String(_) => "a string",
            Literal::Bool(_) => "a boolean",
        }
    }
}
