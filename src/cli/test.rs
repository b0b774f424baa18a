//! `tollgate test PATH...`: runs the tests written beside policies
//! (`NAME.test.toll`, docs/testing.md) and reports them as text, JSON or
//! JUnit XML, with `--coverage` the parts of each policy no test exercised.

use super::{EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::diagnostic::{json, render::render, Diagnostic};
use crate::pipeline;
use crate::source::{self, SourceFile};
use crate::span::LineIndex;
use crate::testing::coverage::{self, Coverage, Described};
use crate::testing::junit;
use crate::testing::run::{run, Outcome, Verdict};
use clap::ValueEnum;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use tollgate_runtime::artifact::Compiled;

/// How `tollgate test` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// For people: failures drawn on the test file, a line per test.
    Text,
    /// One JSON document for tools.
    Json,
    /// JUnit XML for CI systems.
    Junit,
}

/// One test file and what became of it.
struct FileRun {
    /// The test file.
    tests: SourceFile,
    /// Diagnostics about the test file as a whole (syntax, its policy).
    diagnostics: Vec<Diagnostic>,
    /// The policy file, when it could be read.
    policy: Option<SourceFile>,
    /// Diagnostics about the policy file.
    policy_diagnostics: Vec<Diagnostic>,
    /// The policy's name, once known.
    policy_name: String,
    /// Each test's verdict.
    outcomes: Vec<Outcome>,
}

impl FileRun {
    fn broken(&self) -> bool {
        !self.diagnostics.is_empty() || !self.policy_diagnostics.is_empty()
    }
}

/// What the tests of one policy exercised.
struct PolicyCoverage {
    /// The policy file, as first named.
    file: String,
    name: String,
    /// Why the policy could not be checked (an untested policy only).
    error: Option<String>,
    items: Vec<Described>,
    coverage: Coverage,
    tested: bool,
}

/// How `tollgate test` runs and reports.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The report's format.
    pub format: TestFormat,
    /// Whether to report coverage.
    pub coverage: bool,
    /// Whether a directory with no test file is accepted (else exit 2).
    pub allow_empty: bool,
    /// Whether text is coloured.
    pub color: bool,
}

/// Runs the command.
pub fn run_command(paths: &[PathBuf], options: Options) -> u8 {
    let Options {
        format,
        coverage,
        allow_empty,
        color,
    } = options;
    let mut io_failed = false;
    let mut files = Files::default();
    let mut policies = Files::default();
    for path in paths {
        if path == Path::new("-") {
            eprintln!(
                "error: `tollgate test` reads test files beside their policies, not standard input"
            );
            return EXIT_USAGE;
        }
        let metadata = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("error: {}: no such file or directory", path.display());
                io_failed = true;
                continue;
            }
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                io_failed = true;
                continue;
            }
        };
        if metadata.is_dir() {
            match (source::discover_tests(path), source::discover(path)) {
                (Ok(t), Ok(p)) => {
                    if t.is_empty() && allow_empty {
                        eprintln!("warning: no .test.toll files under {}", path.display());
                    } else if t.is_empty() {
                        eprintln!(
                            "error: no .test.toll files under {} \
                             (pass --allow-empty to accept a directory without tests)",
                            path.display()
                        );
                        io_failed = true;
                    }
                    t.into_iter().for_each(|f| files.add(f, None));
                    p.into_iter().for_each(|f| policies.add(f, None));
                }
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("error: cannot read {e}");
                    io_failed = true;
                }
            }
        } else if source::is_test_file(path) {
            files.add(path.clone(), None);
        } else {
            let companion = path.with_extension("test.toll");
            if companion.is_file() {
                let named = path.file_name().map(|n| n.to_string_lossy().into_owned());
                files.add(companion, named);
                policies.add(path.clone(), None);
            } else {
                if metadata.len() > source::MAX_BYTES {
                    // Over the limit: E0004, as every command reports it
                    // (and as the report says it when the tests exist).
                    let name = path.display().to_string();
                    let (file, problem) =
                        source::too_large_file(name.clone(), Some(metadata.len()));
                    let diagnostics: Vec<_> = problem.into_iter().collect();
                    eprint!("{}", render(&diagnostics, &name, &file.text, color));
                }
                eprintln!(
                    "error: {} has no tests: {} does not exist",
                    path.display(),
                    companion.display()
                );
                io_failed = true;
            }
        }
    }
    let mut covered: BTreeMap<String, PolicyCoverage> = BTreeMap::new();
    let mut runs = Vec::new();
    for (file, beside) in files.sorted() {
        match run_file(&file, beside.as_deref(), &mut covered) {
            Ok(r) => runs.push(r),
            Err(e) => {
                eprintln!("error: cannot read {e}");
                io_failed = true;
            }
        }
    }
    if coverage {
        for (p, _) in policies.sorted() {
            add_untested(&p, &mut covered);
        }
    }
    let failed = count(&runs, |v| matches!(v, Verdict::Failed(_)));
    let errors = count(&runs, |v| matches!(v, Verdict::Error(_)))
        + runs.iter().filter(|r| r.broken()).count();
    let text = match format {
        TestFormat::Text => text_report(&runs, coverage.then_some(&covered), color),
        TestFormat::Json => json_report(&runs, coverage.then_some(&covered)),
        TestFormat::Junit => junit_report(&runs, coverage.then_some(&covered)),
    };
    let code = if io_failed || errors > 0 {
        EXIT_USAGE
    } else if failed > 0 {
        EXIT_ERRORS
    } else {
        EXIT_OK
    };
    super::out::emit(&text, code)
}

fn count(runs: &[FileRun], f: impl Fn(&Verdict) -> bool) -> usize {
    runs.iter()
        .flat_map(|r| &r.outcomes)
        .filter(|o| f(&o.verdict))
        .count()
}

/// Paths named on the command line or found in directories, each file
/// once however it was spelt (`a.test.toll`, `./a.test.toll`, or a
/// directory holding it): the first spelling is kept for display.
#[derive(Default)]
struct Files {
    /// By canonical path: the path as first named, and the policy file
    /// (its name) it was found beside when the user named the policy.
    by_real: BTreeMap<PathBuf, (PathBuf, Option<String>)>,
}

impl Files {
    /// Adds `path`, found beside the policy file `beside` if named so.
    fn add(&mut self, path: PathBuf, beside: Option<String>) {
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        let entry = self.by_real.entry(real).or_insert((path, None));
        if entry.1.is_none() {
            entry.1 = beside;
        }
    }

    /// The files in the order of their displayed paths.
    fn sorted(&self) -> Vec<(PathBuf, Option<String>)> {
        let mut v: Vec<_> = self.by_real.values().cloned().collect();
        v.sort();
        v
    }
}

/// The key of a policy file in the coverage map: its canonical path, so
/// that every spelling of it gives one report.
fn policy_key(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Reads, parses and runs one test file against the policy it names;
/// `beside` is the policy file the user named, whose tests it must be.
fn run_file(
    path: &Path,
    beside: Option<&str>,
    covered: &mut BTreeMap<String, PolicyCoverage>,
) -> Result<FileRun, source::LoadError> {
    let (tests, problem) = source::load(path)?;
    let mut run_ = FileRun {
        tests,
        diagnostics: problem.into_iter().collect(),
        policy: None,
        policy_diagnostics: Vec::new(),
        policy_name: String::new(),
        outcomes: Vec::new(),
    };
    if run_.broken() {
        return Ok(run_);
    }
    let file = match crate::syntax::parse_tests(&run_.tests.text) {
        Ok(f) => f,
        Err(ds) => {
            run_.diagnostics = ds;
            return Ok(run_);
        }
    };
    run_.policy_name = file.policy.name.clone();
    let named = crate::testing::names::check_names(&file.tests);
    let mut run_ = against_policy(run_, &file, path, beside, covered, &named)?;
    if run_.outcomes.is_empty() {
        // The tests could not be run: the problems of their names are
        // still reported with the file's.
        run_.diagnostics.extend(named.into_iter().flatten());
    }
    Ok(run_)
}

/// Runs the parsed tests of `file` against the policy it names, found
/// beside it; `named`: the problems of each test's name.
fn against_policy(
    mut run_: FileRun,
    file: &crate::testing::ast::TestFile,
    path: &Path,
    beside: Option<&str>,
    covered: &mut BTreeMap<String, PolicyCoverage>,
    named: &[Vec<Diagnostic>],
) -> Result<FileRun, source::LoadError> {
    if let Some(named) = beside {
        if named.strip_suffix(".toll") != Some(file.policy.name.as_str()) {
            run_.diagnostics.push(
                Diagnostic::error(
                    crate::diagnostic::Code::E0601,
                    format!(
                        "this test file was found beside `{named}`, but it tests `{}`",
                        file.policy.name
                    ),
                    file.policy.span,
                    "the policy tested",
                )
                .with_help(format!(
                    "the tests of `NAME.toll` are in `NAME.test.toll` and say `tests for NAME`: \
                     write `tests for {}`, or rename this file `{}.test.toll`",
                    named.strip_suffix(".toll").unwrap_or(named),
                    file.policy.name
                )),
            );
            return Ok(run_);
        }
    }
    let policy_path = path
        .parent()
        .unwrap_or(Path::new(""))
        .join(format!("{}.toll", file.policy.name));
    if !policy_path.is_file() {
        run_.diagnostics.push(
            Diagnostic::error(
                crate::diagnostic::Code::E0601,
                format!(
                    "no policy `{}` beside this test file: {} does not exist",
                    file.policy.name,
                    policy_path.display()
                ),
                file.policy.span,
                "the policy tested",
            )
            .with_help("a test file tests the policy `NAME.toll` in its own directory"),
        );
        return Ok(run_);
    }
    let (policy, problem) = source::load(&policy_path)?;
    let compiled = match problem {
        Some(d) => Err(vec![d]),
        None => pipeline::compile(&policy.text, &pipeline::Options::default()),
    };
    let key = policy_key(&policy_path);
    let shown = policy.path.clone();
    run_.policy = Some(policy);
    let (name, compiled) = match compiled {
        Ok(out) => (out.policy.name, out.compiled),
        Err(ds) => {
            run_.policy_diagnostics = ds;
            return Ok(run_);
        }
    };
    if name != file.policy.name {
        let file_name = policy_path
            .file_name()
            .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
        run_.diagnostics.push(
            Diagnostic::error(
                crate::diagnostic::Code::E0601,
                format!("{shown} is the policy `{name}`, not `{}`", file.policy.name),
                file.policy.span,
                "the policy tested",
            )
            .with_help(format!(
                "a policy is tested only through a file named after it: rename `{file_name}` \
                 to `{name}.toll` and this file to `{name}.test.toll`, and write \
                 `tests for {name}`; or, if `{}` is the policy meant, change its `policy` line",
                file.policy.name,
            )),
        );
        return Ok(run_);
    }
    let entry = covered.entry(key).or_insert_with(|| PolicyCoverage {
        file: shown,
        error: None,
        name,
        items: items(&compiled),
        coverage: Coverage::default(),
        tested: true,
    });
    entry.tested = true;
    run_.outcomes = run(file, &compiled, &mut entry.coverage, named);
    Ok(run_)
}

fn items(compiled: &Compiled) -> Vec<Described> {
    match compiled {
        Compiled::Fees(t) => coverage::fee_items(t),
        Compiled::Notifications(p) => coverage::notify_items(p),
    }
}

/// A policy with no test file: every part of it unexercised, or, for a
/// policy that cannot be read or checked, listed with its first error.
fn add_untested(path: &Path, covered: &mut BTreeMap<String, PolicyCoverage>) {
    let key = policy_key(path);
    if covered.contains_key(&key) {
        return;
    }
    let file = path.display().to_string();
    let untested = |name: String, items, error| PolicyCoverage {
        file: file.clone(),
        name,
        error,
        items,
        coverage: Coverage::default(),
        tested: false,
    };
    let first = |ds: &[Diagnostic]| {
        ds.first().map_or("it does not check".to_string(), |d| {
            format!("{}: {}", d.code.as_str(), d.message)
        })
    };
    let entry = match source::load(path) {
        Err(e) => untested(String::new(), Vec::new(), Some(e.to_string())),
        Ok((_, Some(d))) => untested(String::new(), Vec::new(), Some(first(&[d]))),
        Ok((policy, None)) => {
            match pipeline::compile(&policy.text, &pipeline::Options::default()) {
                Ok(out) => untested(out.policy.name, items(&out.compiled), None),
                Err(ds) => untested(String::new(), Vec::new(), Some(first(&ds))),
            }
        }
    };
    covered.insert(key, entry);
}

/// Every diagnostic of a file run: the file's, then each test's.
fn test_diagnostics(r: &FileRun) -> Vec<&Diagnostic> {
    let mut out: Vec<&Diagnostic> = r.diagnostics.iter().collect();
    for o in &r.outcomes {
        match &o.verdict {
            Verdict::Passed => {}
            Verdict::Failed(f) => out.push(&f.diagnostic),
            Verdict::Error(ds) => out.extend(ds),
        }
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn text_report(
    runs: &[FileRun],
    coverage: Option<&BTreeMap<String, PolicyCoverage>>,
    color: bool,
) -> String {
    let mut text = String::new();
    for r in runs {
        if let Some(p) = &r.policy {
            text.push_str(&render(&r.policy_diagnostics, &p.path, &p.text, color));
        }
        let ds: Vec<Diagnostic> = test_diagnostics(r).into_iter().cloned().collect();
        text.push_str(&render(&ds, &r.tests.path, &r.tests.text, color));
    }
    let (mut tests, mut passed, mut failed, mut errors) = (0, 0, 0, 0);
    for r in runs {
        let name = if r.policy_name.is_empty() {
            String::new()
        } else {
            format!(" (policy {})", r.policy_name)
        };
        let _ = writeln!(text, "{}{name}", r.tests.path);
        if r.broken() {
            errors += 1;
            let _ = writeln!(text, "  error  the tests could not be run (see above)");
        }
        for o in &r.outcomes {
            tests += 1;
            let word = match o.verdict {
                Verdict::Passed => {
                    passed += 1;
                    "ok    "
                }
                Verdict::Failed(_) => {
                    failed += 1;
                    "FAILED"
                }
                Verdict::Error(_) => {
                    errors += 1;
                    "error "
                }
            };
            let _ = writeln!(text, "  {word} {}", o.name);
        }
    }
    let _ = writeln!(
        text,
        "tested {}: {}, {} passed, {} failed, {}",
        plural(runs.len(), "file"),
        plural(tests, "test"),
        passed,
        failed,
        plural(errors, "error")
    );
    if let Some(covered) = coverage {
        text.push_str(&coverage_text(covered));
    }
    text
}

/// The coverage report in words: per policy, what no test exercised.
fn coverage_text(covered: &BTreeMap<String, PolicyCoverage>) -> String {
    let mut text = String::new();
    for c in covered.values() {
        let path = &c.file;
        if let Some(error) = &c.error {
            let _ = writeln!(
                text,
                "coverage of {path} (no tests): does not check: {error}"
            );
            continue;
        }
        let missed: Vec<&Described> = c
            .items
            .iter()
            .filter(|d| !c.coverage.has(&d.item))
            .collect();
        let untested = if c.tested { "" } else { ", no tests" };
        if missed.is_empty() {
            let _ = writeln!(
                text,
                "coverage of {} ({path}): all {} exercised",
                c.name,
                c.items.len()
            );
            continue;
        }
        let _ = writeln!(
            text,
            "coverage of {} ({path}{untested}): {} of {} exercised; not exercised:",
            c.name,
            c.items.len() - missed.len(),
            c.items.len()
        );
        for d in missed {
            let _ = writeln!(text, "  {}", d.text);
        }
    }
    text
}

fn json_report(runs: &[FileRun], coverage: Option<&BTreeMap<String, PolicyCoverage>>) -> String {
    let files: Vec<Json> = runs
        .iter()
        .map(|r| {
            let lines = LineIndex::new(&r.tests.text);
            let diag = |d: &Diagnostic| {
                serde_json::to_value(json::to_json_indexed(d, &r.tests.path, &lines))
                    .unwrap_or(Json::Null)
            };
            let mut diagnostics: Vec<Json> = r.diagnostics.iter().map(diag).collect();
            if let Some(p) = &r.policy {
                let plines = LineIndex::new(&p.text);
                diagnostics.extend(r.policy_diagnostics.iter().map(|d| {
                    serde_json::to_value(json::to_json_indexed(d, &p.path, &plines))
                        .unwrap_or(Json::Null)
                }));
            }
            let tests: Vec<Json> = r
                .outcomes
                .iter()
                .map(|o| {
                    let (line, _) = lines.line_col(o.span.start);
                    match &o.verdict {
                        Verdict::Passed => {
                            json!({ "name": o.name, "line": line, "status": "passed" })
                        }
                        Verdict::Failed(f) => json!({
                            "name": o.name,
                            "line": line,
                            "status": "failed",
                            "record": f.record,
                            "expected": f.expected,
                            "actual": f.actual,
                            "explain": f.explain,
                            "diagnostic": diag(&f.diagnostic),
                        }),
                        Verdict::Error(ds) => json!({
                            "name": o.name,
                            "line": line,
                            "status": "error",
                            "diagnostic": ds.first().map_or(Json::Null, diag),
                            "diagnostics": ds.iter().map(diag).collect::<Vec<_>>(),
                        }),
                    }
                })
                .collect();
            json!({
                "file": r.tests.path,
                "policy": r.policy.as_ref().map(|p| p.path.clone()),
                "diagnostics": diagnostics,
                "tests": tests,
            })
        })
        .collect();
    let mut doc = json!({
        "files": files,
        "tests": runs.iter().map(|r| r.outcomes.len()).sum::<usize>(),
        "passed": count(runs, |v| matches!(v, Verdict::Passed)),
        "failed": count(runs, |v| matches!(v, Verdict::Failed(_))),
        "errors": count(runs, |v| matches!(v, Verdict::Error(_)))
            + runs.iter().filter(|r| r.broken()).count(),
    });
    if let (Some(covered), Json::Object(m)) = (coverage, &mut doc) {
        let list: Vec<Json> = covered
            .values()
            .map(|c| {
                let mut j = coverage::to_json(&c.name, &c.file, &c.items, &c.coverage);
                if let Json::Object(m) = &mut j {
                    m.insert("tested".into(), json!(c.tested));
                    if let Some(error) = &c.error {
                        m.insert("error".into(), json!(error));
                        m.insert("rules_covered".into(), json!(false));
                    }
                }
                j
            })
            .collect();
        m.insert("coverage".into(), Json::Array(list));
    }
    format!("{doc}\n")
}

fn junit_report(runs: &[FileRun], coverage: Option<&BTreeMap<String, PolicyCoverage>>) -> String {
    let mut suites: Vec<junit::Suite> = runs
        .iter()
        .map(|r| {
            let rendered = |d: &Diagnostic| {
                render(std::slice::from_ref(d), &r.tests.path, &r.tests.text, false)
            };
            let problem = |d: &Diagnostic, text: String| junit::Problem {
                message: format!("[{}] {}", d.code, d.message),
                text,
            };
            // One error for a test that could not run: the first problem's
            // message (with how many more), the report of all of them.
            let every_problem = |ds: &[Diagnostic]| {
                let first = ds.first()?;
                let mut p = problem(first, render(ds, &r.tests.path, &r.tests.text, false));
                if ds.len() > 1 {
                    p.message.push_str(&format!(" (and {} more)", ds.len() - 1));
                }
                Some(p)
            };
            let mut cases: Vec<junit::Case> = Vec::new();
            let file_problem = r
                .diagnostics
                .first()
                .map(|d| problem(d, rendered(d)))
                .or_else(|| {
                    let p = r.policy.as_ref()?;
                    let d = r.policy_diagnostics.first()?;
                    Some(problem(
                        d,
                        render(&r.policy_diagnostics, &p.path, &p.text, false),
                    ))
                });
            if let Some(p) = file_problem {
                cases.push(junit::Case {
                    name: "(test file)".into(),
                    classname: r.policy_name.clone(),
                    failure: None,
                    error: Some(p),
                });
            }
            for o in &r.outcomes {
                let (failure, error) = match &o.verdict {
                    Verdict::Passed => (None, None),
                    Verdict::Failed(f) => {
                        (Some(problem(&f.diagnostic, rendered(&f.diagnostic))), None)
                    }
                    Verdict::Error(ds) => (None, every_problem(ds)),
                };
                cases.push(junit::Case {
                    name: o.name.clone(),
                    classname: r.policy_name.clone(),
                    failure,
                    error,
                });
            }
            junit::Suite {
                name: r.tests.path.clone(),
                cases,
                ..junit::Suite::default()
            }
        })
        .collect();
    if let Some(covered) = coverage {
        suites.push(coverage_suite(covered));
    }
    junit::xml(&suites)
}

/// The coverage report as a JUnit suite with no tests: per policy, a
/// property with how much was exercised and one per item not exercised;
/// the report in words as its `system-out`.
fn coverage_suite(covered: &BTreeMap<String, PolicyCoverage>) -> junit::Suite {
    let mut properties = Vec::new();
    for c in covered.values() {
        let name = format!("coverage.{}", c.name);
        if let Some(error) = &c.error {
            properties.push((name, format!("does not check: {error}")));
            continue;
        }
        let missed: Vec<&Described> = c
            .items
            .iter()
            .filter(|d| !c.coverage.has(&d.item))
            .collect();
        properties.push((
            name.clone(),
            format!(
                "{} of {} exercised",
                c.items.len() - missed.len(),
                c.items.len()
            ),
        ));
        for d in missed {
            properties.push((format!("{name}.not_exercised"), d.text.clone()));
        }
    }
    junit::Suite {
        name: "coverage".into(),
        cases: Vec::new(),
        properties,
        system_out: Some(coverage_text(covered)),
    }
}
