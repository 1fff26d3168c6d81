//! The framing of every journal record (lifecycle `<id>.jsonl` and run `<id>.run.jsonl`), and
//! the one reading of a journal that recovery uses. See `docs/store.md`.
//!
//! A record is one line, still one JSON object:
//!
//! ```text
//! {"seq":7,"crc":"9a3c0f12","rec":{"t":"progress","acked":120}}\n
//! ```
//!
//! - `seq` numbers the framed records of the file 1, 2, 3 … with no gap;
//! - `crc` is the CRC32C (Castagnoli) of the bytes `"<seq>:"` followed by the exact bytes of
//!   `rec`, as 8 lower-case hex digits;
//! - `rec` is the record as before.
//!
//! Lines written by an earlier daemon (the bare record, no frame) are read as they are
//! (*legacy* lines); they may only come before the first framed line of a file (a daemon
//! appending to an old journal frames what it adds, starting at `seq` 1).
//!
//! [`scan`] reads a journal strictly:
//!
//! - a last line without its newline, or a last framed line whose frame or checksum is bad,
//!   is a *torn* final record (a write cut short): [`Scan::keep`] says where to cut;
//! - any other bad line (checksum, sequence gap, unreadable record, a legacy line after a
//!   framed one) is *damage* ([`Scan::damage`]): the caller quarantines the journal and
//!   never resumes the session. The records are then read leniently (checksums and
//!   sequence ignored, unreadable lines skipped), only to show what the session was.

use serde::de::DeserializeOwned;

/// How a framed line starts.
const PREFIX: &[u8] = b"{\"seq\":";
const CRC: &[u8] = b",\"crc\":\"";
const REC: &[u8] = b"\",\"rec\":";

/// One record framed as a line (newline included).
pub fn encode(seq: u64, record: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(record.len() + 48);
    line.extend_from_slice(&head(seq, checksum(seq, record)));
    line.extend_from_slice(record);
    line.extend_from_slice(b"}\n");
    line
}

/// The line up to its record: `{"seq":N,"crc":"…","rec":`.
fn head(seq: u64, crc: u32) -> Vec<u8> {
    let mut head = Vec::with_capacity(48);
    head.extend_from_slice(PREFIX);
    head.extend_from_slice(seq.to_string().as_bytes());
    head.extend_from_slice(CRC);
    head.extend_from_slice(format!("{crc:08x}").as_bytes());
    head.extend_from_slice(REC);
    head
}

fn checksum(seq: u64, record: &[u8]) -> u32 {
    let head = format!("{seq}:");
    crc32c::crc32c_append(crc32c::crc32c(head.as_bytes()), record)
}

/// Write the already serialized `record` to `out` framed as record `seq`: the bytes of
/// `encode(seq, record)`, without building the line (for a large record — a million-point
/// results record — that would be one more copy of it).
pub fn write_serialized<W: std::io::Write>(
    out: &mut W,
    seq: u64,
    record: &[u8],
) -> std::io::Result<()> {
    out.write_all(&head(seq, checksum(seq, record)))?;
    out.write_all(record)?;
    out.write_all(b"}\n")
}

/// A line, decoded.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    /// A framed record with its (verified or not) sequence number.
    Framed { seq: u64, rec: &'a [u8] },
    /// A bare record (written before framing existed).
    Legacy(&'a [u8]),
}

/// Why a framed line is bad (its frame or its checksum).
fn frame(line: &[u8], verify: bool) -> Result<Line<'_>, String> {
    let Some(rest) = line.strip_prefix(PREFIX) else {
        return Ok(Line::Legacy(line));
    };
    let malformed = || "malformed record frame".to_string();
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let seq: u64 = std::str::from_utf8(&rest[..digits])
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or_else(malformed)?;
    let rest = rest[digits..].strip_prefix(CRC).ok_or_else(malformed)?;
    let (hex, rest) = rest.split_at_checked(8).ok_or_else(malformed)?;
    let crc = std::str::from_utf8(hex)
        .ok()
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or_else(malformed)?;
    let rec = rest
        .strip_prefix(REC)
        .and_then(|r| r.strip_suffix(b"}"))
        .ok_or_else(malformed)?;
    if verify && checksum(seq, rec) != crc {
        return Err(format!("checksum mismatch in record {seq}"));
    }
    Ok(Line::Framed { seq, rec })
}

/// The record of one line (framed and checksummed, or legacy), `None` when its frame or
/// checksum is bad. For readers that look for one record (the results) without a full [`scan`].
pub fn record_of(line: &[u8]) -> Option<&[u8]> {
    match frame(line, true).ok()? {
        Line::Framed { rec, .. } => Some(rec),
        Line::Legacy(rec) => Some(rec),
    }
}

/// Where a journal is damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// A journal as [`scan`] read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan<T> {
    /// The records, in file order (read leniently when the journal is damaged).
    pub records: Vec<T>,
    /// The last `seq` read (0 without framed records): the next record gets `last_seq + 1`.
    pub last_seq: u64,
    /// Bytes to keep: shorter than the file when its final record is torn.
    pub keep: usize,
    /// Why the tail is cut, when it is.
    pub torn: Option<String>,
    /// The first bad record before the end, when there is one.
    pub damage: Option<Damage>,
}

/// Read a journal's bytes by the rules of this module. Never panics, whatever the bytes.
pub fn scan<T: DeserializeOwned>(bytes: &[u8]) -> Scan<T> {
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let mut scan = Scan {
        records: Vec::new(),
        last_seq: 0,
        keep: bytes.len(),
        torn: None,
        damage: None,
    };
    if complete < bytes.len() {
        scan.keep = complete;
        scan.torn = Some("a last line without its newline".to_string());
    }
    let lines = lines(&bytes[..complete]);
    let mut framed = false;
    for (i, &(number, start, line)) in lines.iter().enumerate() {
        let read = frame(line, true).and_then(|decoded| match decoded {
            Line::Framed { seq, rec } => {
                if seq != scan.last_seq + 1 {
                    return Err(format!(
                        "record {seq} where record {} was expected",
                        scan.last_seq + 1
                    ));
                }
                let record = parse(rec)?;
                framed = true;
                scan.last_seq = seq;
                Ok(record)
            }
            Line::Legacy(_) if framed => {
                Err("a record without a frame after framed records".to_string())
            }
            Line::Legacy(rec) => parse(rec),
        });
        match read {
            Ok(record) => scan.records.push(record),
            Err(reason) if i + 1 == lines.len() && torn_frame(line) => {
                scan.keep = start;
                scan.torn = Some(format!("line {number}: {reason}"));
            }
            Err(reason) => {
                scan.damage = Some(Damage {
                    line: number,
                    reason,
                });
                scan.records = lenient(&lines);
                return scan;
            }
        }
    }
    scan
}

/// A bad last line that a cut-short write explains: a frame (whose checksum or shape is
/// wrong) or nothing but NUL bytes (a length persisted without its data).
fn torn_frame(line: &[u8]) -> bool {
    line.starts_with(PREFIX) || line.iter().all(|b| *b == 0)
}

fn parse<T: DeserializeOwned>(rec: &[u8]) -> Result<T, String> {
    serde_json::from_slice(rec).map_err(|e| format!("unreadable record: {e}"))
}

/// Every record that can be read at all, checksums and sequence ignored.
fn lenient<T: DeserializeOwned>(lines: &[(usize, usize, &[u8])]) -> Vec<T> {
    lines
        .iter()
        .filter_map(|&(_, _, line)| match frame(line, false) {
            Ok(Line::Framed { rec, .. } | Line::Legacy(rec)) => parse(rec).ok(),
            Err(_) => None,
        })
        .collect()
}

/// The non-blank lines of `bytes` (each ends with a newline): (number, offset, text).
fn lines(bytes: &[u8]) -> Vec<(usize, usize, &[u8])> {
    let mut out = Vec::new();
    let mut start = 0;
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let offset = start;
        start += line.len() + 1;
        if offset >= bytes.len() || line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        out.push((n + 1, offset, line));
    }
    out
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
