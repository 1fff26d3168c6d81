//! The SimuTrador SDK: talk to a `simutrador-server` daemon from Rust.
//!
//! ```no_run
//! # async fn demo() -> Result<(), simutrador_client::ClientError> {
//! use simutrador_client::{Client, SessionRequestBuilder};
//!
//! let client = Client::connect_with_api_key("ws://127.0.0.1:8003", "sk_...").await?;
//! let request = SessionRequestBuilder::new(["ACME"], "2020-01-02", "2020-12-31").build();
//! let session = client.create_session(request).await?;
//! println!("{} replays {} bars", session.session_id, session.bar_count);
//! client.delete_session(&session.session_id).await?;
//! # Ok(()) }
//! ```
//!
//! Layout:
//! - [`url`] — [`ServerUrl`], every way users write the daemon's address.
//! - [`http`] — `POST /auth/token` ([`login`]) and `GET /healthz` ([`health`]).
//! - [`connection`] — [`Client`], one multiplexed WebSocket connection; typed requests are in
//!   `requests.rs`.
//! - [`session_request`] — [`SessionRequestBuilder`] and TOML session files.
//! - [`strategy`] — the [`Strategy`] trait and what it sees ([`TickView`],
//!   [`StrategyContext`], [`History`], [`Account`]); [`indicators`] — rolling SMA, EMA, RSI,
//!   high/low (re-exported from `simutrador-engine`); [`strategies`] — the built-ins by name ([`StrategySpec`]).
//! - `lifecycle.rs` — update, stop, events and live statistics of a session.
//! - [`batch`] — batch files, sweeps and [`batch::BatchRunner`].
//! - [`report`] — self-contained HTML reports of a session and of a batch (pure generators).
//! - [`runner`] — [`Client::run_simulation`] with [`RunOptions`]: the flow-control rules of
//!   the protocol on the client side.
//! - [`mod@error`] — [`ClientError`].
//!
//! The `simutrador-client` command-line tool (`src/main.rs`, `src/cli/`) is a thin layer over
//! this crate, built only with the `cli` feature (on by default). A program that only wants
//! the SDK depends on it with `default-features = false` and compiles none of the CLI's
//! dependencies (`clap`, `inquire`, `indicatif`, `comfy-table`, `dirs`, `anyhow`);
//! `examples/custom_strategy.rs` is such a program.

#![forbid(unsafe_code)]
// Tests may unwrap: a panic there is a failed test, not a crash a user sees.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod batch;
pub mod connection;
pub mod error;
pub mod http;
pub mod report;
pub use simutrador_engine::indicators;
mod lifecycle;
mod requests;
pub mod runner;
pub mod session_request;
pub mod strategies;
pub mod strategy;
pub mod url;

pub use connection::{
    Client, ConnectOptions, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, SessionStream,
};
pub use error::{ClientError, Result};
pub use http::{Health, TokenResponse, health, local_key_path, login};
pub use runner::{Progress, ReconnectOptions, RunOptions};
pub use session_request::{SessionRequestBuilder, load_session_file, parse_session_toml};
pub use strategies::{StrategySpec, build_strategy};
pub use strategy::{
    Account, Bar, Candle, History, Position, RawCandle, StartContext, Strategy, StrategyContext,
    TickView,
};
pub use url::{DEFAULT_URL, ServerUrl};

/// The wire types, re-exported so SDK users need no direct `shared-models` dependency.
pub use shared_models;
