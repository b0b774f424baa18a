//! The interpreters as the answers of conformance vectors
//! ([`tollgate::vectors::Reference`]): `tollgate-vectors` writes what they
//! answer, never what the runtime being certified computes.

use crate::interp_notify::History;
use crate::{exact, interp, interp_notify};
use rust_decimal::Decimal;
use tollgate::model::Policy;
use tollgate::vectors::Reference;
use tollgate_runtime::eval::{Component, EvalError};
use tollgate_runtime::fee::FeeFormula;
use tollgate_runtime::ids::Answer;
use tollgate_runtime::notify::NotifyError;
use tollgate_runtime::rounding::Rounding;
use tollgate_runtime::value::Value;

/// The reference interpreters ([`interp`], [`interp_notify`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Interpreters;

impl Reference for Interpreters {
    type History = History;

    fn price(
        &self,
        policy: &Policy,
        record: &[Value],
    ) -> Result<(Vec<Component>, Decimal), EvalError> {
        let components = interp::evaluate(policy, record)?;
        let total = components.iter().try_fold(Decimal::ZERO, |sum, c| {
            exact::add(sum, c.fee.total).map_err(|_| EvalError::TotalOverflow)
        })?;
        Ok((components, total))
    }

    fn unrounded(
        &self,
        formula: &FeeFormula,
        amount: Decimal,
        rounding: &Rounding,
    ) -> Option<Decimal> {
        interp::fee(formula, amount, rounding).ok().map(|b| b.raw)
    }

    fn history(&self, (first, last): (i32, i32)) -> History {
        History::for_years(first, last)
    }

    fn answer(
        &self,
        policy: &Policy,
        record: &[Value],
        history: &mut History,
    ) -> Option<Result<Answer, NotifyError>> {
        interp_notify::answer(policy, record, history)
    }
}
