//! `tollgate serve`: the HTTP service, its Redis state and its streams, as
//! one test binary (one link instead of one per file; see
//! docs/testing-the-project.md). A test is named for its file:
//! `cargo test --test suite_serve serve_redis::`.

// Each file was written as a test crate of its own; here it is one module of
// this crate, and several include the shared helpers of tests/common.
#![allow(clippy::duplicate_mod)]

#[path = "serve.rs"]
mod serve;
#[path = "serve_redis.rs"]
mod serve_redis;
#[path = "serve_streams.rs"]
mod serve_streams;
