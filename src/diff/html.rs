//! A self-contained HTML report of a fees diff, for reviewers who would
//! rather look than read: the totals, a chart of the change per group and
//! one of the distribution of per-record changes (inline SVG, drawn from
//! the exact figures), the largest changes, the regions that change, and
//! the diff as text. No scripts, no fonts, no external files: it opens
//! anywhere, offline too. Every text from the policies or the history is
//! escaped.

use super::fees::{FeeDiff, Outcome};
use super::render_replay::{group_name, signed};
use super::replay::{Replay, ReplayError};
use crate::compile::print::amount;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt::Write;

/// Bars of the distribution chart.
const BINS: u32 = 20;

/// Colors of a rise and a fall.
const UP: &str = "#b3261e";
const DOWN: &str = "#1e6b34";

/// Text made safe inside HTML (elements and attribute values).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A pixel coordinate, to a tenth.
fn px(v: Decimal) -> String {
    v.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
        .to_string()
}

/// `part / whole * len`, or zero when `whole` is zero.
fn scale(part: Decimal, whole: Decimal, len: Decimal) -> Decimal {
    if whole.is_zero() {
        return Decimal::ZERO;
    }
    part.checked_mul(len)
        .and_then(|x| x.checked_div(whole))
        .unwrap_or(len)
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#57606a;margin:0 0 16px}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:10px 16px;min-width:120px}
.card b{display:block;font-size:22px;font-variant-numeric:tabular-nums}.card span{color:#57606a;font-size:13px}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:4px 16px 12px;margin-top:16px}
table{border-collapse:collapse;margin:8px 0;font-size:14px}
td,th{border-bottom:1px solid #eaeef2;padding:4px 10px;text-align:left}th{color:#57606a;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.up{color:#b3261e}.down{color:#1e6b34}
code{font-size:12px;word-break:break-all}
pre{background:#f6f8fa;padding:12px;overflow-x:auto;font-size:12px}
.region{border-left:4px solid #d0d7de;padding:4px 12px;margin:10px 0;font-size:14px}
.region.up{border-color:#b3261e}.region.down{border-color:#1e6b34}.region div{color:#1f2328}
svg text{font-size:12px;fill:#1f2328}";

/// The report. `text` is the diff in words, shown as it prints.
///
/// # Errors
/// When a difference overflows.
pub fn report(
    d: &FeeDiff,
    replay: Option<&(&str, Replay)>,
    currency: &str,
    text: &str,
) -> Result<String, ReplayError> {
    let mut s = String::new();
    let title = format!(
        "{} version {} → {} version {}",
        esc(&d.old.0),
        d.old.1,
        esc(&d.new.0),
        d.new.1
    );
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Fee change: {title}</title>\n<style>\n{STYLE}\n</style></head><body><main>\n<h1>Fee change: {title}</h1>\n"
    );
    let regions: usize = d.schedules.iter().map(|x| x.regions.len()).sum();
    let unchanged: usize = d.schedules.iter().map(|x| x.unchanged).sum();
    let _ = writeln!(
        s,
        "<p class=\"sub\">{regions} region(s) of records change, {unchanged} charge as before. Amounts in {}.</p>",
        esc(currency)
    );
    if let Some((input, r)) = replay {
        replay_html(&mut s, input, r, d.dp)?;
    }
    regions_html(&mut s, d);
    let _ = writeln!(
        s,
        "<section><h2>The diff as text</h2>\n<pre>{}</pre></section>\n</main></body></html>",
        esc(text)
    );
    Ok(s)
}

fn card(s: &mut String, value: &str, label: &str, class: &str) {
    let _ = writeln!(
        s,
        "<div class=\"card\"><b class=\"{class}\">{}</b><span>{}</span></div>",
        esc(value),
        esc(label)
    );
}

fn class_of(v: Decimal) -> &'static str {
    if v > Decimal::ZERO {
        "up"
    } else if v < Decimal::ZERO {
        "down"
    } else {
        ""
    }
}

fn replay_html(s: &mut String, input: &str, r: &Replay, dp: u32) -> Result<(), ReplayError> {
    let t = &r.total;
    let diff = t.difference()?;
    let _ = writeln!(
        s,
        "<p class=\"sub\">Replayed on <code>{}</code>.</p>\n<div class=\"cards\">",
        esc(input)
    );
    card(s, &t.records.to_string(), "records replayed", "");
    card(s, &t.changed.to_string(), "records whose fee changes", "");
    card(s, &amount(t.old, dp), "fees, old version", "");
    card(s, &amount(t.new, dp), "fees, new version", "");
    card(s, &signed(diff, dp), "difference", class_of(diff));
    card(
        s,
        &format!("{} / {}", t.old_errors, t.new_errors),
        "refused (old / new)",
        "",
    );
    s.push_str("</div>\n");
    if !r.by.is_empty() {
        let _ = writeln!(
            s,
            "<section><h2>Change of the fees per {}</h2>",
            esc(&r.by.join(", "))
        );
        s.push_str(&group_chart(r, dp)?);
        let _ = writeln!(
            s,
            "<table class=\"groups\"><tr><th>{}</th><th class=\"n\">records</th><th class=\"n\">changed</th><th class=\"n\">old fees</th><th class=\"n\">new fees</th><th class=\"n\">difference</th><th class=\"n\">refused old</th><th class=\"n\">refused new</th></tr>",
            esc(&r.by.join(", "))
        );
        for (key, g) in &r.groups {
            let gd = g.difference()?;
            let _ = writeln!(
                s,
                "<tr class=\"group\"><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n {}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&group_name(key)),
                g.records,
                g.changed,
                amount(g.old, dp),
                amount(g.new, dp),
                class_of(gd),
                amount(gd, dp),
                g.old_errors,
                g.new_errors
            );
        }
        s.push_str("</table></section>\n");
    }
    if !r.changes.is_empty() {
        let _ = writeln!(
            s,
            "<section><h2>Distribution of per-record changes</h2>\n<p class=\"sub\">The {} records whose fee changes, by the size of the change (new fee − old fee).</p>",
            r.changes.len()
        );
        s.push_str(&histogram(&r.changes, dp));
        s.push_str("</section>\n");
    }
    if !r.largest.is_empty() {
        let _ = writeln!(
            s,
            "<section><h2>The {} largest changes</h2>\n<table class=\"largest\"><tr><th class=\"n\">line</th><th class=\"n\">old</th><th class=\"n\">new</th><th class=\"n\">change</th><th>record</th></tr>",
            r.largest.len()
        );
        for c in &r.largest {
            let _ = writeln!(
                s,
                "<tr class=\"change\"><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n {}\">{}</td><td><code>{}</code></td></tr>",
                c.line,
                amount(c.old, dp),
                amount(c.new, dp),
                class_of(c.change),
                amount(c.change, dp),
                esc(&c.record)
            );
        }
        s.push_str("</table></section>\n");
    }
    Ok(())
}

fn regions_html(s: &mut String, d: &FeeDiff) {
    s.push_str("<section><h2>Where the fee changes</h2>\n");
    if !d.changed() {
        s.push_str("<p>No fee changes for any record.</p>\n");
    }
    for sched in &d.schedules {
        for r in &sched.regions {
            let dir = r
                .change
                .as_ref()
                .map_or("priced by one version only", super::render::direction);
            let class = match dir {
                "up" => "up",
                "down" => "down",
                _ => "",
            };
            let _ = write!(
                s,
                "<div class=\"region {class}\"><b>{}</b> when <code>{}</code><div>old: <code>{}</code></div><div>new: <code>{}</code></div><div>the fee goes <span class=\"{class}\">{}</span>",
                esc(&sched.name),
                esc(&r.condition),
                esc(&outcome(&r.old)),
                esc(&outcome(&r.new)),
                esc(dir)
            );
            if let Some(p) = r.change.as_ref().and_then(|c| c.up.as_ref()) {
                let _ = write!(
                    s,
                    "; largest increase <span class=\"up\">{}</span> on {}",
                    signed(p.change, d.dp),
                    amount(p.amount, d.dp)
                );
            }
            if let Some(p) = r.change.as_ref().and_then(|c| c.down.as_ref()) {
                let _ = write!(
                    s,
                    "; largest decrease <span class=\"down\">{}</span> on {}",
                    signed(p.change, d.dp),
                    amount(p.amount, d.dp)
                );
            }
            let _ = writeln!(
                s,
                "</div><div>example: <code>{}</code></div></div>",
                esc(&r.example)
            );
        }
    }
    s.push_str("</section>\n");
}

fn outcome(o: &Outcome) -> String {
    match o {
        Outcome::Rule { rule, fee } => format!("{rule} => {fee}"),
        Outcome::Absent => "no such schedule (no fee)".into(),
        Outcome::NoRule => "no rule matches (an error)".into(),
        Outcome::Ambiguous(a, b) => format!("{a} and {b} both match (an error)"),
        Outcome::Refused => "refused".into(),
    }
}

/// Horizontal bars, one per group, from a zero line: a rise to the right
/// in red, a fall to the left in green, each labelled with its amount.
fn group_chart(r: &Replay, dp: u32) -> Result<String, ReplayError> {
    let mut rows = Vec::new();
    for (key, g) in &r.groups {
        rows.push((group_name(key), g.difference()?));
    }
    let most = rows
        .iter()
        .map(|(_, d)| d.abs())
        .max()
        .unwrap_or(Decimal::ZERO);
    let (width, label, bar) = (Decimal::from(1000), Decimal::from(260), Decimal::from(26));
    let n = Decimal::from(rows.len());
    let height = bar * n + Decimal::from(10);
    let zero = label + (width - label) / Decimal::TWO;
    let half = (width - label) / Decimal::TWO - Decimal::from(80);
    let mut s = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"change of the fees per group\">\n<line x1=\"{z}\" y1=\"0\" x2=\"{z}\" y2=\"{h}\" stroke=\"#8c959f\"/>\n",
        w = px(width),
        h = px(height),
        z = px(zero)
    );
    for (i, (name, d)) in rows.iter().enumerate() {
        let y = Decimal::from(5) + bar * Decimal::from(i);
        let len = scale(d.abs(), most, half);
        let up = *d >= Decimal::ZERO;
        let (x, color, tx, anchor) = if up {
            (zero, UP, zero + len + Decimal::from(6), "start")
        } else {
            (zero - len, DOWN, zero - len - Decimal::from(6), "end")
        };
        let base = y + Decimal::from(16);
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"20\" rx=\"2\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            px(label - Decimal::from(8)),
            px(base),
            esc(name),
            px(x),
            px(y),
            px(len),
            px(tx),
            px(base),
            esc(&signed(*d, dp))
        );
    }
    s.push_str("</svg>\n");
    Ok(s)
}

/// A histogram of the changes in [`BINS`] equal bins from the smallest to
/// the largest (one bar when all are alike), each bar labelled with its
/// count, the axis with the bins' bounds.
fn histogram(changes: &[Decimal], dp: u32) -> String {
    let lo = changes.iter().min().copied().unwrap_or(Decimal::ZERO);
    let hi = changes.iter().max().copied().unwrap_or(Decimal::ZERO);
    let bins = if hi > lo { BINS } else { 1 };
    // Changes are exact sums' differences: their spread may not fit, and
    // then every change goes in one bar rather than overflow.
    let span = hi.checked_sub(lo).unwrap_or(Decimal::ZERO);
    let bins = if span.is_zero() { 1 } else { bins };
    let mut counts = vec![0u64; bins as usize];
    for c in changes {
        let i = scale(c.checked_sub(lo).unwrap_or(span), span, Decimal::from(bins))
            .floor()
            .to_usize()
            .unwrap_or(0)
            .min(counts.len().saturating_sub(1));
        if let Some(n) = counts.get_mut(i) {
            *n += 1;
        }
    }
    let top = Decimal::from(counts.iter().copied().max().unwrap_or(1).max(1));
    let (width, plot, pad) = (Decimal::from(1000), Decimal::from(240), Decimal::from(40));
    let bw = (width - pad * Decimal::TWO) / Decimal::from(bins);
    let floor = plot + Decimal::from(20);
    let mut s = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"distribution of per-record changes\">\n<line x1=\"{p}\" y1=\"{f}\" x2=\"{e}\" y2=\"{f}\" stroke=\"#8c959f\"/>\n",
        w = px(width),
        h = px(floor + Decimal::from(44)),
        p = px(pad),
        e = px(width - pad),
        f = px(floor)
    );
    for (i, &n) in counts.iter().enumerate() {
        let bh = scale(Decimal::from(n), top, plot);
        let x = pad + bw * Decimal::from(i);
        let from = lo
            .checked_add(scale(Decimal::from(i), Decimal::from(bins), span))
            .unwrap_or(hi);
        let to = lo
            .checked_add(scale(Decimal::from(i + 1), Decimal::from(bins), span))
            .unwrap_or(hi);
        let mid = from / Decimal::TWO + to / Decimal::TWO;
        let color = if mid >= Decimal::ZERO { UP } else { DOWN };
        let range = format!(
            "{} to {}",
            amount(from.round_dp(dp), dp),
            amount(to.round_dp(dp), dp)
        );
        let _ = writeln!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{color}\"><title>{n} records, change {}</title></rect>",
            px(x + Decimal::ONE),
            px(floor - bh),
            px(bw - Decimal::TWO),
            px(bh),
            esc(&range)
        );
        if n > 0 {
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{n}</text>",
                px(x + bw / Decimal::TWO),
                px(floor - bh - Decimal::from(4))
            );
        }
    }
    if lo < Decimal::ZERO && hi > Decimal::ZERO {
        // Where no change lies: falls to the left, rises to the right.
        let x = pad + scale(-lo, span, width - pad * Decimal::TWO);
        let _ = writeln!(
            s,
            "<line x1=\"{x}\" y1=\"{top}\" x2=\"{x}\" y2=\"{f}\" stroke=\"#57606a\" stroke-dasharray=\"4 3\"/><text x=\"{x}\" y=\"{t}\" text-anchor=\"middle\">0</text>",
            x = px(x),
            top = px(Decimal::from(10)),
            f = px(floor + Decimal::from(4)),
            t = px(floor + Decimal::from(18))
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">change of the fee per record</text>\n</svg>",
        px(pad),
        px(floor + Decimal::from(18)),
        esc(&signed(lo, dp)),
        px(width - pad),
        px(floor + Decimal::from(18)),
        esc(&signed(hi, dp)),
        px(width / Decimal::TWO),
        px(floor + Decimal::from(36))
    );
    s
}
