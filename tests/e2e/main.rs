//! End-to-end tests: the real daemon on `127.0.0.1:0`, driven over real sockets through raw
//! WebSocket frames, the SDK, and the `simutrador-client` / `simutrador-server` binaries.
//! One test binary, a module per area.

// Tests: a panic is a failed test, so helpers may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod allocator;
mod audit_keys;
mod auth;
mod bankrupt;
mod batch;
mod batch_stop;
mod cli;
mod cli_polish;
mod closed_pipe;
mod concurrency;
mod connection_limits;
mod connection_metrics;
mod data_changed;
mod data_import;
mod data_list;
mod data_reload;
mod files;
mod history;
mod idle_reads;
mod journal_recovery;
mod lifecycle;
mod local_key;
mod multi_symbol;
mod no_look_ahead;
mod pause_resume;
mod pg;
mod pg_lease;
mod pg_store;
mod protocol_errors;
mod rate_limits;
mod reports;
mod reports_browser;
mod rerun;
mod restart;
mod restart_expiry;
mod results_paging;
mod run_outcome;
mod sdk;
mod sdk_example;
mod session_ids;
mod sessions;
mod shutdown;
mod simulation;
mod simulation_sdk;
mod slow_consumer;
mod store_failures;
mod store_failures_state;
mod support;
mod token_throttle;
mod watch;
mod watch_reconnect;
mod write_ahead;
