//! Tollgate: a policy language and engine for payment terminals.
//!
//! Product teams write policies for fee schedules and for notification
//! throttling; this crate parses ([`syntax`]), checks ([`check`]) and reports
//! on them ([`diagnostic`]). The decisions themselves run in
//! `tollgate-runtime`, which is `no_std` so terminals can embed it.
//!
//! ```
//! let policy = tollgate::check_source(r#"
//!     policy demo version 1
//!     kind fees
//!     field amount: money
//!     schedule mdr {
//!         hit first
//!         rounding half_up
//!         otherwise => 0.60%
//!     }
//! "#).unwrap();
//! assert_eq!(policy.name, "demo");
//! ```

pub mod ast;
pub mod check;
pub mod cli;
pub mod compile;
pub mod currency;
pub mod diagnostic;
pub mod diff;
pub mod fmt;
pub mod fsio;
pub mod generate;
pub mod interp;
pub mod interp_exact;
pub mod interp_notify;
pub mod lint;
pub mod model;
pub mod record;
pub mod serve;
pub mod signing;
pub mod source;
pub mod span;
pub mod syntax;
pub mod testing;
pub mod typed;
pub mod tzdb;
pub mod vectors;

pub use diagnostic::Diagnostic;

/// Parses and checks one policy's source text; the policy must also
/// compile (a fees policy to a decision table, a notifications policy for
/// the decision engine), so that `check` reports every error `compile`
/// would.
///
/// # Errors
/// The diagnostics of the first stage that failed: syntax, checking, then
/// compiling.
pub fn check_source(source: &str) -> Result<model::Policy, Vec<Diagnostic>> {
    let file = syntax::parse(source)?;
    let policy = check::check(&file)?;
    match policy.kind {
        model::PolicyKind::Fees => drop(compile::compile(&policy)?),
        model::PolicyKind::Notifications => drop(compile::notify::compile(&policy)?),
    }
    Ok(policy)
}

/// Parses, checks and compiles a fees policy's source text.
///
/// # Errors
/// The diagnostics of the first stage that failed.
pub fn compile_source(
    source: &str,
) -> Result<(model::Policy, tollgate_runtime::table::Table), Vec<Diagnostic>> {
    let file = syntax::parse(source)?;
    let policy = check::check(&file)?;
    let table = compile::compile(&policy)?;
    Ok((policy, table))
}
