//! Every file of `tests/` runs, exactly once. `Cargo.toml` sets
//! `autotests = false` and lists its test binaries (`[[test]]`); most are
//! suite roots (`tests/suite_*.rs`) that include other files as modules
//! (`#[path = "FILE.rs"] mod FILE;`), so that the suite links once instead
//! of once per file (docs/testing-the-project.md). A file added to `tests/`
//! and listed nowhere would silently never run: this test fails instead.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::Path;

/// The `path` (or the default `tests/NAME.rs`) of each `[[test]]` entry of
/// `manifest`, relative to the package root.
fn test_targets(manifest: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut entry: Option<(Option<String>, Option<String>)> = None;
    let mut finish = |entry: &mut Option<(Option<String>, Option<String>)>| {
        if let Some((name, path)) = entry.take() {
            match (name, path) {
                (_, Some(path)) => targets.push(path),
                (Some(name), None) => targets.push(format!("tests/{name}.rs")),
                (None, None) => panic!("a [[test]] entry in Cargo.toml has no name"),
            }
        }
    };
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            finish(&mut entry);
            if line == "[[test]]" {
                entry = Some((None, None));
            }
        } else if let Some((name, path)) = &mut entry {
            if let Some((key, value)) = line.split_once('=') {
                let value = value.trim().trim_matches('"').to_string();
                match key.trim() {
                    "name" => *name = Some(value),
                    "path" => *path = Some(value),
                    _ => {}
                }
            }
        }
    }
    finish(&mut entry);
    targets
}

/// The files a suite root includes with `#[path = "FILE.rs"]`, relative to
/// the root's directory.
fn included(root: &str) -> Vec<String> {
    root.lines()
        .filter_map(|line| line.trim().strip_prefix("#[path = \""))
        .filter_map(|rest| rest.split_once('"').map(|(path, _)| path.to_string()))
        .collect()
}

#[test]
fn every_test_file_runs_once() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(package.join("Cargo.toml")).unwrap();
    assert!(
        manifest.lines().any(|l| l.trim() == "autotests = false"),
        "Cargo.toml no longer sets `autotests = false`: update this test"
    );
    // Where each top-level file of tests/ runs: its own target, or a suite.
    let mut runs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for target in test_targets(&manifest) {
        let text = std::fs::read_to_string(package.join(&target))
            .unwrap_or_else(|e| panic!("[[test]] {target} in Cargo.toml: {e}"));
        runs.entry(target.clone())
            .or_default()
            .push("its own [[test]] entry".into());
        let dir = Path::new(&target).parent().unwrap();
        for file in included(&text) {
            let path = dir.join(&file);
            // Helpers of tests/common are modules of many files; only the
            // files directly in tests/ are test files.
            if path.parent() == Some(Path::new("tests")) {
                assert!(
                    package.join(&path).is_file(),
                    "{target} includes {file}, which does not exist"
                );
                runs.entry(path.to_string_lossy().into_owned())
                    .or_default()
                    .push(format!("suite {target}"));
            }
        }
    }
    let mut files: Vec<String> = std::fs::read_dir(package.join("tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| format!("tests/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    assert!(files.len() > 10, "too few test files found: {files:?}");
    for file in &files {
        let stem = file.trim_start_matches("tests/").trim_end_matches(".rs");
        match runs.get(file).map(Vec::as_slice) {
            None | Some([]) => panic!(
                "{file} runs nowhere: add `#[path = \"{stem}.rs\"] mod {stem};` to a suite root \
                 (tests/suite_*.rs) or a `[[test]]` entry `name = \"{stem}\"` to Cargo.toml \
                 (docs/testing-the-project.md)"
            ),
            Some([_]) => {}
            Some(places) => panic!("{file} runs more than once: {places:?}"),
        }
    }
}
