//! `simutrador-server data list` lists what `serve` would serve with the same settings: by
//! default the built-in demo data and samples plus the default data dir; with an explicit
//! `--data-dir`, that dir only (add `--demo` for the built-ins, as `serve --demo-data`).

use serde_json::Value;
use simutrador_e2e::{bin, run, stderr, stdout};
use std::process::Command;

fn data_list(home: &std::path::Path, args: &[&str]) -> Value {
    let out = run(Command::new(bin("simutrador-server"))
        .args(["data", "list", "--json"])
        .args(args)
        .env_remove("SIMUTRADOR_DATA_DIR")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data-home")))
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

fn symbols(list: &Value) -> Vec<String> {
    list["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["symbol"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn data_list_shows_the_built_in_data_the_daemon_serves_by_default() {
    let home = tempfile::tempdir().unwrap();
    let list = data_list(home.path(), &[]);
    let all = symbols(&list);
    assert!(
        all.iter().any(|s| s == "ACME") && all.iter().any(|s| s == "GOOG"),
        "{list}"
    );
    assert_eq!(list["demo"], true);

    // An explicit data dir is served alone, as by `serve --data-dir`.
    let dir = home.path().join("mine");
    std::fs::create_dir_all(&dir).unwrap();
    let only = data_list(home.path(), &["--data-dir", dir.to_str().unwrap()]);
    assert!(symbols(&only).is_empty(), "{only}");
    let both = data_list(
        home.path(),
        &["--data-dir", dir.to_str().unwrap(), "--demo"],
    );
    assert!(symbols(&both).iter().any(|s| s == "ACME"), "{both}");
    let none = data_list(home.path(), &["--no-demo"]);
    assert!(symbols(&none).is_empty(), "{none}");
}
