//! `tollgate diff` against brute force: on generated pairs of small fee
//! policies (a policy and a mutation of it), every fee on every amount
//! step of the range the rules cover is computed by both versions, and
//! - every region's example record really changes its fee;
//! - every record whose fee changes lies in a reported region;
//! - each region's direction and its largest increase and decrease are
//!   those of the brute force over every amount step in it, each shown on
//!   the first round amount of the region that reaches it, if one does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use proptest::prelude::*;
use rust_decimal::Decimal;
use tollgate_oracle::generate::Rng;
use tollgate_runtime::table::Table;
use tollgate_runtime::value::Value;

/// Every rule also says `amount between -LIMIT and LIMIT`, so that
/// records outside fall through in both versions.
const LIMIT: i64 = 1200;
/// The round amounts within `LIMIT`, in steps, in the order the diff tries
/// them (docs/diff.md: 1000, then 1, 10, 100).
const ROUND_STEPS: [i64; 4] = [100_000, 100, 1_000, 10_000];
const BOUNDS: &[&str] = &["0", "0.50", "1.00", "2.37", "5.00", "9.99"];
const RATES: &[&str] = &["0.38%", "0.5%", "0.6%", "7%", "12.5%", "33%"];
const SMALL: &[&str] = &["0.01", "0.05", "0.10", "0.30", "0.75", "1.00"];
const MODES: &[&str] = &["half_up", "half_even", "toward_zero", "away_from_zero"];

#[derive(Clone, Debug)]
struct Rule {
    cond: String,
    fee: String,
}

#[derive(Clone, Debug)]
struct Pol {
    refunds: bool,
    mode: String,
    step: String,
    rules: Vec<Rule>,
    otherwise: Option<String>,
}

fn pick<'a>(r: &mut Rng, xs: &[&'a str]) -> &'a str {
    r.pick(xs).copied().unwrap()
}

fn fee(r: &mut Rng) -> String {
    let rate = pick(r, RATES);
    let mut f = match r.below(6) {
        0 => rate.to_string(),
        1 => format!("{rate} of amount + {}", pick(r, SMALL)),
        2 => format!(
            "tiered {} {{ up to {} => {rate} above => {} }}",
            if r.chance(50) { "whole" } else { "marginal" },
            pick(r, &["1.00", "5.00", "2.37"]),
            pick(r, RATES)
        ),
        3 => pick(r, SMALL).to_string(),
        _ => format!("{rate} + {}", pick(r, RATES)),
    };
    if !f.contains(" of amount") && !f.starts_with('0') && !f.starts_with('1') && r.chance(40) {
        let (lo, hi) = (
            pick(r, &["0.01", "0.05"]),
            pick(r, &["0.10", "0.75", "1.00"]),
        );
        f = match r.below(3) {
            0 => format!("{f} cap {hi}"),
            1 => format!("{f} min {lo}"),
            _ => format!("{f} min {lo} cap {hi}"),
        };
    }
    if r.chance(20) {
        f = format!("{f} total min {}", pick(r, &["0.02", "0.20"]));
    }
    f
}

fn cond(r: &mut Rng) -> String {
    let mut parts = Vec::new();
    if r.chance(60) {
        let chans = ["a", "b", "c"];
        let chosen: Vec<&str> = chans.iter().copied().filter(|_| r.chance(50)).collect();
        if !chosen.is_empty() {
            parts.push(format!("channel in {{{}}}", chosen.join(", ")));
        }
    }
    if r.chance(60) {
        let b = pick(r, BOUNDS);
        parts.push(match r.below(3) {
            0 => format!("amount > {b}"),
            1 => format!("amount <= {b}"),
            _ => format!("amount between -{b} and {}", pick(r, BOUNDS)),
        });
    }
    parts.push(format!("amount between -{LIMIT}.00 and {LIMIT}.00"));
    parts.join(" and ").replace("--", "-")
}

fn generate(r: &mut Rng) -> Pol {
    let n = 1 + r.below(3);
    Pol {
        refunds: r.chance(30),
        mode: pick(r, MODES).into(),
        step: if r.chance(15) { "0.05" } else { "0.01" }.into(),
        rules: (0..n)
            .map(|_| Rule {
                cond: cond(r),
                fee: fee(r),
            })
            .collect(),
        otherwise: None,
    }
}

/// A small change: a fee, a condition, the order, the rounding.
fn mutate(p: &Pol, r: &mut Rng) -> Pol {
    let mut q = p.clone();
    for _ in 0..1 + r.below(2) {
        let i = r.below(q.rules.len());
        match r.below(6) {
            0 | 1 => q.rules[i].fee = fee(r),
            2 => q.rules[i].cond = cond(r),
            3 if q.rules.len() > 1 => {
                let last = q.rules.len() - 1;
                q.rules.swap(0, last)
            }
            4 => q.mode = pick(r, MODES).into(),
            _ => q.rules.push(Rule {
                cond: cond(r),
                fee: fee(r),
            }),
        }
    }
    q
}

fn source(p: &Pol, version: u32) -> String {
    let mut s = format!(
        "policy gen version {version}\nkind fees\nfield channel: enum {{ a, b, c }}\nfield amount: money{}\nschedule s {{\n  hit first\n  rounding {} to {}\n",
        if p.refunds { " with refunds" } else { "" },
        p.mode,
        p.step
    );
    for (i, rule) in p.rules.iter().enumerate() {
        s.push_str(&format!("  rule r{i} when {} => {}\n", rule.cond, rule.fee));
    }
    if let Some(o) = &p.otherwise {
        s.push_str(&format!("  otherwise => {o}\n"));
    }
    s.push_str("}\n");
    s
}

fn total(t: &Table, record: &[Value]) -> Option<Decimal> {
    t.total(record).ok()
}

fn check_pair(seed: u64) {
    let mut r = Rng::new(seed);
    let p = generate(&mut r);
    let q = mutate(&p, &mut r);
    let (so, sn) = (source(&p, 1), source(&q, 2));
    let (Ok((_, old)), Ok((_, new))) =
        (tollgate::compile_source(&so), tollgate::compile_source(&sn))
    else {
        if std::env::var_os("DIFF_BRUTE_DEBUG").is_some() {
            eprintln!("skipped:\n{so}\n{sn}");
        }
        return;
    };
    if std::env::var_os("DIFF_BRUTE_DEBUG").is_some() {
        eprintln!("compiled");
    }
    let d = tollgate::diff::diff(&old, &new).unwrap();
    let regions: Vec<_> = d.schedules.iter().flat_map(|s| s.regions.iter()).collect();
    if std::env::var_os("DIFF_BRUTE_DEBUG").is_some() {
        eprintln!("regions {}", regions.len());
    }
    for reg in &regions {
        let rec = tollgate::record::from_json(&reg.example, new.fields()).unwrap();
        assert_ne!(
            total(&old, &rec),
            total(&new, &rec),
            "example {} does not change\n{so}\n{sn}",
            reg.example
        );
    }
    // Brute force over every step of the covered range.
    let lo = if p.refunds || q.refunds {
        -LIMIT * 100 - 5
    } else {
        0
    };
    let hi = LIMIT * 100 + 5;
    let mut seen: Vec<(Option<Decimal>, Option<Decimal>)> = vec![(None, None); regions.len()];
    // The change at each round amount of a region (in steps, in the order
    // the diff tries them: 1000, then 1, 10, 100).
    let mut at_round: Vec<Vec<(i64, Decimal)>> = vec![Vec::new(); regions.len()];
    for ch in 0..3u32 {
        for k in lo..=hi {
            let rec = vec![Value::Enum(ch), Value::Num(Decimal::new(k, 2))];
            let (a, b) = (total(&old, &rec), total(&new, &rec));
            let inside: Vec<usize> = (0..regions.len())
                .filter(|&i| regions[i].contains(&rec))
                .collect();
            assert!(inside.len() <= 1, "regions overlap at {rec:?}");
            if a != b {
                assert_eq!(
                    inside.len(),
                    1,
                    "record {rec:?} changes ({a:?} -> {b:?}) outside every region\n{so}\n{sn}"
                );
            }
            if let (Some(&i), Some(a), Some(b)) = (inside.first(), a, b) {
                let c = b - a;
                if ROUND_STEPS.contains(&k) && !at_round[i].iter().any(|&(r, _)| r == k) {
                    at_round[i].push((k, c));
                }
                let e = &mut seen[i];
                if c > Decimal::ZERO {
                    e.0 = Some(e.0.map_or(c, |x: Decimal| x.max(c)));
                }
                if c < Decimal::ZERO {
                    e.1 = Some(e.1.map_or(c, |x: Decimal| x.min(c)));
                }
            }
        }
    }
    for ((reg, (up, down)), rounds) in regions.iter().zip(seen).zip(&at_round) {
        let Some(c) = &reg.change else { continue };
        assert!(!c.up_unbounded && !c.down_unbounded);
        assert_eq!(
            c.up.map(|p| p.change),
            up,
            "largest increase in {}\n{so}\n{sn}",
            reg.condition
        );
        assert_eq!(
            c.down.map(|p| p.change),
            down,
            "largest decrease in {}\n{so}\n{sn}",
            reg.condition
        );
        for p in c.up.iter().chain(c.down.iter()) {
            assert_eq!(p.new - p.old, p.change);
            // docs/diff.md: shown on the first round amount that lies in
            // the region and reaches it, when one does.
            let round = ROUND_STEPS
                .iter()
                .find(|&&k| rounds.iter().any(|&(r, ch)| r == k && ch == p.change));
            if let Some(&k) = round {
                assert_eq!(
                    p.amount,
                    Decimal::new(k, 2),
                    "a change of {} in {} shown off the round amount\n{so}\n{sn}",
                    p.change,
                    reg.condition
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::cases(24)))]

    #[test]
    fn diff_matches_brute_force(seed in any::<u64>()) {
        check_pair(seed);
    }
}
