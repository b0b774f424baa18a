//! "Did you mean" suggestions for misspelled names.

/// The candidate closest to `name`, if one is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let mut best: Option<(&str, usize)> = None;
    for cand in candidates {
        let dist = strsim::damerau_levenshtein(&lower, &cand.to_lowercase());
        let limit = (cand.chars().count().max(name.chars().count()) / 3).max(1);
        if dist <= limit && best.is_none_or(|(_, d)| dist < d) {
            best = Some((cand, dist));
        }
    }
    best.map(|(c, _)| c)
}

/// A help line "did you mean `x`?" when a close candidate exists.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// Help for a name that is not a lint: the closest lint's name, or where to
/// find them all.
pub fn lint_help(name: &str) -> String {
    let names = crate::diagnostic::Code::LINTS
        .iter()
        .filter_map(|c| c.lint_name());
    did_you_mean(name, names)
        .unwrap_or_else(|| "run `tollgate explain` to list every lint".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_ignores_strangers() {
        let names = ["credit_card", "debit_card", "wechat", "alipay"];
        assert_eq!(closest("credit_crad", names), Some("credit_card"));
        assert_eq!(closest("wechta", names), Some("wechat"));
        assert_eq!(closest("WeChat", names), Some("wechat"));
        assert_eq!(closest("bitcoin", names), None);
    }
}
