//! The protocol layer: one WebSocket connection after the handshake, and the state its
//! requests act on. It sits between `server` (which owns the transport and builds the state)
//! and `session`; it never imports `server`.
//!
//! - [`state`] — [`state::DaemonState`], what handlers act on, and [`state::RequestObserver`],
//!   how the layer reports requests and refusals upward.
//! - [`connection`] — the read loop; frames in, replies out, back-pressure on a full outbound
//!   queue. Handlers never touch the socket.
//! - [`writer`] — the writer task and the slow-consumer watchdog (close code 4008).
//! - [`cmd`] — one module per group of requests; each request type implements [`cmd::Apply`].
//! - [`rate_limit`] — `governor` limiters and the per-user connection count.

pub mod cmd;
pub mod connection;
pub mod rate_limit;
pub mod state;
pub mod writer;

pub use state::{DaemonState, RequestEvent, RequestObserver};
