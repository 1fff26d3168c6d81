//! Simulation sessions: what one user asked to simulate, and where it is in its life.
//!
//! The session layer sits below `protocol` and `server` and never imports them: it reports
//! upward through [`hooks::SessionObserver`] and hands frames to connections as
//! [`outbound::Outgoing`]. Every task it starts is spawned on [`SessionManager::tasks`], so a
//! graceful shutdown waits for it (see `docs/architecture.md`).
//!
//! - [`params`] — turns a `create_session` request into validated, normalized parameters
//!   (market data through the [`crate::market_data::MarketDataValidator`], capital, costs,
//!   metadata against the `[limits]` of the config).
//! - [`record`] — one [`Session`]: immutable parameters plus a small locked lifecycle.
//! - [`results`] — a finished session's results: a summary in memory, the equity curve and
//!   trades on disk in the store, loaded on demand.
//! - [`manager`] — the [`SessionManager`], a `DashMap` of sessions with a per-user index.
//! - [`run`] — a running simulation: a plain state machine (the run core: pacing, settlement,
//!   limits, replay of its journal after a restart) driven by an actor task, and how runs are
//!   built from a session's parameters and the catalog (`run/start.rs`).
//! - [`cleanup`] — the background task that expires idle sessions and drops old ended ones.
//! - [`lifecycle`] — the one place sessions change (transitions, events, warnings, ends,
//!   updates), reporting to [`journal`], the audit log and [`monitor`].
//! - [`limits`] — time, loss and halt limits; [`timers`] — deadlines in a delay queue;
//!   [`jobs`] — retried background work, reported as [`hooks::SessionEvent`]s.
//! - [`outbound`] — frames for a client's connection queue ([`outbound::Outgoing`]).
//! - [`events`] — the per-session event log; [`live`] — published figures and statistics;
//!   [`history`] — `list_sessions` filters; [`analytics`] — `compare_sessions` and
//!   `get_history_stats`; [`hooks`] — the manager's collaborators.
//! - [`store`] — persistence: the [`store::SessionStore`] behind the journal, its embedded
//!   file implementation, and restoring sessions at start-up.

pub mod analytics;
pub mod cleanup;
pub mod events;
pub mod history;
pub mod hooks;
pub mod jobs;
pub mod journal;
pub mod lifecycle;
pub mod limits;
pub mod live;
pub mod manager;
pub mod monitor;
pub mod outbound;
pub mod params;
pub mod record;
pub mod results;
pub mod run;
pub mod store;
#[cfg(test)]
pub(crate) mod test_support;
pub mod timers;

pub use manager::{SessionManager, SweepReport};
pub use record::{Lifecycle, Session};

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod lifecycle_tests;
