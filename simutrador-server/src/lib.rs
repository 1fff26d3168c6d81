//! The SimuTrador daemon as a library: the binary in `main.rs` only parses arguments and calls
//! into here, so tests and benchmarks can run the real server in-process on `127.0.0.1:0`.
//!
//! The layers point one way (`docs/architecture.md`; a unit test keeps it true):
//!
//! ```text
//! cli → server → protocol → session → simutrador-engine
//! each of them may use the leaves: config, auth, market_data, audit, error
//! ```
//!
//! - [`server`] — the HTTP/WebSocket listener, metrics, the daemon's tasks, graceful shutdown.
//! - [`protocol`] — one WebSocket connection: framing, decoding, dispatch of each message, rate
//!   limits, and the daemon state the requests act on.
//! - [`session`] — the `DashMap` session manager, lifecycle, limits, jobs, the store and the
//!   simulation runs.
//! - [`config`] — TOML file → environment → flags, merged into one validated [`config::ServerConfig`].
//! - [`auth`] — API keys (hashed, owner-only files) and HS256 JWTs.
//! - [`market_data`] — the bar catalog (CSV files or built-in demo data) and the validator that
//!   checks every session request against the data the daemon really has.
//! - [`audit`] — the append-only audit log; [`error`] — the wire error type of the handlers.
//! - [`cli`] — the `simutrador-server` subcommands (`serve`, `keys`, `data`).

#![forbid(unsafe_code)]

pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod error;
pub mod market_data;
pub mod protocol;
pub mod server;
pub mod session;

#[cfg(test)]
mod layering_tests;

/// The daemon's version, reported by `/healthz` and `connection_ready`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
