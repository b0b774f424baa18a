//! Explanations built while deciding: the engine tells a tracer what it
//! looked at and why, as it prices a record ([`FeeTracer`]) or decides a
//! notification ([`NotifyTracer`]), so an explanation can never disagree
//! with the decision it explains. A host only words what a recording
//! tracer ([`FeeTrace`], [`NotifyTrace`]) kept.
//!
//! Tracing costs nothing when it is not asked for: the engine's own entry
//! points ([`crate::table::Table::fee`], [`crate::notify::NotifyPolicy::answer`])
//! pass [`NoTrace`], whose `RECORDS` is `false`, so every call to it and
//! every step that only feeds it is compiled away (instruction counts
//! before and after: `BENCHMARKS.md`, section 16).
//!
//! ```
//! # use tollgate_runtime::artifact;
//! # use tollgate_runtime::fee::FeeFormula;
//! # use tollgate_runtime::position::{FieldIndex, RuleIndex};
//! # use tollgate_runtime::rounding::Rounding;
//! # use tollgate_runtime::table::{Cell, FieldKind, FieldSpec, Hit, Row, Rule, Schedule, Table};
//! # use tollgate_runtime::value::Value;
//! # use tollgate_runtime::Decimal;
//! use tollgate_runtime::trace::FeeTrace;
//! # let rule = |name: &str, rate| Rule { name: name.into(), otherwise: false,
//! #     fee: FeeFormula { rate, ..FeeFormula::default() } };
//! # let table = Table::new(
//! #     "fees".into(), 1, Default::default(), "CNY".into(), "Asia/Shanghai".into(),
//! #     vec![FieldSpec { name: "card".into(), kind: FieldKind::Bool, default: None, refunds: false },
//! #          FieldSpec { name: "amount".into(), kind: FieldKind::Money, default: None, refunds: false }],
//! #     vec![Schedule::new(
//! #         "mdr".into(), Hit::First, FieldIndex::new(1), Rounding::half_up_fen(),
//! #         vec![rule("card", Decimal::new(6, 3)), rule("scan", Decimal::new(38, 4))],
//! #         vec![FieldIndex::new(0)],
//! #         vec![Row { rule: RuleIndex::new(0), cells: vec![Cell::Bool(true)] },
//! #              Row { rule: RuleIndex::new(1), cells: vec![Cell::Bool(false)] }])?],
//! # )?;
//! // `table`: rule `card` (when card) charges 0.60%, rule `scan` 0.38%.
//! let record = [Value::Bool(false), Value::Num(Decimal::new(80000, 2))];
//! let (mut components, mut trace) = (Vec::new(), FeeTrace::default());
//! let fee = table.fee_traced(&record, &mut components, &mut trace)?;
//! assert_eq!(fee, Decimal::new(304, 2)); // 800.00 × 0.38%
//! let mdr = &trace.schedules()[0];
//! assert_eq!(mdr.rule, Some(RuleIndex::new(1)));
//! // Rule `card` was tried first: its first cell (`card`) refused the record.
//! assert_eq!(mdr.tried[0].rule, RuleIndex::new(0));
//! assert_eq!(mdr.tried[0].column, 0);
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

mod fees;
mod notify;

pub use fees::{FeeTrace, FeeTracer, Miss, ScheduleTrace, TierTrace};
pub use notify::{NotifyTrace, NotifyTracer, RuleTrace, Saw};

/// The tracer that records nothing: the engine's default, compiled away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoTrace;
