//! Simulation sessions: what one user asked to simulate, and where it is in its life.
//!
//! - [`params`] — turns a `create_session` request into validated, normalized parameters
//!   (market data through the [`crate::market_data::MarketDataValidator`], capital, costs,
//!   metadata against the `[limits]` of the config).
//! - [`record`] — one [`Session`]: immutable parameters plus a small locked lifecycle.
//! - [`manager`] — the [`SessionManager`], a `DashMap` of sessions with a per-user index.
//! - [`run`] — a running simulation: the task that streams ticks, settles bars in the engine
//!   and follows the flow-control rules of the protocol.
//! - [`cleanup`] — the background task that expires idle sessions and drops old ended ones.

pub mod cleanup;
pub mod manager;
pub mod params;
pub mod record;
pub mod run;

pub use manager::{SessionManager, SweepReport};
pub use record::{Lifecycle, Session};
