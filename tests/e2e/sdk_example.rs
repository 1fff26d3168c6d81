//! The SDK as a library user gets it: `simutrador-client/examples/custom_strategy.rs` (a custom
//! `Strategy`) is built by this test with `--no-default-features` — so without a single CLI
//! dependency — run against the real daemon on `127.0.0.1:0`, and the figures it prints are
//! checked against what the SDK reads from the daemon for the same session.
//!
//! Why the test runs `cargo build` itself: Cargo builds examples for `cargo test` only with the
//! package's default features, and the e2e crate cannot name another package's example as an
//! artifact; a nested `cargo build --example … --no-default-features` (the outer `cargo test`
//! no longer holds the build lock while tests run) builds exactly what an SDK user compiles and
//! reports the executable's path, whatever the target dir or profile.

use rust_decimal::Decimal;
use shared_models::{ErrorCode, SessionState};
use simutrador_client::Client;
use simutrador_e2e::{TestDaemon, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const EXAMPLE: &str = "custom_strategy";

/// Build the example without default features (once per test process); its executable.
fn example_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build_example).clone()
}

fn build_example() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../simutrador-client/Cargo.toml");
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--locked",
        "--no-default-features",
        "--example",
        EXAMPLE,
    ])
    .arg("--manifest-path")
    .arg(&manifest)
    .args(["--message-format", "json-render-diagnostics"])
    .stdin(Stdio::null())
    .stderr(Stdio::inherit());
    if !cfg!(debug_assertions) {
        cmd.arg("--release"); // same profile as this test, so the dependencies are shared
    }
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "the example must build without default features:\n{}",
        stdout(&out)
    );
    // The `compiler-artifact` message of the example carries the path of its executable.
    stdout(&out)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == EXAMPLE)
        .and_then(|msg| msg["executable"].as_str().map(PathBuf::from))
        .expect("cargo reports the example's executable")
}

/// Run the example with `args`, the API key in the environment (as its docs suggest).
async fn run_example(api_key: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(example_binary());
    cmd.args(args)
        .env_remove("SIMUTRADOR_URL")
        .env_remove("SIMUTRADOR_API_KEY")
        .stdin(Stdio::null());
    if let Some(key) = api_key {
        cmd.env("SIMUTRADOR_API_KEY", key);
    }
    cmd.output().await.expect("the example runs")
}

/// The value of the example's `key: value` line.
fn figure<'a>(out: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}: ");
    out.lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no `{key}:` line in\n{out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_custom_strategy_example_built_without_the_cli_reports_what_the_daemon_has() {
    // Build first, on a blocking thread, so the daemon's runtime stays free.
    tokio::task::spawn_blocking(example_binary).await.unwrap();
    let d = TestDaemon::start().await.unwrap();
    let key = d.add_key("alice").unwrap();
    let url = d.url();
    let args = [
        "--url",
        url.as_str(),
        "--period",
        "20",
        "ACME",
        "2015-01-01",
        "2019-12-31",
    ];

    let kept = run_example(Some(&key), &[&args[..], &["--keep"]].concat()).await;
    let text = stdout(&kept);
    assert!(kept.status.success(), "{text}\n{}", stderr(&kept));
    assert!(text.contains("as alice"), "{text}");

    // The same session read through the SDK: the example's figures are the daemon's.
    let c = Client::connect_with_api_key(&url, &key).await.unwrap();
    let id = figure(&text, "session");
    let session = c.get_session(id).await.unwrap();
    assert_eq!(session.state, SessionState::Completed);
    assert_eq!(figure(&text, "bars"), session.bar_count.to_string());
    let results = c.get_results(id).await.unwrap();
    let trades: u64 = figure(&text, "trades").parse().unwrap();
    assert_eq!(trades, results.metrics.num_trades);
    assert!(
        trades > 0,
        "the breakout should trade over five years:\n{text}"
    );
    let equity: Decimal = figure(&text, "final equity").parse().unwrap();
    assert_eq!(equity, results.metrics.equity_final);
    assert_eq!(
        figure(&text, "return"),
        format!("{:.2} %", results.metrics.return_pct)
    );
    let fills: usize = figure(&text, "fills").parse().unwrap();
    assert!(fills as u64 >= trades, "{fills} fills for {trades} trades");

    // Without --keep it cleans up; a second run of the same request gives the same figures.
    let again = run_example(Some(&key), &args).await;
    let text2 = stdout(&again);
    assert!(again.status.success(), "{text2}\n{}", stderr(&again));
    for key in ["bars", "fills", "trades", "return", "final equity"] {
        assert_eq!(figure(&text2, key), figure(&text, key), "{key}");
    }
    let gone = c.get_session(figure(&text2, "session")).await.unwrap_err();
    assert!(
        matches!(gone.error_code(), Some(ErrorCode::SessionNotFound)),
        "{gone}"
    );
    c.close().await;
    d.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_explains_a_missing_key_and_a_refused_request_by_exit_code() {
    tokio::task::spawn_blocking(example_binary).await.unwrap();
    let no_key = run_example(None, &["ACME"]).await;
    assert_eq!(no_key.status.code(), Some(2), "{}", stderr(&no_key));
    assert!(stderr(&no_key).contains("SIMUTRADOR_API_KEY"));

    let d = TestDaemon::start().await.unwrap();
    let key = d.add_key("bob").unwrap();
    let url = d.url();
    let refused = run_example(Some(&key), &["--url", &url, "NO_SUCH_SYMBOL"]).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let c = Client::connect_with_api_key(&url, &key).await.unwrap();
    let page = c.list_sessions(Default::default()).await.unwrap();
    assert_eq!(page.total, 0, "a refused request leaves no session");
    c.close().await;
    d.stop().await.unwrap();
}
