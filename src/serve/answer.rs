//! The answer to one line of a request: exactly the line `tollgate eval`
//! prints for that record, made by the same code (fees:
//! [`FeeLines`](crate::cli::fee_lines::FeeLines); notifications:
//! [`notify_line`](crate::cli::eval::notify_line)), with the policy that
//! decided added when the request asks for a trace.

use super::catalog::{Engine, Policy};
use super::durable::Journal;
use super::metrics::{FailLabels, Metrics};
use super::redis_state::{degraded_line, RedisState};
use super::shards::ShardedState;
use crate::cli::eval::{line_text, notify_line};
use crate::cli::fee_lines::{write_json, FeeLines, Line, OutputKind};
use crate::record::Reading;
use serde_json::json;

/// What a request asks to be added to each line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras {
    /// `?trace=1`: the policy's name, version and hash in each line.
    pub trace: bool,
    /// `?explain=1`: the rules tried and the arithmetic, as `eval --explain`.
    pub explain: bool,
}

/// Answers the lines of one request, in order, against one version of
/// one policy.
pub struct Answerer<'a> {
    policy: &'a Policy,
    engine: Kind<'a>,
    extras: Extras,
    /// The longest line accepted, in bytes.
    max_line: usize,
    /// The `"policy"` member `?trace=1` adds, ready to splice in.
    trace: Vec<u8>,
    /// The journal position the answers made so far need durable.
    upto: Option<u64>,
}

enum Kind<'a> {
    Fees(Box<FeeLines<'a>>),
    Notify(
        &'a tollgate_runtime::notify::NotifyPolicy,
        &'a ShardedState,
        Option<&'a Journal>,
    ),
    /// A notifications policy deciding against the state in Redis.
    Redis(
        &'a tollgate_runtime::notify::NotifyPolicy,
        &'a RedisState,
        &'a Metrics,
    ),
}

/// What became of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A fee (`priced`), or a notification decision (`deliver`,
    /// `suppress`, `defer`) with the rule that decided it, if one did.
    Decided(&'static str, Option<String>),
    /// An error line.
    Error,
}

impl<'a> Answerer<'a> {
    /// Answers with `policy`; a notifications policy decides against
    /// `state`, journaled to `journal` when it is kept on disk, or against
    /// Redis when `redis` is given (its failures counted in the metrics).
    pub fn new(
        policy: &'a Policy,
        state: Option<&'a ShardedState>,
        journal: Option<&'a Journal>,
        redis: Option<(&'a RedisState, &'a Metrics)>,
        extras: Extras,
        max_line: usize,
    ) -> Option<Answerer<'a>> {
        let engine = match (&policy.engine, state) {
            (Engine::Notifications(p), _) if redis.is_some() => match redis {
                Some((r, m)) => Kind::Redis(p, r, m),
                None => return None,
            },
            (Engine::Fees(t), _) => Kind::Fees(Box::new(FeeLines::new(
                t,
                Reading::default(),
                extras.explain,
                OutputKind::Json,
            ))),
            (Engine::Notifications(p), Some(s)) => Kind::Notify(p, s, journal),
            (Engine::Notifications(_), None) => return None,
        };
        let member = json!({ "name": policy.name, "version": policy.version, "hash": policy.hash });
        let trace = format!(",\"policy\":{member}}}\n").into_bytes();
        Some(Answerer {
            policy,
            engine,
            extras,
            max_line,
            trace,
            upto: None,
        })
    }

    /// Makes the state changes of the answers made so far durable (a
    /// no-op unless the state is kept on disk), and saves a snapshot when
    /// the journal is due for one. Blocks on the disk.
    ///
    /// # Errors
    /// The journal could not be written: the answers made since the last
    /// commit must not be sent.
    pub fn commit(&mut self) -> Result<(), String> {
        let (Kind::Notify(policy, state, Some(journal)), Some(upto)) = (&self.engine, self.upto)
        else {
            return Ok(());
        };
        journal.sync(upto).map_err(|e| {
            format!(
                "cannot write the journal of {}: {e}",
                journal.path().display()
            )
        })?;
        self.upto = None;
        if let Err(e) = journal.checkpoint(policy, state, false) {
            tracing::warn!(state = %journal.path().display(), error = %e, "cannot save a snapshot; the journal keeps every delivery answered");
        }
        Ok(())
    }

    /// The policy answering.
    pub fn policy(&self) -> &Policy {
        self.policy
    }

    /// The message of the error line of a line over the limit: `eval`'s.
    pub fn too_long(&self) -> String {
        format!("record is longer than {} bytes", self.max_line)
    }

    /// Appends the answer to line `n` (1-based; `None` for a line over the
    /// limit, skipped) to `out`.
    pub fn answer(&mut self, n: usize, line: Option<&[u8]>, out: &mut Vec<u8>) -> Outcome {
        let start = out.len();
        let outcome = match (&mut self.engine, line) {
            (_, None) => {
                let why = self.too_long();
                write_json(out, json!({ "error": why, "record": n }), None);
                Outcome::Error
            }
            (Kind::Fees(lines), Some(bytes)) => {
                let errors = lines.errors;
                lines.answer(n, Line::Text(bytes), out);
                if lines.errors > errors {
                    Outcome::Error
                } else {
                    Outcome::Decided("priced", None)
                }
            }
            (Kind::Redis(policy, redis, metrics), Some(bytes)) => {
                let explain = self.extras.explain;
                let name = &self.policy.name;
                let decided = line_text(n, bytes).and_then(|text| {
                    let fields = crate::record::parse_json(text)?;
                    let record = crate::record::from_json_fields(
                        &fields,
                        policy.fields(),
                        Reading::default(),
                    )?;
                    let asked = tokio::task::block_in_place(|| {
                        tokio::runtime::Handle::current()
                            .block_on(redis.decide(policy, &record, explain))
                    });
                    match asked {
                        Ok(line) => line,
                        Err(why) => {
                            let mode = redis.mode(name);
                            metrics
                                .state_failures
                                .get_or_create(&FailLabels {
                                    policy: name.clone(),
                                    mode: mode.name().to_string(),
                                })
                                .inc();
                            tracing::warn!(policy = %name, mode = mode.name(), error = %why, "Redis failed: the decision follows the fail mode");
                            degraded_line(policy, &record, explain, mode, &why)
                        }
                    }
                });
                finish(decided, n, out)
            }
            (Kind::Notify(policy, state, journal), Some(bytes)) => {
                let explain = self.extras.explain;
                let decided = line_text(n, bytes).and_then(|text| {
                    let fields = crate::record::parse_json(text)?;
                    let record = crate::record::from_json_fields(
                        &fields,
                        policy.fields(),
                        Reading::default(),
                    )?;
                    let (line, upto) = state.with_record(policy, &record, *journal, |view| {
                        notify_line(policy, &record, view, explain)
                    });
                    if upto.is_some() {
                        self.upto = upto;
                    }
                    line
                });
                finish(decided, n, out)
            }
        };
        if self.extras.trace && out.ends_with(b"}\n") && out.len() >= start + 2 {
            out.truncate(out.len() - 2);
            out.extend_from_slice(&self.trace);
        }
        outcome
    }
}

/// Writes the line of a notification decision (or the error line of
/// record `n`) to `out`.
fn finish(decided: Result<serde_json::Value, String>, n: usize, out: &mut Vec<u8>) -> Outcome {
    match decided {
        Ok(line) => {
            let kind = match line.get("decision").and_then(|d| d.as_str()) {
                Some("deliver") => "deliver",
                Some("defer") => "defer",
                _ => "suppress",
            };
            let rule = line
                .get("rule")
                .and_then(|r| r.as_str())
                .map(str::to_string);
            write_json(out, line, None);
            Outcome::Decided(kind, rule)
        }
        Err(e) => {
            write_json(out, json!({ "error": e, "record": n }), None);
            Outcome::Error
        }
    }
}
