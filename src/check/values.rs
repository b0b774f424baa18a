//! Typing values: a literal or constant against the type a context wants,
//! with units enforced (money is not a rate; a duration is not a count).

use super::Checker;
use crate::ast::{Ident, Literal, Operand};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Constant, FieldKind};
use crate::span::{Span, Spanned};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// What a value written in a policy turned out to be.
pub(super) enum Resolved<'a> {
    /// A field, by index.
    Field(usize, Span),
    /// A literal, written in place or through a constant.
    Lit(&'a Literal, Span),
    /// A name that is neither a field nor a constant (maybe an enum variant).
    Unknown(&'a Ident),
}

impl<'a> Checker<'a> {
    /// Resolves a value to a field, a literal or an unknown name.
    pub(super) fn resolve(&self, value: &'a Operand) -> Resolved<'a> {
        match value {
            Operand::Literal(Spanned { node, span }) => Resolved::Lit(node, *span),
            Operand::Name(id) => self.resolve_name(id),
        }
    }

    /// Resolves a name to a field or a constant's literal.
    pub(super) fn resolve_name(&self, id: &'a Ident) -> Resolved<'a> {
        if let Some(&i) = self.field_index.get(id.name.as_str()) {
            Resolved::Field(i, id.span)
        } else if let Some(Some(lit)) = self.consts.get(id.name.as_str()) {
            Resolved::Lit(lit, id.span)
        } else {
            Resolved::Unknown(id)
        }
    }

    /// The error for a name that is no field, constant or condition.
    pub(super) fn unknown_name(&self, id: &Ident, what: &str) -> Diagnostic {
        let candidates = self
            .field_index
            .keys()
            .chain(self.consts.keys())
            .chain(self.condition_index.keys())
            .copied();
        Diagnostic::error(
            Code::E0101,
            format!("unknown name `{}`", id.name),
            id.span,
            format!("no {what} has this name"),
        )
        .with_help_opt(super::suggest::did_you_mean(&id.name, candidates))
    }

    /// Types `value` as a constant of the field type `ty`, for comparison with
    /// the field `field_name`.
    pub(super) fn coerce(
        &self,
        value: &'a Operand,
        ty: &FieldKind,
        field_name: &str,
    ) -> Result<Constant, Diagnostic> {
        match (self.resolve(value), ty) {
            (Resolved::Field(i, span), _) => Err(Diagnostic::error(
                Code::E0207,
                format!(
                    "`{field_name}` is compared with another field, `{}`",
                    self.field_name(i)
                ),
                span,
                "a field, where a value is needed",
            )
            .with_help("conditions compare a field with a value written in the policy")),
            (Resolved::Unknown(id), FieldKind::Enum(variants)) => variants
                .iter()
                .position(|v| *v == id.name)
                .and_then(|p| u32::try_from(p).ok())
                .map(Constant::Enum)
                .ok_or_else(|| {
                    Diagnostic::error(
                        Code::E0103,
                        format!("`{}` is not a variant of `{field_name}`", id.name),
                        id.span,
                        "unknown variant",
                    )
                    .with_help(
                        super::suggest::did_you_mean(&id.name, variants.iter().map(String::as_str))
                            .unwrap_or_else(|| {
                                format!("`{field_name}` is one of: {}", variants.join(", "))
                            }),
                    )
                }),
            (Resolved::Unknown(id), _) => Err(self.unknown_name(id, "field or constant")),
            (Resolved::Lit(lit, span), ty) => self.coerce_literal(lit, span, ty, field_name),
        }
    }

    /// Types a literal as the field type `ty`.
    pub(super) fn coerce_literal(
        &self,
        lit: &Literal,
        span: Span,
        ty: &FieldKind,
        field_name: &str,
    ) -> Result<Constant, Diagnostic> {
        let mismatch = |code: Code, help: &str| {
            Diagnostic::error(
                code,
                format!(
                    "`{field_name}` is {}, but this is {}",
                    describe_type(ty),
                    lit.describe()
                ),
                span,
                format!("expected {}", describe_type(ty)),
            )
            .with_help(help.to_string())
        };
        match (ty, lit) {
            (FieldKind::Money, Literal::Number(d)) => Ok(Constant::Money(*d)),
            (FieldKind::Money, Literal::Money { amount, currency }) => {
                self.check_currency(*amount, currency, span)?;
                Ok(Constant::Money(*amount))
            }
            (FieldKind::Money, Literal::Rate(_)) => Err(mismatch(
                Code::E0202,
                "a rate is not money; write an amount such as `100.00`",
            )),
            (FieldKind::Decimal, Literal::Number(d)) => Ok(Constant::Decimal(*d)),
            (FieldKind::Integer, Literal::Number(d)) => {
                whole(*d).map(Constant::Integer).ok_or_else(|| {
                    mismatch(Code::E0201, "write a whole number without a decimal point")
                })
            }
            (FieldKind::Integer, Literal::Duration(_)) => Err(mismatch(
                Code::E0202,
                "a duration is not a count; write a plain number",
            )),
            (FieldKind::Bool, Literal::Bool(b)) => Ok(Constant::Bool(*b)),
            (FieldKind::String, Literal::String(s)) => Ok(Constant::String(s.clone())),
            (FieldKind::Enum(variants), _) => Err(mismatch(
                Code::E0201,
                &format!("write one of the variants: {}", variants.join(", ")),
            )),
            (FieldKind::Timestamp, _) => Err(mismatch(
                Code::E0201,
                "timestamps are read by notification rules, not compared in conditions",
            )),
            (
                _,
                Literal::Money { .. }
                | Literal::Rate(_)
                | Literal::Duration(_)
                | Literal::TimeOfDay(_),
            ) => Err(mismatch(
                Code::E0202,
                "units must agree: compare like with like",
            )),
            _ => Err(mismatch(Code::E0201, "write a value of the field's type")),
        }
    }

    /// Checks the currency written on money against the policy's: a code
    /// must be the policy's; the yen and yuan sign (`None`) is the policy's
    /// currency when that is JPY or CNY, and ambiguous otherwise.
    pub(super) fn check_currency(
        &self,
        amount: Decimal,
        currency: &Option<String>,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let Some(currency) = currency else {
            if matches!(self.currency.as_str(), "JPY" | "CNY") {
                return Ok(());
            }
            return Err(Diagnostic::error(
                Code::E0206,
                format!(
                    "`¥` marks yen (JPY) or yuan (CNY), in a policy whose currency is {}",
                    self.currency
                ),
                span,
                "yen or yuan",
            )
            .with_help(format!(
                "`¥` is both the yen and the yuan sign: write the amount in {0} (`{1}` or \
                 `{1} {0}`), or change the policy's `currency`",
                self.currency, amount
            )));
        };
        if *currency == self.currency {
            return Ok(());
        }
        Err(Diagnostic::error(
            Code::E0206,
            format!(
                "amount in {currency} in a policy whose currency is {}",
                self.currency
            ),
            span,
            format!("this is {currency}"),
        )
        .with_help(format!(
            "write the amount in {}, or change the policy's `currency`",
            self.currency
        )))
    }

    /// Types a value as an amount of money (a fixed fee, a bound, a step).
    pub(super) fn money(&self, value: &'a Operand, what: &str) -> Result<Decimal, Diagnostic> {
        match self.resolve(value) {
            Resolved::Lit(Literal::Number(d), _) => Ok(*d),
            Resolved::Lit(Literal::Money { amount, currency }, span) => {
                self.check_currency(*amount, currency, span)?;
                Ok(*amount)
            }
            Resolved::Lit(lit, span) => Err(unit_error(what, "money", lit, span)),
            Resolved::Field(i, span) => Err(Diagnostic::error(
                Code::E0201,
                format!(
                    "{what} must be written in the policy, not read from `{}`",
                    self.field_name(i)
                ),
                span,
                "a field",
            )),
            Resolved::Unknown(id) => Err(self.unknown_name(id, "constant")),
        }
    }

    /// Types a value as a duration in seconds.
    pub(super) fn duration(&self, value: &'a Operand, what: &str) -> Result<u64, Diagnostic> {
        match self.resolve(value) {
            Resolved::Lit(Literal::Duration(secs), span) => {
                if *secs == 0 {
                    Err(
                        Diagnostic::error(Code::E0203, format!("{what} of zero"), span, "zero")
                            .with_help("a window must be at least one second long"),
                    )
                } else {
                    Ok(*secs)
                }
            }
            Resolved::Lit(lit @ Literal::Number(_), span) => {
                Err(unit_error(what, "a duration", lit, span)
                    .with_help("a count is not a duration; add a unit: `10m`, `1h`, `1d`"))
            }
            Resolved::Lit(lit, span) => Err(unit_error(what, "a duration", lit, span)),
            Resolved::Field(i, span) => Err(Diagnostic::error(
                Code::E0201,
                format!(
                    "{what} must be written in the policy, not read from `{}`",
                    self.field_name(i)
                ),
                span,
                "a field",
            )),
            Resolved::Unknown(id) => Err(self.unknown_name(id, "constant")),
        }
    }

    /// Types a value as a count (a whole number, not negative).
    pub(super) fn count(&self, lit: &Literal, span: Span, what: &str) -> Result<u32, Diagnostic> {
        match lit {
            Literal::Number(d) => match whole(*d) {
                Some(n) => u32::try_from(n).map_err(|_| {
                    Diagnostic::error(
                        Code::E0203,
                        format!("{what} of {n} is out of range"),
                        span,
                        "out of range",
                    )
                    .with_help(format!("{what} runs from 0 to {}", u32::MAX))
                }),
                None => Err(Diagnostic::error(
                    Code::E0201,
                    format!("{what} must be a whole number"),
                    span,
                    "not a whole number",
                )),
            },
            Literal::Duration(_) => Err(unit_error(what, "a count", lit, span)
                .with_help("a duration is not a count; write a plain number such as `2`")),
            other => Err(unit_error(what, "a count", other, span)),
        }
    }

    /// The name of field `i`.
    pub(super) fn field_name(&self, i: usize) -> &str {
        self.fields.get(i).map_or("?", |f| f.name.as_str())
    }
}

/// `d` as a whole number, when it is written without a fraction.
pub(super) fn whole(d: Decimal) -> Option<i64> {
    if d.scale() == 0 {
        d.to_i64()
    } else {
        None
    }
}

/// "a rate", "money", ... for a field type.
pub(super) fn describe_type(ty: &FieldKind) -> &'static str {
    match ty {
        FieldKind::Enum(_) => "an enum",
        FieldKind::Money => "money",
        FieldKind::Decimal => "a decimal",
        FieldKind::Integer => "an integer",
        FieldKind::Bool => "a boolean",
        FieldKind::String => "a string",
        FieldKind::Timestamp => "a timestamp",
    }
}

/// A unit mismatch: `what` needed `wanted` and got `lit`.
pub(super) fn unit_error(what: &str, wanted: &str, lit: &Literal, span: Span) -> Diagnostic {
    let code = match lit {
        Literal::String(_) | Literal::Bool(_) => Code::E0201,
        _ => Code::E0202,
    };
    Diagnostic::error(
        code,
        format!("{what} must be {wanted}, but this is {}", lit.describe()),
        span,
        format!("expected {wanted}"),
    )
}
