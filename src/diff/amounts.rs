//! How one fee formula's charge changes into another's over a range of
//! amounts, exactly, rounding included.
//!
//! Amounts are whole minor units (steps `k` of 10^-dp). Before rounding a
//! fee is linear in the amount between tier bounds; rounding makes it a
//! staircase; the minimum, cap, fixed part and total bounds then clamp it.
//! So between the *breakpoints* (tier bounds, and the amounts where a
//! rounded value first passes a bound) each side is either constant or
//! "its rounded value plus a constant". On such a stretch the change is
//! constant, monotone (one side constant), or the difference of two
//! staircases; the last is decided by a scan from the end where the
//! change can be largest, which stops once no amount further on can beat
//! the best found (the rounding moves each side by less than a step) or
//! after one period of the two staircases (every pattern of remainders
//! has then been seen). `docs/diff.md` gives the argument.

use rust_decimal::Decimal;
use tollgate_runtime::exact;
use tollgate_runtime::fee::{FeeBreakdown, FeeFormula, TierMode};
use tollgate_runtime::rounding::{Rounding, RoundingMode};

/// The most amounts one stretch may need scanned; a change needing more
/// (two rates a ten-thousandth of a percent apart over a long range) is
/// an error rather than an answer that might be wrong.
pub const SCAN_LIMIT: u64 = 4_000_000;

/// The largest amount analysed, in currency units (10^15): regions open
/// above end here, and a change that still grows at this amount is
/// reported as growing without limit.
pub const HORIZON: i64 = 1_000_000_000_000_000;

/// One side's fee: a formula and its schedule's rounding.
#[derive(Debug, Clone, Copy)]
pub struct Fee<'a> {
    /// The formula.
    pub formula: &'a FeeFormula,
    /// How the schedule rounds.
    pub rounding: Rounding,
}

/// An amount and the fees both sides charge on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// The amount.
    pub amount: Decimal,
    /// The old fee.
    pub old: Decimal,
    /// The new fee.
    pub new: Decimal,
    /// `new - old`.
    pub change: Decimal,
}

/// How the fee changes over a range of amounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// Where the fee goes up the most (only if it goes up somewhere); when
    /// the increase has no largest value, a record where it goes up.
    pub up: Option<Point>,
    /// Where the fee goes down the most (only if it goes down somewhere);
    /// when the decrease has no largest value, a record where it goes down.
    pub down: Option<Point>,
    /// The increase grows without limit with the amount (an open range,
    /// the new fee's slope above the old one's at the horizon).
    pub up_unbounded: bool,
    /// The decrease still grows at the horizon.
    pub down_unbounded: bool,
}

/// Why a change could not be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A fee on this amount overflows.
    Overflow(Decimal),
    /// Deciding the change between these amounts needs more than
    /// [`SCAN_LIMIT`] amounts scanned.
    TooLarge(Decimal, Decimal),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Overflow(a) => write!(f, "a fee on the amount {a} overflows"),
            Error::TooLarge(a, b) => write!(
                f,
                "the change between the amounts {a} and {b} needs more than {SCAN_LIMIT} amounts examined (two rates too close to decide exactly)"
            ),
        }
    }
}

/// The grid of amounts: whole multiples of 10^-dp.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    /// Decimals of the minor unit.
    pub dp: u32,
}

impl Grid {
    /// The amount of step `k`.
    pub fn amount(self, k: i128) -> Option<Decimal> {
        Decimal::try_from_i128_with_scale(k, self.dp).ok()
    }

    /// The last step at or below `v` (`ceil`: at or above).
    pub fn step_of(self, v: Decimal, ceil: bool) -> Option<i128> {
        let scaled = v.checked_mul(Decimal::new(10i64.checked_pow(self.dp)?, 0))?;
        let whole = if ceil { scaled.ceil() } else { scaled.floor() };
        rust_decimal::prelude::ToPrimitive::to_i128(&whole)
    }

    /// The step of the horizon.
    pub fn top(self) -> i128 {
        i128::from(HORIZON).saturating_mul(10i128.saturating_pow(self.dp))
    }
}

/// The change from `old` to `new` over the steps `lo..=hi` (`None`: open).
///
/// # Errors
/// [`Error`] when a fee overflows or the scan would be too long.
pub fn compare(
    old: Fee<'_>,
    new: Fee<'_>,
    grid: Grid,
    lo: Option<i128>,
    hi: Option<i128>,
) -> Result<Change, Error> {
    let top = grid.top();
    let mut change = Change::default();
    // Amounts from zero up.
    let from = lo.map_or(0, |l| l.max(0));
    let to = hi.map_or(top, |h| h.min(top));
    if from <= to {
        let part = Side::new(old, new, grid).extremes(from, to, hi.is_none_or(|h| h > top))?;
        merge(&mut change, part, false);
    }
    // Refunds: the fee of -a is minus the fee of a, so the change is too.
    let (neg_hi, neg_lo) = (hi.map_or(-1, |h| h.min(-1)), lo);
    if lo.is_none_or(|l| l <= neg_hi) {
        let from = neg_hi.saturating_neg();
        let to = neg_lo.map_or(top, |l| l.saturating_neg().min(top));
        if from <= to {
            let part = Side::new(old, new, grid).extremes(
                from,
                to,
                neg_lo.is_none_or(|l| l.saturating_neg() > top),
            )?;
            merge(&mut change, part, true);
        }
    }
    Ok(change)
}

/// Adds the extremes of one part of the range; `mirrored` parts were
/// computed on the amounts' magnitudes and are negated back.
fn merge(into: &mut Change, part: Change, mirrored: bool) {
    let flip = |p: Point| Point {
        amount: -p.amount,
        old: negate(p.old),
        new: negate(p.new),
        change: negate(p.change),
    };
    let (up, down, up_unb, down_unb) = if mirrored {
        (
            part.down.map(flip),
            part.up.map(flip),
            part.down_unbounded,
            part.up_unbounded,
        )
    } else {
        (part.up, part.down, part.up_unbounded, part.down_unbounded)
    };
    if let Some(p) = up {
        if into.up.is_none_or(|q| p.change > q.change) {
            into.up = Some(p);
        }
    }
    if let Some(p) = down {
        if into.down.is_none_or(|q| p.change < q.change) {
            into.down = Some(p);
        }
    }
    into.up_unbounded |= up_unb;
    into.down_unbounded |= down_unb;
}

fn negate(d: Decimal) -> Decimal {
    if d.is_zero() {
        d
    } else {
        -d
    }
}

/// Where on a linear stretch one side's fee follows its rounded value:
/// steps `b1..b2`; below `b1` and from `b2` on it is constant.
#[derive(Debug, Clone, Copy)]
struct Knees {
    b1: i128,
    b2: i128,
}

impl Knees {
    fn follows(&self, u: i128, v: i128) -> bool {
        self.b1 <= u && v < self.b2
    }
}

/// The two sides and the grid, with the best points found so far.
struct Side<'a> {
    old: Fee<'a>,
    new: Fee<'a>,
    grid: Grid,
    best_up: Option<Point>,
    best_down: Option<Point>,
}

impl<'a> Side<'a> {
    fn new(old: Fee<'a>, new: Fee<'a>, grid: Grid) -> Side<'a> {
        Side {
            old,
            new,
            grid,
            best_up: None,
            best_down: None,
        }
    }

    fn amount(&self, k: i128) -> Result<Decimal, Error> {
        self.grid.amount(k).ok_or(Error::Overflow(Decimal::MAX))
    }

    fn breakdown(&self, fee: Fee<'_>, k: i128) -> Result<FeeBreakdown, Error> {
        let a = self.amount(k)?;
        fee.formula
            .compute(a, &fee.rounding)
            .map_err(|_| Error::Overflow(a))
    }

    /// Both fees at step `k`, as a point, counted towards the extremes.
    /// Of equal changes the smallest amount is kept, so that a change the
    /// same across a stretch (a fixed fee) shows at its low end.
    fn visit(&mut self, k: i128) -> Result<Point, Error> {
        let a = self.amount(k)?;
        let old = self.breakdown(self.old, k)?.total;
        let new = self.breakdown(self.new, k)?.total;
        let change = exact::sub(new, old).map_err(|_| Error::Overflow(a))?;
        let p = Point {
            amount: a,
            old,
            new,
            change,
        };
        let better = |q: Point, more: bool| {
            (if more {
                change > q.change
            } else {
                change < q.change
            }) || (change == q.change && a < q.amount)
        };
        if change > Decimal::ZERO && self.best_up.is_none_or(|q| better(q, true)) {
            self.best_up = Some(p);
        }
        if change < Decimal::ZERO && self.best_down.is_none_or(|q| better(q, false)) {
            self.best_down = Some(p);
        }
        Ok(p)
    }

    /// The extremes over steps `from..=to` (all at or above zero); `open`
    /// when the range goes on past `to` (the horizon).
    fn extremes(mut self, from: i128, to: i128, open: bool) -> Result<Change, Error> {
        let mut cuts: Vec<i128> = Vec::new();
        for f in [self.old.formula, self.new.formula] {
            if f.tier_mode.is_some() {
                for band in &f.tiers {
                    if let Some(k) = band.up_to.and_then(|u| self.grid.step_of(u, false)) {
                        if k >= from && k < to {
                            cuts.push(k);
                        }
                    }
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut start = from;
        let mut last = (false, false);
        for end in cuts.into_iter().chain([to]) {
            last = self.stretch(start, end)?;
            start = end.saturating_add(1);
        }
        let mut change = Change {
            up: self.best_up,
            down: self.best_down,
            ..Change::default()
        };
        if open {
            // Past the horizon the last stretch goes on: a side that still
            // follows its rounded value there grows with its slope.
            let a = self.amount(to)?;
            let slope = |f: Fee<'_>, follows: bool| {
                if follows {
                    slope(f.formula, a)
                } else {
                    Decimal::ZERO
                }
            };
            let s_old = slope(self.old, last.0);
            let s_new = slope(self.new, last.1);
            change.up_unbounded = s_new > s_old;
            change.down_unbounded = s_new < s_old;
            // No largest change then: show one at a round amount instead
            // of the horizon's.
            if change.up_unbounded {
                change.up = self
                    .round_example(from, to, |c| c > Decimal::ZERO)?
                    .or(change.up);
            }
            if change.down_unbounded {
                change.down = self
                    .round_example(from, to, |c| c < Decimal::ZERO)?
                    .or(change.down);
            }
        }
        // A largest change that a round amount reaches too (a fixed fee
        // changes by the same everywhere) is shown on the round amount.
        if !change.up_unbounded {
            if let Some(p) = change.up {
                change.up = self
                    .round_example(from, to, |c| c == p.change)?
                    .or(change.up);
            }
        }
        if !change.down_unbounded {
            if let Some(p) = change.down {
                change.down = self
                    .round_example(from, to, |c| c == p.change)?
                    .or(change.down);
            }
        }
        Ok(change)
    }

    /// The first round amount in `from..=to` (1000, 10000, ... up to the
    /// horizon, then 1, 10, 100, in currency units) whose change `reaches`
    /// says it is the one sought, if any.
    fn round_example(
        &mut self,
        from: i128,
        to: i128,
        reaches: impl Fn(Decimal) -> bool,
    ) -> Result<Option<Point>, Error> {
        let unit = 10i128.saturating_pow(self.grid.dp);
        for n in (3..=15u32).chain(0..3) {
            let k = 10i128.saturating_pow(n).saturating_mul(unit);
            if k < from || k > to {
                continue;
            }
            let p = self.visit(k)?;
            if reaches(p.change) {
                return Ok(Some(p));
            }
        }
        Ok(None)
    }

    /// One linear stretch `x..=y` (no tier bound inside): visits the steps
    /// that decide its extremes. Returns whether each side follows its
    /// rounded value at `y`.
    fn stretch(&mut self, x: i128, y: i128) -> Result<(bool, bool), Error> {
        let ko = self.knees(self.old, x, y)?;
        let kn = self.knees(self.new, x, y)?;
        let mut cuts: Vec<i128> = [x, ko.b1, ko.b2, kn.b1, kn.b2]
            .into_iter()
            .filter(|&c| c >= x && c <= y)
            .collect();
        cuts.push(y.saturating_add(1));
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let (Some(&u), Some(&next)) = (w.first(), w.get(1)) else {
                continue;
            };
            let v = next.saturating_sub(1);
            match (ko.follows(u, v), kn.follows(u, v)) {
                (false, false) => {
                    self.visit(u)?;
                }
                (true, false) | (false, true) => {
                    self.visit(u)?;
                    self.visit(v)?;
                }
                (true, true) => self.scan(u, v)?,
            }
        }
        Ok((ko.follows(y, y), kn.follows(y, y)))
    }

    /// The knees of `fee` on the stretch `x..=y`.
    fn knees(&self, fee: Fee<'_>, x: i128, y: i128) -> Result<Knees, Error> {
        let f = fee.formula;
        let shift = |bound: Option<Decimal>| -> Result<Option<Decimal>, Error> {
            bound
                .map(|b| exact::sub(b, f.fixed).map_err(|_| Error::Overflow(b)))
                .transpose()
        };
        let lower = max_opt(f.min, shift(f.total_min)?);
        let upper = min_opt(f.cap, shift(f.total_cap)?);
        if let (Some(l), Some(u)) = (lower, upper) {
            if l >= u {
                return Ok(Knees { b1: x, b2: x });
            }
        }
        let end = y.saturating_add(1);
        let b1 = match lower {
            None => x,
            Some(l) => self.first(fee, x, end, |r| r > l)?,
        };
        let b2 = match upper {
            None => end,
            Some(u) => self.first(fee, b1, end, |r| r >= u)?,
        };
        Ok(Knees { b1, b2 })
    }

    /// The first step in `x..end` whose rounded value satisfies `pred`
    /// (monotone: false, then true), or `end`.
    fn first(
        &self,
        fee: Fee<'_>,
        x: i128,
        end: i128,
        pred: impl Fn(Decimal) -> bool,
    ) -> Result<i128, Error> {
        let (mut lo, mut hi) = (x, end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.breakdown(fee, mid)?.rounded) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok(lo)
    }

    /// Both sides follow their rounded values on `u..=v`: the change is
    /// the difference of two staircases plus a constant. Its largest and
    /// smallest values are found from the ends where they can be.
    fn scan(&mut self, u: i128, v: i128) -> Result<(), Error> {
        let gap = |s: &Side<'_>, k: i128| -> Result<Decimal, Error> {
            let o = s.breakdown(s.old, k)?.raw;
            let n = s.breakdown(s.new, k)?.raw;
            let a = s.amount(k)?;
            exact::sub(n, o).map_err(|_| Error::Overflow(a))
        };
        let (gu, gv) = (gap(self, u)?, gap(self, v)?);
        // The rounded values stray from the raw ones by less than a step.
        let slack = self
            .old
            .rounding
            .step
            .checked_add(self.new.rounding.step)
            .ok_or(Error::Overflow(Decimal::MAX))?;
        let fixed = exact::sub(self.new.formula.fixed, self.old.formula.fixed)
            .map_err(|_| Error::Overflow(Decimal::MAX))?;
        let period = self.period(u);
        // Largest change: near the end where the raw gap is larger.
        let up_from_top = gv >= gu;
        let mut best: Option<Decimal> = None;
        self.walk(u, v, up_from_top, period, |s, k| {
            let p = s.visit(k)?;
            best = Some(best.map_or(p.change, |b| b.max(p.change)));
            let bound = gap(s, k)? + fixed + slack;
            Ok(best.is_some_and(|b| bound < b))
        })?;
        // Smallest change: near the other end.
        let mut least: Option<Decimal> = None;
        self.walk(u, v, !up_from_top, period, |s, k| {
            let p = s.visit(k)?;
            least = Some(least.map_or(p.change, |b| b.min(p.change)));
            let bound = gap(s, k)? + fixed - slack;
            Ok(least.is_some_and(|b| bound > b))
        })?;
        Ok(())
    }

    /// Visits `u..=v` from the top (or the bottom) until `stop` says no
    /// later step can do better, or after `period` steps.
    fn walk(
        &mut self,
        u: i128,
        v: i128,
        from_top: bool,
        period: Option<i128>,
        mut stop: impl FnMut(&mut Self, i128) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        let len = v - u + 1;
        let limit = period.map_or(len, |p| p.min(len));
        let mut n: i128 = 0;
        while n < len {
            if n >= limit {
                return Ok(());
            }
            if n >= i128::from(SCAN_LIMIT) {
                return Err(Error::TooLarge(self.amount(u)?, self.amount(v)?));
            }
            let k = if from_top { v - n } else { u + n };
            if stop(self, k)? {
                return Ok(());
            }
            n += 1;
        }
        Ok(())
    }

    /// After how many steps both staircases repeat (shifted by whole
    /// rounding steps) on the stretch containing step `k`, if known.
    fn period(&self, k: i128) -> Option<i128> {
        let a = self.grid.amount(k)?;
        let p_old = side_period(self.old, a, self.grid.dp)?;
        let p_new = side_period(self.new, a, self.grid.dp)?;
        lcm(p_old, p_new)
    }
}

/// The slope of the raw fee at amount `a`: the flat rate plus the rate of
/// the band `a` lies in.
fn slope(f: &FeeFormula, a: Decimal) -> Decimal {
    let band = match f.tier_mode {
        None => Decimal::ZERO,
        Some(TierMode::Whole | TierMode::Marginal) => f
            .tiers
            .iter()
            .find(|b| b.up_to.is_none_or(|up| a <= up))
            .map_or(Decimal::ZERO, |b| b.rate),
    };
    f.rate.checked_add(band).unwrap_or(f.rate)
}

/// The period, in steps, of one side's rounded value: the fewest steps
/// whose raw increase is a whole number of rounding steps (an even number
/// under half-even rounding, whose ties alternate).
fn side_period(fee: Fee<'_>, a: Decimal, dp: u32) -> Option<i128> {
    let alpha = slope(fee.formula, a);
    if alpha.is_zero() {
        return Some(1);
    }
    let step = fee.rounding.step;
    // alpha × 10^-dp / step = N / D.
    let n = u128::try_from(alpha.mantissa())
        .ok()?
        .checked_mul(10u128.checked_pow(step.scale())?)?;
    let d = u128::try_from(step.mantissa())
        .ok()?
        .checked_mul(10u128.checked_pow(alpha.scale().checked_add(dp)?)?)?;
    let mut p = d.checked_div(gcd(n, d))?;
    if fee.rounding.mode == RoundingMode::HalfEven {
        p = p.checked_mul(2)?;
    }
    i128::try_from(p).ok()
}

fn gcd(a: u128, b: u128) -> u128 {
    let (mut a, mut b) = (a, b);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn lcm(a: i128, b: i128) -> Option<i128> {
    let g = i128::try_from(gcd(a.unsigned_abs(), b.unsigned_abs())).ok()?;
    a.checked_div(g)?.checked_mul(b)
}

fn max_opt(a: Option<Decimal>, b: Option<Decimal>) -> Option<Decimal> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn min_opt(a: Option<Decimal>, b: Option<Decimal>) -> Option<Decimal> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn rate(r: &str) -> FeeFormula {
        FeeFormula {
            rate: d(r) / Decimal::ONE_HUNDRED,
            ..FeeFormula::zero()
        }
    }

    /// Brute force over every step of `lo..=hi`.
    fn brute(old: Fee<'_>, new: Fee<'_>, lo: i128, hi: i128) -> (Option<Decimal>, Option<Decimal>) {
        let g = Grid { dp: 2 };
        let mut up: Option<Decimal> = None;
        let mut down: Option<Decimal> = None;
        for k in lo..=hi {
            let a = g.amount(k).unwrap();
            let o = old.formula.total(a, &old.rounding).unwrap();
            let n = new.formula.total(a, &new.rounding).unwrap();
            let c = n - o;
            if c > Decimal::ZERO {
                up = Some(up.map_or(c, |u| u.max(c)));
            }
            if c < Decimal::ZERO {
                down = Some(down.map_or(c, |u| u.min(c)));
            }
        }
        (up, down)
    }

    fn check(old: &FeeFormula, new: &FeeFormula, lo: i128, hi: i128) {
        let r = Rounding::half_up_fen();
        let (o, n) = (
            Fee {
                formula: old,
                rounding: r,
            },
            Fee {
                formula: new,
                rounding: r,
            },
        );
        let c = compare(o, n, Grid { dp: 2 }, Some(lo), Some(hi)).unwrap();
        let (up, down) = brute(o, n, lo, hi);
        assert_eq!(c.up.map(|p| p.change), up, "{old:?} -> {new:?}");
        assert_eq!(c.down.map(|p| p.change), down, "{old:?} -> {new:?}");
    }

    #[test]
    fn close_rates_match_brute_force() {
        check(&rate("0.60"), &rate("0.61"), 0, 300_000);
        check(&rate("0.38"), &rate("0.37"), -50_000, 50_000);
        check(&rate("0.5001"), &rate("0.50"), 0, 200_000);
    }

    #[test]
    fn a_lower_cap_only_lowers() {
        let old = FeeFormula {
            cap: Some(d("25.00")),
            ..rate("0.50")
        };
        let new = FeeFormula {
            cap: Some(d("20.00")),
            ..rate("0.50")
        };
        check(&old, &new, 0, 1_000_000);
        let c = compare(
            Fee {
                formula: &old,
                rounding: Rounding::half_up_fen(),
            },
            Fee {
                formula: &new,
                rounding: Rounding::half_up_fen(),
            },
            Grid { dp: 2 },
            Some(0),
            None,
        )
        .unwrap();
        assert!(c.up.is_none());
        assert_eq!(c.down.map(|p| p.change), Some(d("-5.00")));
        assert!(!c.up_unbounded && !c.down_unbounded);
    }

    #[test]
    fn an_open_rate_rise_grows_without_limit() {
        let c = compare(
            Fee {
                formula: &rate("0.60"),
                rounding: Rounding::half_up_fen(),
            },
            Fee {
                formula: &rate("0.70"),
                rounding: Rounding::half_up_fen(),
            },
            Grid { dp: 2 },
            Some(0),
            None,
        )
        .unwrap();
        assert!(c.up_unbounded);
    }
}
