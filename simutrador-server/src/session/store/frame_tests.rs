//! Unit tests of the record framing: round trip, legacy lines, torn final records, damage
//! anywhere else.

use super::*;
use serde_json::{Value, json};

fn journal(records: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        out.extend(encode(i as u64 + 1, &serde_json::to_vec(r).unwrap()));
    }
    out
}

fn three() -> Vec<Value> {
    vec![
        json!({"t": "a", "n": 1}),
        json!({"t": "b", "n": 2}),
        json!({"t": "c", "n": 3}),
    ]
}

#[test]
fn a_record_written_from_its_json_is_the_encoded_line() {
    for (seq, r) in [
        (1, json!({"t": "a"})),
        (1234567, json!({"t": "b", "v": [1, "2", null]})),
    ] {
        let rec = serde_json::to_vec(&r).unwrap();
        let mut out = Vec::new();
        write_serialized(&mut out, seq, &rec).unwrap();
        assert_eq!(out, encode(seq, &rec));
    }
}

#[test]
fn framed_records_read_back_in_order() {
    let bytes = journal(&three());
    let s: Scan<Value> = scan(&bytes);
    assert_eq!(s.records, three());
    assert_eq!(
        (s.last_seq, s.keep, s.torn, s.damage),
        (3, bytes.len(), None, None)
    );
    let line = String::from_utf8(encode(7, br#"{"t":"progress","acked":120}"#)).unwrap();
    assert!(line.starts_with(r#"{"seq":7,"crc":""#), "{line}");
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        v["rec"]["acked"], 120,
        "a framed line is still one JSON object"
    );
}

#[test]
fn legacy_lines_load_and_framed_lines_may_follow_them() {
    let mut bytes = b"{\"t\":\"old\"}\n\n".to_vec();
    bytes.extend(journal(&three()[..1]));
    let s: Scan<Value> = scan(&bytes);
    assert_eq!(s.records.len(), 2);
    assert_eq!((s.last_seq, s.damage), (1, None));
}

#[test]
fn a_legacy_line_after_framed_ones_is_damage() {
    let mut bytes = journal(&three());
    bytes.extend(b"{\"t\":\"old\"}\n");
    bytes.extend(journal(&three()[..1]));
    let s: Scan<Value> = scan(&bytes);
    assert_eq!(s.damage.unwrap().line, 4);
}

#[test]
fn a_torn_final_record_is_cut() {
    let good = journal(&three());
    let mut cut = good.clone();
    cut.extend_from_slice(&encode(4, b"{\"t\":\"d\"}")[..20]);
    let s: Scan<Value> = scan(&cut);
    assert_eq!((s.keep, s.records.len(), s.damage), (good.len(), 3, None));
    assert!(s.torn.is_some());

    // A complete last line whose checksum fails (its data never reached the disk).
    let mut bad = good.clone();
    let mut last = encode(4, b"{\"t\":\"d\"}");
    last[30] ^= 0x01;
    bad.extend(&last);
    let s: Scan<Value> = scan(&bad);
    assert_eq!((s.keep, s.records.len(), s.damage), (good.len(), 3, None));
}

#[test]
fn a_bad_record_before_the_end_is_damage_not_a_cut() {
    let mut bytes = journal(&three());
    // Flip one digit inside the second record's payload.
    let at = bytes.windows(5).position(|w| w == b"\"n\":2").unwrap();
    bytes[at + 4] = b'5';
    let s: Scan<Value> = scan(&bytes);
    let damage = s.damage.unwrap();
    assert_eq!(damage.line, 2);
    assert!(damage.reason.contains("checksum"), "{}", damage.reason);
    assert_eq!(s.keep, bytes.len(), "nothing is cut");
    assert_eq!(s.records.len(), 3, "read leniently to show what it was");
}

#[test]
fn a_gap_or_a_repeat_in_the_sequence_is_damage() {
    let mut bytes = encode(1, b"{}");
    bytes.extend(encode(3, b"{}"));
    bytes.extend(encode(4, b"{}"));
    let s: Scan<Value> = scan(&bytes);
    assert_eq!(s.damage.unwrap().line, 2);
    let mut bytes = encode(1, b"{}");
    bytes.extend(encode(1, b"{}"));
    bytes.extend(encode(2, b"{}"));
    assert!(scan::<Value>(&bytes).damage.is_some());
}

#[test]
fn a_corrupt_first_line_is_damage() {
    let mut bytes = journal(&three());
    bytes[0] = b'x';
    let s: Scan<Value> = scan(&bytes);
    assert_eq!(s.damage.unwrap().line, 1);
    assert_eq!(s.keep, bytes.len());
}
