//! `tollgate test`: tests of a policy, written beside it in a companion
//! file (`NAME.test.toll`, docs/testing.md), run on the same engine as
//! `eval`, with what each test exercised for `--coverage`.

pub mod ast;
pub mod coverage;
pub mod junit;
pub mod names;
pub mod run;
pub mod typing;
