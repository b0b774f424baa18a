//! `tollgate-vectors POLICY -o FILE`: a policy's conformance vectors, the
//! records and the lines `tollgate eval` must print for them, answered by
//! the reference interpreters (docs/vectors.md).

use std::process::ExitCode;

fn main() -> ExitCode {
    tollgate::vectors::command::main(&tollgate_oracle::reference::Interpreters)
}
