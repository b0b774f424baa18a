//! Running a test file against its compiled policy: each test's verdict,
//! with the record, the expected and actual answers and the engine's
//! explanation when it fails, and what it exercised.

use super::ast::*;
use super::coverage::Coverage;
use super::typing::{check_currency, typed};
use crate::cli::eval::{describe_error, explain, rule_name};
use crate::cli::notify_out;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value as Json};
use tollgate_runtime::artifact::Compiled;
use tollgate_runtime::eval::Component;
use tollgate_runtime::hashes::MessageIdHash;
use tollgate_runtime::notify::{Decision, MemoryState, NotifyPolicy};
use tollgate_runtime::table::Table;
use tollgate_runtime::trace::{FeeTrace, NotifyTrace};

/// The verdict on one test.
pub enum Verdict {
    /// Every expectation held.
    Passed,
    /// An expectation did not hold.
    Failed(Box<Failure>),
    /// The test could not be run (an unknown field, a malformed value, a
    /// test of the wrong kind): every problem found in it, as diagnostics
    /// about the test file (never none).
    Error(Vec<Diagnostic>),
}

/// What a failed test shows.
pub struct Failure {
    /// The report, pointing at the expectation that failed (`E0605`).
    pub diagnostic: Diagnostic,
    /// The record, as `eval` reads it.
    pub record: Json,
    /// The expected answer, in `eval`'s words.
    pub expected: Json,
    /// The actual answer, as `eval` prints it.
    pub actual: Json,
    /// Why the engine answered so (what `eval --explain` adds).
    pub explain: Json,
}

/// One test and its verdict.
pub struct Outcome {
    /// The test's name.
    pub name: String,
    /// Where its name was written.
    pub span: Span,
    /// The verdict.
    pub verdict: Verdict,
}

/// Runs every test of `file` against `policy`, noting what each exercised
/// in `coverage`. `named` holds the problems of each test's name, in the
/// order of the tests ([`super::names::check_names`]): a test whose name
/// has one is an error with every other problem it has, and is not run.
pub fn run(
    file: &TestFile,
    policy: &Compiled,
    coverage: &mut Coverage,
    named: &[Vec<Diagnostic>],
) -> Vec<Outcome> {
    file.tests
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let name_problems = named.get(i).filter(|ds| !ds.is_empty());
            let verdict = match name_problems {
                None => run_one(t, policy, coverage),
                Some(ds) => {
                    // Its other problems are found on a coverage of its
                    // own, which is dropped: the test is not run.
                    let mut all = ds.clone();
                    if let Verdict::Error(more) = run_one(t, policy, &mut Coverage::default()) {
                        all.extend(more);
                    }
                    Verdict::Error(all)
                }
            };
            Outcome {
                name: t.name.clone(),
                span: t.name_span,
                verdict,
            }
        })
        .collect()
}

fn run_one(test: &TestCase, policy: &Compiled, coverage: &mut Coverage) -> Verdict {
    let result = match (&test.body, policy) {
        (TestBody::Fee(f), Compiled::Fees(table)) => fee_test(test, f, table, coverage),
        (TestBody::Stream(s), Compiled::Notifications(p)) => stream_test(test, s, p, coverage),
        (TestBody::Fee(_), Compiled::Notifications(p)) => Err(vec![Diagnostic::error(
            Code::E0601,
            format!(
                "`{}` is a notifications policy: its tests are message streams",
                p.name()
            ),
            test.name_span,
            "a fee test",
        )
        .with_help("write `message at TIME { ... } => DECISION` lines")]),
        (TestBody::Stream(_), Compiled::Fees(t)) => Err(vec![Diagnostic::error(
            Code::E0601,
            format!(
                "`{}` is a fees policy: its tests give a record and its fee",
                t.name()
            ),
            test.name_span,
            "a message stream",
        )
        .with_help("write `record { ... }` and `expect fee AMOUNT`")]),
    };
    match result {
        Ok(None) => Verdict::Passed,
        Ok(Some(f)) => Verdict::Failed(Box::new(f)),
        Err(ds) => Verdict::Error(ds),
    }
}

/// The amount as the policy's currency prints it.
fn money(table: &Table, d: Decimal) -> String {
    crate::compile::print::amount(d, crate::currency::display_decimals(table.currency()))
}

/// Runs a fee test: `Ok(None)` when it passes; every problem that keeps
/// it from running otherwise.
fn fee_test(
    test: &TestCase,
    f: &FeeTest,
    table: &Table,
    coverage: &mut Coverage,
) -> Result<Option<Failure>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let record = typed(&f.record, table.fields(), None, Some(table.currency()))
        .map_err(|ds| errors.extend(ds))
        .ok();
    if let Err(d) = check_currency(&f.fee, Some(table.currency())) {
        errors.push(d);
    }
    let mut wanted = Vec::new();
    for c in &f.components {
        if let Err(d) = check_currency(&c.fee, Some(table.currency())) {
            errors.push(d);
        }
        let Some(si) = table
            .schedules()
            .iter()
            .position(|s| s.name() == c.schedule.name)
        else {
            let names: Vec<&str> = table.schedules().iter().map(|s| s.name()).collect();
            errors.push(unknown(&c.schedule, "schedule", &names));
            continue;
        };
        let s = table.schedules().get(si);
        let rules: Vec<&str> = s.map_or(Vec::new(), |s| {
            s.rules().iter().map(|r| r.name.as_str()).collect()
        });
        if !rules.contains(&c.rule.name.as_str()) {
            errors.push(unknown(&c.rule, "rule", &rules));
            continue;
        }
        if let Some(first) = f
            .components
            .iter()
            .take_while(|e| !std::ptr::eq(*e, c))
            .find(|e| e.schedule.name == c.schedule.name)
        {
            errors.push(
                Diagnostic::error(
                    Code::E0102,
                    format!(
                        "the component of schedule `{}` is expected twice",
                        c.schedule.name
                    ),
                    c.span,
                    "expected again here",
                )
                .with_label(first.span, "first expected here")
                .with_help("a schedule gives one component: remove one of the two lines"),
            );
            continue;
        }
        wanted.push((c.schedule.name.as_str(), c.rule.name.as_str(), c.fee.value));
    }
    let Some(record) = record.filter(|_| errors.is_empty()) else {
        return Err(errors);
    };
    let mut components: Vec<Component> = Vec::new();
    let mut trace = FeeTrace::default();
    let answer = table.fee_traced(&record.values, &mut components, &mut trace);
    let mut expected = json!({ "fee": money(table, f.fee.value) });
    if !f.components.is_empty() {
        let listed: Vec<Json> = wanted
            .iter()
            .map(|(s, r, fee)| json!({ "schedule": s, "rule": r, "fee": money(table, *fee) }))
            .collect();
        if let Json::Object(m) = &mut expected {
            m.insert("components".into(), Json::Array(listed));
        }
    }
    let total = match answer {
        Ok(total) => total,
        Err(e) => {
            let message = describe_error(table, &e);
            let d = failed(
                test,
                f.fee_span,
                format!(
                    "expected fee {}, but the record is refused",
                    money(table, f.fee.value)
                ),
                "expected this fee",
            );
            let d = d.with_note(format!("record: {}", record.json));
            let d = d.with_note(format!("error: {message}"));
            return Ok(Some(Failure {
                diagnostic: d,
                record: record.json,
                expected,
                actual: json!({ "error": message }),
                explain: Json::Null,
            }));
        }
    };
    coverage.fees(table, &record.values, &components);
    let actual_components: Vec<(&str, &str, Decimal)> = components
        .iter()
        .map(|c| {
            let s = table.schedules().get(c.schedule.get() as usize);
            (
                s.map_or("?", |s| s.name()),
                rule_name(s, c.rule.get()),
                c.fee.total,
            )
        })
        .collect();
    let fee_ok = total == f.fee.value;
    let differences = if f.components.is_empty() {
        Vec::new()
    } else {
        component_differences(table, &f.components, &actual_components)
    };
    let components_ok = differences.is_empty();
    if fee_ok && components_ok {
        return Ok(None);
    }
    let actual = json!({
        "fee": money(table, total),
        "components": actual_components
            .iter()
            .map(|(s, r, fee)| json!({ "schedule": s, "rule": r, "fee": money(table, *fee) }))
            .collect::<Vec<_>>(),
    });
    let explained: Vec<Json> = components
        .iter()
        .filter_map(|c| {
            let s = table.schedules().get(c.schedule.get() as usize)?;
            let t = trace.of(c.schedule)?;
            Some(json!({ "schedule": s.name(), "explain": explain(table, s, t) }))
        })
        .collect();
    let (span, message, label) = match differences.first() {
        Some(first) if fee_ok => {
            let all = f
                .components
                .first()
                .map_or(f.fee_span, |c| c.span)
                .to(f.components.last().map_or(f.fee_span, |c| c.span));
            let texts: Vec<&str> = differences.iter().map(|d| d.1.as_str()).collect();
            (
                first.0.unwrap_or(all),
                format!("the components differ: {}", texts.join("; ")),
                first.1.clone(),
            )
        }
        _ => (
            f.fee_span,
            format!(
                "expected fee {}, got {}",
                money(table, f.fee.value),
                money(table, total)
            ),
            format!(
                "expected {}, got {}",
                money(table, f.fee.value),
                money(table, total)
            ),
        ),
    };
    let mut d = failed(test, span, message, label);
    if fee_ok {
        for (at, text) in differences.iter().skip(1) {
            if let Some(at) = at {
                d = d.with_label(*at, text.clone());
            }
        }
    }
    let mut d = d
        .with_note(format!("record: {}", record.json))
        .with_note(format!("expected: {expected}"))
        .with_note(format!("actual: {actual}"));
    for e in &explained {
        d = d.with_note(why_fee(e));
    }
    Ok(Some(Failure {
        diagnostic: d,
        record: record.json,
        expected,
        actual,
        explain: Json::Array(explained),
    }))
}

/// How the expected components differ from the engine's, one entry a
/// difference: the expectation's line (none for a component no line
/// expected) and what differs. Empty when they are the same. Each schedule
/// is expected at most once (checked before the run).
fn component_differences(
    table: &Table,
    expected: &[ComponentExpect],
    actual: &[(&str, &str, Decimal)],
) -> Vec<(Option<Span>, String)> {
    let mut out = Vec::new();
    for e in expected {
        let (schedule, rule) = (e.schedule.name.as_str(), e.rule.name.as_str());
        let wanted = money(table, e.fee.value);
        match actual.iter().find(|(s, _, _)| *s == schedule) {
            None => out.push((
                Some(e.span),
                format!("expected {schedule}.{rule} {wanted}, but schedule `{schedule}` gave no component"),
            )),
            Some((_, r, fee)) if *r == rule => {
                if *fee != e.fee.value {
                    out.push((
                        Some(e.span),
                        format!("{schedule}.{rule}: expected {wanted}, got {}", money(table, *fee)),
                    ));
                }
            }
            Some((_, r, fee)) => out.push((
                Some(e.span),
                format!(
                    "expected {schedule}.{rule} {wanted}, got {schedule}.{r} {}",
                    money(table, *fee)
                ),
            )),
        }
    }
    for (s, r, fee) in actual {
        if !expected.iter().any(|e| e.schedule.name == *s) {
            out.push((
                None,
                format!("got {s}.{r} {}, which no line expects", money(table, *fee)),
            ));
        }
    }
    out
}

/// The diagnostic of a failed test: `span` is the expectation that failed.
fn failed(test: &TestCase, span: Span, message: String, label: impl Into<String>) -> Diagnostic {
    Diagnostic::error(
        Code::E0605,
        format!("test \"{}\" failed: {message}", test.name),
        span,
        label,
    )
    .with_label(test.name_span, "in this test")
}

fn unknown(name: &crate::ast::Ident, what: &str, names: &[&str]) -> Diagnostic {
    let d = Diagnostic::error(
        Code::E0604,
        format!("the policy has no {what} `{}`", name.name),
        name.span,
        format!("no such {what}"),
    );
    match crate::check::suggest::closest(&name.name, names.iter().copied()) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help(format!("the {what}s are {}", names.join(", "))),
    }
}

/// One component's explanation in words: the rules tried, the rule that
/// matched, and the arithmetic (the fields of `eval --explain`).
fn why_fee(e: &Json) -> String {
    let schedule = e.get("schedule").and_then(Json::as_str).unwrap_or("?");
    let x = e.get("explain").cloned().unwrap_or(Json::Null);
    let s = |k: &str| x.get(k).and_then(Json::as_str).map(str::to_string);
    let mut parts: Vec<String> = Vec::new();
    for t in x
        .get("tried")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let rule = t.get("rule").and_then(Json::as_str).unwrap_or("?");
        let why = t.get("failed").and_then(Json::as_str).unwrap_or("");
        parts.push(format!("`{rule}` does not match ({why})"));
    }
    let matched = s("matched").unwrap_or_default();
    let formula = s("formula").unwrap_or_default();
    parts.push(format!("`{matched}` matches: {formula}"));
    let amount = s("amount").unwrap_or_default();
    let raw = s("raw").unwrap_or_default();
    let product = match (crate::cli::bands::arithmetic(&x), s("rate"), s("band")) {
        (Some(bands), _, _) => format!("{bands} = {raw}"),
        (None, Some(rate), Some(band)) => format!("{amount} × {rate} (band {band}) = {raw}"),
        (None, Some(rate), None) => format!("{amount} × {rate} = {raw}"),
        (None, None, _) => format!("no rate on {amount}: {raw}"),
    };
    let mut sum = format!(
        "{product}, {} → {}",
        s("rounding").unwrap_or_default(),
        s("rounded").unwrap_or_default()
    );
    let steps = [
        ("minimum_applied", "raised to the minimum"),
        ("cap_applied", "capped at"),
        ("fixed", "plus fixed"),
        ("total_minimum_applied", "total raised to the minimum"),
        ("total_cap_applied", "total capped at"),
        ("fee", "fee"),
    ];
    for (key, words) in steps {
        if let Some(v) = s(key) {
            if key == "fixed" && v.trim_start_matches(['0', '.']).is_empty() {
                continue;
            }
            sum.push_str(&format!(", {words} {v}"));
        }
    }
    parts.push(sum);
    format!("why ({schedule}): {}", parts.join("; "))
}

/// A message of a stream, typed and ready to be decided.
struct Prepared {
    record: super::typing::Typed,
    until: Option<i64>,
}

/// Types every message of a stream before any is decided, so that every
/// problem of the test is reported at once.
fn prepare(
    s: &StreamTest,
    policy: &NotifyPolicy,
    clock: &str,
) -> Result<Vec<Prepared>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let start = match s.start.as_ref().map(instant).transpose() {
        Ok(start) => start,
        Err(d) => {
            errors.push(d);
            None
        }
    };
    let mut prepared = Vec::new();
    for m in &s.messages {
        let (at, at_span) = match message_time(m, start, s.start.is_some()) {
            Ok((t, span)) => (shown_instant(policy, t), span),
            Err((d, span)) => {
                errors.push(d);
                // The time's problem is reported; a stand-in time lets the
                // record's own problems be found too.
                let stand_in =
                    start.map_or_else(|| "2026-01-01T00:00:00+00:00".into(), |t| t.to_rfc3339());
                (stand_in, span)
            }
        };
        let record = typed(
            &m.record,
            policy.fields(),
            Some((clock, Json::String(at), at_span)),
            None,
        )
        .map_err(|ds| errors.extend(ds))
        .ok();
        if let Some(rule) = &m.expect.rule {
            if !policy.rules().iter().any(|r| r.name() == rule.name) {
                let names: Vec<&str> = policy.rules().iter().map(|r| r.name()).collect();
                errors.push(unknown(rule, "rule", &names));
            }
        }
        let until = match &m.expect.kind {
            DecisionKind::Defer(i) => match instant(i) {
                Ok(t) => Some(t.timestamp_millis()),
                Err(d) => {
                    errors.push(d);
                    None
                }
            },
            _ => None,
        };
        if let Some(record) = record {
            prepared.push(Prepared { record, until });
        }
    }
    if errors.is_empty() {
        Ok(prepared)
    } else {
        Err(errors)
    }
}

/// An instant as reports show it: in the policy's zone (the offset in
/// force there at that instant), as `eval` writes `defer` instants; as
/// written when the zone is not built for its year (the engine refuses
/// it, and says why).
fn shown_instant(policy: &NotifyPolicy, t: chrono::DateTime<chrono::FixedOffset>) -> String {
    if policy.zone().covers(t.timestamp()) {
        notify_out::instant(policy, t.timestamp_millis())
    } else {
        t.to_rfc3339()
    }
}

/// A message's time, and where it was written.
///
/// # Errors
/// A time that is not an instant, a relative time with no `start`
/// (`has_start` false) or too far after it, with the time's span.
fn message_time(
    m: &MessageCase,
    start: Option<chrono::DateTime<chrono::FixedOffset>>,
    has_start: bool,
) -> Result<(chrono::DateTime<chrono::FixedOffset>, Span), (Diagnostic, Span)> {
    match &m.time {
        MessageTime::At(i) => instant(i).map(|t| (t, i.span)).map_err(|d| (d, i.span)),
        MessageTime::After { secs, span } => {
            let Some(start) = start else {
                if has_start {
                    // The start is wrong, and reported as such.
                    return Err((
                        Diagnostic::error(
                            Code::E0603,
                            "a time after a start that is not an instant",
                            *span,
                            "after what?",
                        ),
                        *span,
                    ));
                }
                return Err((
                    Diagnostic::error(
                        Code::E0601,
                        "a time after the start, but the test has no `start`",
                        *span,
                        "after what?",
                    )
                    .with_help("begin the test with `start INSTANT`, e.g. `start 2026-11-25T09:00:00+08:00`"),
                    *span,
                ));
            };
            let later = i64::try_from(*secs)
                .ok()
                .and_then(chrono::TimeDelta::try_seconds)
                .and_then(|d| start.checked_add_signed(d));
            match later {
                Some(later) => Ok((later, *span)),
                None => Err((
                    Diagnostic::error(
                        Code::E0603,
                        "this time is too far after the start",
                        *span,
                        "too far",
                    ),
                    *span,
                )),
            }
        }
    }
}

/// Runs a message stream: `Ok(None)` when every decision is as expected.
fn stream_test(
    test: &TestCase,
    s: &StreamTest,
    policy: &NotifyPolicy,
    coverage: &mut Coverage,
) -> Result<Option<Failure>, Vec<Diagnostic>> {
    let clock = policy
        .fields()
        .get(policy.clock() as usize)
        .map_or("at", |f| f.name.as_str());
    let prepared = prepare(s, policy, clock)?;
    let mut state = MemoryState::new();
    // The message (1-based) that first decided each message id.
    let mut first_decided: std::collections::HashMap<MessageIdHash, usize> =
        std::collections::HashMap::new();
    let count = s.messages.len();
    for (n, (m, p)) in s.messages.iter().zip(prepared).enumerate() {
        let Prepared { record, until } = p;
        let mut traced = NotifyTrace::default();
        let answered = policy.answer_traced(&record.values, &mut state, &mut traced);
        let trace = notify_out::rules(policy, &traced);
        let expected = expected_json(policy, &m.expect, until);
        let id = policy.message_id_of(&record.values);
        let (actual, ok, repeat) = match answered {
            Ok(a) => {
                if !a.repeat {
                    coverage.message(&traced, a.decision);
                    if let Some(id) = id {
                        first_decided.entry(id).or_insert(n + 1);
                    }
                }
                let ok = matches_decision(policy, &m.expect, until, a.decision, a.repeat);
                (notify_out::answer(policy, a, None), ok, a.repeat)
            }
            Err(e) => (
                json!({ "error": notify_out::error(policy, e) }),
                false,
                false,
            ),
        };
        if ok {
            continue;
        }
        let d = failed(
            test,
            m.expect.span,
            format!(
                "message {} of {count}: expected {}, got {}",
                n + 1,
                decision_text(&expected),
                decision_text(&actual)
            ),
            format!("expected {}", decision_text(&expected)),
        )
        .with_label(m.span, "this message")
        .with_note(format!("record: {}", record.json))
        .with_note(format!("expected: {expected}"))
        .with_note(format!("actual: {actual}"));
        let mut d = d;
        let repeat_of = repeat
            .then(|| notify_out::repeat_of(policy, &record.values, &traced))
            .flatten();
        let trace = match repeat_of {
            Some(r) => {
                let at = r.get("decided_at").and_then(Json::as_str).unwrap_or("?");
                let msg = r.get("message_id").and_then(Json::as_str).unwrap_or("?");
                let first = id
                    .and_then(|id| first_decided.get(&id))
                    .map_or(String::new(), |k| format!(" (message {k})"));
                d = d.with_note(format!(
                    "repeat of message id `{msg}`, first decided at {at}{first}: a repeat \
                     gets that decision again, and no rule is consulted"
                ));
                if !m.expect.repeat {
                    d = d.with_help(format!(
                        "add `repeat` to the expectation: `=> {} repeat`",
                        decision_words(&actual)
                    ));
                }
                vec![json!({ "repeat_of": r })]
            }
            None => {
                for line in why_message(&trace) {
                    d = d.with_note(line);
                }
                if m.expect.repeat && !repeat {
                    d = d.with_help(
                        "this message was decided anew, not as a repeat: remove `repeat`, \
                         or give it the message id of an earlier message",
                    );
                }
                trace
            }
        };
        return Ok(Some(Failure {
            diagnostic: d,
            record: record.json,
            expected,
            actual,
            explain: Json::Array(trace),
        }));
    }
    Ok(None)
}

/// An instant of the test file.
///
/// # Errors
/// `E0603` when it does not exist (`2026-02-30T...`).
fn instant(i: &InstantLit) -> Result<chrono::DateTime<chrono::FixedOffset>, Diagnostic> {
    chrono::DateTime::parse_from_rfc3339(&i.text).map_err(|e| {
        Diagnostic::error(
            Code::E0603,
            format!("`{}` is not an instant ({e})", i.text),
            i.span,
            "this instant",
        )
    })
}

fn expected_json(policy: &NotifyPolicy, e: &ExpectedDecision, until: Option<i64>) -> Json {
    let mut m = Map::new();
    let word = match e.kind {
        DecisionKind::Deliver => "deliver",
        DecisionKind::Suppress => "suppress",
        DecisionKind::Defer(_) => "defer",
    };
    m.insert("decision".into(), json!(word));
    if let Some(ms) = until {
        m.insert("until".into(), json!(notify_out::instant(policy, ms)));
    }
    if let Some(r) = &e.rule {
        m.insert("rule".into(), json!(r.name));
    }
    if e.repeat {
        m.insert("repeat".into(), json!(true));
    }
    Json::Object(m)
}

fn matches_decision(
    policy: &NotifyPolicy,
    e: &ExpectedDecision,
    until: Option<i64>,
    d: Decision,
    repeat: bool,
) -> bool {
    let name = |i: u32| policy.rules().get(i as usize).map(|r| r.name());
    let by = |rule: u32| {
        e.rule
            .as_ref()
            .is_none_or(|r| name(rule) == Some(r.name.as_str()))
    };
    let kind = match (&e.kind, d) {
        (DecisionKind::Deliver, Decision::Deliver { .. }) => true,
        (DecisionKind::Suppress, Decision::Suppress { rule, .. }) => by(rule.get()),
        (DecisionKind::Defer(_), Decision::Defer { rule, until_ms }) => {
            until == Some(until_ms) && by(rule.get())
        }
        _ => false,
    };
    kind && e.repeat == repeat
}

/// A decision line in words: `defer until 2026-11-25T13:00:00+08:00 by
/// peak_hours`.
fn decision_text(j: &Json) -> String {
    if let Some(e) = j.get("error").and_then(Json::as_str) {
        return format!("an error ({e})");
    }
    let mut s = j
        .get("decision")
        .and_then(Json::as_str)
        .unwrap_or("?")
        .to_string();
    if let Some(u) = j.get("until").and_then(Json::as_str) {
        s.push_str(&format!(" until {u}"));
    }
    if let Some(r) = j.get("rule").and_then(Json::as_str) {
        s.push_str(&format!(" by {r}"));
    }
    if let Some(r) = j.get("reason").and_then(Json::as_str) {
        s.push_str(&format!(" ({r})"));
    }
    if j.get("repeat") == Some(&Json::Bool(true)) {
        s.push_str(", repeat");
    }
    s
}

/// A decision as an expectation writes it: `deliver`, `suppress by
/// txn_dedup`, `defer until 2026-11-25T13:00:00+08:00 by peak_hours`.
fn decision_words(j: &Json) -> String {
    let mut s = j
        .get("decision")
        .and_then(Json::as_str)
        .unwrap_or("?")
        .to_string();
    if let Some(u) = j.get("until").and_then(Json::as_str) {
        s.push_str(&format!(" until {u}"));
    }
    if let Some(r) = j.get("rule").and_then(Json::as_str) {
        s.push_str(&format!(" by {r}"));
    }
    s
}

/// What each rule that applies saw, one line a rule (the trace of `eval
/// --explain`).
fn why_message(trace: &[Json]) -> Vec<String> {
    trace
        .iter()
        .filter(|t| t.get("applies") == Some(&Json::Bool(true)))
        .map(|t| {
            let rule = t.get("rule").and_then(Json::as_str).unwrap_or("?");
            let saw: Vec<String> = t
                .get("saw")
                .and_then(Json::as_object)
                .into_iter()
                .flatten()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| match v {
                    Json::String(s) => format!("{} {s}", k.replace('_', " ")),
                    other => format!("{} {other}", k.replace('_', " ")),
                })
                .collect();
            format!("rule `{rule}` saw: {}", saw.join(", "))
        })
        .collect()
}
