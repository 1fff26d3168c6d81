//! The SimuTrador daemon as a library: the binary in `main.rs` only parses arguments and calls
//! into here, so tests and benchmarks can run the real server in-process on `127.0.0.1:0`.
//!
//! Layout, one folder per subsystem:
//! - [`config`] — TOML file → environment → flags, merged into one validated [`config::ServerConfig`].
//! - [`auth`] — API keys (hashed, owner-only files) and HS256 JWTs.
//! - [`market_data`] — the bar catalog (CSV files or built-in demo data) and the validator that
//!   checks every session request against the data the daemon really has.
//! - [`session`] — the `DashMap` session manager, limits and the cleanup task.
//! - [`protocol`] — one WebSocket connection: framing, decoding, dispatch of each message.
//! - [`server`] — the HTTP/WebSocket listener, rate limits, graceful shutdown.
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

/// The daemon's version, reported by `/healthz` and `connection_ready`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
