//! The end-to-end demo: start a real `simutrador-server` on a free loopback port with the
//! built-in demo data, then drive it with the real `simutrador-client` CLI, printing every
//! command and its output. Everything happens in a temporary home, so the user's own config
//! and keys are untouched.
//!
//! Run: `cargo run --release -p simutrador-e2e --bin demo`

use anyhow::{Context, Result, bail};
use simutrador_e2e::{DaemonProcess, bin_dir, client_cmd};
use std::path::Path;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Build the two binaries next to this one (a no-op when they are up to date).
fn build_binaries() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let release = bin_dir().ends_with("release");
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--quiet",
        "-p",
        "simutrador-server",
        "-p",
        "simutrador-client",
    ]);
    if release {
        cmd.arg("--release");
    }
    println!("building simutrador-server and simutrador-client …");
    let status = cmd.status().context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo build failed");
    }
    Ok(())
}

fn step(home: &Path, url: &str, args: &[&str]) -> Result<String> {
    println!("\n$ simutrador-client {}", args.join(" "));
    let out = client_cmd(home).arg("--url").arg(url).args(args).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    println!("[exit {}]", out.status.code().unwrap_or(-1));
    Ok(stdout)
}

fn run() -> Result<()> {
    build_binaries()?;
    let home = tempfile::tempdir()?;
    let state = home.path().join("state/simutrador");
    println!(
        "\n$ simutrador-server serve --bind 127.0.0.1:0 --state-dir {}",
        state.display()
    );
    let daemon = DaemonProcess::start(&state, &[])?;
    for line in &daemon.banner {
        println!("{line}");
    }
    let url = daemon.url();
    let h = home.path();

    step(h, &url, &["health"])?;
    step(h, &url, &["auth", "login"])?;
    step(h, &url, &["data", "symbols", "--timeframe", "1d"])?;
    step(h, &url, &["data", "range", "BITDEMO", "--timeframe", "1m"])?;
    step(
        h,
        &url,
        &[
            "session",
            "create",
            "ACME",
            "GLOBEX",
            "--start",
            "2020-01-01",
            "--end",
            "2020-12-31",
            "--capital",
            "50000",
            "--commission-rate",
            "0.001",
            "--slippage-bps",
            "2",
        ],
    )?;
    let json = step(
        h,
        &url,
        &[
            "--json",
            "session",
            "create",
            "BITDEMO",
            "--start",
            "2024-12-01T00:00:00Z",
            "--end",
            "2024-12-07T23:59:00Z",
            "--timeframe",
            "1m",
            "--capital",
            "10000",
        ],
    )?;
    let created: serde_json::Value =
        serde_json::from_str(&json).context("session create --json")?;
    let id = created["session_id"]
        .as_str()
        .context("no session_id")?
        .to_string();
    step(h, &url, &["session", "list"])?;
    step(h, &url, &["session", "status", &id])?;

    println!(
        "\n# Run a strategy on a session: the server replays the bars, fills the orders and keeps the books."
    );
    let json = step(
        h,
        &url,
        &[
            "--json",
            "session",
            "create",
            "GLOBEX",
            "--start",
            "2015-01-01",
            "--end",
            "2020-12-31",
            "--capital",
            "10000",
            "--commission-rate",
            "0.002",
        ],
    )?;
    let created: serde_json::Value =
        serde_json::from_str(&json).context("session create --json")?;
    let run_id = created["session_id"]
        .as_str()
        .context("no session_id")?
        .to_string();
    step(
        h,
        &url,
        &[
            "session",
            "run",
            &run_id,
            "--strategy",
            "sma-cross",
            "-p",
            "fast=10",
            "-p",
            "slow=20",
        ],
    )?;
    step(h, &url, &["session", "results", &run_id, "--trades"])?;

    println!(
        "\n# A batch file sweeps parameters: every combination is a session, run in parallel, one table and summary files (configs/batch-goog-sweep.toml, on the built-in GOOG daily bars)."
    );
    let batch = h.join("batch-goog-sweep.toml");
    std::fs::write(
        &batch,
        include_str!("../../../configs/batch-goog-sweep.toml"),
    )?;
    let batch = batch.display().to_string();
    step(h, &url, &["batch", "run", &batch, "--dry-run"])?;
    step(h, &url, &["batch", "run", &batch])?;
    println!("\n# Bad input gets a clear error and a non-zero exit code:");
    step(
        h,
        &url,
        &[
            "session",
            "create",
            "NOPE",
            "ACME",
            "--start",
            "2020-01-01",
            "--end",
            "2020-12-31",
        ],
    )?;
    step(
        h,
        &url,
        &[
            "session",
            "create",
            "ACME",
            "--start",
            "1990-01-01",
            "--end",
            "1990-12-31",
        ],
    )?;
    step(h, &url, &["session", "delete", &id])?;
    step(h, &url, &["session", "list"])?;

    println!("\n$ kill -TERM <daemon>");
    let status = daemon.terminate()?;
    println!("simutrador-server exited: {status}");
    if !status.success() {
        bail!("the daemon did not exit cleanly");
    }
    println!("\ndemo complete");
    Ok(())
}
