//! The command line, its files and the artifacts it writes, as one test
//! binary (one link instead of one per file; see
//! docs/testing-the-project.md). A test is named for its file:
//! `cargo test --test suite_cli batch::`.

// Each file was written as a test crate of its own; here it is one module of
// this crate, and several include the shared helpers of tests/common.
#![allow(clippy::duplicate_mod)]

#[path = "activation.rs"]
mod activation;
#[path = "batch.rs"]
mod batch;
#[path = "cli.rs"]
mod cli;
#[path = "cli_output.rs"]
mod cli_output;
#[path = "docs.rs"]
mod docs;
#[path = "durability.rs"]
mod durability;
#[path = "fees.rs"]
mod fees;
#[path = "files.rs"]
mod files;
#[path = "firmware.rs"]
mod firmware;
#[path = "message_ids_durable.rs"]
mod message_ids_durable;
#[path = "nostd.rs"]
mod nostd;
#[path = "notifications.rs"]
mod notifications;
#[path = "pipeline.rs"]
mod pipeline;
#[path = "policies.rs"]
mod policies;
#[path = "sarif.rs"]
mod sarif;
#[path = "test_files.rs"]
mod test_files;
#[path = "trust.rs"]
mod trust;
#[path = "vectors.rs"]
mod vectors;
