//! How `eval --explain` (and `tollgate test`) explain a tiered fee: the
//! band that set the rate (`whole`), or each band's part of the amount
//! and its rate (`marginal`).

use crate::compile::print::percent;
use serde_json::{json, Map, Value as Json};
use tollgate_runtime::fee::{FeeFormula, TierMode};
use tollgate_runtime::Decimal;

/// Adds the tiers' part of `fee` on `amount` to an explanation: under
/// `whole`, `band` (`"up to 5000.00"`, `"above 5000.00"`) and `rate`;
/// under `marginal`, `bands`, each band charged with its `part` of the
/// amount and its `rate`, in order. A refund is charged on its magnitude,
/// and so explained. Nothing for a fee without tiers.
pub fn explain(fee: &FeeFormula, amount: Decimal, m: &mut Map<String, Json>) {
    let magnitude = amount.abs();
    match fee.tier_mode {
        None => {}
        Some(TierMode::Whole) => {
            let Some(i) = fee.band_of(amount) else {
                return;
            };
            if let Some(band) = fee.tiers.get(i) {
                m.insert("band".into(), json!(label(fee, i)));
                m.insert("rate".into(), json!(percent(band.rate)));
            }
        }
        Some(TierMode::Marginal) => {
            let mut parts = Vec::new();
            let mut lower = Decimal::ZERO;
            for band in &fee.tiers {
                let upper = band.up_to.map_or(magnitude, |up| up.min(magnitude));
                if upper > lower {
                    if let Some(part) = upper.checked_sub(lower) {
                        parts.push(json!({ "part": part.to_string(), "rate": percent(band.rate) }));
                    }
                }
                match band.up_to {
                    Some(up) if up < magnitude => lower = up,
                    _ => break,
                }
            }
            m.insert("bands".into(), Json::Array(parts));
        }
    }
}

/// Band `i` in words: `up to 1000.00`, or `above 5000.00` for the open
/// last band.
fn label(fee: &FeeFormula, i: usize) -> String {
    match fee.tiers.get(i).and_then(|b| b.up_to) {
        Some(up) => format!("up to {up}"),
        None => {
            let below = i
                .checked_sub(1)
                .and_then(|j| fee.tiers.get(j))
                .and_then(|b| b.up_to);
            below.map_or_else(|| "above".to_string(), |b| format!("above {b}"))
        }
    }
}

/// The arithmetic of a tiered explanation in words, when it has bands:
/// `1000.00 × 0.38% + 4000.00 × 0.50% + 626.67 × 0.60%`.
pub fn arithmetic(explain: &Json) -> Option<String> {
    let bands = explain.get("bands")?.as_array()?;
    let terms: Vec<String> = bands
        .iter()
        .map(|b| {
            let s = |k: &str| b.get(k).and_then(Json::as_str).unwrap_or("?");
            format!("{} × {}", s("part"), s("rate"))
        })
        .collect();
    Some(if terms.is_empty() {
        "nothing in any band".to_string()
    } else {
        terms.join(" + ")
    })
}
