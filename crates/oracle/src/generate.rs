//! Generated policies and records, for the property tests and benchmarks:
//! six columns (two enums, money, an integer, a bool and a string), rules
//! with overlapping ranges and every fee form (bounds of the percentage part
//! and of the whole fee), and refunds (negative amounts) for policies whose
//! amount accepts them. Deterministic for a seed.

use rust_decimal::Decimal;
use std::fmt::Write as _;
use tollgate_runtime::table::{FieldKind, FieldSpec};
use tollgate_runtime::value::Value;

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

const CHANNELS: &[&str] = &[
    "credit_card",
    "debit_card",
    "wechat",
    "alipay",
    "unionpay_qr",
    "cloud_quickpass",
];
const REGIONS: &[&str] = &["north", "south", "east", "west", "central"];
const MERCHANTS: &[&str] = &["m1", "m2", "m3", "m4"];
/// Amount thresholds shared by rules, so that ranges overlap and records hit
/// their boundaries.
const AMOUNTS: &[&str] = &[
    "0", "5.00", "100.00", "999.99", "1000.00", "1000.01", "5000.00", "20000.00",
];
const DAYS: &[i64] = &[0, 30, 89, 90, 91, 365];
const MODES: &[&str] = &["half_up", "half_even", "toward_zero", "away_from_zero"];

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Rules per schedule.
    pub rules: usize,
    /// Number of schedules.
    pub schedules: usize,
    /// Whether schedules may be `hit unique`. Most unique schedules' rules
    /// are disjoint by construction (each takes its own cell of a partition
    /// of the records, sometimes narrowed further); the others overlap. A
    /// schedule often ends in `otherwise`.
    pub unique: bool,
    /// Whether rules are narrow (every column constrained, as in a
    /// per-region, per-channel, per-amount-band rate sheet), so that a record
    /// matches few rules and typically late; otherwise rules are broad and
    /// overlap heavily.
    pub specific: bool,
}

/// A rate sheet: one `hit first` schedule of `rules` narrow rules over
/// all six columns (what the lint benchmark measures).
pub fn rate_sheet(seed: u64, rules: usize) -> String {
    policy(
        seed,
        Shape {
            rules,
            schedules: 1,
            unique: false,
            specific: true,
        },
    )
}

/// A unique rate sheet: one `hit unique` schedule of `rules` pairwise
/// disjoint rules (at most [`MAX_DISJOINT_RULES`]) ending in `otherwise`.
pub fn unique_sheet(seed: u64, rules: usize) -> String {
    let mut r = Rng::new(seed);
    let rules = rules.min(MAX_DISJOINT_RULES);
    let mut s = String::new();
    header(&mut s, seed, "");
    s.push_str("schedule s0 {\n  hit unique\n  rounding half_up\n");
    for i in 0..rules {
        let _ = writeln!(
            s,
            "  rule r{i} when {} => {}",
            disjoint(&mut r, i, rules),
            fee(&mut r)
        );
    }
    let _ = writeln!(s, "  otherwise => {}\n}}", fee(&mut r));
    s
}

/// The policy line and the six fields every generated policy has;
/// `refunds` follows the money type (` with refunds` or nothing).
fn header(s: &mut String, seed: u64, refunds: &str) {
    let _ = writeln!(s, "policy generated_{seed} version 1\nkind fees");
    let _ = writeln!(s, "field channel: enum {{ {} }}", CHANNELS.join(", "));
    let _ = writeln!(s, "field region: enum {{ {} }}", REGIONS.join(", "));
    let _ = writeln!(s, "field amount: money{refunds}");
    let _ = writeln!(s, "field onboarded_days: integer default 0");
    let _ = writeln!(s, "field suspected_cashout: bool default false");
    let _ = writeln!(s, "field merchant: string default \"\"");
}

/// A policy's source text.
pub fn policy(seed: u64, shape: Shape) -> String {
    let mut r = Rng::new(seed);
    // Refunds and bounds of the whole fee draw from their own stream, so
    // that a seed gives the same rules and conditions as before they existed.
    let mut extra = Rng::new(seed ^ 0x7e4d_5eed_0f0f_1234);
    let refunds = if extra.chance(30) {
        " with refunds"
    } else {
        ""
    };
    let mut s = String::new();
    header(&mut s, seed, refunds);
    for k in 0..shape.schedules.max(1) {
        let hit = if shape.unique && r.chance(30) {
            "unique"
        } else {
            "first"
        };
        let mode = r.pick(MODES).copied().unwrap_or("half_up");
        let step = if r.chance(15) { " to 0.05" } else { "" };
        let _ = writeln!(s, "schedule s{k} {{\n  hit {hit}\n  rounding {mode}{step}");
        // Most unique schedules are disjoint; the rest overlap, which the
        // compiler must refuse.
        let unique = hit == "unique" && r.chance(70);
        let rules = if unique {
            shape.rules.min(MAX_DISJOINT_RULES)
        } else {
            shape.rules
        };
        for i in 0..rules {
            let when = if unique {
                disjoint(&mut r, i, rules)
            } else if shape.specific {
                narrow(&mut r)
            } else {
                condition(&mut r, 0)
            };
            let fee = written(fee(&mut r) + &total_bounds(&mut extra), &mut extra);
            let _ = writeln!(s, "  rule r{i} when {when} => {fee}");
        }
        if r.chance(60) {
            let fee = written(fee(&mut r) + &total_bounds(&mut extra), &mut extra);
            let _ = writeln!(s, "  otherwise => {fee}");
        }
        s.push_str("}\n");
    }
    s
}

/// Sometimes `fee` with its amounts written short: `3` for `3.00`, `0.5`
/// for `0.50` (the same values, fewer decimals than the minor unit).
fn written(fee: String, r: &mut Rng) -> String {
    if !r.chance(25) {
        return fee;
    }
    fee.split(' ')
        .map(|word| {
            if word.contains('.') && word.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                word.trim_end_matches('0').trim_end_matches('.')
            } else {
                word
            }
        })
        .map(|word| if word.is_empty() { "0" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

fn subset(r: &mut Rng, items: &[&str]) -> String {
    let mut chosen: Vec<&str> = items.iter().copied().filter(|_| r.chance(40)).collect();
    if chosen.is_empty() {
        chosen.push(r.pick(items).copied().unwrap_or("x"));
    }
    chosen.join(", ")
}

fn amount(r: &mut Rng) -> String {
    if r.chance(75) {
        r.pick(AMOUNTS).copied().unwrap_or("0").to_string()
    } else {
        format!("{}.{:02}", r.below(30_000), r.below(100))
    }
}

fn atom(r: &mut Rng) -> String {
    match r.below(14) {
        0 => format!("channel in {{{}}}", subset(r, CHANNELS)),
        1 => format!(
            "channel == {}",
            r.pick(CHANNELS).copied().unwrap_or("wechat")
        ),
        2 => format!(
            "channel != {}",
            r.pick(CHANNELS).copied().unwrap_or("wechat")
        ),
        3 => format!("region in {{{}}}", subset(r, REGIONS)),
        4 => format!("region not in {{{}}}", subset(r, REGIONS)),
        5 => format!("amount > {}", amount(r)),
        6 => format!("amount <= {}", amount(r)),
        7 => {
            let (a, b) = (amount(r), amount(r));
            format!("amount between {a} and {b}")
        }
        8 => format!("amount != {}", amount(r)),
        9 => format!("onboarded_days < {}", r.pick(DAYS).copied().unwrap_or(90)),
        10 => format!("onboarded_days >= {}", r.pick(DAYS).copied().unwrap_or(90)),
        11 => {
            if r.chance(50) {
                "suspected_cashout".into()
            } else {
                "not suspected_cashout".into()
            }
        }
        12 => format!(
            "merchant == \"{}\"",
            r.pick(MERCHANTS).copied().unwrap_or("m1")
        ),
        _ => format!(
            "merchant not in {{\"{}\", \"{}\"}}",
            r.pick(MERCHANTS).copied().unwrap_or("m1"),
            r.pick(MERCHANTS).copied().unwrap_or("m2")
        ),
    }
}

fn condition(r: &mut Rng, depth: usize) -> String {
    let n = 1 + r.below(3);
    let mut parts = Vec::with_capacity(n);
    for _ in 0..n {
        let part = if depth < 2 && r.chance(12) {
            let (a, b) = (condition(r, depth + 1), condition(r, depth + 1));
            if r.chance(50) {
                format!("({a} or {b})")
            } else {
                format!("not ({a} and {b})")
            }
        } else {
            atom(r)
        };
        parts.push(part);
    }
    parts.join(" and ")
}

/// Bands of `amount` that partition the money axis, from [`AMOUNTS`].
fn amount_bands() -> Vec<String> {
    let cuts = AMOUNTS.get(1..).unwrap_or(&[]);
    let mut bands = Vec::with_capacity(cuts.len() + 1);
    let mut below: Option<&str> = None;
    for cut in cuts {
        bands.push(match below {
            None => format!("amount < {cut}"),
            Some(lo) => format!("amount >= {lo} and amount < {cut}"),
        });
        below = Some(cut);
    }
    bands.push(format!("amount >= {}", below.unwrap_or("0")));
    bands
}

/// Day bands that partition `onboarded_days`.
const DAY_BANDS: &[&str] = &[
    "onboarded_days < 30",
    "onboarded_days >= 30 and onboarded_days < 89",
    "onboarded_days == 89",
    "onboarded_days == 90",
    "onboarded_days > 90",
];

/// The most rules [`disjoint`] can keep apart.
pub const MAX_DISJOINT_RULES: usize = 6 * 8 * 2 * 5 * 5 * 5;

/// Rule `i` of `n` pairwise disjoint rules: each takes its own cell of a
/// partition by channel and amount band, then (when `n` needs them) the
/// cash-out flag, a day band and the region; some are narrowed further by a
/// random condition, which keeps them disjoint.
fn disjoint(r: &mut Rng, i: usize, n: usize) -> String {
    let bands = amount_bands();
    let flags = ["not suspected_cashout", "suspected_cashout"];
    let regions: Vec<String> = REGIONS.iter().map(|g| format!("region == {g}")).collect();
    let channels: Vec<String> = CHANNELS.iter().map(|c| format!("channel == {c}")).collect();
    let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
    let days: Vec<String> = DAY_BANDS.iter().map(|d| d.to_string()).collect();
    let mut merchants: Vec<String> = MERCHANTS
        .iter()
        .map(|m| format!("merchant == \"{m}\""))
        .collect();
    let named: Vec<String> = MERCHANTS.iter().map(|m| format!("\"{m}\"")).collect();
    merchants.push(format!("merchant not in {{{}}}", named.join(", ")));
    let dims: [&[String]; 6] = [&channels, &bands, &flags, &days, &regions, &merchants];
    let mut parts = Vec::new();
    let (mut rest, mut capacity) = (i, 1usize);
    for dim in dims {
        if capacity >= n && !parts.is_empty() {
            break;
        }
        let len = dim.len().max(1);
        if let Some(part) = dim.get(rest % len) {
            parts.push(format!("({part})"));
        }
        rest /= len;
        capacity = capacity.saturating_mul(len);
    }
    if r.chance(30) {
        parts.push(format!("({})", condition(r, 1)));
    }
    parts.join(" and ")
}

/// A condition on all six columns, matching a small slice of records.
fn narrow(r: &mut Rng) -> String {
    let lo = r.below(200) * 100;
    format!(
        "channel == {} and region == {} and amount between {lo}.00 and {}.99 and onboarded_days >= {} and {}suspected_cashout and merchant {} \"{}\"",
        r.pick(CHANNELS).copied().unwrap_or("wechat"),
        r.pick(REGIONS).copied().unwrap_or("north"),
        lo + 99 + r.below(400),
        r.pick(DAYS).copied().unwrap_or(0),
        if r.chance(50) { "not " } else { "" },
        if r.chance(70) { "!=" } else { "==" },
        r.pick(MERCHANTS).copied().unwrap_or("m1"),
    )
}

fn rate(r: &mut Rng) -> String {
    let bp = [20, 38, 50, 55, 60, 63, 72, 100, 299];
    let v = bp.get(r.below(bp.len())).copied().unwrap_or(60);
    if r.chance(20) {
        format!("{v}bp")
    } else {
        format!("{}.{:02}%", v / 100, v % 100)
    }
}

fn fee(r: &mut Rng) -> String {
    match r.below(9) {
        0 => rate(r),
        1 => format!("{} cap {}.00", rate(r), 5 + r.below(40)),
        2 => format!(
            "{} min 0.{:02} cap {}.00",
            rate(r),
            1 + r.below(99),
            1 + r.below(40)
        ),
        3 => format!("{} of amount + {}.00", rate(r), r.below(4)),
        4 => format!("{}.{:02}", r.below(5), r.below(100)),
        5 => "0".into(),
        6 => format!("{} + {}", rate(r), rate(r)),
        7 => {
            let mode = if r.chance(50) { "whole" } else { "marginal" };
            format!(
                "tiered {mode} {{ up to 1000.00 => {} up to 5000.00 => {} above => {} }}",
                rate(r),
                rate(r),
                rate(r)
            )
        }
        _ => format!(
            "tiered marginal {{ up to 999.99 => {} above => {} }} + 1.00 min 2.00 cap 50.00",
            rate(r),
            rate(r)
        ),
    }
}

/// Sometimes a bound of the whole fee: ` total min 0.50`, ` total cap 12.00`
/// or both; the cap is never below the minimum.
fn total_bounds(r: &mut Rng) -> String {
    match r.below(8) {
        0 => format!(" total min 0.{:02}", 1 + r.below(99)),
        1 => format!(" total cap {}.00", 1 + r.below(40)),
        2 => format!(
            " total min 0.{:02} cap {}.00",
            1 + r.below(99),
            1 + r.below(40)
        ),
        _ => String::new(),
    }
}

/// A random record for `fields`, drawing values near the generator's
/// thresholds so that boundaries are hit.
pub fn record(r: &mut Rng, fields: &[FieldSpec]) -> Vec<Value> {
    fields
        .iter()
        .map(|f| match &f.kind {
            FieldKind::Enum(vs) => Value::Enum(r.below(vs.len()) as u32),
            FieldKind::Money | FieldKind::Decimal => {
                // Now and then an amount below one, where a percentage part
                // often rounds to zero.
                let base: Decimal = if r.chance(5) {
                    format!("0.{:02}", r.below(100))
                } else {
                    amount(r)
                }
                .parse()
                .unwrap_or_default();
                let nudge = match r.below(5) {
                    0 => Decimal::new(-1, 2),
                    1 => Decimal::new(1, 2),
                    _ => Decimal::ZERO,
                };
                let amount = (base + nudge).max(Decimal::ZERO);
                // A refund: the same amounts, below zero.
                if f.refunds && !amount.is_zero() && r.chance(35) {
                    Value::Num(-amount)
                } else {
                    Value::Num(amount)
                }
            }
            FieldKind::Integer => {
                let d = r.pick(DAYS).copied().unwrap_or(0) + r.below(3) as i64 - 1;
                Value::Num(Decimal::from(d))
            }
            FieldKind::Bool => Value::Bool(r.chance(50)),
            FieldKind::String => {
                let m = if r.chance(80) {
                    r.pick(MERCHANTS).copied().unwrap_or("m1")
                } else {
                    "other"
                };
                Value::Str(m.to_string())
            }
            FieldKind::Timestamp => Value::Time {
                unix_ms: 0,
                offset_secs: 0,
            },
        })
        .collect()
}

/// A policy with a large enum: a merchant category field of `variants`
/// variants (up to 4,096) beside the usual six columns, and `rules` rules of
/// `schedules` schedules that select categories in every way the language
/// allows (`==`, `!=`, `in`, `not in`), often combined with other
/// conditions. Deterministic for a seed.
pub fn large_enum_policy(seed: u64, variants: usize, rules: usize, schedules: usize) -> String {
    let mut r = Rng::new(seed);
    let variants = variants.max(1);
    let mut s = String::new();
    header(&mut s, seed, "");
    let names: Vec<String> = (0..variants).map(|i| format!("c{i:04}")).collect();
    let _ = writeln!(s, "field category: enum {{ {} }}", names.join(", "));
    // Categories near the word boundaries of a variant set are picked often.
    let pick = |r: &mut Rng| -> String {
        let edges = [0, 1, 62, 63, 64, 65, 127, 128, variants / 2, variants - 1];
        let i = if r.chance(50) {
            edges.get(r.below(edges.len())).copied().unwrap_or(0)
        } else {
            r.below(variants)
        };
        names.get(i.min(variants - 1)).cloned().unwrap_or_default()
    };
    for k in 0..schedules.max(1) {
        let hit = if r.chance(30) { "unique" } else { "first" };
        let _ = writeln!(s, "schedule s{k} {{\n  hit {hit}\n  rounding half_up");
        for i in 0..rules {
            let set: Vec<String> = (0..1 + r.below(6)).map(|_| pick(&mut r)).collect();
            let on_category = match r.below(4) {
                0 => format!("category == {}", pick(&mut r)),
                1 => format!("category != {}", pick(&mut r)),
                2 => format!("category in {{{}}}", set.join(", ")),
                _ => format!("category not in {{{}}}", set.join(", ")),
            };
            let when = if hit == "unique" {
                // One category per rule: disjoint, so the schedule compiles.
                format!(
                    "category == {}",
                    names.get(i % variants).cloned().unwrap_or_default()
                )
            } else if r.chance(40) {
                format!("{on_category} and {}", atom(&mut r))
            } else {
                on_category
            };
            let _ = writeln!(s, "  rule r{i} when {when} => {}", fee(&mut r));
        }
        if r.chance(60) {
            let _ = writeln!(s, "  otherwise => {}", fee(&mut r));
        }
        s.push_str("}\n");
    }
    s
}
