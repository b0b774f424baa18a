//! `tollgate diff OLD NEW`: what a policy change does, before it ships.
//!
//! For fees policies, an exact region-by-region account from the compiled
//! tables ([`fees`]): where the rule or the fee changes, in which
//! direction, by how much at most and for which record ([`amounts`]).
//! For notifications policies, the rules added, removed or changed, in
//! words, each with a message stream both engines decide differently
//! ([`notify`]). With a history of real records, both versions are
//! replayed on it ([`replay`], [`replay_notify`]); a fees diff can also be
//! told to merchants ([`notice`]) or drawn for reviewers ([`html`]).
//! `docs/diff.md` explains how to read it and why it is
//! exact.

pub mod amounts;
pub mod fees;
pub mod history;
pub mod html;
pub mod notice;
pub mod notify;
pub mod render;
pub mod render_notify;
pub mod render_replay;
pub mod replay;
pub mod replay_notify;
pub mod schema;

pub use fees::{diff, DiffError, FeeDiff};
