//! The audit log of key changes made with the real `simutrador-server keys` binary names the
//! key's user as the user and the key id separately, whether the key was revoked by id or by
//! user name.

use serde_json::Value;
use simutrador_e2e::{bin, run, stderr, stdout};
use std::path::Path;
use std::process::Command;

fn keys(state: &Path, args: &[&str]) -> std::process::Output {
    let out = run(Command::new(bin("simutrador-server"))
        .arg("keys")
        .args(args)
        .arg("--state-dir")
        .arg(state))
    .unwrap();
    assert!(out.status.success(), "keys {args:?}: {}", stderr(&out));
    out
}

fn revocations(state: &Path) -> Vec<Value> {
    std::fs::read_to_string(state.join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["action"] == "api_key_revoked")
        .collect()
}

#[test]
fn api_key_revoked_names_the_keys_user_and_the_key_id() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path();
    let added: Value =
        serde_json::from_str(&stdout(&keys(state, &["add", "--user", "alice", "--json"]))).unwrap();
    let key_id = added["key_id"].as_str().unwrap().to_string();
    keys(state, &["revoke", &key_id]);
    let entries = revocations(state);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["user_id"], "alice", "{}", entries[0]);
    assert_eq!(entries[0]["details"]["key_id"], key_id.as_str());

    // By user name: one entry per key, each with its own id.
    let b1: Value =
        serde_json::from_str(&stdout(&keys(state, &["add", "--user", "bob", "--json"]))).unwrap();
    let b2: Value =
        serde_json::from_str(&stdout(&keys(state, &["add", "--user", "bob", "--json"]))).unwrap();
    keys(state, &["revoke", "bob"]);
    let entries = revocations(state);
    assert_eq!(entries.len(), 3, "{entries:?}");
    let mut ids: Vec<&str> = entries[1..]
        .iter()
        .inspect(|e| assert_eq!(e["user_id"], "bob", "{e}"))
        .map(|e| e["details"]["key_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = vec![
        b1["key_id"].as_str().unwrap(),
        b2["key_id"].as_str().unwrap(),
    ];
    expected.sort_unstable();
    assert_eq!(ids, expected);
}
