//! Lowers pest's parse tree to the owned [`crate::ast`], parsing literals on
//! the way. Literal errors (`25:00`, a number too large) are collected.

use super::grammar::Rule;
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::{Span, Spanned};
use pest::iterators::Pair;
use rust_decimal::Decimal;
use tollgate_runtime::activation::Stamp;

type P<'i> = Pair<'i, Rule>;

/// Keywords and punctuation that only mark structure; everything else
/// carries meaning.
pub(super) fn is_marker(rule: Rule) -> bool {
    if matches!(
        rule,
        Rule::kw_min | Rule::kw_cap | Rule::kw_not | Rule::kw_above | Rule::kw_of
    ) {
        return false;
    }
    let name = format!("{rule:?}");
    name.starts_with("kw_") || name.starts_with("punct_")
}

/// Where `pair` was written, without the blank lines and whole-line
/// comments a rule that ends in a repetition takes in after its last token
/// (a declaration's pest span can run up to the next declaration).
pub(super) fn span_of(pair: &P<'_>) -> Span {
    let s = pair.as_span();
    let text = pair.as_str();
    let mut end = text.len();
    loop {
        let kept = text.get(..end).unwrap_or("").trim_end();
        end = kept.len();
        let line_start = kept.rfind('\n').map_or(0, |i| i + 1);
        let last = kept.get(line_start..).unwrap_or("");
        if line_start > 0 && last.trim_start().starts_with('#') {
            end = line_start;
        } else {
            break;
        }
    }
    if end == 0 {
        return Span::new(s.start(), s.end());
    }
    Span::new(s.start(), s.start() + end)
}

/// The meaningful children of `pair`.
pub(super) fn children<'i>(pair: &P<'i>) -> Vec<P<'i>> {
    pair.clone()
        .into_inner()
        .filter(|p| !is_marker(p.as_rule()))
        .collect()
}

/// Collects diagnostics while lowering.
#[derive(Default)]
pub(super) struct Lowerer {
    pub(super) errors: Vec<Diagnostic>,
}

impl Lowerer {
    /// Records that the parse tree did not have the expected shape. The
    /// grammar guarantees it does; this keeps a grammar bug from panicking.
    fn shape(&mut self, span: Span, what: &str) {
        self.errors.push(
            Diagnostic::error(
                Code::E0001,
                format!("internal error: malformed {what}"),
                span,
                "here",
            )
            .with_help("this is a bug in Tollgate; please report it with the file"),
        );
    }

    fn child<'i>(&mut self, kids: &[P<'i>], i: usize, parent: &P<'i>, what: &str) -> Option<P<'i>> {
        let got = kids.get(i).cloned();
        if got.is_none() {
            self.shape(span_of(parent), what);
        }
        got
    }

    fn value_at(
        &mut self,
        kids: &[P<'_>],
        i: usize,
        parent: &P<'_>,
        what: &str,
    ) -> Option<Operand> {
        let pair = self.child(kids, i, parent, what)?;
        self.value(&pair)
    }

    fn expr_at(&mut self, kids: &[P<'_>], i: usize, parent: &P<'_>, what: &str) -> Option<Expr> {
        let pair = self.child(kids, i, parent, what)?;
        self.expr(&pair)
    }

    pub(super) fn file(&mut self, pair: P<'_>) -> Option<File> {
        let kids = children(&pair);
        let header = self.child(&kids, 0, &pair, "file")?;
        let hk = children(&header);
        let name = ident(&self.child(&hk, 0, &header, "header")?);
        let version_pair = self.child(&hk, 1, &header, "header")?;
        let version = match version_pair.as_str().parse::<u32>() {
            Ok(v) => v,
            Err(_) => {
                self.literal_error::<()>(
                    &version_pair,
                    "version must be a whole number below 4294967296",
                );
                0
            }
        };
        let mut items = Vec::new();
        let mut expects = Vec::new();
        for item in kids.iter().skip(1) {
            match item.as_rule() {
                Rule::EOI => {}
                Rule::expect_decl => expects.extend(self.expect(item)),
                _ => items.extend(self.item(item)),
            }
        }
        if !expects.is_empty() {
            self.share_expects(expects, &mut items);
        }
        Some(File {
            name,
            version: Spanned::new(version, span_of(&version_pair)),
            items,
        })
    }

    fn item(&mut self, pair: &P<'_>) -> Option<Item> {
        let kids = children(pair);
        let first = self.child(&kids, 0, pair, "declaration")?;
        Some(match pair.as_rule() {
            Rule::kind_decl => Item::Kind(ident(&first)),
            Rule::currency_decl => Item::Currency(ident(&first)),
            Rule::clock_decl => Item::Clock(ident(&first)),
            Rule::lateness_decl => Item::Lateness(LatenessDecl {
                within: self.value(&first)?,
                span: span_of(pair),
            }),
            Rule::effective_decl => {
                let from = self.stamp(&first)?;
                let until = match kids.get(1) {
                    Some(p) => Some(self.stamp(p)?),
                    None => None,
                };
                Item::Effective(EffectiveDecl {
                    from,
                    until,
                    span: span_of(pair),
                })
            }
            Rule::message_id_decl => Item::MessageId(MessageIdDecl {
                field: ident(&first),
                span: span_of(pair),
            }),
            Rule::timezone_decl => Item::Timezone(Spanned::new(unescape(&first), span_of(&first))),
            Rule::rounding_decl => Item::Rounding(self.rounding(pair)?),
            Rule::field_decl => {
                let ty_pair = self.child(&kids, 1, pair, "field")?;
                let ty = match ty_pair.clone().into_inner().next() {
                    Some(inner) if inner.as_rule() == Rule::enum_type => TypeExpr::Enum {
                        variants: children(&inner).iter().map(ident).collect(),
                        span: span_of(&inner),
                    },
                    Some(inner) => TypeExpr::Named(ident(&inner)),
                    None => {
                        self.shape(span_of(&ty_pair), "type");
                        return None;
                    }
                };
                let refunds = kids
                    .iter()
                    .find(|k| k.as_rule() == Rule::refunds)
                    .map(span_of);
                let default = match kids.iter().skip(2).find(|k| k.as_rule() == Rule::value) {
                    Some(v) => Some(self.value(v)?),
                    None => None,
                };
                Item::Field(FieldDecl {
                    name: ident(&first),
                    ty,
                    default,
                    refunds,
                    span: span_of(pair),
                })
            }
            Rule::const_decl => Item::Const(ConstDecl {
                name: ident(&first),
                value: self.value_at(&kids, 1, pair, "constant")?,
            }),
            Rule::condition_decl => Item::Condition(ConditionDecl {
                name: ident(&first),
                expr: self.expr_at(&kids, 1, pair, "condition")?,
            }),
            Rule::schedule_decl => Item::Schedule(self.schedule(pair, &kids)?),
            Rule::rule_decl => Item::Rule(Box::new(self.rule(pair)?)),
            Rule::lint_decl if first.as_rule() == Rule::lint_budget => {
                let units = self.child(&children(&first), 0, &first, "lint budget")?;
                match units.as_str().parse::<u64>() {
                    Ok(n) => Item::LintBudget(Spanned::new(n, span_of(&units))),
                    Err(_) => {
                        return self.literal_error(
                            &units,
                            "a lint budget must be a whole number below 18446744073709551616",
                        );
                    }
                }
            }
            Rule::lint_decl => Item::Lint(LintDecl {
                level: ident(&first),
                names: kids.iter().skip(1).map(ident).collect(),
                span: span_of(pair),
            }),
            _ => {
                self.shape(span_of(pair), "declaration");
                return None;
            }
        })
    }

    /// `expect PART between LOW and HIGH [when EXPR]`.
    fn expect(&mut self, p: &P<'_>) -> Option<ExpectDecl> {
        let ek = children(p);
        let part = ek.first().map(ident)?;
        let low = self.value_at(&ek, 1, p, "expect")?;
        let high = self.value_at(&ek, 2, p, "expect")?;
        let when = match ek.get(3) {
            Some(_) => Some(self.expr_at(&ek, 3, p, "expect")?),
            None => None,
        };
        Some(ExpectDecl {
            part,
            low,
            high,
            when,
            span: span_of(p),
        })
    }

    /// Top-level `expect` lines hold for every schedule: each schedule gets
    /// a copy after its own. A policy without schedules has nothing for
    /// them to bound.
    fn share_expects(&mut self, expects: Vec<ExpectDecl>, items: &mut [Item]) {
        let mut schedules = 0;
        for item in items.iter_mut() {
            if let Item::Schedule(s) = item {
                s.expects.extend(expects.iter().cloned());
                schedules += 1;
            }
        }
        if schedules == 0 {
            for e in expects {
                self.errors.push(
                    Diagnostic::error(
                        Code::E0301,
                        "`expect` bounds the fees of schedules, and this policy has none",
                        e.span,
                        "no schedule to bound",
                    )
                    .with_help("`expect` lines belong to fees policies; remove this one"),
                );
            }
        }
    }

    fn rounding(&mut self, pair: &P<'_>) -> Option<RoundingDecl> {
        let kids = children(pair);
        let mode = ident(&self.child(&kids, 0, pair, "rounding")?);
        let step = match kids.get(1) {
            Some(v) => Some(self.value(v)?),
            None => None,
        };
        Some(RoundingDecl {
            mode,
            step,
            span: span_of(pair),
        })
    }

    fn schedule(&mut self, pair: &P<'_>, kids: &[P<'_>]) -> Option<ScheduleDecl> {
        let mut rest = kids.iter();
        let name = ident(rest.next()?);
        let mut sched = ScheduleDecl {
            name,
            base: None,
            hits: Vec::new(),
            roundings: Vec::new(),
            expects: Vec::new(),
            rules: Vec::new(),
            span: span_of(pair),
        };
        for p in rest {
            match p.as_rule() {
                Rule::ident => sched.base = Some(ident(p)),
                Rule::hit_decl => {
                    if let Some(h) = p.clone().into_inner().find(|c| c.as_rule() == Rule::ident) {
                        sched.hits.push(ident(&h));
                    }
                }
                Rule::rounding_decl => {
                    if let Some(r) = self.rounding(p) {
                        sched.roundings.push(r);
                    }
                }
                Rule::rule_decl => {
                    if let Some(r) = self.rule(p) {
                        sched.rules.push(r);
                    }
                }
                Rule::expect_decl => {
                    if let Some(e) = self.expect(p) {
                        sched.expects.push(e);
                    }
                }
                Rule::otherwise_rule => {
                    let kw = p.clone().into_inner().next()?;
                    let fee_pair = children(p).into_iter().next()?;
                    if let Some(fee) = self.fee(&fee_pair) {
                        sched.rules.push(RuleDecl {
                            name: ident(&kw),
                            when: None,
                            outcome: Outcome::Fee(fee),
                            span: span_of(p),
                        });
                    }
                }
                _ => self.shape(span_of(p), "schedule"),
            }
        }
        Some(sched)
    }

    fn rule(&mut self, pair: &P<'_>) -> Option<RuleDecl> {
        let kids = children(pair);
        let name = ident(&self.child(&kids, 0, pair, "rule")?);
        let when = self.expr_at(&kids, 1, pair, "rule")?;
        let out = self.child(&kids, 2, pair, "rule")?;
        let outcome = match out.as_rule() {
            Rule::fee => Outcome::Fee(self.fee(&out)?),
            _ => Outcome::Action(self.action(&out)?),
        };
        Some(RuleDecl {
            name,
            when: Some(when),
            outcome,
            span: span_of(pair),
        })
    }

    fn fee(&mut self, pair: &P<'_>) -> Option<Fee> {
        let mut fee = Fee {
            terms: Vec::new(),
            bounds: Vec::new(),
            span: span_of(pair),
        };
        for p in children(pair) {
            let kids = children(&p);
            match p.as_rule() {
                Rule::fee_term => {
                    let first = self.child(&kids, 0, &p, "fee")?;
                    if first.as_rule() == Rule::tiered {
                        fee.terms.push(FeeTerm::Tiered(self.tiered(&first)?));
                    } else {
                        let value = self.value(&first)?;
                        let of = kids.get(2).map(ident);
                        fee.terms.push(FeeTerm::Operand { value, of });
                    }
                }
                Rule::fee_bound => fee.bounds.push(self.fee_bound(&p, false)?),
                Rule::total_bounds => {
                    for b in kids.iter().filter(|k| k.as_rule() == Rule::fee_bound) {
                        fee.bounds.push(self.fee_bound(b, true)?);
                    }
                }
                _ => self.shape(span_of(&p), "fee"),
            }
        }
        Some(fee)
    }

    /// `min X` or `cap X`; `total` when it follows the word `total`.
    fn fee_bound(&mut self, p: &P<'_>, total: bool) -> Option<FeeBound> {
        let kids = children(p);
        let kind = match kids.first().map(|k| k.as_rule()) {
            Some(Rule::kw_min) => BoundKind::Min,
            _ => BoundKind::Cap,
        };
        let value = self.value_at(&kids, 1, p, "bound")?;
        Some(FeeBound {
            kind,
            total,
            value,
            span: span_of(p),
        })
    }

    fn tiered(&mut self, pair: &P<'_>) -> Option<Tiered> {
        let kids = children(pair);
        let mode = ident(&self.child(&kids, 0, pair, "tiers")?);
        let mut bands = Vec::new();
        for band in kids.iter().skip(1) {
            let bk = children(band);
            let limit = self.child(&bk, 0, band, "band")?;
            let rate = self.value_at(&bk, 1, band, "band")?;
            let up_to = match children(&limit).first() {
                Some(v) if v.as_rule() == Rule::value => Some(self.value(v)?),
                _ => None,
            };
            bands.push(BandDecl {
                up_to,
                rate,
                span: span_of(band),
            });
        }
        Some(Tiered {
            mode,
            bands,
            span: span_of(pair),
        })
    }

    fn action(&mut self, pair: &P<'_>) -> Option<Action> {
        let span = span_of(pair);
        let kids = children(pair);
        Some(match pair.as_rule() {
            Rule::always_deliver => Action::AlwaysDeliver(span),
            Rule::suppress => Action::Suppress {
                reason: self.value_at(&kids, 0, pair, "suppress")?,
                span,
            },
            Rule::dedup => Action::Dedup {
                keys: keys(&self.child(&kids, 0, pair, "dedup")?),
                within: self.value_at(&kids, 1, pair, "dedup")?,
                span,
            },
            Rule::quiet => {
                let mut windows = Vec::new();
                let mut then = None;
                for k in &kids {
                    if k.as_rule() == Rule::window {
                        let wk = children(k);
                        let a = self.value_at(&wk, 0, k, "window")?;
                        let b = self.value_at(&wk, 1, k, "window")?;
                        windows.push((a, b));
                    } else {
                        then = Some(ident(k));
                    }
                }
                let Some(then) = then else {
                    self.shape(span, "quiet");
                    return None;
                };
                Action::Quiet {
                    windows,
                    then,
                    span,
                }
            }
            Rule::limit => {
                let max = self.value_at(&kids, 0, pair, "limit")?;
                let mut bounds = None;
                let mut period = None;
                let mut key_fields = Vec::new();
                for k in kids.iter().skip(1) {
                    match k.as_rule() {
                        Rule::bounds => {
                            let bk = children(k);
                            let lo = self.value_at(&bk, 0, k, "bounds")?;
                            let hi = self.value_at(&bk, 1, k, "bounds")?;
                            bounds = Some((lo, hi));
                        }
                        Rule::period => {
                            let inner = self.child(&children(k), 0, k, "period")?;
                            period = Some(if inner.as_rule() == Rule::calendar_day {
                                Period::CalendarDay(span_of(&inner))
                            } else {
                                Period::Rolling(self.value(&inner)?)
                            });
                        }
                        Rule::key_list => key_fields = keys(k),
                        _ => self.shape(span_of(k), "limit"),
                    }
                }
                let Some(period) = period else {
                    self.shape(span, "limit");
                    return None;
                };
                Action::Limit {
                    max,
                    bounds,
                    period,
                    keys: key_fields,
                    span,
                }
            }
            _ => {
                self.shape(span, "action");
                return None;
            }
        })
    }

    fn expr(&mut self, pair: &P<'_>) -> Option<Expr> {
        let span = span_of(pair);
        match pair.as_rule() {
            Rule::expr | Rule::and_expr => {
                let mut parts = Vec::new();
                for k in children(pair) {
                    if matches!(k.as_rule(), Rule::and_expr | Rule::unary) {
                        parts.push(self.expr(&k)?);
                    }
                }
                if parts.len() == 1 {
                    return parts.pop();
                }
                Some(if pair.as_rule() == Rule::expr {
                    Expr::Or(parts, span)
                } else {
                    Expr::And(parts, span)
                })
            }
            Rule::unary => {
                let kids = children(pair);
                let (nots, rest) = kids.split_at(kids.len().saturating_sub(1));
                let primary = rest.first()?;
                let e = self.expr(primary)?;
                // `not not x` is `x`: fold the chain so no run of `not`s,
                // however long, builds a deep tree.
                match nots.first() {
                    Some(first) if nots.len() % 2 == 1 => {
                        let s = span_of(first).to(e.span());
                        Some(Expr::Not(Box::new(e), s))
                    }
                    _ => Some(e),
                }
            }
            Rule::group => self.expr_at(&children(pair), 0, pair, "group"),
            Rule::comparison => {
                let kids = children(pair);
                let left = self.value_at(&kids, 0, pair, "comparison")?;
                let op_pair = self.child(&kids, 1, pair, "comparison")?;
                let op = match op_pair.as_str() {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                let right = self.value_at(&kids, 2, pair, "comparison")?;
                Some(Expr::Compare {
                    left,
                    op: Spanned::new(op, span_of(&op_pair)),
                    right,
                    span,
                })
            }
            Rule::membership => {
                let kids = children(pair);
                let value = self.value_at(&kids, 0, pair, "membership")?;
                let negated = kids.iter().any(|k| k.as_rule() == Rule::not_in);
                let set_pair = kids.iter().find(|k| k.as_rule() == Rule::set)?;
                let mut set = Vec::new();
                for v in children(set_pair) {
                    set.push(self.value(&v)?);
                }
                Some(Expr::Member {
                    value,
                    negated,
                    set,
                    span,
                })
            }
            Rule::between => {
                let kids = children(pair);
                Some(Expr::Between {
                    value: self.value_at(&kids, 0, pair, "between")?,
                    low: self.value_at(&kids, 1, pair, "between")?,
                    high: self.value_at(&kids, 2, pair, "between")?,
                    span,
                })
            }
            Rule::bool_lit => Some(Expr::Bool(pair.as_str() == "true", span)),
            Rule::ident => Some(Expr::Name(ident(pair))),
            _ => {
                self.shape(span, "condition");
                None
            }
        }
    }

    fn value(&mut self, pair: &P<'_>) -> Option<Operand> {
        let inner = match pair.as_rule() {
            Rule::value => self.child(&children(pair), 0, pair, "value")?,
            _ => pair.clone(),
        };
        if inner.as_rule() == Rule::ident {
            return Some(Operand::Name(ident(&inner)));
        }
        let lit = self.literal(&inner)?;
        Some(Operand::Literal(Spanned::new(lit, span_of(&inner))))
    }

    pub(super) fn literal(&mut self, pair: &P<'_>) -> Option<Literal> {
        let kids: Vec<P<'_>> = pair.clone().into_inner().collect();
        let text = pair.as_str();
        match pair.as_rule() {
            Rule::number => self.decimal(pair, text).map(Literal::Number),
            Rule::rate => {
                let num = self.decimal(pair, kids.first().map_or("", |p| p.as_str()))?;
                let per = if text.ends_with("bp") { 10_000 } else { 100 };
                match num.checked_div(Decimal::from(per)) {
                    Some(r) => Some(Literal::Rate(r)),
                    None => self.literal_error(pair, "rate is too large"),
                }
            }
            Rule::duration => {
                let digits = kids.first().map_or("", |p| p.as_str()).replace('_', "");
                let unit = match kids.get(1).map(|p| p.as_str()) {
                    Some("s") => 1u64,
                    Some("m") => 60,
                    Some("h") => 3_600,
                    _ => 86_400,
                };
                match digits.parse::<u64>().ok().and_then(|n| n.checked_mul(unit)) {
                    Some(secs) => Some(Literal::Duration(secs)),
                    None => self.literal_error(pair, "duration is too long"),
                }
            }
            Rule::time_of_day => {
                let parts: Vec<u32> = text.split(':').filter_map(|p| p.parse().ok()).collect();
                match parts.as_slice() {
                    [h, m] if *h < 24 && *m < 60 => Some(Literal::TimeOfDay(h * 3600 + m * 60)),
                    [h, m, s] if *h < 24 && *m < 60 && *s < 60 => {
                        Some(Literal::TimeOfDay(h * 3600 + m * 60 + s))
                    }
                    [24, 0] | [24, 0, 0] => self.literal_error_help(
                        pair,
                        "there is no `24:00`",
                        "a window that ends at midnight ends at `00:00`",
                    ),
                    _ => self.literal_error_help(
                        pair,
                        format!("`{text}` is not a time of day"),
                        "hours run 00-23 and minutes 00-59",
                    ),
                }
            }
            Rule::money => {
                let dec_pair = kids.iter().find(|p| p.as_rule() == Rule::decimal)?;
                let amount = self.decimal(pair, dec_pair.as_str())?;
                let currency = kids
                    .iter()
                    .find(|p| p.as_rule() == Rule::currency_code)
                    .map(|p| p.as_str().to_string());
                Some(Literal::Money { amount, currency })
            }
            Rule::string => Some(Literal::String(unescape(pair))),
            Rule::bool_lit => Some(Literal::Bool(text == "true")),
            _ => {
                self.shape(span_of(pair), "literal");
                None
            }
        }
    }

    fn decimal(&mut self, pair: &P<'_>, text: &str) -> Option<Decimal> {
        match Decimal::from_str_exact(&text.replace('_', "")) {
            Ok(d) => Some(d),
            Err(_) => self.literal_error_help(
                pair,
                format!("`{text}` can't be represented exactly"),
                "numbers have at most 28 significant digits",
            ),
        }
    }

    /// An instant (`2027-01-01T00:00:00+08:00`) as Unix ms and its offset.
    fn stamp(&mut self, pair: &P<'_>) -> Option<Spanned<Stamp>> {
        let text = super::test_file::instant_text(pair.as_str());
        match chrono::DateTime::parse_from_rfc3339(&text) {
            Ok(t) => Some(Spanned::new(
                Stamp {
                    unix_ms: t.timestamp_millis(),
                    offset_secs: t.offset().local_minus_utc(),
                },
                span_of(pair),
            )),
            Err(_) => self.literal_error_help(
                pair,
                format!("`{}` is not a valid instant", pair.as_str()),
                "write a date and time that exist, with an offset: `2027-01-01T00:00:00+08:00`",
            ),
        }
    }

    fn literal_error<T>(&mut self, pair: &P<'_>, message: &str) -> Option<T> {
        self.errors.push(Diagnostic::error(
            Code::E0002,
            message,
            span_of(pair),
            "this literal",
        ));
        None
    }

    fn literal_error_help<T>(
        &mut self,
        pair: &P<'_>,
        message: impl Into<String>,
        help: &str,
    ) -> Option<T> {
        self.errors.push(
            Diagnostic::error(Code::E0002, message, span_of(pair), "this literal").with_help(help),
        );
        None
    }
}

pub(super) fn ident(pair: &P<'_>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(pair),
    }
}

fn keys(pair: &P<'_>) -> Vec<Ident> {
    children(pair).iter().map(ident).collect()
}

/// The text of a string literal (or its body), escapes resolved.
fn unescape(pair: &P<'_>) -> String {
    let body = pair
        .clone()
        .into_inner()
        .find(|p| p.as_rule() == Rule::string_body)
        .map_or("", |p| p.as_str());
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}
