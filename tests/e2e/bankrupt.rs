//! Bankruptcy through the real binaries: a generated series on which `sma-cross` goes short
//! and the price then gaps up fourfold. The run ends `stopped (bankrupt)` at that bar, closed
//! at its close, with equity 0 (never below) through the last bar of the data, and the
//! predicting SDK the CLI runs agrees with the daemon's fills (else `session run` fails).

use serde_json::Value;
use simutrador_e2e::{DaemonProcess, bin, client_cmd, run, stderr, stdout};
use std::process::Command;

/// Bars: a rise (so the averages cross down later), a fall (the death cross: short), a
/// flat stretch, then a gap to 400 at bar [`GAP`] and a slow rise to the end.
const GAP: usize = 18;
const BARS: usize = 51;

fn close(i: usize) -> i64 {
    const FALL: [i64; 5] = [110, 104, 96, 88, 80];
    match i {
        0..8 => 100 + 2 * i as i64,
        8..13 => FALL[i - 8],
        13..GAP => 80,
        _ => 400 + 10 * (i - GAP) as i64,
    }
}

/// `2021-01-01` … `2021-02-20`, one bar a day.
fn date(i: usize) -> String {
    if i < 31 {
        format!("2021-01-{:02}", i + 1)
    } else {
        format!("2021-02-{:02}", i - 30)
    }
}

fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

fn number(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn a_short_that_loses_everything_ends_bankrupt_with_equity_zero_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let (data, csv) = (dir.path().join("data"), dir.path().join("UP.csv"));
    let mut text = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..BARS {
        let c = close(i);
        text.push_str(&format!("{},{c},{c},{c},{c},1000\n", date(i)));
    }
    std::fs::write(&csv, text).unwrap();
    let import = run(Command::new(bin("simutrador-server"))
        .args(["data", "import"])
        .arg(&csv)
        .args([
            "--symbol",
            "UP",
            "--timeframe",
            "1d",
            "--asset-class",
            "equity",
        ])
        .arg("--data-dir")
        .arg(&data))
    .unwrap();
    assert!(import.status.success(), "{}", stderr(&import));

    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    let daemon = DaemonProcess::start(&state, &["--data-dir", data.to_str().unwrap()]).unwrap();
    let client = |args: &[&str]| {
        run(client_cmd(home.path())
            .args(["--url", &daemon.url()])
            .args(args))
        .unwrap()
    };
    let created = json(&client(&[
        "--json",
        "session",
        "create",
        "UP",
        "--start",
        "2021-01-01",
        "--end",
        "2021-02-20",
        "--capital",
        "10000",
    ]));
    let id = created["session_id"].as_str().unwrap().to_string();
    let ran = client(&[
        "session",
        "run",
        &id,
        "--strategy",
        "sma-cross",
        "-p",
        "fast=3",
        "-p",
        "slow=6",
        "-p",
        "short=true",
    ]);
    // Prediction and daemon agree (no protocol error), and the run says it went bankrupt:
    // exit 3, the documented code of a run cut short by a limit or bankruptcy.
    assert_eq!(
        ran.status.code(),
        Some(3),
        "prediction and daemon agree: {} {}",
        stdout(&ran),
        stderr(&ran)
    );
    assert!(
        stdout(&ran).contains("Stopped: bankrupt (equity reached 0) at bar "),
        "{}",
        stdout(&ran)
    );

    let status = json(&client(&["--json", "session", "status", &id]));
    assert_eq!(status["state"], "stopped", "{status}");
    assert_eq!(status["termination_reason"], "bankrupt", "{status}");
    let text = stdout(&client(&["session", "status", &id]));
    assert!(text.contains("bankrupt"), "{text}");

    let results = json(&client(&["--json", "session", "results", &id]));
    let m = &results["metrics"];
    assert_eq!(number(&m["equity_final"]), 0.0, "{m}");
    assert_eq!(number(&m["return_pct"]), -100.0);
    assert_eq!(number(&m["max_drawdown_pct"]), -100.0);
    // Buy & Hold to the last bar's close (720), not the bankrupt bar's, from the close of
    // bar 5 (110), where sma-cross's SMA(6) is first defined: backtesting.py 0.6.6's
    // `_indicator_warmup_nbars` for this strategy (it said 620 from the first close before
    // the warm-up was sent).
    let bh = (720.0 - 110.0) / 110.0 * 100.0;
    assert_eq!(close(5), 110);
    assert!(
        (number(&m["buy_and_hold_return_pct"]) - bh).abs() < 1e-9,
        "{m}"
    );
    let curve = results["equity_curve"].as_array().unwrap();
    assert_eq!(curve.len(), BARS, "the statistics run to the last bar");
    let equity: Vec<f64> = curve.iter().map(|p| number(&p["equity"])).collect();
    assert!(equity[..GAP].iter().all(|e| *e > 0.0), "{equity:?}");
    assert!(equity[GAP..].iter().all(|e| *e == 0.0), "{equity:?}");
    let trades = results["trades"].as_array().unwrap();
    let last = trades.last().unwrap();
    assert_eq!(number(&last["exit_price"]), close(GAP) as f64, "{last}");
    // The bar indices and the drawdown columns reach the wire: closed out at bar GAP, 100 %
    // below the peak from there on.
    assert_eq!(last["exit_bar"], GAP, "{last}");
    assert_eq!(number(&curve[BARS - 1]["drawdown_pct"]), 100.0);
}
