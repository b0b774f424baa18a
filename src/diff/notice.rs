//! The merchant-facing notice of a fee change: what was charged and what
//! will be, per class of payments, in plain words, and with a replayed
//! history per group of the `--by` fields (merchant class, channel...):
//! what those payments cost and what they would cost under the new fees.
//!
//! When the new version declares its activation (`effective from`), the
//! notice names that instant, in the offset the policy wrote it with;
//! otherwise it says "from the date the new version takes effect".

use super::fees::{FeeDiff, Outcome};
use super::render_replay::signed;
use super::replay::{Replay, ReplayError};
use crate::compile::print::amount;
use chrono::Timelike;
use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt::Write;
use tollgate_runtime::activation::Stamp;

/// When the new fees apply, in words, for a version that does not declare it.
pub const FROM: &str = "from the date the new version takes effect";

/// When the new fees apply, in words: the new version's `effective from`
/// as a merchant reads a date (`on 1 January 2027 at 00:00 (UTC+08:00)`),
/// or [`FROM`] when it declares none.
pub fn from_words(from: Option<&Stamp>) -> String {
    let Some(s) = from else {
        return FROM.to_string();
    };
    let utc = chrono::DateTime::from_timestamp_millis(s.unix_ms);
    let offset = chrono::FixedOffset::east_opt(s.offset_secs);
    match (utc, offset) {
        (Some(t), Some(o)) => {
            let local = t.with_timezone(&o);
            let sign = if s.offset_secs < 0 { '-' } else { '+' };
            let m = s.offset_secs.unsigned_abs() / 60;
            let time = if local.nanosecond() != 0 {
                local.format("%H:%M:%S%.3f")
            } else if local.second() != 0 {
                local.format("%H:%M:%S")
            } else {
                local.format("%H:%M")
            };
            format!(
                "on {} at {time} (UTC{sign}{:02}:{:02})",
                local.format("%-d %B %Y"),
                m / 60,
                m % 60
            )
        }
        // Out of chrono's range: cannot be written by the language.
        _ => FROM.to_string(),
    }
}

/// The notice for `d`, with the replayed history's figures when given.
///
/// # Errors
/// When a difference overflows.
pub fn notice(
    d: &FeeDiff,
    replay: Option<&Replay>,
    currency: &str,
    from: Option<&Stamp>,
) -> Result<String, ReplayError> {
    let mut s = String::new();
    let _ = writeln!(s, "Notice of a change to your fees\n");
    if !d.changed() {
        let _ = writeln!(
            s,
            "Your fees do not change: every payment is charged as before."
        );
        return Ok(s);
    }
    let _ = writeln!(
        s,
        "Your fees change {}. Until then you are charged as before.\n",
        from_words(from)
    );
    let _ = writeln!(s, "What changes:\n");
    for sched in &d.schedules {
        for r in &sched.regions {
            let _ = writeln!(s, "- {}:", payments(&r.condition));
            let _ = writeln!(s, "    until now: {}", charge(&r.old));
            let _ = writeln!(s, "    from then: {}", charge(&r.new));
            if let Some(c) = &r.change {
                for (word, p, unbounded) in [
                    ("up", &c.up, c.up_unbounded),
                    ("down", &c.down, c.down_unbounded),
                ] {
                    let Some(p) = p else { continue };
                    let most = if unbounded {
                        ", more the larger the payment".to_string()
                    } else {
                        format!(
                            " by at most {} {currency} per payment",
                            amount(p.change.abs(), d.dp)
                        )
                    };
                    let _ = writeln!(
                        s,
                        "    the fee goes {word}{most} (on a payment of {} {currency}: {} {currency} becomes {} {currency})",
                        amount(p.amount, d.dp),
                        amount(p.old, d.dp),
                        amount(p.new, d.dp)
                    );
                }
            }
            if d.schedules.len() > 1 {
                let _ = writeln!(
                    s,
                    "    (this is the {} part of your fee)",
                    sched.name.replace('_', " ")
                );
            }
        }
    }
    if let Some(r) = replay {
        history(&mut s, r, currency, d.dp)?;
    }
    let _ = writeln!(s, "\nAll other payments are charged as before.");
    Ok(s)
}

/// What the reviewed payments cost, and would cost, per group.
fn history(s: &mut String, r: &Replay, currency: &str, dp: u32) -> Result<(), ReplayError> {
    let _ = writeln!(
        s,
        "\nWhat this means for payments like yours: on {} past payments, the fees were {} {currency} and would be {} {currency} under the new fees ({} {currency}{}).",
        r.total.records,
        amount(r.total.old, dp),
        amount(r.total.new, dp),
        signed(r.total.difference()?, dp),
        percent(r.total.old, r.total.difference()?)
    );
    if r.by.is_empty() {
        return Ok(());
    }
    let _ = writeln!(s);
    for (key, g) in &r.groups {
        let who: Vec<String> =
            r.by.iter()
                .zip(key)
                .map(|(f, v)| format!("{} {}", words(f), words(v)))
                .collect();
        let diff = g.difference()?;
        let verdict = if diff.is_zero() && g.changed == 0 {
            "no change".to_string()
        } else {
            format!("{} {currency}{}", signed(diff, dp), percent(g.old, diff))
        };
        let _ = writeln!(
            s,
            "- {}: {}, fees {} {currency} until now, {} {currency} from then ({verdict})",
            who.join(", "),
            if g.records == 1 {
                "1 payment".to_string()
            } else {
                format!("{} payments", g.records)
            },
            amount(g.old, dp),
            amount(g.new, dp),
        );
    }
    Ok(())
}

/// `, +0.65%` of `old`, or nothing when `old` is zero.
fn percent(old: Decimal, diff: Decimal) -> String {
    if old.is_zero() {
        return String::new();
    }
    match diff
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|x| x.checked_div(old))
    {
        Some(p) => {
            let p = p.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            let sign = if p > Decimal::ZERO { "+" } else { "" };
            format!(", {sign}{p:.2}%")
        }
        None => String::new(),
    }
}

/// A name from the policy in plain words: `debit_card` is `debit card`.
fn words(name: &str) -> String {
    name.replace('_', " ")
}

/// A region's condition as the payments it covers, in words.
fn payments(condition: &str) -> String {
    if condition == "every record" {
        return "All payments".to_string();
    }
    let parts: Vec<String> = condition.split(" and ").map(clause).collect();
    format!("Payments where {}", parts.join(", and "))
}

/// One clause of a condition in words: `channel in {wechat, alipay}` is
/// `the channel is wechat or alipay`.
fn clause(c: &str) -> String {
    let ops = [
        (" not in {", "is not", true),
        (" in {", "is", true),
        (" == ", "is", false),
        (" != ", "is not", false),
        (" >= ", "is at least", false),
        (" <= ", "is at most", false),
        (" > ", "is above", false),
        (" < ", "is below", false),
    ];
    for (op, said, set) in ops {
        if let Some((field, rest)) = c.split_once(op) {
            let value = if set {
                let inner = rest.trim_end_matches('}');
                let items: Vec<String> = inner.split(", ").map(words).collect();
                or_list(&items, if said == "is not" { "nor" } else { "or" })
            } else {
                words(rest)
            };
            let said = if set && said == "is not" {
                "is neither"
            } else {
                said
            };
            return format!("the {} {said} {value}", words(field));
        }
    }
    words(c)
}

/// `a, b or c`.
fn or_list(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

/// What an outcome charges, in words.
fn charge(o: &Outcome) -> String {
    match o {
        Outcome::Rule { fee, .. } => fee_words(fee),
        Outcome::Absent => "nothing for this part".into(),
        Outcome::NoRule | Outcome::Ambiguous(..) | Outcome::Refused => {
            "the payment is not accepted".into()
        }
    }
}

/// A fee in the language's notation, in words: `0.50% cap 20.00` is
/// `0.50% of the amount, at most 20.00 per payment`.
fn fee_words(fee: &str) -> String {
    if fee == "0" || fee.chars().all(|c| c == '0' || c == '.') {
        return "no fee".to_string();
    }
    let mut w = fee
        .replace(['(', ')'], "")
        .replace(" total min ", ", in all at least ")
        .replace(" total cap ", ", in all at most ")
        .replace(" min ", ", at least ")
        .replace(" cap ", ", at most ")
        .replace(" + ", " plus ")
        .replace(
            "tiered whole {",
            "by the size of the payment, on the whole amount {",
        )
        .replace(
            "tiered marginal {",
            "by band, each rate on the part of the amount in its band {",
        )
        .replace(" => ", ": ");
    if w.contains('%') && !w.contains('{') {
        w = w.replacen('%', "% of the amount", 1);
    }
    if w.contains(", at most") || w.contains(", at least") {
        w.push_str(" per payment");
    }
    if !w.contains('%') && !w.contains('{') {
        w.push_str(" per payment");
        w = w.replace(" per payment per payment", " per payment");
    }
    w
}
