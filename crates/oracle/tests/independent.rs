//! The interpreters stay independent of the runtime they judge: a bug in
//! the runtime's arithmetic, rounding, windows or local time must not pass
//! on both sides of an oracle test, so the interpreters may take the
//! runtime's types as plain data and call none of its functions. This test
//! reads their sources: every runtime item they name is one of the plain
//! data types below, named in a `use` line; they call no method the runtime
//! defines on those types (today's or any added later: the list is read
//! from the runtime's sources); and they do no decimal arithmetic through
//! `rust_decimal` (which the runtime uses) but through their own
//! (`src/exact.rs`, on integers).

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The oracle's sources that compute answers.
const INTERPRETERS: [&str; 5] = [
    "src/interp.rs",
    "src/interp_notify.rs",
    "src/exact.rs",
    "src/wide.rs",
    "src/reference.rs",
];

/// The runtime's items the interpreters may name: the types of a record
/// and of an answer, as plain data.
const DATA: [&str; 16] = [
    "ArithError",
    "eval::Component",
    "eval::EvalError",
    "fee::BoundApplied",
    "fee::FeeBreakdown",
    "fee::FeeFormula",
    "fee::TierMode",
    "ids::Answer",
    "notify::Clamp",
    "notify::Decision",
    "notify::NotifyError",
    "notify::Reason",
    "position::NotifyRuleIndex",
    "rounding::Rounding",
    "rounding::RoundingMode",
    "value::Value",
];

/// Methods of those types that only build or read an id, never compute.
const ACCESSORS: [&str; 2] = ["new", "get"];

/// `rust_decimal`'s arithmetic: the runtime's sums, products and rounding
/// are made of these, so the interpreters use none of them.
const DECIMAL_ARITHMETIC: [&str; 15] = [
    "checked_add",
    "checked_sub",
    "checked_mul",
    "checked_div",
    "checked_rem",
    "saturating_add",
    "saturating_sub",
    "round_dp",
    "round_dp_with_strategy",
    "round_sf",
    "rescale",
    "set_scale",
    "normalize",
    "trunc",
    "fract",
];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The source without its comments and string literals (they may name
/// anything).
fn code(source: &str) -> String {
    source
        .lines()
        .map(|line| {
            let line = line.split("//").next().unwrap_or("");
            let mut out = String::new();
            let mut in_string = false;
            for c in line.chars() {
                if c == '"' {
                    in_string = !in_string;
                } else if !in_string {
                    out.push(c);
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The source up to its unit tests (which may compare with anything).
fn non_test(source: &str) -> &str {
    source.split("#[cfg(test)]").next().unwrap_or(source)
}

/// The paths a `use` tree names: `a::{b, c::{d}}` is `a::b`, `a::c::d`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.replace(' ', "")];
    };
    let prefix = tree[..open].trim();
    let inner = tree[open + 1..tree.rfind('}').unwrap()].to_string();
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(inner[start..i].to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(inner[start..].to_string());
    parts
        .iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand(p))
        .map(|p| format!("{prefix}{p}"))
        .collect()
}

/// The runtime items a source names, each `use` line expanded; panics on
/// a runtime path outside a `use` line.
fn runtime_items(file: &str, code: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use tollgate_runtime::") {
        let after = &rest[at + "use tollgate_runtime::".len()..];
        let end = after.find(';').unwrap();
        items.extend(expand(&after[..end]));
        rest = &after[end..];
    }
    assert_eq!(
        code.matches("tollgate_runtime::").count(),
        code.matches("use tollgate_runtime::").count(),
        "{file} names the runtime outside a `use` line: name its types in `use` lines only"
    );
    items
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The functions the runtime defines in inherent `impl` blocks of `ty`.
fn methods_of(runtime: &[(PathBuf, String)], ty: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (_, source) in runtime {
        let mut rest = source.as_str();
        while let Some(at) = rest.find(&format!("impl {ty} {{")) {
            let body = &rest[at..];
            // The block ends at the first line that closes it at column 0.
            let end = body.find("\n}").unwrap_or(body.len());
            for line in body[..end].lines() {
                let line = line.trim_start();
                let line = line.strip_prefix("pub ").unwrap_or(line);
                let line = line.strip_prefix("const ").unwrap_or(line);
                if let Some(name) = line.strip_prefix("fn ") {
                    let name: String = name
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    names.insert(name);
                }
            }
            rest = &body[end..];
        }
    }
    names
}

#[test]
fn the_interpreters_name_only_the_runtimes_data_types() {
    let allowed: BTreeSet<&str> = DATA.into_iter().collect();
    for file in INTERPRETERS {
        let source = read(&crate_dir().join(file));
        let code = code(non_test(&source));
        for item in runtime_items(file, &code) {
            assert!(
                allowed.contains(item.as_str()),
                "{file} uses `tollgate_runtime::{item}`: the interpreters take the runtime's \
                 types as data and compute with their own code (src/exact.rs), never the \
                 runtime's"
            );
        }
    }
}

/// What the interpreters take from `tollgate` (the checked policy they
/// walk, a default) and from `rust_decimal` (the type alone).
const LIBRARY: [&str; 5] = [
    "tollgate::model::",
    "tollgate::ast::",
    "tollgate::compile::notify::ZONE_YEARS",
    "tollgate::vectors::Reference",
    "rust_decimal::Decimal;",
];

#[test]
fn the_interpreters_take_only_the_checked_policy_from_the_library() {
    for file in INTERPRETERS {
        let code = code(non_test(&read(&crate_dir().join(file))));
        for krate in ["tollgate::", "rust_decimal::"] {
            for (at, _) in code.match_indices(krate) {
                // `tollgate_runtime::` is the test above's.
                if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let path = &code[at..];
                assert!(
                    LIBRARY.iter().any(|p| path.starts_with(p)),
                    "{file} uses `{}`: the interpreters take the checked policy as data and \
                     compute with their own code",
                    path.lines().next().unwrap_or("")
                );
            }
        }
    }
}

#[test]
fn the_interpreters_call_no_method_of_the_runtime() {
    let mut files = Vec::new();
    rust_files(&crate_dir().join("../runtime/src"), &mut files);
    let runtime: Vec<(PathBuf, String)> =
        files.into_iter().map(|p| (p.clone(), read(&p))).collect();
    let mut forbidden = BTreeSet::new();
    for item in DATA {
        let ty = item.rsplit("::").next().unwrap();
        forbidden.extend(methods_of(&runtime, ty));
    }
    // The list is read from the runtime: it must find the computing
    // methods it exists to keep out.
    for known in ["compute", "apply", "strategy", "bound_total", "band_of"] {
        assert!(
            forbidden.contains(known),
            "no `{known}` found in the runtime's impl blocks: update this test's reader"
        );
    }
    for name in ACCESSORS {
        forbidden.remove(name);
    }
    for file in INTERPRETERS {
        let code = code(non_test(&read(&crate_dir().join(file))));
        for name in &forbidden {
            for call in [format!(".{name}("), format!("::{name}(")] {
                assert!(
                    !code.contains(&call),
                    "{file} calls `{call}`, a method the runtime defines on a type the \
                     interpreters share: compute it in the oracle instead"
                );
            }
        }
    }
}

#[test]
fn the_interpreters_do_no_decimal_arithmetic_of_rust_decimal() {
    for file in INTERPRETERS {
        let code = code(non_test(&read(&crate_dir().join(file))));
        for name in DECIMAL_ARITHMETIC {
            for call in [format!(".{name}("), format!("Decimal::{name}(")] {
                assert!(
                    !code.contains(&call),
                    "{file} calls `{call}`: the interpreters' arithmetic is src/exact.rs, on \
                     integers"
                );
            }
        }
        for op in [
            "Decimal::ZERO -",
            "Decimal::ZERO +",
            "- Decimal::",
            "+ Decimal::",
        ] {
            assert!(
                !code.contains(op),
                "{file} computes `{op}`: use src/exact.rs"
            );
        }
    }
}

/// The guard reads what it claims to: a source that called the runtime's
/// arithmetic would fail it.
#[test]
fn the_guard_catches_a_shared_call() {
    let shared = "use tollgate_runtime::exact;\nfn f() { exact::mul(a, b) }";
    let items = runtime_items("example", &code(shared));
    assert_eq!(items, ["exact"]);
    assert!(!DATA.contains(&"exact"));
    let nested = "use tollgate_runtime::{fee::{FeeFormula, TierMode}, rounding::Rounding};";
    assert_eq!(
        runtime_items("example", &code(nested)),
        ["fee::FeeFormula", "fee::TierMode", "rounding::Rounding"]
    );
    let inline = "fn f(x: Decimal) { tollgate_runtime::exact::add(x, x) }";
    let caught = std::panic::catch_unwind(|| runtime_items("example", &code(inline)));
    assert!(caught.is_err(), "an inline runtime path passed the guard");
}
