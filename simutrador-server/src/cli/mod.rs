//! The `simutrador-server` command line: `serve` (default), `keys`, `data`.
//!
//! CONTRACT STUB: `keys.rs` defines `KeysCommand` + `pub fn run(cmd: KeysCommand) -> anyhow::Result<std::process::ExitCode>`;
//! `data.rs` defines `DataCommand` + `pub fn run(cmd: DataCommand) -> anyhow::Result<std::process::ExitCode>`.

pub mod data;
pub mod keys;
