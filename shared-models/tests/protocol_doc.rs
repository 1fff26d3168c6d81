//! Parses every JSON example in `docs/protocol.md` with the real wire types, and checks that
//! every message type has an example, so the document cannot drift from the code.

#![allow(clippy::expect_used)] // a test: a panic is a failure

use shared_models::http::{HealthResponse, LocalKeyResponse, TokenResponse};
use shared_models::{ClientMessage, Envelope, ErrorBody, ServerMessage, decode_client_message};
use std::collections::BTreeSet;

fn blocks(tag: &str) -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    let doc = std::fs::read_to_string(path).expect("docs/protocol.md is readable");
    let fence = format!("```json {tag}");
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        let trimmed = line.trim();
        match &mut current {
            None if trimmed == fence => current = Some(String::new()),
            Some(buf) if trimmed == "```" => {
                out.push(std::mem::take(buf));
                current = None;
            }
            Some(buf) => {
                buf.push_str(line);
                buf.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn every_client_example_decodes() {
    let mut seen = BTreeSet::new();
    for text in blocks("client") {
        let env = decode_client_message(&text)
            .unwrap_or_else(|e| panic!("client example does not decode: {e:?}\n{text}"));
        // And the typed form round-trips.
        let again = serde_json::to_string(&env).unwrap();
        let back: Envelope<ClientMessage> = serde_json::from_str(&again).unwrap();
        assert_eq!(back, env);
        seen.insert(env.message.type_name());
    }
    for t in ClientMessage::TYPES {
        assert!(
            seen.contains(t),
            "docs/protocol.md has no client example of '{t}'"
        );
    }
}

#[test]
fn every_server_example_decodes() {
    let mut seen = BTreeSet::new();
    for text in blocks("server") {
        let env: Envelope<ServerMessage> = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("server example does not decode: {e}\n{text}"));
        seen.insert(env.message.type_name());
    }
    for t in ServerMessage::TYPES {
        assert!(
            seen.contains(t),
            "docs/protocol.md has no server example of '{t}'"
        );
    }
}

/// `results` carries its outcome fields (`final_state`, `strategy`, …) flat, beside the
/// statistics, though the type keeps them in one `RunOutcome`: each documented reply is
/// written back exactly as documented.
#[test]
fn results_examples_are_written_back_as_documented() {
    let mut checked = 0;
    for text in blocks("server") {
        let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        if doc["type"] != "results" {
            continue;
        }
        let env: Envelope<ServerMessage> = serde_json::from_str(&text).expect("decodes");
        let ServerMessage::Results(reply) = &env.message else {
            panic!("a results example decodes as results: {text}");
        };
        let again = serde_json::to_value(reply).expect("encodes");
        assert_eq!(again, doc["data"], "{text}");
        checked += usize::from(reply.outcome.termination_reason.is_some());
    }
    assert!(checked > 0, "an example with the outcome fields");
}

#[test]
fn http_examples_decode() {
    let http = blocks("http");
    assert_eq!(
        http.len(),
        6,
        "token, token error, token throttled, healthz, healthz with a failed store, local key"
    );
    serde_json::from_str::<TokenResponse>(&http[0]).unwrap();
    serde_json::from_str::<ErrorBody>(&http[1]).unwrap();
    let throttled = serde_json::from_str::<ErrorBody>(&http[2]).unwrap();
    assert!(throttled.details["retry_after_ms"].as_u64().is_some());
    serde_json::from_str::<HealthResponse>(&http[3]).unwrap();
    let failed = serde_json::from_str::<HealthResponse>(&http[4]).unwrap();
    assert_eq!(failed.status, "store_unavailable");
    assert!(failed.store_error.is_some());
    let local = serde_json::from_str::<LocalKeyResponse>(&http[5]).unwrap();
    assert!(local.path.ends_with("/local.key"));
}
