//! Helpers shared by integration tests.

/// CRC-32 (IEEE), written out so that tests do not share the loaders' code.
#[allow(dead_code)]
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Property-test cases: `default` normally, multiplied by `TOLLGATE_LONG`
/// (a whole number) for the long form run before an engine change lands:
/// `TOLLGATE_LONG=20 cargo test --release --workspace`.
#[allow(dead_code)]
pub fn cases(default: u32) -> u32 {
    let scale = std::env::var("TOLLGATE_LONG")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    default.saturating_mul(scale)
}

/// Runs the `tollgate` binary from the repository root with `input` on
/// stdin. A child that refuses its input may exit before reading it, so a
/// failed write is not an error.
#[allow(dead_code)]
pub fn tollgate_stdin(args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    child.wait_with_output().unwrap()
}

/// A fresh, empty scratch directory `name` for one test, under the build's
/// temporary directory and the path of the test file's module (each file
/// includes this module of its own), so that two test files never share
/// one, in one suite binary or in two running at once.
#[allow(dead_code)]
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(module_path!().replace("::", "/"))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `s` rebuilt through [`Schedule::new`](tollgate_runtime::table::Schedule::new)
/// after `change` edits its rounding, rules and rows: the only way to
/// alter a schedule, so every change is checked.
#[allow(dead_code)]
pub fn rebuilt(
    s: &tollgate_runtime::table::Schedule,
    change: impl FnOnce(
        &mut tollgate_runtime::rounding::Rounding,
        &mut Vec<tollgate_runtime::table::Rule>,
        &mut Vec<tollgate_runtime::table::Row>,
    ),
) -> Result<tollgate_runtime::table::Schedule, tollgate_runtime::artifact::ArtifactError> {
    let (mut rounding, mut rules, mut rows) = (s.rounding(), s.rules().to_vec(), s.rows().to_vec());
    change(&mut rounding, &mut rules, &mut rows);
    tollgate_runtime::table::Schedule::new(
        s.name().into(),
        s.hit(),
        s.base(),
        rounding,
        rules,
        s.columns().to_vec(),
        rows,
    )
}

/// `table` with every schedule rounding in `mode`: a valid table that
/// prices otherwise than its policy says (a deliberately broken runtime).
#[allow(dead_code)]
pub fn rounded_as(
    table: &tollgate_runtime::table::Table,
    mode: tollgate_runtime::rounding::RoundingMode,
) -> tollgate_runtime::table::Table {
    let schedules = table
        .schedules()
        .iter()
        .map(|s| {
            rebuilt(s, |rounding, _, _| {
                assert_ne!(rounding.mode, mode, "already rounds so");
                rounding.mode = mode;
            })
            .unwrap()
        })
        .collect();
    tollgate_runtime::table::Table::new(
        table.name().into(),
        table.version(),
        table.window(),
        table.currency().into(),
        table.timezone().into(),
        table.fields().to_vec(),
        schedules,
    )
    .unwrap()
}

/// A policy source compiled through the library's one pipeline
/// (`tollgate::pipeline::compile`, default options): the checked policy
/// and its compiled form.
#[allow(dead_code)]
pub fn compiled(
    text: &str,
) -> (
    tollgate::model::Policy,
    tollgate_runtime::artifact::Compiled,
) {
    let options = tollgate::pipeline::Options::default();
    match tollgate::pipeline::compile(text, &options) {
        Ok(out) => (out.policy, out.compiled),
        Err(diagnostics) => panic!("the policy does not compile: {diagnostics:?}"),
    }
}

/// A notifications policy's source compiled as [`compiled`] does: the
/// checked policy and the policy the decision engine runs.
#[allow(dead_code)]
pub fn notifications(
    text: &str,
) -> (
    tollgate::model::Policy,
    tollgate_runtime::notify::NotifyPolicy,
) {
    match compiled(text) {
        (policy, tollgate_runtime::artifact::Compiled::Notifications(p)) => (policy, p),
        (policy, _) => panic!("`{}` is not a notifications policy", policy.name),
    }
}

/// A fees policy's source compiled without proving its `unique`
/// schedules disjoint (`prove_unique: false`: overlaps are left to the
/// run-time check), as an artifact made elsewhere may be: the checked
/// policy and its table.
#[allow(dead_code)]
pub fn unproven(
    text: &str,
) -> Result<(tollgate::model::Policy, tollgate_runtime::table::Table), Vec<tollgate::Diagnostic>> {
    let options = tollgate::pipeline::Options {
        prove_unique: false,
        ..Default::default()
    };
    let out = tollgate::pipeline::compile(text, &options)?;
    match out.compiled {
        tollgate_runtime::artifact::Compiled::Fees(table) => Ok((out.policy, table)),
        tollgate_runtime::artifact::Compiled::Notifications(_) => {
            panic!("`{}` is not a fees policy", out.policy.name)
        }
    }
}

/// The repository's root: the directory every test runs `tollgate` from.
#[allow(dead_code)]
pub fn root() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `tollgate` binary from the repository root with `args`, its
/// colours off (`NO_COLOR`).
#[allow(dead_code)]
pub fn tollgate(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// What a run wrote to stdout, as text.
#[allow(dead_code)]
pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
