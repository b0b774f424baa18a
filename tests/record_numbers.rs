//! The number grammar of records (docs/records.md) is JSON's, wherever a
//! number is written: a text is accepted exactly when it is a JSON number
//! (without surrounding space), as a JSON number, a JSON string or a CSV
//! cell alike, and every accepted value reads back as itself.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use proptest::prelude::*;
use tollgate_runtime::table::FieldSpec;
use tollgate_runtime::value::Value;

fn schema() -> Vec<FieldSpec> {
    let text = "policy numbers version 1\nkind fees\nrounding half_up\n\
                field amount: decimal\nfield paid: money\n\
                schedule mdr {\n  hit first\n  otherwise => 1%\n}\n";
    tollgate::compile_source(text).unwrap().1.fields().to_vec()
}

/// The value of `amount` read from `text` as a JSON string, and as a CSV cell.
fn read(text: &str, schema: &[FieldSpec]) -> (Result<Value, String>, Result<Value, String>) {
    let first = |r: Result<Vec<Value>, String>| r.map(|v| v[0].clone());
    let json = first(tollgate::record::from_json(
        &serde_json::json!({ "amount": text, "paid": "1" }).to_string(),
        schema,
    ));
    let header = vec!["amount".to_string(), "paid".to_string()];
    let row = csv::StringRecord::from(vec![text, "1"]);
    let csv = first(tollgate::record::from_csv(&header, &row, schema));
    (json, csv)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(2_000), ..ProptestConfig::default() })]

    #[test]
    fn a_text_is_a_number_exactly_when_json_says_so(text in "[-+0-9.eE _,]{1,8}") {
        let schema = schema();
        let json_grammar = !text.contains(' ')
            && serde_json::from_str::<serde_json::Number>(&text).is_ok();
        let (json, csv) = read(&text, &schema);
        // Exponents beyond ±28 are refused even where the grammar allows them.
        let exponent_ok = text
            .split(['e', 'E'])
            .nth(1)
            .is_none_or(|e| e.trim_start_matches(['+', '-']).parse::<u32>().is_ok_and(|e| e <= 28));
        if json_grammar && exponent_ok {
            prop_assert!(json.is_ok(), "`{text}`: {json:?}");
        } else if !json_grammar {
            prop_assert!(json.is_err(), "`{text}` is not a JSON number: {json:?}");
        }
        prop_assert_eq!(json.is_ok(), csv.is_ok(), "`{}`: JSON and CSV agree", text);
        if let (Ok(a), Ok(b)) = (&json, &csv) {
            prop_assert_eq!(a, b);
        }
        if json_grammar {
            // As a JSON number too.
            let line = format!(r#"{{"amount":{text},"paid":"1"}}"#);
            let as_number = tollgate::record::from_json(&line, &schema).map(|v| v[0].clone());
            // (serde_json may respell the number in an error message.)
            prop_assert_eq!(as_number.ok(), json.ok());
        }
    }

    #[test]
    fn every_decimal_reads_back_as_itself(mantissa in any::<i64>(), scale in 0u32..=18) {
        let schema = schema();
        let d = rust_decimal::Decimal::new(mantissa, scale);
        let (json, csv) = read(&d.to_string(), &schema);
        prop_assert_eq!(json, Ok(Value::Num(d)));
        prop_assert_eq!(csv, Ok(Value::Num(d)));
    }
}

/// An error about a number names the number the same way whether it came
/// as a JSON string, a JSON number or a CSV cell: as written, in backticks,
/// without JSON's quotes.
#[test]
fn errors_about_a_number_name_it_the_same_way_in_json_and_csv() {
    let text = "policy numbers version 1\nkind fees\nrounding half_up\n\
                field paid: money\nfield count: integer\n\
                schedule mdr {\n  hit first\n  otherwise => 1%\n}\n";
    let schema = tollgate::compile_source(text).unwrap().1.fields().to_vec();
    for (paid, count, named) in [
        ("-500.00", "1", "(`-500.00`)"),
        ("-5", "1", "(`-5`)"),
        ("1", "1.5", "not `1.5`"),
        ("1", "-2.5", "not `-2.5`"),
    ] {
        let header = vec!["paid".to_string(), "count".to_string()];
        let csv = tollgate::record::from_csv(
            &header,
            &csv::StringRecord::from(vec![paid, count]),
            &schema,
        )
        .unwrap_err();
        let string = tollgate::record::from_json(
            &serde_json::json!({ "paid": paid, "count": count }).to_string(),
            &schema,
        )
        .unwrap_err();
        let number =
            tollgate::record::from_json(&format!(r#"{{"paid":{paid},"count":{count}}}"#), &schema)
                .unwrap_err();
        assert!(csv.contains(named), "{csv}");
        assert_eq!(string, csv);
        assert_eq!(number, csv);
    }
}
