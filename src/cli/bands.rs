//! How `eval --explain` (and `tollgate test`) explain a tiered fee: the
//! band that set the rate (`whole`), or each band's part of the amount
//! and its rate (`marginal`).

use crate::compile::print::percent;
use serde_json::{json, Map, Value as Json};
use tollgate_runtime::fee::{FeeFormula, TierMode};
use tollgate_runtime::trace::TierTrace;
use tollgate_runtime::Decimal;

/// Adds how the tiers of `fee` charged the amount, as the engine traced
/// it (`tiers`), to an explanation: under `whole`, `band` (`"up to
/// 5000.00"`, `"above 5000.00"`) and `rate`; under `marginal`, `bands`,
/// each band charged with its `part` of the amount and its `rate`, in
/// order. A refund is charged on its magnitude, and so explained. Nothing
/// for a fee without tiers.
pub fn explain(fee: &FeeFormula, tiers: &TierTrace, m: &mut Map<String, Json>) {
    match (fee.tier_mode, tiers) {
        (Some(TierMode::Whole), TierTrace::Whole { band: i }) => {
            if let Some(band) = fee.tiers.get(*i) {
                m.insert("band".into(), json!(label(fee, *i)));
                m.insert("rate".into(), json!(percent(band.rate)));
            }
        }
        (Some(TierMode::Marginal), tiers) => {
            let parts: &[(usize, Decimal)] = match tiers {
                TierTrace::Marginal { parts } => parts,
                _ => &[],
            };
            let parts: Vec<Json> = parts
                .iter()
                .filter_map(|&(i, part)| {
                    let band = fee.tiers.get(i)?;
                    Some(json!({ "part": part.to_string(), "rate": percent(band.rate) }))
                })
                .collect();
            m.insert("bands".into(), Json::Array(parts));
        }
        _ => {}
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
