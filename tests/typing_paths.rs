//! One typing path, proven: the batch readers of `tollgate eval`
//! (`tollgate::typed`, JSON Lines and CSV) type every record as the
//! terminals' `RecordBuilder` types it, and refuse every bad record alike
//! (the same class of error), on the reference policies (fees and
//! notifications) and on generated schemas, with records good and
//! malformed: wrong types, unknown variants, bad and overflowing numbers,
//! missing and unknown fields, defaults, timestamps with offsets.
//!
//! The oracle sets each value through `RecordBuilder` (its JSON or CSV
//! cell lexed by the host's generic reader, `tollgate::record`), and the
//! batch readers' messages must also be the generic reader's word for
//! word.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use proptest::prelude::*;
use serde_json::Value as Json;
use std::path::Path;
use std::sync::OnceLock;
use tollgate::record::Reading;
use tollgate::typed::csv::CsvReader;
use tollgate::typed::Reader;
use tollgate_runtime::record::{typing, RecordBuilder, RecordError};
use tollgate_runtime::table::{FieldKind, FieldSpec};
use tollgate_runtime::value::Value;
use tollgate_runtime::Decimal;

/// What kind of refusal a record meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Not a JSON object, invalid JSON, a key written twice.
    Syntax,
    /// A CSV row with more or fewer cells than the header.
    Shape,
    UnknownField,
    Missing,
    WrongKind,
    UnknownVariant,
    Number,
    NegativeMoney,
    Timestamp,
}

fn class(e: &RecordError) -> Class {
    match e {
        RecordError::UnknownField(_) | RecordError::NoSuchIndex(_) => Class::UnknownField,
        RecordError::WrongKind { .. } => Class::WrongKind,
        RecordError::UnknownVariant { .. } => Class::UnknownVariant,
        RecordError::Number { .. } => Class::Number,
        RecordError::NegativeMoney { .. } => Class::NegativeMoney,
        RecordError::BadOffset { .. } => Class::Timestamp,
        RecordError::Missing { .. } => Class::Missing,
        other => panic!("unexpected record error {other:?}"),
    }
}

/// The class of a message `eval` prints for a bad record.
fn class_of(message: &str) -> Class {
    let has = |s: &str| message.contains(s);
    if message.starts_with("unknown field") {
        Class::UnknownField
    } else if message.starts_with("missing required field") {
        Class::Missing
    } else if has("appears twice") || message.starts_with("invalid JSON") || has("JSON object") {
        Class::Syntax
    } else if message.starts_with("row has") {
        Class::Shape
    } else if has("is not one of") {
        Class::UnknownVariant
    } else if has("does not accept refunds") {
        Class::NegativeMoney
    } else if [
        "is not a decimal number",
        "exponents go up",
        "significant digits",
        "represented exactly",
        "must be a whole number",
        "must be a 64-bit integer",
    ]
    .iter()
    .any(|s| has(s))
    {
        Class::Number
    } else if has("is not an RFC 3339 timestamp") {
        Class::Timestamp
    } else if has("must be") || has("is null") {
        Class::WrongKind
    } else {
        panic!("unclassified message {message:?}")
    }
}

/// A value's exact form: a decimal's scale and sign count.
fn exact(values: &[Value]) -> String {
    format!("{values:?}")
}

/// Sets a timestamp from its RFC 3339 text, as a terminal would from the
/// instant and offset it reads.
fn set_time(b: &mut RecordBuilder, f: &FieldSpec, text: &str) -> Result<(), Class> {
    let dt = chrono::DateTime::parse_from_rfc3339(text).map_err(|_| Class::Timestamp)?;
    let offset = dt.offset().local_minus_utc();
    b.set_time(f.name.as_str(), dt.timestamp_millis(), offset)
        .map_err(|e| class(&e))
}

/// Fields absent from a record: their defaults, or `Missing`, through the
/// runtime's rule.
fn absent(f: &FieldSpec) -> Result<(), Class> {
    typing::absent(f).map(|_| ()).map_err(|e| class(&e))
}

/// The oracle for a JSON line: its fields (lexed by the generic reader)
/// set through a `RecordBuilder`, a repeated key first, then unknown
/// fields, then the fields in the policy's order, as the readers report
/// them.
fn builder_json(schema: &[FieldSpec], line: &str, reading: Reading<'_>) -> Result<String, Class> {
    let fields = tollgate::record::parse_json(line).map_err(|_| Class::Syntax)?;
    // A key written twice is refused before anything is typed.
    let mut keys: Vec<&str> = fields.0.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(Class::Syntax);
    }
    let mut b = RecordBuilder::new(schema);
    for (k, _) in &fields.0 {
        let allowed = reading.ignore_unknown || reading.keep.iter().any(|kept| kept == k);
        if b.field(k).is_err() && !allowed {
            return Err(Class::UnknownField);
        }
    }
    for f in schema {
        let name = f.name.as_str();
        let Some(v) = fields.get(name) else {
            absent(f)?;
            continue;
        };
        let set = match v {
            Json::String(s) => match &f.kind {
                FieldKind::Enum(_) => b.set_enum(name, s),
                FieldKind::Money | FieldKind::Decimal | FieldKind::Integer => b.set_number(name, s),
                FieldKind::Timestamp => {
                    set_time(&mut b, f, s)?;
                    Ok(())
                }
                FieldKind::String | FieldKind::Bool => b.set_str(name, s),
            },
            Json::Number(n) => b.set_number(name, &n.to_string()),
            Json::Bool(x) => b.set_bool(name, *x),
            Json::Null | Json::Array(_) | Json::Object(_) => return Err(Class::WrongKind),
        };
        set.map_err(|e| class(&e))?;
    }
    b.finish().map(exact).map_err(|e| class(&e))
}

/// The oracle for a CSV row under `header`: each non-empty cell set
/// through a `RecordBuilder`, in the policy's order.
fn builder_csv(schema: &[FieldSpec], header: &[String], row: &[String]) -> Result<String, Class> {
    if row.len() != header.len() {
        return Err(Class::Shape);
    }
    let mut b = RecordBuilder::new(schema);
    for f in schema {
        let name = f.name.as_str();
        let cell = header
            .iter()
            .position(|h| h == name)
            .map(|i| row[i].as_str());
        let text = match cell {
            None | Some("") => {
                absent(f)?;
                continue;
            }
            Some(text) => text,
        };
        let set = match &f.kind {
            FieldKind::Enum(_) => b.set_enum(name, text),
            FieldKind::Money | FieldKind::Decimal | FieldKind::Integer => b.set_number(name, text),
            FieldKind::String => b.set_str(name, text),
            FieldKind::Bool => match text {
                "true" => b.set_bool(name, true),
                "false" => b.set_bool(name, false),
                _ => return Err(Class::WrongKind),
            },
            FieldKind::Timestamp => {
                set_time(&mut b, f, text)?;
                Ok(())
            }
        };
        set.map_err(|e| class(&e))?;
    }
    b.finish().map(exact).map_err(|e| class(&e))
}

/// The batch JSON reader against the oracle and the generic reader.
fn check_json(schema: &[FieldSpec], line: &str, reading: Reading<'_>) -> Result<(), TestCaseError> {
    let mut reader = Reader::new(schema, reading);
    let mut out = Vec::new();
    let read = reader.read(line, &mut out).map(|()| exact(&out));
    let generic = tollgate::record::parse_json(line)
        .and_then(|f| tollgate::record::from_json_fields(&f, schema, reading))
        .map(|v| exact(&v));
    prop_assert_eq!(&read, &generic, "batch and generic readers on {:?}", line);
    let oracle = builder_json(schema, line, reading);
    prop_assert_eq!(
        read.map_err(|m| class_of(&m)),
        oracle,
        "batch reader and RecordBuilder on {:?}",
        line
    );
    Ok(())
}

/// The batch CSV reader against the oracle and the generic reader.
fn check_csv(
    schema: &[FieldSpec],
    header: &[String],
    cells: &[String],
) -> Result<(), TestCaseError> {
    let row = csv::StringRecord::from(cells.to_vec());
    let reader = CsvReader::new(schema, header);
    let mut out = Vec::new();
    let read = reader.read(&row, &mut out).map(|()| exact(&out));
    let generic = tollgate::record::from_csv(header, &row, schema).map(|v| exact(&v));
    prop_assert_eq!(&read, &generic, "batch and generic readers on {:?}", cells);
    let oracle = builder_csv(schema, header, cells);
    prop_assert_eq!(
        read.map_err(|m| class_of(&m)),
        oracle,
        "batch reader and RecordBuilder on {:?} under {:?}",
        cells,
        header
    );
    Ok(())
}

/// The fields of the reference policies, fees and notifications.
fn reference_schemas() -> &'static [Vec<FieldSpec>] {
    static SCHEMAS: OnceLock<Vec<Vec<FieldSpec>>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
        let mut out: Vec<Vec<FieldSpec>> = [
            "fees/acquirer_2026.toll",
            "fees/lakala.toll",
            "fees/unionpay_classes.toll",
        ]
        .iter()
        .map(|p| {
            tollgate::compile_source(&read(p))
                .unwrap()
                .1
                .fields()
                .to_vec()
        })
        .collect();
        let text = read("notifications/merchant_messages.toll");
        out.push(common::notifications(&text).1.fields().to_vec());
        out
    })
}

/// A value as written: its text, and whether JSON quotes it (CSV writes
/// the text alone).
type Written = (String, bool);

fn quoted(s: impl Into<String>) -> Written {
    (s.into(), true)
}

fn bare(s: impl Into<String>) -> Written {
    (s.into(), false)
}

/// Numbers as written: plain, signed, with exponents, long, overflowing,
/// malformed.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "-?(0|[1-9][0-9]{0,5})(\\.[0-9]{1,3})?",
        2 => "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,12})?([eE][+-]?[0-9]{1,2})?",
        1 => "[-+0-9.eE]{1,6}",
        1 => prop::sample::select(vec![
            "-0", "-0.00", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
            "99999999999999999999999999999", "79228162514264337593543950335", "1e28", "1e29",
            "1e-28", "1e-29", "1.5", "90.0", "9e1", "0100", ".5", "1,000", " 1",
        ])
        .prop_map(str::to_string),
    ]
}

/// Timestamps: RFC 3339 with offsets from −23:59 to +23:59, `Z`,
/// fractions, and malformed ones (no offset, ±24:00, bad dates).
fn timestamp() -> impl Strategy<Value = String> {
    let offset = prop_oneof![
        2 => Just("Z".to_string()),
        1 => Just("z".to_string()),
        4 => ("[+-]", 0u32..24, 0u32..60).prop_map(|(s, h, m)| format!("{s}{h:02}:{m:02}")),
        1 => prop::sample::select(vec!["", "+24:00", "-24:00", "+0800", "+8:00", "+08"])
            .prop_map(str::to_string),
    ];
    let date = prop_oneof![
        8 => (1900i32..2200, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        1 => prop::sample::select(vec!["2026-02-29", "2028-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "26-01-01"])
            .prop_map(str::to_string),
    ];
    let time = prop_oneof![
        8 => (0u32..24, 0u32..60, 0u32..60).prop_map(|(h, m, s)| format!("{h:02}:{m:02}:{s:02}")),
        1 => prop::sample::select(vec!["24:00:00", "23:59:60", "12:60:00", "1:02:03"]).prop_map(str::to_string),
    ];
    (
        date,
        prop::sample::select(vec!["T", "T", "T", "t", " "]),
        time,
        prop::option::weighted(0.3, "[0-9]{1,9}"),
        offset,
    )
        .prop_map(|(date, sep, time, frac, offset)| {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{date}{sep}{time}{frac}{offset}")
        })
}

/// A value of any kind, or none: what a record may hold in the wrong place.
fn stray() -> impl Strategy<Value = Written> {
    prop_oneof![
        number().prop_map(bare),
        number().prop_map(quoted),
        prop::sample::select(vec![
            "true",
            "false",
            "null",
            "[]",
            "{}",
            "[1]",
            "{\"a\":1}"
        ])
        .prop_map(bare),
        prop::sample::select(vec![
            "", "bogus", "true", "a b", "a\\\"b", "\\u0041", "x\\ny", "中文"
        ])
        .prop_map(quoted),
        timestamp().prop_map(quoted),
    ]
}

/// A value for field `f`: usually of its kind, sometimes anything.
fn value_for(f: &FieldSpec) -> BoxedStrategy<Written> {
    let right: BoxedStrategy<Written> = match &f.kind {
        FieldKind::Enum(vs) => {
            let mut names = vs.clone();
            names.push("bogus".into());
            if let Some(first) = vs.first() {
                names.push(first.to_uppercase());
                names.push(format!("{first} "));
            }
            prop::sample::select(names).prop_map(quoted).boxed()
        }
        FieldKind::Money | FieldKind::Decimal | FieldKind::Integer => {
            prop_oneof![3 => number().prop_map(bare), 1 => number().prop_map(quoted)].boxed()
        }
        FieldKind::Bool => prop_oneof![
            4 => prop::sample::select(vec!["true", "false"]).prop_map(bare),
            1 => prop::sample::select(vec!["True", "FALSE", "1", "0", "yes", "t"]).prop_map(bare),
        ]
        .boxed(),
        FieldKind::String => prop::sample::select(vec!["", "m1", "M 001", "a,b", "中文", "a\\\"b"])
            .prop_map(quoted)
            .boxed(),
        FieldKind::Timestamp => timestamp().prop_map(quoted).boxed(),
    };
    prop_oneof![5 => right, 1 => stray()].boxed()
}

/// A record for `schema`: each field present or not, undeclared fields
/// (one of them kept by `--keep`), in any order.
fn record_for(schema: &[FieldSpec]) -> BoxedStrategy<Vec<(String, Written)>> {
    let fields: Vec<BoxedStrategy<Option<(String, Written)>>> = schema
        .iter()
        .map(|f| {
            let name = f.name.clone();
            prop::option::weighted(0.8, value_for(f))
                .prop_map(move |v| v.map(|v| (name.clone(), v)))
                .boxed()
        })
        .collect();
    let extra = prop::collection::vec(
        (
            prop::sample::select(vec!["txn_id", "zz", "amount_"]).prop_map(str::to_string),
            stray(),
        ),
        0..2,
    );
    (fields, extra)
        .prop_flat_map(|(fields, extra)| {
            let all: Vec<(String, Written)> = fields.into_iter().flatten().chain(extra).collect();
            Just(all).prop_shuffle()
        })
        .boxed()
}

/// A JSON line of `record`.
fn json_line(record: &[(String, Written)]) -> String {
    let body: Vec<String> = record
        .iter()
        .map(|(k, (text, q))| {
            if *q {
                format!("\"{k}\":\"{text}\"")
            } else {
                format!("\"{k}\":{text}")
            }
        })
        .collect();
    format!("{{{}}}", body.join(","))
}

/// Field names of generated schemas.
const NAMES: [&str; 8] = [
    "amount", "channel", "at", "days", "flag", "who", "rate", "kind",
];

/// Twenty variants: more than the batch reader compares in turn.
fn many_variants() -> Vec<String> {
    (0..20).map(|i| format!("v{i}")).collect()
}

/// A field of a generated schema.
fn field(name: &'static str) -> impl Strategy<Value = FieldSpec> {
    let kind = prop_oneof![
        prop::sample::subsequence(vec!["credit_card", "wechat", "alipay", "t1"], 1..=4)
            .prop_map(|vs| FieldKind::Enum(vs.into_iter().map(str::to_string).collect())),
        Just(FieldKind::Enum(many_variants())),
        Just(FieldKind::Money),
        Just(FieldKind::Decimal),
        Just(FieldKind::Integer),
        Just(FieldKind::Bool),
        Just(FieldKind::String),
        Just(FieldKind::Timestamp),
    ];
    (kind, prop::bool::ANY, prop::bool::ANY).prop_map(move |(kind, has_default, refunds)| {
        let default = has_default.then(|| match &kind {
            FieldKind::Enum(_) => Value::Enum(0),
            FieldKind::Money | FieldKind::Integer => Value::Num(Decimal::ZERO),
            FieldKind::Decimal => Value::Num(Decimal::new(15, 1)),
            FieldKind::Bool => Value::Bool(false),
            FieldKind::String => Value::Str("none".into()),
            FieldKind::Timestamp => Value::Time {
                unix_ms: 0,
                offset_secs: 28_800,
            },
        });
        FieldSpec {
            name: name.to_string(),
            refunds: refunds && kind == FieldKind::Money,
            kind,
            default,
        }
    })
}

/// A generated schema: one to six fields of any kinds.
fn schema() -> impl Strategy<Value = Vec<FieldSpec>> {
    prop::sample::subsequence(NAMES.to_vec(), 1..=6)
        .prop_flat_map(|names| names.into_iter().map(field).collect::<Vec<_>>())
}

/// A schema (a reference policy's or a generated one) and a record for it.
fn case() -> impl Strategy<Value = (Vec<FieldSpec>, Vec<(String, Written)>)> {
    let schemas = prop_oneof![
        1 => prop::sample::select(reference_schemas().to_vec()),
        1 => schema(),
    ];
    schemas.prop_flat_map(|s| {
        let record = record_for(&s);
        (Just(s), record)
    })
}

proptest! {
    // Headers `eval` refuses (a column undeclared, or twice) are skipped:
    // as many may go as there are cases.
    #![proptest_config(ProptestConfig { cases: common::cases(2_000), max_global_rejects: common::cases(2_000), ..ProptestConfig::default() })]

    /// JSON Lines: the batch reader types as `RecordBuilder` does, strict
    /// and lenient.
    #[test]
    fn json_records_are_typed_as_the_record_builder_types_them(
        (schema, record) in case(),
        ignore_unknown in prop::bool::ANY,
        keep_id in prop::bool::ANY,
    ) {
        let keep = if keep_id { vec!["txn_id".to_string()] } else { Vec::new() };
        let reading = Reading { ignore_unknown, keep: &keep };
        check_json(&schema, &json_line(&record), reading)?;
    }

    /// CSV: the batch reader types as `RecordBuilder` does, under every
    /// header `eval` accepts; an absent field is a missing column or an
    /// empty cell.
    #[test]
    fn csv_rows_are_typed_as_the_record_builder_types_them(
        (schema, record) in case(),
        empty_cells in prop::collection::vec(prop::bool::weighted(0.15), 8),
        cells_off in prop::sample::select(vec![0i32, 0, 0, 0, 0, 0, 0, 0, 1, -1]),
    ) {
        let mut header: Vec<String> = record.iter().map(|(k, _)| k.clone()).collect();
        let mut cells: Vec<String> = record.iter().map(|(_, (text, _))| text.clone()).collect();
        // Some absent fields are empty cells under their column.
        for (f, empty) in schema.iter().zip(&empty_cells) {
            if *empty && !header.contains(&f.name) {
                header.push(f.name.clone());
                cells.push(String::new());
            }
        }
        match cells_off {
            1 => cells.push("x".into()),
            -1 => { cells.pop(); }
            _ => {}
        }
        let keep = vec!["txn_id".to_string()];
        let reading = Reading { ignore_unknown: true, keep: &keep };
        prop_assume!(tollgate::record::check_header(&header, &schema, reading).is_ok());
        check_csv(&schema, &header, &cells)?;
    }
}

/// The oracles are not bystanders: good records of every reference policy
/// are accepted, with the values the builder gives them.
#[test]
fn reference_records_are_read_alike() {
    let schemas = reference_schemas();
    let acquirer = &schemas[0];
    let line = r#"{"merchant_class":"standard","channel":"wechat","amount":"800.00","settlement":"t1","onboarded_days":90,"suspected_cashout":false}"#;
    check_json(acquirer, line, Reading::default()).unwrap();
    assert!(builder_json(acquirer, line, Reading::default()).is_ok());
    let messages = &schemas[3];
    let line =
        r#"{"kind":"promo","merchant":"m1","terminal":"t1","at":"2026-03-08T01:59:59.250-05:00"}"#;
    check_json(messages, line, Reading::default()).unwrap();
    let typed = builder_json(messages, line, Reading::default()).unwrap();
    assert!(typed.contains("offset_secs: -18000"), "{typed}");
    let header: Vec<String> = ["at", "kind", "merchant", "terminal", "promo_cap"]
        .map(String::from)
        .to_vec();
    let cells: Vec<String> = ["2026-11-01T06:30:00+08:00", "security", "m1", "t1", "1e1"]
        .map(String::from)
        .to_vec();
    check_csv(messages, &header, &cells).unwrap();
    assert!(builder_csv(messages, &header, &cells)
        .unwrap()
        .contains("Num(10)"));
    assert_eq!(
        builder_csv(messages, &header, &cells[..4]),
        Err(Class::Shape)
    );
}
