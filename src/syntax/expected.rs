//! Turns pest's parse errors into diagnostics in the user's words: grammar
//! rule names are reworded ("a name", "`when`") and the offending token is
//! named.

use super::grammar::Rule;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use pest::error::{Error, ErrorVariant, InputLocation};

/// The words for a grammar rule in "expected ..." messages.
fn describe(rule: Rule) -> String {
    let name = format!("{rule:?}");
    if let Some(word) = name.strip_prefix("kw_") {
        return format!("`{word}`");
    }
    let text = match rule {
        Rule::punct_arrow => "`=>`",
        Rule::punct_dotdot => "`..`",
        Rule::punct_comma => "`,`",
        Rule::punct_colon => "`:`",
        Rule::punct_lbrace => "`{`",
        Rule::punct_rbrace => "`}`",
        Rule::punct_lparen => "`(`",
        Rule::punct_rparen => "`)`",
        Rule::punct_equals => "`=`",
        Rule::punct_plus => "`+`",
        Rule::punct_dash => "`-`",
        Rule::EOI => "end of file",
        Rule::ident => "a name",
        Rule::integer => "a whole number",
        Rule::value | Rule::literal => "a value",
        Rule::number | Rule::decimal | Rule::digits => "a number",
        Rule::rate | Rule::rate_unit => "a rate (`0.60%` or `38bp`)",
        Rule::duration | Rule::duration_unit => "a duration (`10m`, `1h`, `1d`)",
        Rule::time_of_day => "a time of day (`11:00`)",
        Rule::money | Rule::currency_mark | Rule::currency_code => "an amount of money",
        Rule::string | Rule::string_body => "a string in double quotes",
        Rule::bool_lit => "`true` or `false`",
        Rule::cmp_op => "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        Rule::expr | Rule::and_expr | Rule::unary | Rule::group => "a condition",
        Rule::comparison | Rule::membership | Rule::between => "a condition",
        Rule::set => "a set in braces (`{a, b}`)",
        Rule::fee | Rule::fee_term => "a fee",
        Rule::fee_bound => "`min`, `cap`",
        Rule::band | Rule::band_limit => "a band (`up to 1000.00 => 0.38%` or `above => 0.60%`)",
        Rule::key_list => "a key field or a list of them in parentheses",
        Rule::window => "a time window (`11:00-13:00`)",
        Rule::type_expr | Rule::enum_type => "a type",
        Rule::item
        | Rule::kind_decl
        | Rule::currency_decl
        | Rule::timezone_decl
        | Rule::rounding_decl
        | Rule::clock_decl
        | Rule::lateness_decl
        | Rule::message_id_decl
        | Rule::effective_decl
        | Rule::field_decl
        | Rule::const_decl
        | Rule::condition_decl
        | Rule::schedule_decl
        | Rule::rule_decl
        | Rule::lint_decl => "a declaration",
        Rule::lint_name => "a lint's name (`shadowed-rule`) or code (`L0101`)",
        Rule::expect_decl => "a schedule line",
        Rule::schedule_item | Rule::hit_decl | Rule::otherwise_rule => "a schedule line",
        Rule::outcome | Rule::action => "a fee or an action",
        Rule::suppress => "`suppress \"REASON\"`",
        Rule::punct_dot => "`.`",
        Rule::instant => "an instant with its offset (`2026-11-25T12:15:00+08:00`)",
        Rule::relative_time => "a time after the start (`+15m`)",
        Rule::test_case => "a test (`test \"NAME\" { ... }`)",
        Rule::tests_header => "`tests for POLICY`",
        Rule::fee_test | Rule::stream_test => "`record { ... }` or `message at ...`",
        Rule::test_record => "`record { ... }`",
        Rule::test_message => "`message at TIME { ... } => DECISION`",
        Rule::stream_start => "`start INSTANT`",
        Rule::expect_fee => "`expect fee AMOUNT`",
        Rule::expect_component => "`expect SCHEDULE.RULE AMOUNT`",
        Rule::test_amount => "an amount of money",
        Rule::expected_decision
        | Rule::expect_deliver
        | Rule::expect_suppress
        | Rule::expect_defer => "a decision (`deliver`, `suppress`, `defer until INSTANT`)",
        Rule::decided_by => "`by RULE`",
        Rule::expect_repeat => "`repeat`",
        Rule::record_fields => "a record in braces (`{ amount: 8000.00 CNY }`)",
        Rule::record_field => "a field (`NAME: VALUE`)",
        Rule::record_value => "a value",
        _ => return name.replace('_', " "),
    };
    text.to_string()
}

/// Joins descriptions as "a, b or c".
fn one_of(mut items: Vec<String>) -> String {
    items.sort();
    items.dedup();
    match items.len() {
        0 => "something else".to_string(),
        1 => items.concat(),
        n => {
            let (head, last) = items.split_at(n - 1);
            format!("{} or {}", head.join(", "), last.concat())
        }
    }
}

/// The token at `pos`: a word, a number, or one character; empty at the end.
fn token_at(source: &str, pos: usize) -> (&str, Span) {
    let rest = source.get(pos..).unwrap_or("");
    let mut chars = rest.char_indices();
    let len = match chars.next() {
        None => 0,
        Some((_, c)) if c.is_alphanumeric() || c == '_' => rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
            .map_or(rest.len(), |(i, _)| i),
        Some((_, c)) => c.len_utf8(),
    };
    let text = rest.get(..len).unwrap_or("");
    (text, Span::new(pos, pos + len))
}

/// ASCII stand-ins for full-width punctuation typed with a CJK input method.
fn ascii_for(c: char) -> Option<char> {
    Some(match c {
        '，' => ',',
        '：' => ':',
        '％' => '%',
        '（' => '(',
        '）' => ')',
        '｛' => '{',
        '｝' => '}',
        '＝' => '=',
        '＞' => '>',
        '＜' => '<',
        '；' => ';',
        '－' => '-',
        '＋' => '+',
        '　' => ' ',
        '“' | '”' => '"',
        _ => return None,
    })
}

/// Currency symbols people type before an amount; Tollgate reads only the
/// yuan sign (`¥`, `￥`) or an ISO 4217 code after the number.
const CURRENCY_SYMBOLS: &[&str] = &["US$", "$", "€", "£", "₩", "₹", "₽", "元"];

/// The policy's currency code as its `currency` line writes it (CNY when
/// there is none), read from the text because the parse failed.
fn currency_of(source: &str) -> &str {
    source
        .lines()
        .filter_map(|l| l.split('#').next())
        .filter_map(|l| l.trim().strip_prefix("currency "))
        .map(str::trim)
        .find(|code| code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()))
        .unwrap_or("CNY")
}

/// A hint for an amount written with a currency symbol (`$0.10`): the
/// number alone, or the number with the policy's code.
fn currency_symbol_help(source: &str, pos: usize) -> Option<String> {
    let rest = source.get(pos..)?;
    let symbol = CURRENCY_SYMBOLS.iter().find(|s| rest.starts_with(**s))?;
    let after = rest.get(symbol.len()..)?;
    let len = after
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_' || c == ','))
        .unwrap_or(after.len());
    let amount = after
        .get(..len)?
        .trim_end_matches(['.', ','])
        .replace(',', "");
    if amount.is_empty() || !amount.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let code = currency_of(source);
    Some(format!(
        "write the amount without a currency symbol, `{amount}`, or with the policy's currency code, `{amount} {code}`"
    ))
}

/// A hint for a second `total` in one fee (`total min 1 total cap 2`): the
/// bounds of the whole fee follow one `total`, so the fix joins them.
fn repeated_total_help(source: &str, pos: usize) -> Option<String> {
    let line_start = source.get(..pos)?.rfind('\n').map_or(0, |i| i + 1);
    let before = source.get(line_start..pos)?;
    let first = before
        .match_indices("total")
        .map(|(i, _)| i)
        .find(|&i| is_word_at(before, i, "total"))?;
    let first_bounds = before.get(first + "total".len()..)?.trim();
    let rest = source.get(pos + "total".len()..)?;
    let line_end = rest.find(['\n', '#']).unwrap_or(rest.len());
    let second_bounds = rest.get(..line_end)?.trim();
    if first_bounds.is_empty() || second_bounds.is_empty() {
        return None;
    }
    Some(format!(
        "a fee has one `total`, with the bounds of the whole fee after it: \
         `total {first_bounds} {second_bounds}`"
    ))
}

/// Whether `word` stands at byte `i` of `text` as a whole word.
fn is_word_at(text: &str, i: usize, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let before = text.get(..i).and_then(|t| t.chars().next_back());
    let after = text.get(i + word.len()..).and_then(|t| t.chars().next());
    text.get(i..).is_some_and(|t| t.starts_with(word))
        && !before.is_some_and(ident)
        && !after.is_some_and(ident)
}

/// Parsing stopped at `span` because pest's step limit (or, with `stack`,
/// its stack limit) was reached: a resource limit, not a syntax error.
fn step_limit(span: Span, stack: bool) -> Diagnostic {
    let message = if stack {
        "parsing stopped here: the parser ran out of stack".to_string()
    } else {
        format!(
            "parsing stopped here after {} steps, the parser's limit",
            super::STEP_LIMIT
        )
    };
    Diagnostic::error(
        Code::E0004,
        message,
        span,
        "the text up to here is not known to be wrong",
    )
    .with_help(
        "split the policy into smaller files, or write long conditions as named `condition`s",
    )
}

/// The diagnostic for a pest error on `source`.
pub(super) fn syntax_error(error: &Error<Rule>, source: &str) -> Diagnostic {
    let pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    if let Some(d) = super::braces::unclosed(source, pos) {
        return d;
    }
    let (found, span) = token_at(source, pos);
    if let ErrorVariant::CustomError { message } = &error.variant {
        if message.contains("limit reached") {
            return step_limit(span, message.contains("stack"));
        }
    }
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            one_of(positives.iter().map(|r| describe(*r)).collect())
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let found_words = if found.is_empty() {
        "end of file".to_string()
    } else {
        format!("`{found}`")
    };
    let label = format!("expected {expected}");
    let mut d = Diagnostic::error(
        Code::E0001,
        format!("unexpected {found_words}"),
        span,
        label,
    );
    if crate::syntax::keywords::is_reserved(found) {
        return d.with_help(format!("`{found}` is a reserved word; choose another name"));
    }
    if let Some(help) = currency_symbol_help(source, pos) {
        return d.with_help(help);
    }
    if found == "total" {
        if let Some(help) = repeated_total_help(source, pos) {
            return d.with_help(help);
        }
    }
    if let Some(c) = found.chars().next() {
        if let Some(ascii) = ascii_for(c) {
            d = d.with_help(format!(
                "`{c}` is a full-width character; write the ASCII `{ascii}` instead"
            ));
        } else if !found.is_ascii() && found.chars().any(char::is_alphabetic) {
            d = d.with_help("names use ASCII letters, digits and `_`; put other text in a `#` comment or a string");
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use pest::Position;

    #[test]
    fn a_reached_limit_is_a_resource_error_not_a_syntax_error() {
        let source = "policy p version 1\nkind fees\n";
        let Some(pos) = Position::new(source, 19) else {
            return;
        };
        for message in ["call limit reached", "stack limit reached"] {
            let error = Error::<Rule>::new_from_pos(
                ErrorVariant::CustomError {
                    message: message.to_string(),
                },
                pos,
            );
            let d = syntax_error(&error, source);
            assert_eq!(d.code, Code::E0004, "{d:?}");
            assert!(
                d.message.starts_with("parsing stopped here"),
                "{}",
                d.message
            );
            assert_eq!(d.span().start, 19);
        }
    }
}
