//! Tollgate: a policy language and engine for payment terminals.
//!
//! Product teams write policies for fee schedules and for notification
//! throttling; this crate parses, checks and compiles them, every command
//! through one function ([`pipeline::compile`]), and reports on them
//! ([`diagnostic`]). The decisions themselves run in `tollgate-runtime`,
//! which is `no_std` so terminals can embed it.
//!
//! ```
//! let policy = tollgate::pipeline::check(r#"
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
pub mod lint;
pub mod model;
pub mod pipeline;
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

/// Parses, checks and compiles a fees policy's source text.
///
/// # Errors
/// The diagnostics of the first stage that failed, or E0401 for a
/// notifications policy.
pub fn compile_source(
    source: &str,
) -> Result<(model::Policy, tollgate_runtime::table::Table), Vec<Diagnostic>> {
    let out = pipeline::compile(source, &pipeline::Options::default())?;
    match out.compiled {
        tollgate_runtime::artifact::Compiled::Fees(table) => Ok((out.policy, table)),
        tollgate_runtime::artifact::Compiled::Notifications(_) => {
            compile::build(&out.policy).map(|table| (out.policy, table))
        }
    }
}
