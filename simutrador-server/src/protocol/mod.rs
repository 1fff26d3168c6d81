//! One WebSocket connection, after the handshake.
//!
//! - [`connection`] — the read loop and the writer task; frames in, replies out. Handlers never
//!   touch the socket.
//! - [`cmd`] — one module per group of requests; each request type implements [`cmd::Apply`].

pub mod cmd;
pub mod connection;
