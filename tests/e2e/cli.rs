//! The real binaries end to end: `simutrador-server` started as a process on port 0,
//! `simutrador-client` run as a process against it, exactly as a user would.

use serde_json::Value;
use simutrador_e2e::{DaemonProcess, bin, client_cmd, run, stderr, stdout};

use crate::support::Setup;
use std::path::Path;
use std::process::Command;

fn server(args: &[&str], state: &Path) -> std::process::Output {
    run(Command::new(bin("simutrador-server"))
        .args(args)
        .arg("--state-dir")
        .arg(state))
    .unwrap()
}

#[test]
fn a_new_user_creates_inspects_lists_and_deletes_sessions_from_the_shell() {
    let s = Setup::start(&[]);
    assert!(
        s.daemon.banner.iter().any(|l| l.contains("local.key")),
        "{:?}",
        s.daemon.banner
    );

    let health = s.client(&["health"]);
    assert!(health.status.success(), "{}", stderr(&health));
    assert!(stdout(&health).contains("ok"));

    // No setup: on loopback the client logs in with the daemon's local key by itself.
    let (code, created) = s.client_json(&[
        "session",
        "create",
        "ACME",
        "globex",
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
    ]);
    assert_eq!(code, 0, "{created}");
    assert_eq!(created["symbols"], serde_json::json!(["ACME", "GLOBEX"]));
    assert_eq!(created["initial_capital"], "50000");
    let id = created["session_id"].as_str().unwrap().to_string();

    // Human output: a preview before creating, then the id.
    let out = s.client(&[
        "session",
        "create",
        "FXEUR",
        "--start",
        "2021-03-01",
        "--end",
        "2021-03-31",
        "--timeframe",
        "1d",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("FXEUR") && text.contains("bars"), "{text}");

    let (code, status) = s.client_json(&["session", "status", &id]);
    assert_eq!(code, 0);
    assert_eq!(status["state"], "created");
    // --json after the subcommand works too.
    let out = run(client_cmd(s.home.path()).args([
        "session",
        "list",
        "--json",
        "--url",
        &s.daemon.url(),
    ]))
    .unwrap();
    let list: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(list["total"], 2);
    let table = stdout(&s.client(&["session", "list"]));
    assert!(table.contains(&id) && table.contains("created"), "{table}");

    let (code, _) = s.client_json(&["session", "delete", &id]);
    assert_eq!(code, 0);
    let (code, err) = s.client_json(&["session", "status", &id]);
    assert_eq!(code, 1, "a server refusal exits 1");
    assert_eq!(err["error"]["error_code"], "SESSION_NOT_FOUND");
    assert!(err["error"]["message"].is_string());

    let (code, symbols) = s.client_json(&["data", "symbols", "--asset-class", "crypto"]);
    assert_eq!(code, 0);
    assert!(symbols.to_string().contains("BITDEMO"));
    let (code, range) = s.client_json(&["data", "range", "acme"]);
    assert_eq!(code, 0);
    assert_eq!(range["symbol"], "ACME");
}

#[test]
fn errors_have_the_documented_exit_codes_and_json_shape() {
    let s = Setup::start(&[]);
    let (code, err) = s.client_json(&[
        "session",
        "create",
        "NOPE",
        "--start",
        "2020-01-01",
        "--end",
        "2020-12-31",
    ]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["error_code"], "INVALID_SYMBOL");
    assert_eq!(
        err["error"]["details"]["invalid_symbols"],
        serde_json::json!(["NOPE"])
    );

    let (code, err) = s.client_json(&[
        "session",
        "create",
        "ACME",
        "--start",
        "2020-02-30",
        "--end",
        "2020-12-31",
    ]);
    assert_eq!(
        code, 2,
        "an impossible date is a usage error caught before sending: {err}"
    );

    let out = s.client(&[
        "session",
        "create",
        "ACME",
        "--start",
        "2020-01-01",
        "--end",
        "2020-12-31",
        "--interactive",
    ]);
    assert_eq!(out.status.code(), Some(2), "no prompts without a terminal");
    assert!(!stderr(&out).is_empty());

    let out = s.client(&["session", "frobnicate"]);
    assert_eq!(out.status.code(), Some(2));

    // Nothing listening there.
    let dead = run(client_cmd(s.home.path()).args([
        "--url",
        "ws://127.0.0.1:9",
        "--json",
        "session",
        "list",
    ]))
    .unwrap();
    assert_eq!(dead.status.code(), Some(2));
    let err: Value = serde_json::from_str(&stdout(&dead)).unwrap();
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("simutrador-server"),
        "{err}"
    );

    let bad_key = run(client_cmd(s.home.path())
        .env("SIMUTRADOR_API_KEY", "stk_wrong")
        .args(["--url", &s.daemon.url(), "auth", "login"]))
    .unwrap();
    assert_eq!(bad_key.status.code(), Some(2));
    assert!(
        stderr(&bad_key).contains("INVALID_API_KEY"),
        "{}",
        stderr(&bad_key)
    );
}

#[test]
fn users_are_isolated_and_credentials_are_owner_only() {
    let s = Setup::start(&[]);
    let state = s.home.path().join("state/simutrador");
    let out = server(&["keys", "add", "--user", "alice", "--json"], &state);
    assert!(out.status.success(), "{}", stderr(&out));
    let added: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let alice_key = added["api_key"].as_str().unwrap().to_string();

    let (_, created) = s.client_json(&[
        "session",
        "create",
        "ACME",
        "--start",
        "2020-01-01",
        "--end",
        "2020-06-30",
    ]);
    let local_session = created["session_id"].as_str().unwrap().to_string();

    let alice_home = tempfile::tempdir().unwrap();
    let login = run(client_cmd(alice_home.path()).args([
        "--url",
        &s.daemon.url(),
        "auth",
        "login",
        "--api-key",
        &alice_key,
    ]))
    .unwrap();
    assert!(login.status.success(), "{}", stderr(&login));
    assert!(
        !stdout(&login).contains(&alice_key),
        "the key is never echoed"
    );
    let creds = alice_home.path().join("config/simutrador/credentials.toml");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&creds).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "credentials are owner-only");

    let as_alice = |args: &[&str]| {
        let out = run(client_cmd(alice_home.path())
            .args(["--url", &s.daemon.url(), "--json"])
            .args(args))
        .unwrap();
        (
            out.status.code().unwrap_or(-1),
            serde_json::from_str::<Value>(&stdout(&out)).unwrap(),
        )
    };
    let (code, err) = as_alice(&["session", "status", &local_session]);
    assert_eq!(
        (code, err["error"]["error_code"].as_str()),
        (1, Some("SESSION_NOT_FOUND"))
    );
    let (code, err) = as_alice(&["session", "delete", &local_session]);
    assert_eq!(
        (code, err["error"]["error_code"].as_str()),
        (1, Some("SESSION_NOT_FOUND"))
    );
    let (_, list) = as_alice(&["session", "list"]);
    assert_eq!(list["total"], 0);
    let (code, status) = as_alice(&["auth", "status"]);
    assert_eq!(code, 0);
    assert_eq!(status["user_id"], "alice");

    // Revoked key: alice's stored token stops working.
    let out = server(&["keys", "revoke", "alice"], &state);
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, err) = as_alice(&["session", "list"]);
    assert_eq!(code, 2, "{err}");

    // Secrets never reach the logs.
    let log = s.daemon.log_text();
    assert!(!log.is_empty());
    assert!(!log.contains(&alice_key), "API key in the daemon log");
    let local_key = std::fs::read_to_string(state.join("local.key")).unwrap();
    let local_key = local_key.lines().find(|l| l.starts_with("stk_")).unwrap();
    assert!(!log.contains(local_key), "local key in the daemon log");
    assert!(!log.contains("eyJ"), "a JWT in the daemon log");
    for file in ["api_keys.json", "jwt_secret", "local.key"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(state.join(file)).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{file} is owner-only");
    }
    let keys = std::fs::read_to_string(state.join("api_keys.json")).unwrap();
    assert!(!keys.contains(&alice_key), "keys are stored hashed");
}

#[test]
fn csv_data_is_imported_validated_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let csv = dir.path().join("XYZ.csv");
    let mut text = String::from(",Open,High,Low,Close,Adj Close,Volume\n");
    for day in 1..=28 {
        text.push_str(&format!("2021-02-{day:02},10.0,11.5,9.5,10.25,10.2,1000\n"));
    }
    std::fs::write(&csv, &text).unwrap();
    let import = |file: &Path, symbol: &str| {
        run(Command::new(bin("simutrador-server"))
            .args(["data", "import"])
            .arg(file)
            .args([
                "--symbol",
                symbol,
                "--timeframe",
                "daily",
                "--asset-class",
                "equity",
                "--data-dir",
            ])
            .arg(&data))
        .unwrap()
    };
    let out = import(&csv, "xyz");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(data.join("1d/XYZ.csv").exists());

    let bad = dir.path().join("BAD.csv");
    std::fs::write(&bad, "timestamp,open,high,low,close,volume\n2021-01-01,1,2,0.5,1.5,10\n2021-01-02,1,0.5,2,1.5,10\n").unwrap();
    let out = import(&bad, "BAD");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("BAD.csv:3"),
        "file:line in the error: {}",
        stderr(&out)
    );
    assert!(
        !data.join("1d/BAD.csv").exists(),
        "nothing written for a bad file"
    );

    let list = run(Command::new(bin("simutrador-server"))
        .args(["data", "list", "--data-dir"])
        .arg(&data))
    .unwrap();
    assert!(stdout(&list).contains("XYZ"), "{}", stdout(&list));

    let home = tempfile::tempdir().unwrap();
    let daemon = DaemonProcess::start(
        &home.path().join("state/simutrador"),
        &["--data-dir", data.to_str().unwrap()],
    )
    .unwrap();
    let out = run(client_cmd(home.path()).args([
        "--url",
        &daemon.url(),
        "--json",
        "session",
        "create",
        "XYZ",
        "--start",
        "2021-02-01",
        "--end",
        "2021-02-28",
    ]))
    .unwrap();
    let created: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(created["bar_count"], 28, "{created}");
    let out = run(client_cmd(home.path()).args([
        "--url",
        &daemon.url(),
        "--json",
        "session",
        "create",
        "ACME",
        "--start",
        "2021-02-01",
        "--end",
        "2021-02-28",
    ]))
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "only the data dir is served when one is given"
    );
}

#[test]
fn the_daemon_shuts_down_cleanly_on_sigterm() {
    let s = Setup::start(&[]);
    assert!(s.client(&["health"]).status.success());
    let Setup {
        daemon,
        home: _home,
    } = s;
    let status = daemon.terminate().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn bad_server_config_is_refused_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("server.toml");
    std::fs::write(&cfg, "[limits]\nmax_sesions_per_user = 3\n").unwrap();
    let out = run(Command::new(bin("simutrador-server"))
        .args(["serve", "--bind", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--state-dir")
        .arg(dir.path()))
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("max_sesions_per_user"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn limits_stops_events_and_filters_from_the_shell() {
    let s = Setup::start(&[]);
    let out = s.client(&[
        "session",
        "create",
        "ACME",
        "--start",
        "2020-01-01",
        "--end",
        "2020-12-31",
        "--capital",
        "50000",
        "--max-duration",
        "4h",
        "--loss-limit-pct",
        "20",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text} {}", stderr(&out));
    assert!(text.contains("time limit  4h"), "{text}");
    assert!(
        text.contains("max loss    10000 (20% of the capital)"),
        "{text}"
    );
    let (code, created) = s.client_json(&[
        "session",
        "create",
        "ACME",
        "--start",
        "2020-01-01",
        "--end",
        "2020-12-31",
        "--max-duration",
        "30m",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        created["error"]["error_code"], "INVALID_DURATION",
        "{created}"
    );
    let (_, list) = s.client_json(&["session", "list"]);
    let id = list["sessions"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();

    let (code, stopped) = s.client_json(&["session", "stop", &id, "--emergency"]);
    assert_eq!(code, 0, "{stopped}");
    assert_eq!(stopped["reason"], "emergency_stop");
    assert_eq!(stopped["final_stats"]["equity"], "50000");
    let (code, again) = s.client_json(&["session", "stop", &id]);
    assert_eq!(code, 1);
    assert_eq!(again["error"]["error_code"], "INVALID_STATE");

    let out = s.client(&["session", "events", &id]);
    let text = stdout(&out);
    for kind in ["SESSION_CREATED", "EMERGENCY_STOP", "SESSION_ENDED"] {
        assert!(text.contains(kind), "{kind} missing: {text}");
    }
    let (_, stopped_list) =
        s.client_json(&["session", "list", "--state", "stopped", "--sort", "return"]);
    assert_eq!(stopped_list["total"], 1);
    let (_, losers) = s.client_json(&["session", "list", "--performance", "loss"]);
    assert_eq!(
        losers["total"], 0,
        "flat at the stop: neither profit nor loss"
    );
    let (code, bad) = s.client_json(&["session", "list", "--performance", "maybe"]);
    assert_eq!(code, 2, "{bad}");

    let audit = std::fs::read_to_string(s.home.path().join("state/simutrador/audit.jsonl"))
        .unwrap_or_default();
    assert!(audit.contains("session_stopped"), "{audit}");
}
