//! Money as policies declare it: refunds (negative amounts, only where a
//! field accepts them, priced as the negated fee of their magnitude) and
//! currencies (ISO 4217 codes; fees round to the currency's minor unit).

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use proptest::prelude::*;
use rust_decimal::Decimal;
use tollgate_oracle::generate::{self, Rng, Shape};
use tollgate_runtime::eval::EvalError;
use tollgate_runtime::table::FieldKind;
use tollgate_runtime::value::Value;

/// `tollgate eval POLICY [--explain]` on `input`: stdout's lines.
fn eval(policy: &str, explain: bool, input: &str) -> Vec<serde_json::Value> {
    let mut args = vec!["eval", policy];
    if explain {
        args.push("--explain");
    }
    let out = common::tollgate_stdin(&args, input);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_negative_amount_is_an_error_unless_the_field_accepts_refunds() {
    let out = eval(
        "policies/fees/lakala.toll",
        false,
        "{\"channel\":\"credit_card\",\"amount\":\"-10.00\"}\n",
    );
    let error = out[0]["error"].as_str().unwrap();
    assert!(error.contains("does not accept refunds"), "{error}");
    assert!(error.contains("money with refunds"), "{error}");
    let out = eval(
        "tests/fees/refunds.toll",
        false,
        "{\"channel\":\"credit_card\",\"amount\":\"-10.00\"}\n",
    );
    assert_eq!(out[0]["fee"], "-1.30");
}

#[test]
fn the_runtime_refuses_a_negative_amount_without_refunds() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/fees/lakala.toll"),
    )
    .unwrap();
    let (policy, table) = tollgate::compile_source(&text).unwrap();
    // A record built by a terminal, not read by the host's record reader.
    let record = vec![Value::Enum(0), Value::Num(Decimal::new(-1000, 2))];
    let expected = Err(EvalError::NegativeAmount { schedule: 0.into() });
    assert_eq!(table.total(&record), expected);
    assert_eq!(table.fee(&record, &mut Vec::new()), expected);
    assert_eq!(
        tollgate_oracle::interp::evaluate(&policy, &record).map(|_| Decimal::ZERO),
        expected
    );
}

#[test]
fn explain_marks_a_refund_and_the_total_bounds() {
    let out = eval(
        "tests/fees/refunds.toll",
        true,
        "{\"channel\":\"debit_card\",\"amount\":\"-20.00\"}\n",
    );
    let e = &out[0]["components"][0]["explain"];
    assert_eq!(e["refund"], true, "{e}");
    assert_eq!(e["formula"], "0.50% cap 20.00 total min 0.50", "{e}");
    assert_eq!(e["subtotal"], "-0.10", "{e}");
    assert_eq!(e["total_minimum_applied"], "-0.50", "{e}");
    assert_eq!(e["fee"], "-0.50", "{e}");
}

#[test]
fn fees_print_in_the_currency_minor_unit() {
    let out = eval(
        "tests/fees/jpy.toll",
        false,
        "{\"channel\":\"credit_card\",\"amount\":\"1234\"}\n",
    );
    assert_eq!(out[0]["fee"], "50");
    let out = eval(
        "tests/fees/kwd.toll",
        false,
        "{\"channel\":\"credit_card\",\"amount\":\"12.345\"}\n",
    );
    assert_eq!(out[0]["fee"], "0.278");
}

#[test]
fn unknown_currencies_are_refused() {
    let text = "policy p version 1\nkind fees\ncurrency RMB\nrounding half_up\nfield amount: money\nschedule s {\n hit first\n otherwise => 0.60%\n}\n";
    let errors = tollgate::pipeline::check(text).unwrap_err();
    assert!(errors.iter().any(|d| d.code.as_str() == "E0206"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(200), ..ProptestConfig::default() })]

    /// The law of refunds: on a policy whose amount accepts refunds, the fee
    /// of -a is the negated fee of a, component by component, when no
    /// condition reads the amount's sign (conditions here never do: every
    /// threshold the generator writes is zero or above, and the records
    /// compared differ only in the sign of a nonzero amount, so the law is
    /// checked where both match the same rules).
    #[test]
    fn a_refund_pays_the_negated_fee(seed in any::<u64>(), rules in 1usize..30) {
        let text = generate::policy(seed, Shape { rules, schedules: 2, unique: false, specific: false })
            .replace("field amount: money\n", "field amount: money with refunds\n");
        let (_, table) = tollgate::compile_source(&text).unwrap();
        let amount_at = table.fields().iter().position(|f| f.kind == FieldKind::Money).unwrap();
        let mut r = Rng::new(seed);
        for _ in 0..50 {
            let mut sale = generate::record(&mut r, table.fields());
            let Value::Num(a) = sale[amount_at].clone() else { unreachable!() };
            let a = a.abs();
            if a.is_zero() {
                continue;
            }
            sale[amount_at] = Value::Num(a);
            let mut refund = sale.clone();
            refund[amount_at] = Value::Num(-a);
            let (mut sold, mut refunded) = (Vec::new(), Vec::new());
            let (Ok(_), Ok(_)) = (table.fee(&sale, &mut sold), table.fee(&refund, &mut refunded)) else {
                continue;
            };
            // Only where both records were decided by the same rules.
            if sold.iter().map(|c| c.rule).ne(refunded.iter().map(|c| c.rule)) {
                continue;
            }
            for (s, f) in sold.iter().zip(&refunded) {
                prop_assert_eq!(f.fee.total, -s.fee.total);
                prop_assert!(f.fee.refund && !s.fee.refund);
            }
        }
    }
}

#[test]
fn the_artifact_carries_refunds_and_total_bounds_and_validates_them() {
    use tollgate_runtime::artifact::{self, ArtifactErrorKind};
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fees/refunds.toll"),
    )
    .unwrap();
    let (_, table) = tollgate::compile_source(&text).unwrap();
    let reloaded = artifact::decode(&artifact::encode(&table)).unwrap();
    assert_eq!(reloaded, table);
    assert!(reloaded.fields().iter().any(|f| f.refunds));
    assert!(reloaded.schedules()[0]
        .rules()
        .iter()
        .any(|r| r.fee.total_min.is_some()));
    // A total cap below the total minimum, or a negative total bound, is
    // refused by the constructor every loaded table goes through.
    for (min, cap) in [(Some(5), Some(4)), (Some(-1), None), (None, Some(-1))] {
        let e = common::rebuilt(&table.schedules()[0], |_, rules, _| {
            rules[0].fee.total_min = min.map(Decimal::from);
            rules[0].fee.total_cap = cap.map(Decimal::from);
        })
        .unwrap_err();
        assert!(matches!(e.kind, ArtifactErrorKind::Invalid(_)), "{e}");
    }
}
