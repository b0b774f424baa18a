//! The one way from a policy's source to what runs it: the text is parsed
//! (`syntax`), checked (`check`) and compiled (`compile`: a fees policy to
//! a decision table, a notifications policy for the decision engine with
//! its zone built). Every command that reads a policy source goes through
//! [`compile`] or [`run`]; the stages themselves are private to the crate,
//! so no other path from a source to a table exists. What stays public
//! around them holds no such path: the syntax of test files
//! ([`syntax::parse_tests`](crate::syntax::parse_tests)) and the
//! formatter's concrete tree ([`crate::syntax::concrete`]), the size
//! limits, the table printer ([`crate::compile::print`]) and the zone's
//! span of years ([`crate::compile::notify::ZONE_YEARS`]).
//!
//! ```
//! use tollgate::pipeline::{compile, Options};
//! use tollgate_runtime::artifact::Compiled;
//!
//! let out = compile(r#"
//!     policy demo version 1
//!     kind fees
//!     field amount: money
//!     schedule mdr {
//!         hit first
//!         rounding half_up
//!         otherwise => 0.60%
//!     }
//! "#, &Options::default()).unwrap();
//! assert_eq!(out.policy.name, "demo");
//! assert!(matches!(out.compiled, Compiled::Fees(_)));
//! ```

use crate::ast::File;
use crate::diagnostic::Diagnostic;
use crate::model::{Body, Policy};
use crate::{check, compile as stage, syntax};
use tollgate_runtime::artifact::Compiled;

/// What may vary from one compilation to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The years (UTC, both included) a notifications policy's zone is
    /// built for; records outside them are refused. Fees policies have no
    /// zone. Default [`ZONE_YEARS`](crate::compile::notify::ZONE_YEARS);
    /// [`parse_zone_years`](crate::compile::notify::parse_zone_years) reads
    /// `--zone-years`.
    pub zone_years: (i32, i32),
    /// Whether the rules of each `unique` schedule are proven disjoint
    /// (an overlap is then error E0402), or left to the run-time check
    /// (the table answers an error for a record two rules match). Default
    /// true.
    pub prove_unique: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            zone_years: stage::notify::ZONE_YEARS,
            prove_unique: true,
        }
    }
}

/// How far [`run`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// Parses the text only (the formatter's tests, the parser's limits):
    /// [`Stages::file`] and the syntax errors, nothing checked.
    Parse,
    /// Finds every error compiling would report, except the overlaps of
    /// `unique` schedules (the linter reports those as findings), without
    /// building a fee table: [`Stages::compiled`] stays empty.
    Validate,
    /// Compiles the policy.
    Compile,
}

/// A policy that compiled: the checked model and its compiled form.
#[derive(Debug, Clone)]
pub struct Output {
    /// The checked policy.
    pub policy: Policy,
    /// The decision table (fees) or the notifications policy.
    pub compiled: Compiled,
}

/// Every stage's product, as far as a source got: each stage runs only if
/// the one before it succeeded, and `diagnostics` holds the errors of the
/// stage that failed (none when every stage succeeded).
#[derive(Debug, Clone, Default)]
pub struct Stages {
    /// The syntax tree, when the text parsed.
    pub file: Option<File>,
    /// The checked policy, when the syntax tree checked (also when
    /// compiling it then failed).
    pub policy: Option<Policy>,
    /// The compiled form, when [`Goal::Compile`] was asked and reached.
    pub compiled: Option<Compiled>,
    /// The errors of the stage that failed.
    pub diagnostics: Vec<Diagnostic>,
}

impl Stages {
    /// The checked policy and its compiled form, or the diagnostics of the
    /// stage that failed.
    ///
    /// # Errors
    /// The diagnostics, when a stage failed or (under [`Goal::Validate`])
    /// nothing was compiled.
    pub fn output(self) -> Result<Output, Vec<Diagnostic>> {
        match (self.policy, self.compiled) {
            (Some(policy), Some(compiled)) if self.diagnostics.is_empty() => {
                Ok(Output { policy, compiled })
            }
            _ => Err(self.diagnostics),
        }
    }
}

/// Parses, checks and compiles a policy source of either kind.
///
/// # Errors
/// The diagnostics of the first stage that failed: syntax, checking, then
/// compiling.
pub fn compile(source: &str, options: &Options) -> Result<Output, Vec<Diagnostic>> {
    run(source, options, Goal::Compile).output()
}

/// Parses and checks a policy source and finds every error compiling it
/// (with the default [`Options`]) would report: `tollgate check`.
///
/// # Errors
/// As [`compile`].
pub fn check(source: &str) -> Result<Policy, Vec<Diagnostic>> {
    compile(source, &Options::default()).map(|out| out.policy)
}

/// Runs the stages on `source` towards `goal`, keeping what each one
/// produced.
pub fn run(source: &str, options: &Options, goal: Goal) -> Stages {
    let mut stages = Stages::default();
    let file = match syntax::parse(source) {
        Ok(file) => file,
        Err(errors) => {
            stages.diagnostics = errors;
            return stages;
        }
    };
    if goal == Goal::Parse {
        stages.file = Some(file);
        return stages;
    }
    let checked = check::check(&file);
    stages.file = Some(file);
    let policy = match checked {
        Ok(policy) => policy,
        Err(errors) => {
            stages.diagnostics = errors;
            return stages;
        }
    };
    let compiled = match (&policy.body, goal) {
        (_, Goal::Parse) => Ok(None),
        (Body::Fees(_), Goal::Validate) => stage::validate(&policy).map(|()| None),
        (Body::Fees(_), Goal::Compile) if options.prove_unique => {
            stage::compile(&policy).map(|t| Some(Compiled::Fees(t)))
        }
        (Body::Fees(_), Goal::Compile) => stage::build(&policy).map(|t| Some(Compiled::Fees(t))),
        (Body::Notifications(_), goal) => {
            stage::notify::compile_for_years(&policy, options.zone_years).map(|p| match goal {
                Goal::Parse | Goal::Validate => None,
                Goal::Compile => Some(Compiled::Notifications(p)),
            })
        }
    };
    match compiled {
        Ok(compiled) => stages.compiled = compiled,
        Err(errors) => stages.diagnostics = errors,
    }
    stages.policy = Some(policy);
    stages
}

/// A notifications policy compiled from `source` with the default
/// [`Options`], for the library's own tests.
///
/// # Panics
/// When the source does not compile to a notifications policy.
#[cfg(test)]
pub(crate) fn notifications(source: &str) -> tollgate_runtime::notify::NotifyPolicy {
    match compile(source, &Options::default()).map(|out| out.compiled) {
        Ok(Compiled::Notifications(p)) => p,
        Ok(Compiled::Fees(_)) => panic!("a fees policy, not a notifications policy"),
        Err(e) => panic!("{e:?}"),
    }
}
