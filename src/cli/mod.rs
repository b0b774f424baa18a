//! The `tollgate` command line: argument parsing and dispatch.
//!
//! Exit codes: 0 when all is well, 1 when a policy has errors, 2 for usage or
//! I/O errors.

mod amount_text;
pub(crate) mod bands;
pub(crate) mod batch;
mod check;
pub(crate) mod commit;
mod diff;
pub(crate) mod eval;
mod eval_dir;
mod explain;
pub(crate) mod fee_lines;
pub(crate) mod fee_window;
mod fmt;
mod lint;
pub(crate) mod load;
pub(crate) mod notify_out;
pub(crate) mod out;
mod progress;
pub(crate) mod state;
mod table;
mod test;
pub(crate) mod trust;

use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Tollgate: check and run fee and notification policies for payment terminals.
#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check policy files (directories are searched for *.toll).
    Check {
        /// Files or directories; `-` reads one policy from standard input.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// When to color text output.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Check policies and run the lints (`tollgate explain` lists them).
    Lint {
        /// Files or directories; `-` reads one policy from standard input.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// How to print findings.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// When to color text output.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
        /// Do not report these lints (names or codes; repeatable).
        #[arg(long, short = 'A', value_name = "LINT")]
        allow: Vec<String>,
        /// Report these lints as warnings.
        #[arg(long, short = 'W', value_name = "LINT")]
        warn: Vec<String>,
        /// Report these lints as errors; `--deny warnings` makes every warning fail.
        #[arg(long, short = 'D', value_name = "LINT")]
        deny: Vec<String>,
        /// Work units the table analyses of each schedule may spend (default
        /// 100000000; beats the file's `lint budget` line).
        #[arg(long, value_name = "UNITS")]
        budget: Option<u64>,
    },
    /// Evaluate records against a policy: one JSON line out per record in.
    Eval {
        /// A policy source (.toll) or a compiled artifact.
        policy: PathBuf,
        /// Records: a JSON Lines or CSV file, or `-` for standard input.
        #[arg(long, short, default_value = "-")]
        input: String,
        /// The input's format (by default from the file's extension: .csv or JSON Lines).
        #[arg(long, value_enum)]
        input_format: Option<InputFormat>,
        /// Add a trace to every decision: rules tried, why they failed, the arithmetic.
        #[arg(long)]
        explain: bool,
        /// Throttle state carried between runs (notifications policies): the
        /// snapshot FILE, with FILE.journal (deliveries synced before they are
        /// printed) and FILE.lock (one run at a time); see docs/durability.md.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Skip input fields the policy does not declare (by default they
        /// are an error, which catches misspelt field names).
        #[arg(long)]
        ignore_unknown: bool,
        /// Copy these input fields into each output line, under "input",
        /// to join results to their input by key (comma-separated).
        #[arg(long, value_name = "FIELDS", value_delimiter = ',', value_parser = keep_name)]
        keep: Vec<String>,
        /// Print a summary line on stderr at the end (records, errors,
        /// elapsed); it is printed anyway when stderr is a terminal.
        #[arg(long)]
        summary: bool,
        /// What each line out holds (fees policies): the decision as JSON,
        /// only the fee, or CSV rows of the --keep columns, fee and error.
        #[arg(long, value_enum, default_value_t = fee_lines::OutputKind::Json)]
        output: fee_lines::OutputKind,
        /// Threads pricing a JSON Lines file of a fees policy (default: one
        /// per core); the answers keep the input's order.
        #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// Accept only an artifact signed by this public key (text form or
        /// file; repeatable): unsigned ones are refused (docs/releases.md).
        #[arg(long, value_name = "PUB", value_parser = trust::trusted_key)]
        trusted_key: Vec<tollgate_runtime::artifact::trust::TrustedKey>,
        /// The installed policy, NAME=VERSION:HASH: an artifact of that
        /// policy at a lower version, or at that version with another
        /// content hash, is refused (docs/releases.md).
        #[arg(long, value_name = "NAME=VERSION:HASH", value_parser = trust::floor)]
        floor: Option<(String, u32, u64)>,
        /// The instant of fee records that carry none (RFC 3339 with an
        /// offset): a record outside the policy's activation window is
        /// refused (E0701, E0702), and a directory of versions picks the
        /// one in effect (docs/releases.md). Fees policies only.
        #[arg(long, value_name = "INSTANT", value_parser = table::stamp)]
        at: Option<tollgate_runtime::activation::Stamp>,
    },
    /// Serve fee quotes and notification decisions over HTTP from the
    /// policies in a directory (docs/serve.md).
    Serve {
        /// The directory of policies (*.toll sources and compiled artifacts).
        #[arg(long, value_name = "DIR")]
        policies: PathBuf,
        /// The address to listen on (port 0: any free port; the first line
        /// on stderr names the address bound).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Where throttle state is kept: `memory` (this process only) or
        /// `redis://HOST:PORT/DB` (shared by every instance using it).
        #[arg(long, value_name = "BACKEND", default_value = "memory", value_parser = state_backend)]
        state: String,
        /// With Redis: how long one call to Redis may take before the
        /// decision follows its policy's fail mode.
        #[arg(long, value_name = "MS", default_value_t = crate::serve::redis_state::TIMEOUT_MS, value_parser = clap::value_parser!(u64).range(1..))]
        redis_timeout_ms: u64,
        /// With Redis: how many caps' keys' values this instance remembers
        /// between decisions (when full it forgets the oldest; a key
        /// forgotten costs a second script when it is next decided and
        /// its cap is reached).
        #[arg(long, value_name = "N", default_value_t = crate::serve::redis_state::DEFAULT_KNOWN_KEYS as u64, value_parser = clap::value_parser!(u64).range(1..=1 << 32))]
        redis_known_keys: u64,
        /// With Redis: what a decision does when Redis is unreachable or
        /// slow: `open` (decide on an empty state, marked degraded; the
        /// default) or `closed` (suppress, marked degraded).
        #[arg(long, value_name = "MODE", value_parser = fail_mode)]
        fail_mode: Option<crate::serve::redis_state::FailMode>,
        /// With Redis: fail open for the policy NAME whatever --fail-mode says.
        #[arg(long, value_name = "NAME")]
        fail_open: Vec<String>,
        /// With Redis: fail closed for the policy NAME whatever --fail-mode says.
        #[arg(long, value_name = "NAME")]
        fail_closed: Vec<String>,
        /// Keep each notifications policy's throttle state on disk in DIR
        /// (DIR/NAME.state, with its journal and lock, as `eval --state`
        /// keeps it; docs/durability.md): an answered delivery survives a
        /// crash.
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Require `Authorization: Bearer TOKEN` on every endpoint but
        /// /healthz and /readyz; TOKEN is this file's text, trimmed.
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Serve only compiled artifacts signed by this key (text form or
        /// file; repeatable): sources and unsigned artifacts are refused.
        #[arg(long, value_name = "PUB", value_parser = trust::trusted_key)]
        trusted_key: Vec<tollgate_runtime::artifact::trust::TrustedKey>,
        /// The longest request body, in bytes (a longer declared length is
        /// refused with 413).
        #[arg(long, value_name = "BYTES", default_value_t = crate::serve::MAX_BODY_BYTES)]
        max_body_bytes: u64,
        /// The longest record (one line), in bytes.
        #[arg(long, value_name = "BYTES", default_value_t = eval::MAX_RECORD_BYTES)]
        max_line_bytes: usize,
        /// The most bytes of request line and headers (at least 8192).
        #[arg(long, value_name = "BYTES", default_value_t = crate::serve::MAX_HEADER_BYTES)]
        max_header_bytes: usize,
        /// The most connections open at once (more wait to be accepted).
        #[arg(long, value_name = "N", default_value_t = crate::serve::MAX_CONNECTIONS)]
        max_connections: usize,
        /// Do not watch the directory (SIGHUP still reloads it).
        #[arg(long)]
        no_watch: bool,
    },
    /// Compile a policy to a binary artifact for terminals.
    Compile {
        /// The policy source.
        policy: PathBuf,
        /// Where to write the artifact.
        #[arg(long, short)]
        output: PathBuf,
        /// The years (UTC, both included) a notifications policy's time
        /// zone is built for, FIRST..LAST within 2000..2099; records outside
        /// them are refused (default: 2000..2099; see docs/language.md).
        #[arg(long, value_name = "FIRST..LAST", value_parser = crate::compile::notify::parse_zone_years)]
        zone_years: Option<(i32, i32)>,
        /// Sign the artifact with this secret key file (from `tollgate
        /// keygen`; docs/releases.md).
        #[arg(long, value_name = "KEYFILE")]
        sign: Option<PathBuf>,
        /// The instant the policy takes effect (RFC 3339 with an offset),
        /// in place of the source's `effective from`.
        #[arg(long, value_name = "INSTANT", value_parser = table::stamp)]
        effective_from: Option<tollgate_runtime::activation::Stamp>,
        /// The instant the policy stops deciding, in place of the source's
        /// `until`.
        #[arg(long, value_name = "INSTANT", value_parser = table::stamp)]
        until: Option<tollgate_runtime::activation::Stamp>,
        /// When to color diagnostics.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Make a new signing key: writes the secret key to a new file
    /// (mode 0600) and prints the public key and its key id.
    Keygen {
        /// The secret key file to create (never overwritten).
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Check an artifact's signature against trusted public keys, and that
    /// it decodes: exit 0 valid, 1 refused (with the reason), 2 usage or I/O.
    Verify {
        /// The compiled artifact.
        artifact: PathBuf,
        /// A trusted public key (text form or file; repeatable).
        #[arg(long, value_name = "PUB", value_parser = trust::trusted_key)]
        key: Vec<tollgate_runtime::artifact::trust::TrustedKey>,
        /// The installed policy, NAME=VERSION:HASH, as for `eval`.
        #[arg(long, value_name = "NAME=VERSION:HASH", value_parser = trust::floor)]
        floor: Option<(String, u32, u64)>,
    },
    /// Print a policy's decision table, or a notifications policy's rules (source or artifact).
    Table {
        /// The policy.
        policy: PathBuf,
        /// When to color diagnostics.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Rewrite policies in the canonical layout (comments kept where they
    /// stand).
    Fmt {
        /// Files or directories; `-` formats standard input to standard
        /// output.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Change nothing: print a diff of what would change and exit 1 if
        /// anything would.
        #[arg(long)]
        check: bool,
        /// When to color diagnostics.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Run the tests written beside policies (`NAME.test.toll`; see
    /// docs/testing.md).
    Test {
        /// Policies (their `NAME.test.toll`), test files, or directories
        /// searched for `*.test.toll`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// How to report: text, JSON, or JUnit XML.
        #[arg(long, value_enum, default_value_t = test::TestFormat::Text)]
        format: test::TestFormat,
        /// Also list the rules, tier bands, `otherwise` branches, bounds and
        /// quiet windows no test exercised.
        #[arg(long)]
        coverage: bool,
        /// Accept a directory that holds no test file (a warning, not an
        /// error).
        #[arg(long)]
        allow_empty: bool,
        /// When to color text output.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Compare two versions of a policy: where fees change, by how much, for
    /// which records; or which notification rules change (exit 0: no
    /// change, 1: changes, 2: error).
    Diff {
        /// The old version (source or artifact).
        old: PathBuf,
        /// The new version (source or artifact).
        new: PathBuf,
        /// How to print the diff (text or json).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Replay these records through both versions (JSON Lines, or CSV
        /// for a `.csv` file; `-` for standard input): records that change,
        /// totals, the largest changes.
        #[arg(long, value_name = "FILE")]
        input: Option<String>,
        /// Group the replay by these fields (comma-separated).
        #[arg(long, value_name = "FIELDS", value_delimiter = ',', value_parser = keep_name, requires = "input")]
        by: Vec<String>,
        /// Print the merchant-facing notice of the fee change instead of
        /// the reviewer's account.
        #[arg(long)]
        notice: bool,
        /// Also write a self-contained HTML report to FILE.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// When to color diagnostics.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Print the documentation of a diagnostic code, or list every code.
    Explain {
        /// A code such as E0101; leave out to list all codes.
        code: Option<String>,
    },
}

/// Output format for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Rendered for people, with the source shown.
    Text,
    /// One JSON document for tools.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

/// Input format for records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row naming the fields.
    Csv,
}

/// When to use color.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When printing to a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to color: `auto` colors a terminal unless `NO_COLOR` is set.
    pub(crate) fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

/// Exit code: everything fine.
pub const EXIT_OK: u8 = 0;
/// Exit code: a policy (or record) has errors.
pub const EXIT_ERRORS: u8 = 1;
/// Exit code: bad usage or an I/O error.
pub const EXIT_USAGE: u8 = 2;

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    let code = match cli.command {
        Command::Check {
            paths,
            format,
            color,
        } => check::run(&paths, format, color.enabled()),
        Command::Explain { code } => explain::run(code.as_deref()),
        Command::Lint {
            paths,
            format,
            color,
            allow,
            warn,
            deny,
            budget,
        } => lint::run(
            &paths,
            format,
            color.enabled(),
            &lint::Levels {
                allow: &allow,
                warn: &warn,
                deny: &deny,
            },
            budget,
        ),
        Command::Eval {
            policy,
            input,
            input_format,
            explain,
            state,
            ignore_unknown,
            keep,
            summary,
            output,
            jobs,
            trusted_key,
            floor,
            at,
        } => eval::run(
            &policy,
            &input,
            &eval::Options {
                trust: trust::Trust {
                    keys: trusted_key,
                    floor,
                },
                format: input_format,
                explain,
                state,
                ignore_unknown,
                keep,
                summary,
                output,
                jobs: jobs.map(usize::from),
                at,
            },
        ),
        Command::Serve {
            policies,
            listen,
            state,
            redis_timeout_ms,
            redis_known_keys,
            fail_mode,
            fail_open,
            fail_closed,
            state_dir,
            token_file,
            trusted_key,
            max_body_bytes,
            max_line_bytes,
            max_header_bytes,
            max_connections,
            no_watch,
        } => match fail_flags(&state, fail_mode.is_some(), &fail_open, &fail_closed) {
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_USAGE
            }
            Ok(()) => crate::serve::run(&crate::serve::Options {
                policies,
                listen,
                token_file,
                limits: crate::serve::Limits {
                    max_body_bytes,
                    max_line_bytes,
                    max_header_bytes,
                    max_connections,
                },
                watch: !no_watch,
                trusted_keys: trusted_key,
                state_dir,
                redis: state
                    .starts_with("redis://")
                    .then(|| crate::serve::RedisOptions {
                        url: state.clone(),
                        timeout: std::time::Duration::from_millis(redis_timeout_ms),
                        default_mode: fail_mode
                            .unwrap_or(crate::serve::redis_state::FailMode::Open),
                        fail_open,
                        fail_closed,
                        known_keys: usize::try_from(redis_known_keys).unwrap_or(usize::MAX),
                    }),
            }),
        },
        Command::Compile {
            policy,
            output,
            zone_years,
            sign,
            effective_from,
            until,
            color,
        } => table::compile(
            &policy,
            &output,
            zone_years,
            sign.as_deref(),
            (effective_from, until),
            color.enabled(),
        ),
        Command::Keygen { out } => trust::keygen(&out),
        Command::Verify {
            artifact,
            key,
            floor,
        } => trust::verify(&artifact, &trust::Trust { keys: key, floor }),
        Command::Table { policy, color } => table::print(&policy, color.enabled()),
        Command::Fmt {
            paths,
            check,
            color,
        } => fmt::run(&paths, check, color.enabled()),
        Command::Test {
            paths,
            format,
            coverage,
            allow_empty,
            color,
        } => test::run_command(
            &paths,
            test::Options {
                format,
                coverage,
                allow_empty,
                color: color.enabled(),
            },
        ),
        Command::Diff {
            old,
            new,
            format,
            input,
            by,
            notice,
            html,
            color,
        } => diff::run(
            &old,
            &new,
            &diff::Options {
                format,
                input,
                by,
                notice,
                html,
            },
            color.enabled(),
        ),
    };
    ExitCode::from(code)
}

/// The policy files the command-line `paths` name: files as given,
/// directories searched for `*.toll`, and `-` (standard input) kept as is.
/// An unreadable directory is reported on stderr and sets `io_failed`.
fn policy_paths(paths: &[PathBuf], io_failed: &mut bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path == std::path::Path::new("-") {
            out.push(path.clone());
            continue;
        }
        match crate::source::discover(path) {
            Ok(files) if files.is_empty() => {
                eprintln!("warning: no .toll files under {}", path.display());
            }
            Ok(files) => out.extend(files),
            Err(e) => {
                eprintln!("error: cannot read {e}");
                *io_failed = true;
            }
        }
    }
    out
}

/// The throttle state backends `serve` has.
fn state_backend(name: &str) -> Result<String, String> {
    if name == "memory" {
        return Ok(name.to_string());
    }
    if name.starts_with("redis://") {
        return redis::Client::open(name)
            .map(|_| name.to_string())
            .map_err(|e| format!("not a Redis URL: {e}"));
    }
    Err(format!(
        "unknown state backend `{name}` (use `memory` or `redis://HOST:PORT/DB`)"
    ))
}

/// What `--fail-mode` names: `open` or `closed`.
fn fail_mode(name: &str) -> Result<crate::serve::redis_state::FailMode, String> {
    use crate::serve::redis_state::FailMode;
    match name {
        "open" => Ok(FailMode::Open),
        "closed" => Ok(FailMode::Closed),
        _ => Err(format!(
            "unknown fail mode `{name}` (use `open` or `closed`)"
        )),
    }
}

/// Whether serve's fail-mode flags can do what they say: they go with
/// Redis (the memory backend never fails), and no policy is named both
/// open and closed.
fn fail_flags(
    state: &str,
    mode_given: bool,
    open: &[String],
    closed: &[String],
) -> Result<(), String> {
    if !state.starts_with("redis://") {
        let given = [
            (mode_given, "--fail-mode"),
            (!open.is_empty(), "--fail-open"),
            (!closed.is_empty(), "--fail-closed"),
        ];
        if let Some((_, flag)) = given.iter().find(|(g, _)| *g) {
            return Err(format!(
                "{flag} goes with --state redis://: the memory backend never fails"
            ));
        }
    }
    match open.iter().find(|n| closed.contains(n)) {
        Some(name) => Err(format!(
            "`{name}` is named by both --fail-open and --fail-closed"
        )),
        None => Ok(()),
    }
}

/// One name of `--keep`: refused when empty or padded with white space, which
/// could never name a field.
fn keep_name(name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("an empty field name (write names separated by single commas)".into());
    }
    if name.trim() != name {
        return Err(format!(
            "the field name `{name}` has white space around it (write `{}`)",
            name.trim()
        ));
    }
    Ok(name.to_string())
}
