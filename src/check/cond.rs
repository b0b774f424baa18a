//! Typing conditions: every leaf compares one field with a value of its type.

use super::values::{describe_type, Resolved};
use super::{Checker, CondState};
use crate::ast::{CmpOp, Expr, Ident, Literal, Operand};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Cond, CondKind, FieldKind};
use crate::span::Span;

impl<'a> Checker<'a> {
    /// Checks a condition; errors are recorded and `None` returned.
    pub(super) fn cond(&mut self, expr: &'a Expr) -> Option<Cond> {
        let span = expr.span();
        let kind = match expr {
            Expr::Or(parts, _) | Expr::And(parts, _) => {
                let mut out = Vec::with_capacity(parts.len());
                let mut ok = true;
                for p in parts {
                    match self.cond(p) {
                        Some(c) => out.push(c),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                if matches!(expr, Expr::Or(..)) {
                    CondKind::Any(out)
                } else {
                    CondKind::All(out)
                }
            }
            Expr::Not(inner, _) => CondKind::Not(Box::new(self.cond(inner)?)),
            Expr::Bool(b, _) => CondKind::Const(*b),
            Expr::Name(id) => return self.named_cond(id),
            Expr::Compare {
                left, op, right, ..
            } => {
                let (field, value_side, op) = match (self.resolve(left), self.resolve(right)) {
                    (Resolved::Field(f, _), _) => (f, right, op.node),
                    (_, Resolved::Field(f, _)) => (f, left, op.node.flipped()),
                    (l, r) => return self.no_field(l, r, span),
                };
                self.ordered(field, op, span)?;
                let ty = self.field_type(field)?;
                let name = self.field_name(field).to_string();
                let value = self.report(self.coerce(value_side, &ty, &name))?;
                CondKind::Compare { field, op, value }
            }
            Expr::Member {
                value,
                negated,
                set,
                ..
            } => {
                let field = self.subject(value, span)?;
                let ty = self.field_type(field)?;
                let name = self.field_name(field).to_string();
                let mut values = Vec::with_capacity(set.len());
                let mut ok = true;
                for v in set {
                    match self.coerce(v, &ty, &name) {
                        Ok(v) => values.push(v),
                        Err(d) => {
                            self.diags.push(d);
                            ok = false;
                        }
                    }
                }
                if !ok {
                    return None;
                }
                let test = CondKind::In { field, set: values };
                if *negated {
                    CondKind::Not(Box::new(Cond { kind: test, span }))
                } else {
                    test
                }
            }
            Expr::Between {
                value, low, high, ..
            } => {
                let field = self.subject(value, span)?;
                self.ordered(field, CmpOp::Ge, span)?;
                let ty = self.field_type(field)?;
                let name = self.field_name(field).to_string();
                let lo = self.coerce(low, &ty, &name);
                let hi = self.coerce(high, &ty, &name);
                let lo = self.report(lo);
                let hi = self.report(hi);
                let (lo, hi) = (lo?, hi?);
                CondKind::All(vec![
                    Cond {
                        kind: CondKind::Compare {
                            field,
                            op: CmpOp::Ge,
                            value: lo,
                        },
                        span: low.span(),
                    },
                    Cond {
                        kind: CondKind::Compare {
                            field,
                            op: CmpOp::Le,
                            value: hi,
                        },
                        span: high.span(),
                    },
                ])
            }
        };
        Some(Cond { kind, span })
    }

    /// A bare name used as a condition: a named condition or a bool field.
    fn named_cond(&mut self, id: &'a Ident) -> Option<Cond> {
        if let Some(&i) = self.condition_index.get(id.name.as_str()) {
            let kind = self.resolve_condition(i, id)?.kind;
            return Some(Cond {
                kind,
                span: id.span,
            });
        }
        match self.resolve_name(id) {
            Resolved::Field(f, span) => {
                let ty = self.field_type(f)?;
                if ty == FieldKind::Bool {
                    return Some(Cond {
                        kind: CondKind::Field(f),
                        span,
                    });
                }
                self.diags.push(
                    Diagnostic::error(
                        Code::E0201,
                        format!("`{}` is {}, not a condition", id.name, describe_type(&ty)),
                        span,
                        "used as a condition",
                    )
                    .with_help(format!(
                        "compare it with a value, e.g. `{} == ...`",
                        id.name
                    )),
                );
                None
            }
            Resolved::Lit(Literal::Bool(b), span) => Some(Cond {
                kind: CondKind::Const(*b),
                span,
            }),
            Resolved::Lit(lit, span) => {
                self.diags.push(Diagnostic::error(
                    Code::E0201,
                    format!("`{}` is {}, not a condition", id.name, lit.describe()),
                    span,
                    "used as a condition",
                ));
                None
            }
            Resolved::Unknown(_) => {
                let d = self.unknown_name(id, "condition or field");
                self.diags.push(d);
                None
            }
        }
    }

    /// Resolves named condition `i`, detecting cycles; `used` is the reference.
    fn resolve_condition(&mut self, i: usize, used: &Ident) -> Option<Cond> {
        match self.cond_states.get(i) {
            Some(CondState::Done(c)) => return c.clone(),
            Some(CondState::InProgress) => {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0104,
                        format!("condition `{}` refers to itself", used.name),
                        used.span,
                        "this reference closes a cycle",
                    )
                    .with_help("a condition can use other conditions, but not itself, directly or through others"),
                );
                self.set_state(i, CondState::Done(None));
                return None;
            }
            _ => {}
        }
        let decl = *self.condition_decls.get(i)?;
        self.set_state(i, CondState::InProgress);
        let c = self.cond(&decl.expr);
        // A cycle found below has already poisoned this entry; keep that.
        if matches!(self.cond_states.get(i), Some(CondState::InProgress)) {
            self.set_state(i, CondState::Done(c.clone()));
        }
        match self.cond_states.get(i) {
            Some(CondState::Done(c)) => c.clone(),
            _ => None,
        }
    }

    fn set_state(&mut self, i: usize, state: CondState) {
        if let Some(slot) = self.cond_states.get_mut(i) {
            *slot = state;
        }
    }

    /// Checks every named condition, used or not, so its errors are reported.
    pub(super) fn check_conditions(&mut self) {
        for i in 0..self.condition_decls.len() {
            if let Some(decl) = self.condition_decls.get(i) {
                let name = decl.name.clone();
                let _ = self.resolve_condition(i, &name);
            }
        }
    }

    /// The field a membership or range test reads.
    fn subject(&mut self, value: &'a Operand, span: Span) -> Option<usize> {
        match self.resolve(value) {
            Resolved::Field(f, _) => Some(f),
            other => self.no_field(other, Resolved::Lit(&Literal::Bool(true), span), span),
        }
    }

    /// The error for a comparison with no field on either side.
    fn no_field<T>(&mut self, left: Resolved<'a>, right: Resolved<'a>, span: Span) -> Option<T> {
        // With two unknown names, the left is most likely the misspelled
        // field (the right, a variant of it): report only that one.
        let unknown = [&left, &right].into_iter().find_map(|side| match side {
            Resolved::Unknown(id) => Some(*id),
            _ => None,
        });
        if let Some(id) = unknown {
            let d = self.unknown_name(id, "field or constant");
            self.diags.push(d);
        } else {
            self.diags.push(
                Diagnostic::error(
                    Code::E0207,
                    "this condition reads no field",
                    span,
                    "both sides are values",
                )
                .with_help("compare a field with a value, e.g. `amount > 100.00`"),
            );
        }
        None
    }

    /// Only numbers and money have an order.
    fn ordered(&mut self, field: usize, op: CmpOp, span: Span) -> Option<()> {
        let ty = self.field_type(field)?;
        let ordered = matches!(
            ty,
            FieldKind::Money | FieldKind::Decimal | FieldKind::Integer
        );
        let equality = matches!(op, CmpOp::Eq | CmpOp::Ne);
        if ordered || (equality && ty != FieldKind::Timestamp) {
            return Some(());
        }
        let name = self.field_name(field).to_string();
        let help = if ty == FieldKind::Timestamp {
            "timestamps are read by notification rules, not compared in conditions".to_string()
        } else {
            format!(
                "{} values have no order; test them with `==`, `!=` or `in {{...}}`",
                ty.name()
            )
        };
        self.diags.push(
            Diagnostic::error(
                Code::E0201,
                format!(
                    "`{name}` is {} and can't be compared with `{}`",
                    describe_type(&ty),
                    op.symbol()
                ),
                span,
                "no order on this field",
            )
            .with_help(help),
        );
        None
    }

    fn field_type(&self, field: usize) -> Option<FieldKind> {
        self.fields.get(field).map(|f| f.ty.clone())
    }

    /// Records the error of `r`, if any.
    pub(super) fn report<T>(&mut self, r: Result<T, Diagnostic>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }
}
