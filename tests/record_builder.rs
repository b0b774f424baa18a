//! The runtime's record builder types records exactly as `tollgate eval`
//! reads them (`src/record.rs`): on random records over every field type,
//! both give the same values, or both refuse.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use chrono::{FixedOffset, TimeZone};
use proptest::prelude::*;
use tollgate_runtime::record::RecordBuilder;
use tollgate_runtime::table::{FieldKind, FieldSpec};
use tollgate_runtime::value::Value;

/// One field of each type, some with defaults, one money with refunds.
fn schema() -> Vec<FieldSpec> {
    static FIELDS: std::sync::OnceLock<Vec<FieldSpec>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(compile).clone()
}

fn compile() -> Vec<FieldSpec> {
    let text = "policy builder version 1\nkind fees\ncurrency CNY\nrounding half_up\n\
                field channel: enum { credit_card, debit_card, wechat }\n\
                field amount: money\n\
                field refund: money with refunds default 0\n\
                field rate: decimal default 1\n\
                field days: integer default 0\n\
                field vip: bool default false\n\
                field merchant: string default \"\"\n\
                field at: timestamp\n\
                schedule mdr on amount {\n  hit first\n  otherwise => 1%\n}\n";
    tollgate::compile_source(text).unwrap().1.fields().to_vec()
}

/// A field's value as a record writes it: the JSON value for the host,
/// and what the builder is given.
#[derive(Debug, Clone)]
enum Input {
    Text(String),
    Bool(bool),
    Time(i64, i32),
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,30})?([eE][+-]?[0-9]{1,2})?",
        "[-+0-9.eE _,]{0,6}",
    ]
}

fn input(kind: &FieldKind) -> BoxedStrategy<Input> {
    match kind {
        FieldKind::Enum(_) => prop_oneof![
            Just("credit_card".to_string()),
            Just("wechat".to_string()),
            "[a-z_]{0,12}",
        ]
        .prop_map(Input::Text)
        .boxed(),
        FieldKind::Money | FieldKind::Decimal | FieldKind::Integer => {
            number().prop_map(Input::Text).boxed()
        }
        FieldKind::Bool => any::<bool>().prop_map(Input::Bool).boxed(),
        FieldKind::String => "[a-z0-9 ]{0,8}".prop_map(Input::Text).boxed(),
        FieldKind::Timestamp => (-2_000_000_000_000i64..4_000_000_000_000, -86_399i32..86_400)
            .prop_map(|(ms, off)| Input::Time(ms, off / 60 * 60))
            .boxed(),
    }
}

fn record() -> impl Strategy<Value = Vec<Option<Input>>> {
    let fields = schema();
    fields
        .iter()
        .map(|f| proptest::option::weighted(0.8, input(&f.kind)))
        .collect::<Vec<_>>()
}

/// The record as `tollgate eval` reads it from a JSON line.
fn host(fields: &[FieldSpec], inputs: &[Option<Input>]) -> Result<Vec<Value>, String> {
    let mut object = serde_json::Map::new();
    for (f, input) in fields.iter().zip(inputs) {
        let json = match input {
            None => continue,
            Some(Input::Text(t)) => serde_json::Value::String(t.clone()),
            Some(Input::Bool(b)) => serde_json::Value::Bool(*b),
            Some(Input::Time(ms, off)) => {
                let zone = FixedOffset::east_opt(*off).unwrap();
                let at = zone.timestamp_millis_opt(*ms).unwrap();
                serde_json::Value::String(at.to_rfc3339())
            }
        };
        object.insert(f.name.clone(), json);
    }
    tollgate::record::from_json(&serde_json::Value::Object(object).to_string(), fields)
}

/// The record as the runtime's builder types it.
fn built(b: &mut RecordBuilder, inputs: &[Option<Input>]) -> Result<Vec<Value>, String> {
    b.reset();
    let fields = b.fields().to_vec();
    for (f, input) in fields.iter().zip(inputs) {
        let name = f.name.as_str();
        let set = match (input, &f.kind) {
            (None, _) => Ok(()),
            (Some(Input::Text(t)), FieldKind::Enum(_)) => b.set_enum(name, t),
            (Some(Input::Text(t)), FieldKind::String) => b.set_str(name, t),
            (Some(Input::Text(t)), _) => b.set_number(name, t),
            (Some(Input::Bool(v)), _) => b.set_bool(name, *v),
            (Some(Input::Time(ms, off)), _) => b.set_time(name, *ms, *off),
        };
        set.map_err(|e| e.to_string())?;
    }
    b.finish().map(<[Value]>::to_vec).map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(2_000), ..ProptestConfig::default() })]

    #[test]
    fn the_builder_types_records_as_eval_does(inputs in record()) {
        let fields = schema();
        let mut b = RecordBuilder::new(&fields);
        // Dirty the builder first: a reset must forget everything.
        b.set_number("amount", "1").unwrap();
        b.set_bool("vip", true).unwrap();
        let host = host(&fields, &inputs);
        let built = built(&mut b, &inputs);
        match (&host, &built) {
            (Ok(h), Ok(v)) => prop_assert_eq!(h, v),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "host {host:?} but builder {built:?} for {inputs:?}"),
        }
    }
}

#[test]
fn money_from_minor_units_equals_its_decimal_text() {
    let fields = schema();
    let mut b = RecordBuilder::new(&fields);
    b.set_enum("channel", "wechat").unwrap();
    b.set_money_minor("amount", 80_010, 2).unwrap();
    b.set_time("at", 1_795_581_000_000, 8 * 3600).unwrap();
    let from_units = b.finish().unwrap().to_vec();
    b.set_number("amount", "800.10").unwrap();
    assert_eq!(b.finish().unwrap(), from_units.as_slice());
    let host = tollgate::record::from_json(
        r#"{"channel":"wechat","amount":"800.10","at":"2026-11-25T12:30:00+08:00"}"#,
        &fields,
    );
    assert_eq!(host.unwrap(), from_units);
}
