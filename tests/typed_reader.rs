//! The batch reader (`tollgate::typed`) and the record reader
//! (`tollgate::record`) type every record alike and refuse every bad one
//! alike, with the same message: checked on generated JSON lines, good and
//! malformed (escapes, nesting, nulls, repeated and unknown keys, numbers
//! of every form, cut and padded lines), strict and lenient.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use proptest::prelude::*;
use tollgate::record::Reading;
use tollgate::typed::csv::CsvReader;
use tollgate::typed::Reader;
use tollgate_runtime::table::FieldSpec;
use tollgate_runtime::value::Value;

/// Twenty variants: more than the reader compares in turn.
const MANY: [&str; 20] = [
    "m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "m11", "m12", "m13", "m14",
    "m15", "m16", "m17", "m18", "m19",
];

/// A schema with every kind of field, some with defaults.
fn schema() -> Vec<FieldSpec> {
    let text = format!(
        "policy typed version 1\nkind fees\ncurrency CNY\nrounding half_up to 0.01\n\
         field channel: enum {{ credit_card, wechat, alipay }}\n\
         field branch: enum {{ {} }} default m3\n\
         field amount: money\n\
         field refund: money with refunds default 0\n\
         field rate: decimal default 1\n\
         field days: integer default 0\n\
         field flagged: bool default false\n\
         field merchant: string default \"none\"\n\
         schedule mdr on amount {{\n  hit first\n  otherwise => 1%\n}}\n",
        MANY.join(", ")
    );
    tollgate::compile_source(&text).unwrap().1.fields().to_vec()
}

/// A value's exact form: a decimal's scale and sign count.
fn exact(values: &[Value]) -> String {
    format!("{values:?}")
}

/// The record reader's answer: values, or the message.
fn reference(line: &str, schema: &[FieldSpec], reading: Reading<'_>) -> Result<String, String> {
    let fields = tollgate::record::parse_json(line)?;
    tollgate::record::from_json_fields(&fields, schema, reading).map(|v| exact(&v))
}

/// Keys: the schema's, unknown ones, one kept, and escaped spellings.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "channel", "branch", "amount", "refund", "rate", "days", "flagged", "merchant",
        ])
        .prop_map(str::to_string),
        1 => prop::sample::select(vec!["txn_id", "chanel", "note", "amount ", "", "\\u0061mount", "ch\\\"annel"])
            .prop_map(str::to_string),
    ]
}

/// A number as written: plain, signed, with exponents, long, malformed.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{1,4}(\\.[0-9]{1,3})?",
        "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,12})?([eE][+-]?[0-9]{1,2})?",
        "[-+0-9.eE]{1,6}",
        Just("-0".to_string()),
        Just("-0.00".to_string()),
        Just("1234567890123456789".to_string()),
        Just("99999999999999999999999999999".to_string()),
    ]
}

/// A value as written in JSON.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["credit_card", "wechat", "alipay", "bitcoin", "m7", "m19", "m20", "cre\\u0064it_card", "wechat\\n", "Wechat"])
            .prop_map(|v| format!("\"{v}\"")),
        3 => number(),
        2 => number().prop_map(|n| format!("\"{n}\"")),
        1 => prop::sample::select(vec!["true", "false", "null", "[]", "{}", "[1,{\"a\":2}]", "\"\"", "\"a b\"", "\"\\t\"", "tru", "nul"])
            .prop_map(str::to_string),
    ]
}

/// White space between tokens, usually none.
fn space() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", "", " ", "\t", "  ", "\r\n"])
}

/// A JSON line: an object of generated fields, sometimes cut or padded.
fn line() -> impl Strategy<Value = String> {
    let field = (key(), value(), space(), space());
    (
        prop::collection::vec(field, 0..10),
        space(),
        prop_oneof![
            6 => Just(String::new()),
            1 => Just("\n".to_string()),
            1 => Just(" x".to_string()),
            1 => Just("}".to_string()),
            1 => Just(",".to_string()),
        ],
        any::<prop::sample::Index>(),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(fields, pad, tail, cut, truncate)| {
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v, a, b)| format!("{a}\"{k}\"{b}:{a}{v}{b}"))
                .collect();
            let mut line = format!("{pad}{{{}}}{pad}{tail}", body.join(","));
            if truncate {
                let at = cut.index(line.len() + 1);
                line.truncate(at);
            }
            line
        })
}

/// A line that is a good record for the schema, written in every way the
/// batch reader reads in place.
fn good_line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["credit_card", "wechat", "alipay"]),
        prop::sample::select(MANY.to_vec()),
        "(0|[1-9][0-9]{0,6})\\.[0-9]{2}",
        prop::bool::ANY,
        "-?(0|[1-9][0-9]{0,2})",
    )
        .prop_map(|(channel, branch, amount, flagged, days)| {
            format!(
                "{{\"channel\": \"{channel}\", \"branch\": \"{branch}\", \"amount\": \"{amount}\", \
                 \"flagged\": {flagged}, \"days\": {days}, \"merchant\": \"m-{days}\"}}"
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(3_000), ..ProptestConfig::default() })]

    /// Both readers give the same values or the same message, strict and
    /// lenient, and the fast path never accepts what the reference refuses.
    #[test]
    fn both_readers_agree(line in line(), ignore_unknown in prop::bool::ANY, keep_id in prop::bool::ANY) {
        let schema = schema();
        let keep = if keep_id { vec!["txn_id".to_string()] } else { Vec::new() };
        let reading = Reading { ignore_unknown, keep: &keep };
        let expected = reference(&line, &schema, reading);
        let mut reader = Reader::new(&schema, reading);
        let mut out = Vec::new();
        if reader.fast(line.as_bytes(), &mut out).is_some() {
            prop_assert_eq!(Ok(exact(&out)), expected.clone(), "fast path on {:?}", line);
        }
        let read = reader.read(&line, &mut out).map(|()| exact(&out));
        prop_assert_eq!(read, expected, "{:?}", line);
    }

    /// The fast path reads bytes before anyone checks them as UTF-8: it
    /// accepts no line that is not UTF-8 (a byte of one replaced by any
    /// byte from 0x80 up, or by a character of several bytes), and reads
    /// the others as the reference does.
    #[test]
    fn the_fast_path_accepts_only_utf8(
        line in prop_oneof![good_line(), line()],
        at in any::<prop::sample::Index>(),
        byte in 0x80u8..=0xff,
        character in prop::bool::ANY,
    ) {
        let schema = schema();
        let mut bytes = line.clone().into_bytes();
        if !bytes.is_empty() {
            let i = at.index(bytes.len());
            if character {
                bytes.splice(i..=i, "\u{e9}".bytes());
            } else {
                bytes[i] = byte;
            }
        }
        let mut reader = Reader::new(&schema, Reading::default());
        let mut out = Vec::new();
        if reader.fast(&bytes, &mut out).is_some() {
            let text = std::str::from_utf8(&bytes);
            prop_assert!(text.is_ok(), "fast path on {:?}", bytes);
            let text = text.unwrap();
            prop_assert_eq!(Ok(exact(&out)), reference(text, &schema, Reading::default()), "{:?}", text);
        }
    }

    /// Good records are read in place (the fast path is not a bystander),
    /// and as the reference reads them.
    #[test]
    fn good_records_take_the_fast_path(line in good_line()) {
        let schema = schema();
        let reading = Reading::default();
        let mut reader = Reader::new(&schema, reading);
        let mut out = Vec::new();
        prop_assert!(reader.fast(line.as_bytes(), &mut out).is_some(), "{}", line);
        prop_assert_eq!(Ok(exact(&out)), reference(&line, &schema, reading));
    }
}

/// One reader reads many lines: nothing of one record leaks into the next.
#[test]
fn a_reader_is_reused_without_leaks() {
    let schema = schema();
    let mut reader = Reader::new(&schema, Reading::default());
    let mut out = Vec::new();
    let first = r#"{"channel":"wechat","amount":"1.00","days":5,"flagged":true}"#;
    let second = r#"{"channel":"alipay","amount":"2.50"}"#;
    reader.read(first, &mut out).unwrap();
    reader.read(second, &mut out).unwrap();
    assert_eq!(
        Ok(exact(&out)),
        reference(second, &schema, Reading::default())
    );
    let bad = r#"{"amount":"2.50"}"#;
    assert_eq!(
        reader.read(bad, &mut out),
        Err("missing required field `channel`".to_string())
    );
}

/// A CSV cell: a value of any field's kind, written as CSV writes it (the
/// CSV reader has already removed the quotes), or empty.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["credit_card", "wechat", "alipay", "bitcoin", "m7", "m19", "m20", "Wechat", "wechat "])
            .prop_map(str::to_string),
        3 => number(),
        1 => prop::sample::select(vec!["true", "false", "True", "1", "", "", "a b", "\"", "null"])
            .prop_map(str::to_string),
    ]
}

/// A CSV header (some columns unknown, in any order) and a row under it,
/// sometimes with a cell too many or too few.
fn csv_row() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    let columns = vec![
        "channel", "branch", "amount", "refund", "rate", "days", "flagged", "merchant", "txn_id",
        "chanel",
    ];
    (
        prop::sample::subsequence(columns, 0..=10).prop_shuffle(),
        prop::collection::vec(cell(), 0..10),
        prop::bool::weighted(0.9),
    )
        .prop_map(|(header, mut cells, fits)| {
            if fits {
                cells.resize(header.len(), String::new());
            }
            (header.into_iter().map(str::to_string).collect(), cells)
        })
}

proptest! {
    // Headers `eval` refuses (a column undeclared, or twice) are skipped:
    // as many may go as there are cases.
    #![proptest_config(ProptestConfig { cases: common::cases(3_000), max_global_rejects: common::cases(3_000), ..ProptestConfig::default() })]

    /// The CSV batch reader and `record::from_csv` give the same values or
    /// the same message on every row under a header `eval` accepts, and
    /// the fast path never accepts what the reference refuses.
    #[test]
    fn both_csv_readers_agree((header, cells) in csv_row(), ignore_unknown in prop::bool::ANY) {
        let schema = schema();
        let keep = vec!["txn_id".to_string()];
        let reading = Reading { ignore_unknown, keep: &keep };
        prop_assume!(tollgate::record::check_header(&header, &schema, reading).is_ok());
        let row = csv::StringRecord::from(cells);
        let expected = tollgate::record::from_csv(&header, &row, &schema).map(|v| exact(&v));
        let reader = CsvReader::new(&schema, &header);
        let mut out = Vec::new();
        if reader.fast(&row, &mut out).is_some() {
            prop_assert_eq!(Ok(exact(&out)), expected.clone(), "fast path on {:?}", row);
        }
        let read = reader.read(&row, &mut out).map(|()| exact(&out));
        prop_assert_eq!(read, expected, "{:?}", row);
    }
}

/// A good row is typed on the fast path.
#[test]
fn good_csv_rows_take_the_fast_path() {
    let schema = schema();
    let header: Vec<String> = ["amount", "channel", "flagged", "days", "branch", "merchant"]
        .map(String::from)
        .to_vec();
    let reader = CsvReader::new(&schema, &header);
    let row = csv::StringRecord::from(vec!["800.00", "wechat", "true", "-3", "m17", "m 1"]);
    let mut out = Vec::new();
    assert!(reader.fast(&row, &mut out).is_some());
    let expected = tollgate::record::from_csv(&header, &row, &schema).unwrap();
    assert_eq!(exact(&out), exact(&expected));
}
