//! The syntax tree of a test file (`NAME.test.toll`), with byte spans.

use crate::ast::Ident;
use crate::span::Span;
use rust_decimal::Decimal;

/// A test file: the policy it tests and its tests, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct TestFile {
    /// The policy named by `tests for NAME`.
    pub policy: Ident,
    /// The tests.
    pub tests: Vec<TestCase>,
}

/// One named test.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    /// Its name, as written between the quotes.
    pub name: String,
    /// Where the name was written (with its quotes).
    pub name_span: Span,
    /// The whole test, `test` to `}`.
    pub span: Span,
    /// What it checks.
    pub body: TestBody,
}

/// What a test checks.
#[derive(Debug, Clone, PartialEq)]
pub enum TestBody {
    /// The fee of one record.
    Fee(FeeTest),
    /// The decisions on a stream of messages.
    Stream(StreamTest),
}

/// A fee test: a record, its fee and, optionally, its components.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeTest {
    /// The record.
    pub record: RecordLit,
    /// The fee it must cost.
    pub fee: Amount,
    /// Where `expect fee ...` was written.
    pub fee_span: Span,
    /// Every component it must have, when any is listed.
    pub components: Vec<ComponentExpect>,
}

/// An amount of money in a test, with or without its currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Amount {
    /// The amount.
    pub value: Decimal,
    /// The currency code written after it, `None` for a bare number or
    /// the yuan sign (see `mark`).
    pub currency: Option<String>,
    /// Whether it was written with the yuan sign (`¥20.00`).
    pub mark: bool,
    /// Where it was written.
    pub span: Span,
}

/// `expect SCHEDULE.RULE AMOUNT`: one component of a fee.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentExpect {
    /// The schedule.
    pub schedule: Ident,
    /// The rule (`otherwise` for the schedule's default).
    pub rule: Ident,
    /// The component's fee.
    pub fee: Amount,
    /// The whole line.
    pub span: Span,
}

/// A record written in a test: fields by name.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordLit {
    /// The fields, in the order written.
    pub fields: Vec<FieldLit>,
    /// The braces and what is between them.
    pub span: Span,
}

/// `NAME: VALUE` in a record.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldLit {
    /// The field's name.
    pub name: Ident,
    /// Its value.
    pub value: FieldValue,
    /// Where the value was written.
    pub value_span: Span,
}

/// A field's value as written, before the policy's schema types it.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// An instant with its offset, in RFC 3339 (seconds filled in).
    Instant(String),
    /// An amount of money.
    Money(Amount),
    /// A plain number, as written (without `_`).
    Number(String),
    /// A string in quotes.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// A bare name: an enum variant.
    Name(String),
    /// A literal no record field takes (a rate, a duration, a time of
    /// day), described for the error.
    Other(&'static str),
}

/// A notification test: messages in order, from an optional start.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamTest {
    /// The instant relative times count from.
    pub start: Option<InstantLit>,
    /// The messages.
    pub messages: Vec<MessageCase>,
}

/// An instant written in a test.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantLit {
    /// RFC 3339 text, seconds filled in.
    pub text: String,
    /// Where it was written.
    pub span: Span,
}

/// When a message is sent.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageTime {
    /// At an instant.
    At(InstantLit),
    /// This many seconds after the stream's start (`+15m`).
    After {
        /// Seconds.
        secs: u64,
        /// Where it was written.
        span: Span,
    },
}

/// `message at TIME { ... } => DECISION`.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageCase {
    /// When.
    pub time: MessageTime,
    /// The message's other fields.
    pub record: RecordLit,
    /// The decision it must get.
    pub expect: ExpectedDecision,
    /// The whole line.
    pub span: Span,
}

/// The decision a message must get.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedDecision {
    /// Which decision.
    pub kind: DecisionKind,
    /// The rule that must decide it (`by RULE`), if written.
    pub rule: Option<Ident>,
    /// Whether it must be a repeat of an earlier decision.
    pub repeat: bool,
    /// Where it was written.
    pub span: Span,
}

/// The decisions `eval` prints for notification policies.
#[derive(Debug, Clone, PartialEq)]
pub enum DecisionKind {
    /// Send now.
    Deliver,
    /// Do not send.
    Suppress,
    /// Send at the instant.
    Defer(InstantLit),
}
