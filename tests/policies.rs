//! Every policy in `policies/` checks clean, and the reference policies mean
//! what their comments say.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use tollgate::model::{Action, Body, CapAmount, FieldKind, Hit, LimitPeriod, Policy, QuietMode};

fn policies() -> Vec<PathBuf> {
    tollgate::source::discover(&Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")).unwrap()
}

fn load(rel: &str) -> Policy {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap();
    tollgate::pipeline::check(&text).unwrap_or_else(|d| panic!("{rel}: {d:#?}"))
}

#[test]
fn every_policy_checks_clean() {
    let files = policies();
    assert!(
        files.len() >= 3,
        "expected the reference policies, found {files:?}"
    );
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        if let Err(diagnostics) = tollgate::pipeline::check(&text) {
            let shown = tollgate::diagnostic::render::render(
                &diagnostics,
                &path.display().to_string(),
                &text,
                false,
            );
            panic!("{} has errors:\n{shown}", path.display());
        }
    }
    // Each has a test file beside it (`NAME.test.toll`) whose tests pass
    // and exercise every rule (and every `otherwise`).
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["test", "--coverage", "--format", "json", "policies"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "tollgate test policies:\n{report}"
    );
    let doc: serde_json::Value = serde_json::from_str(&report).unwrap();
    let coverage = doc["coverage"].as_array().unwrap();
    assert_eq!(
        coverage.len(),
        files.len(),
        "one coverage report per policy"
    );
    for c in coverage {
        assert_eq!(c["tested"], true, "{} has no test file", c["file"]);
        assert_eq!(
            c["rules_covered"], true,
            "{}: rules no test exercised: {}",
            c["file"], c["not_exercised"]
        );
    }
}

#[test]
fn lakala_has_one_unique_schedule_with_the_debit_cap() {
    let p = load("policies/fees/lakala.toll");
    assert_eq!(
        (p.currency.as_str(), p.timezone.as_str()),
        ("CNY", "Asia/Shanghai")
    );
    let Body::Fees(schedules) = &p.body else {
        panic!("not a fees policy")
    };
    let [mdr] = schedules.as_slice() else {
        panic!("one schedule expected")
    };
    assert_eq!(mdr.hit, Hit::Unique);
    let names: Vec<&str> = mdr.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["credit", "debit", "scan", "unionpay_qr"]);
    let debit = &mdr.rules[1].fee;
    assert_eq!(debit.rate, rust_decimal::Decimal::new(5, 3));
    assert_eq!(debit.cap.map(|c| c.to_string()), Some("25.00".into()));
    assert_eq!(mdr.rules[3].fee.rate, mdr.rules[0].fee.rate);
}

#[test]
fn merchant_messages_rules_are_in_file_order_with_their_parameters() {
    let p = load("policies/notifications/merchant_messages.toll");
    let Body::Notifications(n) = &p.body else {
        panic!("not a notifications policy")
    };
    assert_eq!(p.fields[n.clock].ty, FieldKind::Timestamp);
    let names: Vec<&str> = n.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "security_always",
            "txn_dedup",
            "peak_hours",
            "night",
            "promo_cap",
            "network_cap",
            "terminal_cap",
            "opted_out"
        ]
    );
    assert_eq!(n.rules[0].action, Action::AlwaysDeliver);
    assert!(
        matches!(n.rules[1].action, Action::Dedup { window_secs: 600, ref keys } if keys.len() == 3)
    );
    assert_eq!(
        n.rules[2].action,
        Action::Quiet {
            windows: vec![(11 * 3600, 13 * 3600), (17 * 3600, 20 * 3600)],
            mode: QuietMode::Defer
        }
    );
    assert_eq!(
        n.rules[3].action,
        Action::Quiet {
            windows: vec![(21 * 3600, 8 * 3600)],
            mode: QuietMode::Defer
        }
    );
    let Action::Limit { max, period, .. } = &n.rules[4].action else {
        panic!()
    };
    assert!(matches!(
        max,
        CapAmount::Field {
            low: 0,
            high: 2,
            ..
        }
    ));
    assert_eq!(*period, LimitPeriod::Rolling(86_400));
    assert!(matches!(
        n.rules[5].action,
        Action::Limit {
            max: CapAmount::Fixed(1),
            period: LimitPeriod::Rolling(900),
            ..
        }
    ));
    assert!(matches!(
        n.rules[6].action,
        Action::Limit {
            max: CapAmount::Fixed(30),
            period: LimitPeriod::Rolling(3600),
            ..
        }
    ));
    assert_eq!(
        n.rules[7].action,
        Action::Suppress {
            reason: "merchant opted out of promotions".into()
        }
    );
}
