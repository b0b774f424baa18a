//! The pest parser generated from `grammar/tollgate.pest`. Private to
//! [`crate::syntax`]: no pest type leaves that module.

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/tollgate.pest"]
pub(super) struct TollgateParser;
