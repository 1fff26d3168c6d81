//! `simutrador-server data import` never replaces stored bars by accident: a second import of
//! the same symbol and timeframe is refused without `--replace`, and with it the output says
//! how many bars were replaced (text and `--json`).

use serde_json::Value;
use simutrador_e2e::{bin, run, stderr, stdout};
use std::path::Path;
use std::process::{Command, Output};

fn import(file: &Path, data: &Path, extra: &[&str]) -> Output {
    run(Command::new(bin("simutrador-server"))
        .args(["data", "import"])
        .arg(file)
        .args(["--symbol", "acme", "--timeframe", "1d", "--data-dir"])
        .arg(data)
        .args(extra))
    .unwrap()
}

#[test]
fn a_second_import_needs_replace_and_says_how_many_bars_it_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = dir.path().join("first.csv");
    std::fs::write(
        &first,
        "date,open,high,low,close\n2020-01-01,1,2,1,2\n2020-01-02,2,3,2,3\n2020-01-03,3,4,3,4\n",
    )
    .unwrap();
    let second = dir.path().join("second.csv");
    std::fs::write(&second, "date,open,high,low,close\n2021-01-01,5,6,5,6\n").unwrap();

    let out = import(&first, &data, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stored = std::fs::read_to_string(data.join("1d/ACME.csv")).unwrap();

    let refused = import(&second, &data, &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    let message = stderr(&refused);
    assert!(message.contains("already has 3 bars"), "{message}");
    assert!(message.contains("--replace"), "{message}");
    assert_eq!(
        std::fs::read_to_string(data.join("1d/ACME.csv")).unwrap(),
        stored,
        "a refused import writes nothing"
    );

    let refused = import(&second, &data, &["--json"]);
    assert_eq!(refused.status.code(), Some(1));
    let doc: Value = serde_json::from_str(&stdout(&refused)).unwrap();
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--replace"),
        "{doc}"
    );
    assert_eq!(doc["error"]["bars"], 3);

    let replaced = import(&second, &data, &["--replace"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert!(
        stdout(&replaced).contains("Replaced 3 bars of ACME 1d"),
        "{}",
        stdout(&replaced)
    );

    let replaced = import(&first, &data, &["--replace", "--json"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    let doc: Value = serde_json::from_str(&stdout(&replaced)).unwrap();
    assert_eq!(
        (doc["replaced"].clone(), doc["replaced_bars"].clone()),
        (Value::Bool(true), Value::from(1))
    );
    assert_eq!(doc["bars"], 3);
}
