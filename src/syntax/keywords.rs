//! The one home of Tollgate's keyword list, for tools that work on tokens
//! (the formatter, the token-level lints, editors' highlighting).
//!
//! The grammar is normative; a test checks that this list agrees with it.

/// Words that can never be names: they join, negate or introduce conditions.
pub const RESERVED: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "between",
    "true",
    "false",
    "when",
    "otherwise",
];

/// Words that are keywords only where the grammar expects them; elsewhere they
/// are ordinary names (a field may be called `kind` or `day`).
pub const CONTEXTUAL: &[&str] = &[
    "policy",
    "version",
    "kind",
    "currency",
    "timezone",
    "rounding",
    "to",
    "clock",
    "late",
    "records",
    "message",
    "id",
    "field",
    "default",
    "enum",
    "const",
    "condition",
    "schedule",
    "on",
    "hit",
    "rule",
    "of",
    "min",
    "cap",
    "tiered",
    "up",
    "above",
    "always",
    "deliver",
    "suppress",
    "dedup",
    "by",
    "within",
    "quiet",
    "then",
    "limit",
    "per",
    "calendar",
    "day",
    "lint",
    "budget",
    "expect",
    "total",
    "with",
    "refunds",
    "tests",
    "for",
    "test",
    "record",
    "fee",
    "start",
    "at",
    "defer",
    "until",
    "repeat",
    "effective",
    "from",
];

/// Whether `word` is reserved and so can't name a field, constant or rule.
pub fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRAMMAR: &str = include_str!("../../grammar/tollgate.pest");

    #[test]
    fn every_grammar_keyword_is_listed_and_every_listed_word_is_in_the_grammar() {
        let in_grammar: Vec<&str> = GRAMMAR
            .lines()
            .filter(|l| l.starts_with("kw_"))
            .filter_map(|l| l.split('"').nth(1))
            .collect();
        for word in &in_grammar {
            assert!(
                RESERVED.contains(word) || CONTEXTUAL.contains(word),
                "`{word}` is a keyword in the grammar but not in keywords.rs"
            );
        }
        for word in RESERVED.iter().chain(CONTEXTUAL) {
            assert!(
                in_grammar.contains(word),
                "`{word}` is listed but the grammar has no kw_{word}"
            );
        }
    }

    #[test]
    fn reserved_words_match_the_grammar() {
        let line = GRAMMAR
            .lines()
            .find(|l| l.starts_with("reserved"))
            .unwrap_or_default();
        for word in RESERVED {
            assert!(
                line.contains(&format!("\"{word}\"")),
                "`{word}` is not reserved in the grammar"
            );
        }
        assert_eq!(line.matches('"').count() / 2, RESERVED.len());
    }
}
