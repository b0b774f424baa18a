//! Tollgate decision tables as GoRules JDM decision tables, so that
//! `zen-engine` can evaluate exactly the same rules as Tollgate.

use serde_json::{json, Map, Value as Json};
use tollgate_runtime::table::{Bound, Cell, FieldKind, Table};
use tollgate_runtime::value::Value;

/// The JDM graph (input → decision table → output) for schedule `s` of
/// `table`: first hit, one input column per Tollgate column, one output
/// `rule` with the matching rule's name.
pub fn jdm(table: &Table, s: usize) -> Json {
    let sched = &table.schedules()[s];
    let inputs: Vec<Json> = sched
        .columns()
        .iter()
        .enumerate()
        .map(|(i, &f)| {
            let name = &table.fields()[f.get() as usize].name;
            json!({ "id": format!("c{i}"), "name": name, "field": name })
        })
        .collect();
    let rules: Vec<Json> = sched
        .rows()
        .iter()
        .enumerate()
        .map(|(n, row)| {
            let mut m = Map::new();
            m.insert("_id".into(), json!(format!("r{n}")));
            for (i, (cell, &f)) in row.cells.iter().zip(sched.columns()).enumerate() {
                m.insert(format!("c{i}"), json!(unary(cell, &table.fields()[f.get() as usize].kind)));
            }
            m.insert("out".into(), json!(format!("'{}'", sched.rules()[row.rule.get() as usize].name)));
            Json::Object(m)
        })
        .collect();
    json!({
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            { "id": "in", "name": "request", "type": "inputNode", "content": {} },
            { "id": "table", "name": sched.name(), "type": "decisionTableNode", "content": {
                "hitPolicy": "first",
                "inputs": inputs,
                "outputs": [{ "id": "out", "name": "rule", "field": "rule" }],
                "rules": rules,
            }},
            { "id": "out", "name": "response", "type": "outputNode", "content": {} }
        ],
        "edges": [
            { "id": "e1", "sourceId": "in", "targetId": "table" },
            { "id": "e2", "sourceId": "table", "targetId": "out" }
        ]
    })
}

/// A cell as a ZEN unary test.
fn unary(cell: &Cell, kind: &FieldKind) -> String {
    let quote = |s: &str| format!("'{s}'");
    match cell {
        Cell::Any => String::new(),
        Cell::Enum(set) => {
            let FieldKind::Enum(vs) = kind else { return String::new() };
            vs.iter()
                .enumerate()
                .filter(|(i, _)| set.contains(*i as u32))
                .map(|(_, v)| quote(v))
                .collect::<Vec<_>>()
                .join(", ")
        }
        Cell::Bool(b) => b.to_string(),
        Cell::StrIn(set) => set.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", "),
        Cell::StrNotIn(set) => set.iter().map(|s| format!("$ != {}", quote(s))).collect::<Vec<_>>().join(" and "),
        Cell::Range(iv) => match (iv.lo, iv.hi) {
            (Bound::Unbounded, Bound::Unbounded) => String::new(),
            (Bound::Incl(a), Bound::Incl(b)) => format!("[{a}..{b}]"),
            (Bound::Incl(a), Bound::Excl(b)) => format!("[{a}..{b})"),
            (Bound::Excl(a), Bound::Incl(b)) => format!("({a}..{b}]"),
            (Bound::Excl(a), Bound::Excl(b)) => format!("({a}..{b})"),
            (Bound::Unbounded, Bound::Incl(b)) => format!("<= {b}"),
            (Bound::Unbounded, Bound::Excl(b)) => format!("< {b}"),
            (Bound::Incl(a), Bound::Unbounded) => format!(">= {a}"),
            (Bound::Excl(a), Bound::Unbounded) => format!("> {a}"),
        },
    }
}

/// A record as the JSON object ZEN reads.
pub fn record_json(table: &Table, record: &[Value]) -> Json {
    let mut m = Map::new();
    for (f, v) in table.fields().iter().zip(record) {
        let j = match (v, &f.kind) {
            (Value::Enum(i), FieldKind::Enum(vs)) => json!(vs[*i as usize]),
            (Value::Num(d), _) => serde_json::from_str(&d.to_string()).unwrap_or(Json::Null),
            (Value::Bool(b), _) => json!(b),
            (Value::Str(s), _) => json!(s),
            _ => Json::Null,
        };
        m.insert(f.name.clone(), j);
    }
    Json::Object(m)
}
