//! Writing a command's output to standard output without panicking.
//!
//! `print!` panics when stdout is a closed pipe (`tollgate lint | head -1`)
//! or a full device. Commands instead build their output and write it here:
//! a closed pipe ends the command quietly with the exit code it would have
//! had (the reader took what it wanted), and any other write error is one
//! line on stderr and exit code 2.

use super::EXIT_USAGE;
use std::io::{ErrorKind, Write};

/// Writes `text` to standard output and flushes it.
///
/// # Errors
/// The write or flush error.
pub fn write(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// The exit code of a command whose output write ended with `written`, and
/// whose code would otherwise be `code`.
pub fn finish(written: std::io::Result<()>, code: u8) -> u8 {
    match written {
        Ok(()) => code,
        Err(e) if e.kind() == ErrorKind::BrokenPipe => code,
        Err(e) => {
            // stderr may be gone too; nothing more can be done then.
            let _ = writeln!(std::io::stderr(), "error: cannot write the output: {e}");
            EXIT_USAGE
        }
    }
}

/// Writes `text` and returns the exit code for `code` (see [`finish`]).
pub fn emit(text: &str, code: u8) -> u8 {
    finish(write(text), code)
}
