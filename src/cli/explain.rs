//! `tollgate explain CODE`.

use super::{EXIT_OK, EXIT_USAGE};
use crate::diagnostic::Code;

/// Prints the documentation of `code`, or the list of codes.
pub fn run(code: Option<&str>) -> u8 {
    let Some(text) = code else {
        for c in Code::ALL {
            match c.lint_name() {
                Some(name) => println!(
                    "{}  {name} ({}): {}",
                    c.as_str(),
                    c.default_level().name(),
                    c.title()
                ),
                None => println!("{}  {}", c.as_str(), c.title()),
            }
        }
        return EXIT_OK;
    };
    match Code::parse(text) {
        Some(c) => {
            print!("{}", c.explanation());
            EXIT_OK
        }
        None => {
            eprintln!("error: `{text}` is not a Tollgate diagnostic code or lint");
            eprintln!("run `tollgate explain` to list every code");
            EXIT_USAGE
        }
    }
}
