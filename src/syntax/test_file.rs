//! Lowers the parse tree of a test file (`test_file` in the grammar) to
//! [`crate::testing::ast`]. Literals are read as in policies (the same
//! lowering, the same `E0002` errors).

use super::grammar::Rule;
use super::lower::{children, ident, span_of, Lowerer};
use crate::ast::{Ident, Literal};
use crate::diagnostic::{Code, Diagnostic};
use crate::testing::ast::*;
use pest::iterators::Pair;

type P<'i> = Pair<'i, Rule>;

/// Lowers `pair`, a `test_file`, collecting literal errors in `lowerer`.
pub(super) fn file(lowerer: &mut Lowerer, pair: &P<'_>) -> Option<TestFile> {
    let kids = children(pair);
    let header = kids.iter().find(|p| p.as_rule() == Rule::tests_header)?;
    let policy = children(header).first().map(ident)?;
    let tests = kids
        .iter()
        .filter(|p| p.as_rule() == Rule::test_case)
        .filter_map(|p| test_case(lowerer, p))
        .collect();
    Some(TestFile { policy, tests })
}

fn test_case(lowerer: &mut Lowerer, pair: &P<'_>) -> Option<TestCase> {
    let kids = children(pair);
    let name_pair = kids.iter().find(|p| p.as_rule() == Rule::string)?;
    let name = match lowerer.literal(name_pair)? {
        Literal::String(s) => s,
        _ => return None,
    };
    let body = kids.iter().find_map(|p| match p.as_rule() {
        Rule::fee_test => fee_test(lowerer, p).map(TestBody::Fee),
        Rule::stream_test => stream_test(lowerer, p).map(TestBody::Stream),
        _ => None,
    })?;
    Some(TestCase {
        name,
        name_span: span_of(name_pair),
        span: span_of(pair),
        body,
    })
}

fn fee_test(lowerer: &mut Lowerer, pair: &P<'_>) -> Option<FeeTest> {
    let mut record = None;
    let mut fee = None;
    let mut components = Vec::new();
    for p in children(pair) {
        match p.as_rule() {
            Rule::test_record => {
                let fields = children(&p)
                    .into_iter()
                    .find(|c| c.as_rule() == Rule::record_fields)?;
                record = Some(record_fields(lowerer, &fields));
            }
            Rule::expect_fee => {
                let amount = children(&p)
                    .into_iter()
                    .find(|c| c.as_rule() == Rule::test_amount)?;
                fee = Some((amount_of(lowerer, &amount)?, span_of(&p)));
            }
            Rule::expect_component => {
                let parts = p.clone().into_inner().collect::<Vec<_>>();
                let names: Vec<Ident> = parts
                    .iter()
                    .filter(|c| matches!(c.as_rule(), Rule::ident | Rule::kw_otherwise))
                    .map(ident)
                    .collect();
                let amount = parts.iter().find(|c| c.as_rule() == Rule::test_amount)?;
                let [schedule, rule] = <[Ident; 2]>::try_from(names).ok()?;
                components.push(ComponentExpect {
                    schedule,
                    rule,
                    fee: amount_of(lowerer, amount)?,
                    span: span_of(&p),
                });
            }
            _ => {}
        }
    }
    let (fee, fee_span) = fee?;
    Some(FeeTest {
        record: record?,
        fee,
        fee_span,
        components,
    })
}

fn amount_of(lowerer: &mut Lowerer, pair: &P<'_>) -> Option<Amount> {
    let inner = pair.clone().into_inner().next()?;
    let span = span_of(&inner);
    match lowerer.literal(&inner)? {
        Literal::Number(value) => Some(Amount {
            value,
            currency: None,
            mark: false,
            span,
        }),
        Literal::Money { amount, currency } => Some(Amount {
            value: amount,
            mark: currency.is_none(),
            currency,
            span,
        }),
        _ => None,
    }
}

fn record_fields(lowerer: &mut Lowerer, pair: &P<'_>) -> RecordLit {
    let fields = children(pair)
        .iter()
        .filter(|p| p.as_rule() == Rule::record_field)
        .filter_map(|p| {
            let kids = children(p);
            let name = kids.first().map(ident)?;
            let value_pair = kids.get(1)?.clone().into_inner().next()?;
            let value_span = span_of(&value_pair);
            let value = field_value(lowerer, &value_pair)?;
            Some(FieldLit {
                name,
                value,
                value_span,
            })
        })
        .collect();
    RecordLit {
        fields,
        span: span_of(pair),
    }
}

fn field_value(lowerer: &mut Lowerer, pair: &P<'_>) -> Option<FieldValue> {
    Some(match pair.as_rule() {
        Rule::instant => FieldValue::Instant(instant_text(pair.as_str())),
        Rule::ident => FieldValue::Name(pair.as_str().to_string()),
        _ => match lowerer.literal(pair)? {
            Literal::Number(d) => FieldValue::Number(d.to_string()),
            Literal::Money { amount, currency } => FieldValue::Money(Amount {
                value: amount,
                mark: currency.is_none(),
                currency,
                span: span_of(pair),
            }),
            Literal::String(s) => FieldValue::Str(s),
            Literal::Bool(b) => FieldValue::Bool(b),
            Literal::Rate(_) => FieldValue::Other("a rate"),
            Literal::Duration(_) => FieldValue::Other("a duration"),
            Literal::TimeOfDay(_) => FieldValue::Other("a time of day"),
        },
    })
}

/// RFC 3339 text for an instant as the grammar admits it: seconds are
/// filled in when left out (`12:15+08:00` is `12:15:00+08:00`).
pub(super) fn instant_text(text: &str) -> String {
    let Some(t) = text.find('T') else {
        return text.to_string();
    };
    let time = text.get(t + 1..).unwrap_or("");
    // hh:mm then either `:` (seconds follow) or the offset.
    if time.get(5..6) == Some(":") {
        text.to_string()
    } else {
        format!(
            "{}:00{}",
            text.get(..t + 6).unwrap_or(text),
            text.get(t + 6..).unwrap_or("")
        )
    }
}

fn instant(pair: &P<'_>) -> InstantLit {
    InstantLit {
        text: instant_text(pair.as_str()),
        span: span_of(pair),
    }
}

fn stream_test(lowerer: &mut Lowerer, pair: &P<'_>) -> Option<StreamTest> {
    let mut start = None;
    let mut messages = Vec::new();
    for p in children(pair) {
        match p.as_rule() {
            Rule::stream_start => {
                start = children(&p)
                    .iter()
                    .find(|c| c.as_rule() == Rule::instant)
                    .map(instant);
            }
            Rule::test_message => messages.push(message(lowerer, &p)?),
            _ => {}
        }
    }
    Some(StreamTest { start, messages })
}

fn message(lowerer: &mut Lowerer, pair: &P<'_>) -> Option<MessageCase> {
    let mut time = None;
    let mut record = None;
    let mut expect = None;
    for p in children(pair) {
        match p.as_rule() {
            Rule::instant => time = Some(MessageTime::At(instant(&p))),
            Rule::relative_time => {
                let duration = p
                    .clone()
                    .into_inner()
                    .find(|c| c.as_rule() == Rule::duration)?;
                let Literal::Duration(secs) = lowerer.literal(&duration)? else {
                    return None;
                };
                time = Some(MessageTime::After {
                    secs,
                    span: span_of(&p),
                });
            }
            Rule::record_fields => record = Some(record_fields(lowerer, &p)),
            Rule::expected_decision => expect = Some(decision(&p)?),
            _ => {}
        }
    }
    Some(MessageCase {
        time: time?,
        record: record?,
        expect: expect?,
        span: span_of(pair),
    })
}

fn decision(pair: &P<'_>) -> Option<ExpectedDecision> {
    let mut kind = None;
    let mut rule = None;
    let mut repeat = false;
    for p in children(pair) {
        match p.as_rule() {
            Rule::expect_deliver => kind = Some(DecisionKind::Deliver),
            Rule::expect_suppress | Rule::expect_defer => {
                for c in children(&p) {
                    match c.as_rule() {
                        Rule::instant => kind = Some(DecisionKind::Defer(instant(&c))),
                        Rule::decided_by => rule = children(&c).first().map(ident),
                        _ => {}
                    }
                }
                if p.as_rule() == Rule::expect_suppress {
                    kind = Some(DecisionKind::Suppress);
                }
            }
            Rule::expect_repeat => repeat = true,
            _ => {}
        }
    }
    Some(ExpectedDecision {
        kind: kind?,
        rule,
        repeat,
        span: span_of(pair),
    })
}

/// The diagnostic for a tree that does not have the grammar's shape (a
/// bug, never a user's error).
pub(super) fn shape_error() -> Diagnostic {
    Diagnostic::error(
        Code::E0001,
        "internal error: the parser produced no test file",
        crate::span::Span::new(0, 0),
        "here",
    )
}
