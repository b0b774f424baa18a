//! Checking fee schedules and bringing each fee to normal form.

use super::values::{unit_error, Resolved};
use super::{duplicate, suggest, Checker};
use crate::ast::{self, BoundKind, FeeTerm, Ident, Item, Literal, Outcome};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{
    Cond, CondKind, Expect, FeePart, FeeRule, FieldKind, Hit, PolicyKind, Schedule,
};
use crate::span::Span;
use rust_decimal::Decimal;
use std::collections::HashMap;
use tollgate_runtime::fee::{Band, FeeFormula, TierMode};

impl<'a> Checker<'a> {
    /// Checks a fees policy's schedules.
    pub(super) fn fee_body(
        &mut self,
        rounding: Option<&'a ast::RoundingDecl>,
        clock: Option<&'a Ident>,
    ) -> Option<Vec<Schedule>> {
        if let Some(c) = clock {
            self.misplaced(
                c.span,
                "`clock`",
                PolicyKind::Fees,
                "`clock` names the timestamp of notifications; remove it",
            );
        }
        let default_rounding = match rounding {
            Some(r) => Some(self.rounding(r)?),
            None => None,
        };
        let file = self.file;
        let mut schedules = Vec::new();
        let mut ok = true;
        let mut names: HashMap<&str, Span> = HashMap::new();
        for item in &file.items {
            match item {
                Item::Schedule(s) => {
                    if let Some(first) = names.get(s.name.name.as_str()) {
                        self.diags.push(duplicate(&s.name, *first, "schedule"));
                        ok = false;
                        continue;
                    }
                    names.insert(&s.name.name, s.name.span);
                    match self.schedule(s, default_rounding.as_ref(), rounding.is_some()) {
                        Some(s) => schedules.push(s),
                        None => ok = false,
                    }
                }
                Item::Rule(r) => self.misplaced(
                    r.span,
                    "a rule outside any schedule",
                    PolicyKind::Fees,
                    "in a fees policy every rule belongs to a `schedule NAME { ... }`",
                ),
                _ => {}
            }
        }
        if schedules.is_empty() && ok {
            self.diags.push(
                Diagnostic::error(
                    Code::E0302,
                    format!("fees policy `{}` has no schedule", file.name.name),
                    file.name.span,
                    "no fee is ever charged",
                )
                .with_help("add `schedule NAME { hit first  rule ... }`"),
            );
        }
        ok.then_some(schedules)
    }

    fn schedule(
        &mut self,
        s: &'a ast::ScheduleDecl,
        default_rounding: Option<&tollgate_runtime::rounding::Rounding>,
        policy_rounding_written: bool,
    ) -> Option<Schedule> {
        let errors_before = self.diags.len();
        let hit = self.hit(s);
        let rounding = match s.roundings.as_slice() {
            [] => default_rounding.copied(),
            [r, rest @ ..] => {
                for extra in rest {
                    self.diags.push(
                        Diagnostic::error(
                            Code::E0102,
                            "`rounding` is declared twice",
                            extra.span,
                            "second declaration",
                        )
                        .with_label(r.span, "first declared here"),
                    );
                }
                self.rounding(r)
            }
        };
        if rounding.is_none() && s.roundings.is_empty() && !policy_rounding_written {
            self.diags.push(
                Diagnostic::error(
                    Code::E0302,
                    format!("schedule `{}` does not say how fees are rounded", s.name.name),
                    s.name.span,
                    "no rounding declared",
                )
                .with_help("add `rounding half_up` (to 0.01 unless `to STEP` follows) here or at the top of the file"),
            );
        }
        let base = self.base(s);
        let mut rules = Vec::new();
        let mut names: HashMap<&str, Span> = HashMap::new();
        let mut otherwise_at: Option<Span> = None;
        for r in &s.rules {
            let is_otherwise = r.when.is_none();
            if let Some(first) = otherwise_at {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0303,
                        if is_otherwise { "second `otherwise` in a schedule" } else { "rule after `otherwise`" },
                        r.span,
                        "never reached",
                    )
                    .with_label(first, "`otherwise` matches everything left")
                    .with_help("`otherwise` must be the last line of its schedule, and there is at most one"),
                );
                continue;
            }
            if is_otherwise {
                otherwise_at = Some(r.name.span);
            } else if let Some(first) = names.get(r.name.name.as_str()) {
                self.diags.push(duplicate(&r.name, *first, "rule"));
                continue;
            } else {
                names.insert(&r.name.name, r.name.span);
            }
            let when = match &r.when {
                Some(e) => self.cond(e),
                None => Some(Cond {
                    kind: CondKind::Const(true),
                    span: r.name.span,
                }),
            };
            let fee = match &r.outcome {
                Outcome::Fee(f) => base.and_then(|b| self.fee(f, b, s)),
                Outcome::Action(_) => {
                    self.misplaced(
                        r.span,
                        "a notification action",
                        PolicyKind::Fees,
                        "a schedule's rules give fees, such as `=> 0.60%`",
                    );
                    None
                }
            };
            if let (Some(when), Some(fee)) = (when, fee) {
                rules.push(FeeRule {
                    name: r.name.name.clone(),
                    when,
                    otherwise: is_otherwise,
                    fee,
                    span: r.span,
                });
            }
        }
        let expects = s.expects.iter().filter_map(|e| self.expect(e)).collect();
        if s.rules.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    Code::E0302,
                    format!("schedule `{}` has no rules", s.name.name),
                    s.name.span,
                    "empty schedule",
                )
                .with_help("add `rule NAME when CONDITION => FEE` or `otherwise => FEE`"),
            );
        }
        if self.diags.len() > errors_before {
            return None;
        }
        Some(Schedule {
            name: s.name.name.clone(),
            hit: hit?,
            base: base?,
            rounding: rounding?,
            rules,
            expects,
            name_span: s.name.span,
            span: s.span,
        })
    }

    /// `expect PART between LOW and HIGH [when COND]`.
    fn expect(&mut self, e: &'a ast::ExpectDecl) -> Option<Expect> {
        let part = match e.part.name.as_str() {
            "rate" => FeePart::Rate,
            "fixed" => FeePart::Fixed,
            "min" => FeePart::Min,
            "cap" => FeePart::Cap,
            other => {
                let parts = ["rate", "fixed", "min", "cap"];
                self.diags.push(
                    Diagnostic::error(
                        Code::E0101,
                        format!("`{other}` is not a part of a fee"),
                        e.part.span,
                        "not a fee part",
                    )
                    .with_help(
                        suggest::did_you_mean(other, parts).unwrap_or_else(|| {
                            "a range bounds a fee's `rate`, `fixed`, `min` or `cap`".to_string()
                        }),
                    ),
                );
                return None;
            }
        };
        let bound = |this: &mut Self, v: &'a ast::Operand| -> Option<Decimal> {
            if part == FeePart::Rate {
                match this.resolve(v) {
                    Resolved::Lit(Literal::Rate(r), _) => Some(*r),
                    Resolved::Lit(lit, span) => {
                        this.diags
                            .push(unit_error("a rate range", "a rate", lit, span));
                        None
                    }
                    Resolved::Field(i, span) => {
                        this.diags.push(Diagnostic::error(
                            Code::E0201,
                            format!(
                                "a rate range must be written in the policy, not read from `{}`",
                                this.field_name(i)
                            ),
                            span,
                            "a field",
                        ));
                        None
                    }
                    Resolved::Unknown(id) => {
                        let d = this.unknown_name(id, "constant");
                        this.diags.push(d);
                        None
                    }
                }
            } else {
                let m = this.money(v, "a money range");
                this.report(m)
            }
        };
        let low = bound(self, &e.low);
        let high = bound(self, &e.high);
        let when = match &e.when {
            Some(x) => self.cond(x)?,
            None => Cond {
                kind: CondKind::Const(true),
                span: e.part.span,
            },
        };
        let (low, high) = (low?, high?);
        if low > high {
            self.diags.push(
                Diagnostic::error(
                    Code::E0203,
                    format!("the range from {low} to {high} is empty"),
                    e.low.span().to(e.high.span()),
                    "low end above high end",
                )
                .with_help("write the lower bound first"),
            );
            return None;
        }
        Some(Expect {
            part,
            low,
            high,
            when,
            span: e.span,
        })
    }

    fn hit(&mut self, s: &'a ast::ScheduleDecl) -> Option<Hit> {
        let Some((first, rest)) = s.hits.split_first() else {
            self.diags.push(
                Diagnostic::error(
                    Code::E0302,
                    format!("schedule `{}` does not declare a hit policy", s.name.name),
                    s.name.span,
                    "no `hit` line",
                )
                .with_help("add `hit first` (the first matching rule wins) or `hit unique` (rules never overlap)"),
            );
            return None;
        };
        for extra in rest {
            self.diags.push(
                Diagnostic::error(
                    Code::E0102,
                    "`hit` is declared twice",
                    extra.span,
                    "second declaration",
                )
                .with_label(first.span, "first declared here"),
            );
        }
        match first.name.as_str() {
            "first" => Some(Hit::First),
            "unique" => Some(Hit::Unique),
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0101,
                        format!("unknown hit policy `{}`", first.name),
                        first.span,
                        "not a hit policy",
                    )
                    .with_help(
                        suggest::did_you_mean(&first.name, ["first", "unique"]).unwrap_or_else(
                            || "a schedule is `hit first` or `hit unique`".to_string(),
                        ),
                    ),
                );
                None
            }
        }
    }

    /// The money field a schedule's rates apply to.
    fn base(&mut self, s: &'a ast::ScheduleDecl) -> Option<usize> {
        if let Some(id) = &s.base {
            return self.money_field(id);
        }
        let money: Vec<usize> = (0..self.fields.len())
            .filter(|&i| self.fields.get(i).is_some_and(|f| f.ty == FieldKind::Money))
            .collect();
        match money.as_slice() {
            [one] => Some(*one),
            [] => {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0302,
                        format!("schedule `{}` has no amount to charge on", s.name.name),
                        s.name.span,
                        "no money field in the policy",
                    )
                    .with_help("declare the transaction amount: `field amount: money`"),
                );
                None
            }
            several => {
                let names: Vec<&str> = several.iter().map(|&i| self.field_name(i)).collect();
                let d = Diagnostic::error(
                    Code::E0302,
                    format!(
                        "schedule `{}` does not say which amount it charges on",
                        s.name.name
                    ),
                    s.name.span,
                    format!("the policy has {} money fields", names.len()),
                )
                .with_help(format!(
                    "name one after the schedule: `schedule {} on {}`",
                    s.name.name,
                    names.join("` or `on ")
                ));
                self.diags.push(d);
                None
            }
        }
    }

    /// `id` as a money field.
    fn money_field(&mut self, id: &'a Ident) -> Option<usize> {
        match self.resolve_name(id) {
            Resolved::Field(i, span) => {
                let ty = self.fields.get(i).map(|f| f.ty.clone());
                if ty == Some(FieldKind::Money) {
                    return Some(i);
                }
                self.diags.push(
                    Diagnostic::error(
                        Code::E0201,
                        format!(
                            "fees are charged on money, but `{}` is {}",
                            id.name,
                            ty.map_or("?", |t| t.name())
                        ),
                        span,
                        "not a money field",
                    )
                    .with_help("name a field declared as `money`"),
                );
                None
            }
            _ => {
                let money: Vec<&str> = self
                    .fields
                    .iter()
                    .filter(|f| f.ty == FieldKind::Money)
                    .map(|f| f.name.as_str())
                    .collect();
                self.diags.push(
                    Diagnostic::error(
                        Code::E0101,
                        format!("unknown name `{}`", id.name),
                        id.span,
                        "no field has this name",
                    )
                    .with_help_opt(suggest::did_you_mean(&id.name, money)),
                );
                None
            }
        }
    }

    /// Brings a fee to normal form, enforcing units: a rate alone applies to
    /// the schedule's amount; added to money it must be written `RATE of FIELD`.
    fn fee(
        &mut self,
        fee: &'a ast::Fee,
        base: usize,
        s: &'a ast::ScheduleDecl,
    ) -> Option<FeeFormula> {
        let mut out = FeeFormula::zero();
        let mut bare_rate: Option<Span> = None;
        let mut money_term: Option<Span> = None;
        let mut tiered_at: Option<Span> = None;
        let mut ok = true;
        for term in &fee.terms {
            match term {
                FeeTerm::Tiered(t) => {
                    if let Some(first) = tiered_at {
                        self.diags.push(
                            Diagnostic::error(
                                Code::E0102,
                                "a fee has two tiered parts",
                                t.span,
                                "second tiers",
                            )
                            .with_label(first, "first tiers")
                            .with_help("a fee has at most one set of bands"),
                        );
                        ok = false;
                        continue;
                    }
                    tiered_at = Some(t.span);
                    money_term.get_or_insert(t.span);
                    ok &= self.tiers(t, &mut out).is_some();
                }
                FeeTerm::Operand { value, of } => {
                    let span = value.span();
                    let rate = match self.resolve(value) {
                        Resolved::Lit(Literal::Rate(r), _) => Some(*r),
                        Resolved::Lit(Literal::Number(d), _) if of.is_none() => {
                            ok &= self.add(&mut out.fixed, *d, span);
                            money_term.get_or_insert(span);
                            None
                        }
                        Resolved::Lit(Literal::Money { amount, currency }, lit_span)
                            if of.is_none() =>
                        {
                            ok &= self
                                .report(self.check_currency(*amount, currency, lit_span))
                                .is_some();
                            ok &= self.add(&mut out.fixed, *amount, span);
                            money_term.get_or_insert(span);
                            None
                        }
                        Resolved::Lit(lit, lit_span) => {
                            let wanted = if of.is_some() {
                                "a rate"
                            } else {
                                "a rate or an amount"
                            };
                            self.diags.push(unit_error("a fee", wanted, lit, lit_span));
                            ok = false;
                            None
                        }
                        Resolved::Field(i, fspan) => {
                            let name = self.field_name(i).to_string();
                            self.diags.push(
                                Diagnostic::error(
                                    Code::E0201,
                                    format!("a fee can't be the field `{name}`"),
                                    fspan,
                                    "a field",
                                )
                                .with_help(format!("charge a rate of it, e.g. `0.60% of {name}`")),
                            );
                            ok = false;
                            None
                        }
                        Resolved::Unknown(id) => {
                            let d = self.unknown_name(id, "constant");
                            self.diags.push(d);
                            ok = false;
                            None
                        }
                    };
                    let Some(rate) = rate else { continue };
                    ok &= self.rate_in_range(rate, span);
                    ok &= self.add(&mut out.rate, rate, span);
                    match of {
                        None => {
                            bare_rate.get_or_insert(span);
                        }
                        Some(field) => {
                            money_term.get_or_insert(span.to(field.span));
                            match self.money_field(field) {
                                Some(i) if i != base => {
                                    self.diags.push(
                                        Diagnostic::error(
                                            Code::E0201,
                                            format!("schedule `{}` charges on `{}`, not `{}`", s.name.name, self.field_name(base), field.name),
                                            field.span,
                                            "another amount",
                                        )
                                        .with_help("all rates of a schedule apply to its one amount; use another schedule for another amount"),
                                    );
                                    ok = false;
                                }
                                Some(_) => {}
                                None => ok = false,
                            }
                        }
                    }
                }
            }
        }
        if let (Some(rate_span), Some(money_span)) = (bare_rate, money_term) {
            let base_name = self.field_name(base).to_string();
            self.diags.push(
                Diagnostic::error(Code::E0202, "a rate is added to money", rate_span, "a rate")
                    .with_label(money_span, "money")
                    .with_help(format!(
                        "a rate is not money; charge it on the amount: `RATE of {base_name}`"
                    )),
            );
            ok = false;
        }
        ok &= self.bounds(fee, &mut out).is_some();
        if out.fixed < Decimal::ZERO {
            self.diags.push(
                Diagnostic::error(
                    Code::E0203,
                    "fixed fee is negative",
                    money_term.unwrap_or(fee.span),
                    "below zero",
                )
                .with_help("fees are charged, never paid out; write a positive amount"),
            );
            ok = false;
        }
        ok.then_some(out)
    }

    /// Adds `x` to a fee's running sum; overflow is an error, not a panic.
    fn add(&mut self, sum: &mut Decimal, x: Decimal, span: Span) -> bool {
        match sum.checked_add(x) {
            Some(v) => {
                *sum = v;
                true
            }
            None => {
                self.diags.push(Diagnostic::error(
                    Code::E0203,
                    "fee terms add up to more than can be represented",
                    span,
                    "overflows here",
                ));
                false
            }
        }
    }

    /// A rate must lie in 0%..=100%.
    fn rate_in_range(&mut self, rate: Decimal, span: Span) -> bool {
        if rate >= Decimal::ZERO && rate <= Decimal::ONE {
            return true;
        }
        let msg = if rate < Decimal::ZERO {
            "rate is negative"
        } else {
            "rate is above 100%"
        };
        self.diags.push(
            Diagnostic::error(Code::E0203, msg, span, "out of range")
                .with_help("a rate lies between 0% and 100%; card rates are usually below 1%"),
        );
        false
    }

    fn tiers(&mut self, t: &'a ast::Tiered, out: &mut FeeFormula) -> Option<()> {
        let mode = match t.mode.name.as_str() {
            "whole" => Some(TierMode::Whole),
            "marginal" => Some(TierMode::Marginal),
            _ => {
                self.diags.push(
                    Diagnostic::error(Code::E0101, format!("unknown tier mode `{}`", t.mode.name), t.mode.span, "not a tier mode")
                        .with_help(suggest::did_you_mean(&t.mode.name, ["whole", "marginal"]).unwrap_or_else(|| {
                            "`tiered whole` charges the band's rate on the whole amount; `tiered marginal` charges each band on its part".to_string()
                        })),
                );
                None
            }
        };
        let mut bands = Vec::with_capacity(t.bands.len());
        let mut ok = true;
        let mut previous: Option<(Decimal, Span)> = None;
        let last = t.bands.len().saturating_sub(1);
        for (i, b) in t.bands.iter().enumerate() {
            let rate = match self.resolve(&b.rate) {
                Resolved::Lit(Literal::Rate(r), span) => {
                    ok &= self.rate_in_range(*r, span);
                    *r
                }
                Resolved::Lit(lit, span) => {
                    self.diags.push(unit_error("a band", "a rate", lit, span));
                    ok = false;
                    Decimal::ZERO
                }
                Resolved::Field(_, span) => {
                    self.diags.push(Diagnostic::error(
                        Code::E0201,
                        "a band's rate must be written in the policy",
                        span,
                        "a field",
                    ));
                    ok = false;
                    Decimal::ZERO
                }
                Resolved::Unknown(id) => {
                    let d = self.unknown_name(id, "constant");
                    self.diags.push(d);
                    ok = false;
                    Decimal::ZERO
                }
            };
            let up_to = match &b.up_to {
                None if i != last => {
                    self.diags.push(
                        Diagnostic::error(
                            Code::E0304,
                            "`above` band is not the last",
                            b.span,
                            "bands after this are never reached",
                        )
                        .with_help("list bands from the lowest `up to` to the open `above` band"),
                    );
                    ok = false;
                    None
                }
                None => None,
                Some(v) => {
                    let bound = self.money(v, "a band bound");
                    let bound = self.report(bound);
                    match (bound, previous) {
                        (Some(x), Some((p, pspan))) if x <= p => {
                            self.diags.push(
                                Diagnostic::error(
                                    Code::E0304,
                                    format!("band bound {x} is not above the previous one, {p}"),
                                    v.span(),
                                    "out of order",
                                )
                                .with_label(pspan, "previous bound")
                                .with_help(
                                    "bands go up: each `up to` must be larger than the one before",
                                ),
                            );
                            ok = false;
                        }
                        (Some(x), _) if x < Decimal::ZERO => {
                            self.diags.push(Diagnostic::error(
                                Code::E0203,
                                "band bound is negative",
                                v.span(),
                                "below zero",
                            ));
                            ok = false;
                        }
                        (Some(x), _) => previous = Some((x, v.span())),
                        (None, _) => ok = false,
                    }
                    bound
                }
            };
            bands.push(Band { up_to, rate });
        }
        if let Some(b) = t.bands.last() {
            if b.up_to.is_some() {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0304,
                        "tiers end without an `above` band",
                        b.span,
                        "amounts above this bound have no rate",
                    )
                    .with_help("end the bands with `above => RATE`"),
                );
                ok = false;
            }
        }
        out.tiers = bands;
        out.tier_mode = mode;
        (ok && mode.is_some()).then_some(())
    }

    /// `min` and `cap` of the percentage part, then `total min` and `total
    /// cap` of the whole fee: each at most once, not negative, the cap not
    /// below the minimum.
    fn bounds(&mut self, fee: &'a ast::Fee, out: &mut FeeFormula) -> Option<()> {
        let mut ok = true;
        let mut spans: [Option<Span>; 4] = [None, None, None, None];
        for b in &fee.bounds {
            let (slot, word) = match (b.total, b.kind) {
                (false, BoundKind::Min) => (0, "min"),
                (false, BoundKind::Cap) => (1, "cap"),
                (true, BoundKind::Min) => (2, "total min"),
                (true, BoundKind::Cap) => (3, "total cap"),
            };
            if let Some(Some(first)) = spans.get(slot) {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0102,
                        format!("`{word}` is given twice"),
                        b.span,
                        "second",
                    )
                    .with_label(*first, "first"),
                );
                ok = false;
                continue;
            }
            if let Some(s) = spans.get_mut(slot) {
                *s = Some(b.span);
            }
            let v = self.money(&b.value, &format!("a fee's `{word}`"));
            let Some(v) = self.report(v) else {
                ok = false;
                continue;
            };
            if v < Decimal::ZERO {
                self.diags.push(Diagnostic::error(
                    Code::E0203,
                    format!("`{word}` is negative"),
                    b.value.span(),
                    "below zero",
                ));
                ok = false;
            }
            match slot {
                0 => out.min = Some(v),
                1 => out.cap = Some(v),
                2 => out.total_min = Some(v),
                _ => out.total_cap = Some(v),
            }
        }
        let [min_span, cap_span, total_min_span, total_cap_span] = spans;
        let pairs = [
            (out.min, out.cap, min_span, cap_span, ""),
            (
                out.total_min,
                out.total_cap,
                total_min_span,
                total_cap_span,
                "total ",
            ),
        ];
        for (min, cap, min_span, cap_span, word) in pairs {
            let (Some(min), Some(cap), Some(min_span), Some(cap_span)) =
                (min, cap, min_span, cap_span)
            else {
                continue;
            };
            if cap < min {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0204,
                        format!("{word}cap {cap} is below the {word}minimum {min}"),
                        cap_span,
                        "cap",
                    )
                    .with_label(min_span, "minimum")
                    .with_help("the cap must be at least the minimum; swap or correct them"),
                );
                ok = false;
            }
        }
        ok.then_some(())
    }
}
