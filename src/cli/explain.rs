//! `tollgate explain CODE`.

use super::{out, EXIT_OK, EXIT_USAGE};
use crate::diagnostic::Code;
use std::fmt::Write as _;

/// Prints the documentation of `code`, or the list of codes.
pub fn run(code: Option<&str>) -> u8 {
    let Some(text) = code else {
        let mut list = String::new();
        for c in Code::ALL {
            let _ = match c.lint_name() {
                Some(name) => writeln!(
                    list,
                    "{}  {name} ({}): {}",
                    c.as_str(),
                    c.default_level().name(),
                    c.title()
                ),
                None => writeln!(list, "{}  {}", c.as_str(), c.title()),
            };
        }
        return out::emit(&list, EXIT_OK);
    };
    match Code::parse(text) {
        Some(c) => out::emit(c.explanation(), EXIT_OK),
        None => {
            eprintln!("error: `{text}` is not a Tollgate diagnostic code or lint");
            eprintln!("run `tollgate explain` to list every code");
            EXIT_USAGE
        }
    }
}
