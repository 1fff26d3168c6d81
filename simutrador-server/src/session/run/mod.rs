//! A running simulation: a [run core](core) — a plain state machine over the session's
//! bars and its [`Engine`](simutrador_engine::Engine) that streams ticks, settles bars as
//! acknowledgements arrive and emits fills, order updates and account snapshots — driven by
//! one actor task per session that owns the channels, journals and sends. The rules it
//! follows (window, settlement driven by acks, `bar_settled`) are in `docs/protocol.md`,
//! "Running a simulation"; the layering in `docs/session-lifecycle.md`, "The run core".
//!
//! - [`core`] — [`core::RunCore`]: the state and the rules; with `pacing.rs` (window, acks,
//!   batches), `emit.rs` (what a settlement sends) and `guard.rs` (limits, halts, early ends).
//! - [`io`] — its [`io::Input`]s and [`io::Output`]s.
//! - `replay.rs` — resume after a restart: the journal fed back to a fresh core.
//! - [`actor`] — the task around the core: channels, journal, session changes, frames.
//! - [`start`] — building a run (feed, engine, options) for `start_simulation` and
//!   rebuilding one after a restart.
//! - [`feed`] — the session's bars merged into ticks, and their wire and engine shapes.
//! - [`handle`] — [`RunHandle`], how connection handlers and the lifecycle talk to the actor.

pub mod actor;
pub mod core;
mod emit;
pub mod feed;
mod guard;
pub mod handle;
pub mod io;
mod pacing;
mod replay;
pub mod start;

pub use handle::{CONTROL_QUEUE, Control, ReplyTo, RunHandle, Terminate};

#[cfg(test)]
#[path = "bankrupt_tests.rs"]
mod bankrupt_tests;
#[cfg(test)]
#[path = "core_tests.rs"]
mod core_tests;
#[cfg(test)]
#[path = "data_tests.rs"]
#[allow(clippy::unwrap_used)]
mod data_tests;
#[cfg(test)]
#[path = "end_tests.rs"]
#[allow(clippy::unwrap_used)]
mod end_tests;
#[cfg(test)]
#[path = "last_bar_tests.rs"]
mod last_bar_tests;
#[cfg(test)]
#[path = "pause_tests.rs"]
mod pause_tests;
#[cfg(test)]
#[path = "replay_tests.rs"]
mod replay_tests;
#[cfg(test)]
mod test_harness;
