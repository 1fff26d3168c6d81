//! Fuzzing frame decoding: `decode_client_message` never panics, whatever the text — arbitrary
//! strings, arbitrary JSON, and the valid client frames of `docs/protocol.md` mutated (bytes
//! flipped, cut, spliced, values swapped) — and every failure carries one of the two codes
//! the protocol documents for a bad frame (`INVALID_MESSAGE`, `UNKNOWN_TYPE`), a message that
//! says what to do, and the request id only when the frame had a valid one.
//!
//! Cases: `PROPTEST_CASES` (default 256 per property); `bench/fuzz/frames_csv.sh` runs them
//! longer. A failing input proptest finds is kept in `fuzz_frames.proptest-regressions` and
//! replayed first on every run; inputs that once crashed are also pinned in
//! `regressions_stay_fixed` below.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test: a panic is a failure

use proptest::prelude::*;
use shared_models::{ClientMessage, ErrorCode, decode_client_message};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// The client examples of docs/protocol.md: valid frames to mutate.
fn examples() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    let doc = std::fs::read_to_string(path).expect("docs/protocol.md");
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim()) {
            (None, "```json client") => current = Some(String::new()),
            (Some(buf), "```") => {
                out.push(std::mem::take(buf));
                current = None;
            }
            (Some(buf), _) => buf.push_str(line),
            _ => {}
        }
    }
    assert!(out.len() >= ClientMessage::TYPES.len());
    out
}

/// Decode `text` and check the failure, if any, is a documented one.
fn check(text: &str) {
    match decode_client_message(text) {
        Ok(env) => {
            assert!(ClientMessage::TYPES.contains(&env.message.type_name()));
            // What decodes re-encodes and decodes to the same message.
            let again = serde_json::to_string(&env).unwrap();
            assert_eq!(decode_client_message(&again).unwrap(), env, "{again}");
        }
        Err(e) => {
            let code = e.body.error_code;
            assert!(
                matches!(code, ErrorCode::InvalidMessage | ErrorCode::UnknownType),
                "{code} for {text:?}"
            );
            assert!(ErrorCode::ALL.contains(&code));
            assert!(!e.body.message.is_empty());
            if let Some(id) = &e.request_id {
                assert!(
                    text.contains(id.as_str()) || text.contains('\\'),
                    "{id} {text}"
                );
            }
            serde_json::to_string(&e.body).unwrap();
        }
    }
}

/// One mutation of `frame`, driven by `(kind, at, byte)`.
fn mutate(frame: &str, kind: u8, at: usize, byte: u8, other: &str) -> String {
    let mut b = frame.as_bytes().to_vec();
    let i = if b.is_empty() { 0 } else { at % b.len() };
    match kind % 7 {
        0 => {
            if let Some(x) = b.get_mut(i) {
                *x ^= byte.max(1);
            }
        }
        1 => b.truncate(i),
        2 => b.insert(i, byte),
        3 => {
            if i < b.len() {
                b.remove(i);
            }
        }
        4 => {
            // Splice the tail of another frame here.
            let o = other.as_bytes();
            b.truncate(i);
            b.extend_from_slice(&o[at % o.len().max(1)..]);
        }
        5 => {
            // Replace the data object by a scalar or an array.
            let s = String::from_utf8_lossy(&b).into_owned();
            let repl = [
                "1",
                "\"x\"",
                "[]",
                "null",
                "true",
                "{\"session_id\": 5}",
                "-1e999",
            ];
            return match s.find("\"data\":") {
                Some(d) => format!(
                    "{}\"data\": {}}}",
                    &s[..d],
                    repl[byte as usize % repl.len()]
                ),
                None => s,
            };
        }
        _ => {
            // Huge numbers, deep nesting, odd strings at a random place.
            let inject = [
                "99999999999999999999999999999999",
                "\"\\ud800\"",
                &"[".repeat(200),
                "\"\\u0000\"",
                "1e-400",
                "\"quantity\": \"NaN\"",
            ];
            let s = inject[byte as usize % inject.len()];
            for (k, c) in s.bytes().enumerate() {
                b.insert((i + k).min(b.len()), c);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        check(&text);
    }

    #[test]
    fn arbitrary_bytes_as_lossy_text_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn envelopes_of_any_type_and_data_never_panic(
        kind in prop_oneof![
            prop::sample::select(ClientMessage::TYPES.to_vec()).prop_map(String::from),
            "[a-z_]{0,24}",
        ],
        id in prop::option::of(".{0,80}"),
        data in any_json(),
    ) {
        let mut env = serde_json::json!({"type": kind, "data": data});
        if let Some(id) = id {
            env["request_id"] = serde_json::Value::String(id);
        }
        check(&env.to_string());
    }

    #[test]
    fn mutated_valid_frames_never_panic(
        which in any::<prop::sample::Index>(),
        other in any::<prop::sample::Index>(),
        mutations in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..5),
    ) {
        let ex = examples();
        let mut frame = which.get(&ex).clone();
        for (kind, at, byte) in mutations {
            frame = mutate(&frame, kind, at, byte, other.get(&ex).as_str());
        }
        check(&frame);
    }
}

/// Arbitrary JSON values, a few levels deep.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("session_id".to_string()),
                    Just("orders".to_string()),
                    Just("quantity".to_string()),
                    Just("symbols".to_string()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Inputs that must keep decoding to a documented error (or a message) without a panic.
#[test]
fn regressions_stay_fixed() {
    for text in [
        "",
        "{",
        "null",
        "{\"type\": \"ping\", \"data\": null}",
        "{\"type\": \"ping\", \"request_id\": 7}",
        "{\"type\": \"tick_ack\", \"data\": {\"session_id\": \"s\", \"sequence_id\": -1}}",
        "{\"type\": \"tick_ack\", \"data\": {\"session_id\": \"s\", \"sequence_id\": 1e999}}",
        "{\"type\": \"create_session\", \"data\": {\"symbols\": [], \"start_date\": \"\\ud800\", \"end_date\": \"x\"}}",
        "{\"type\": \"order_batch\", \"data\": {\"session_id\": \"s\", \"batch_id\": \"b\", \"orders\": [{\"order_id\": \"o\", \"symbol\": \"A\", \"side\": \"buy\", \"quantity\": \"99999999999999999999999999999999\"}]}}",
    ] {
        check(text);
    }
    check(&format!(
        "{{\"type\": \"ping\", \"data\": {}}}",
        "[".repeat(100_000)
    ));
}
