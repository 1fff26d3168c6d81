//! A hand-written reader for `tick_block` frames exactly as the daemon writes them (compact
//! JSON, fields in the order of [`TickBlock`]'s declaration). Tick blocks are almost all the
//! bytes of a run — five integer columns a bar — and serde_json spends ~130 instructions on
//! each integer of a `Vec<i64>`; this reader spends a few per digit.
//!
//! Anything it does not expect (other spacing or key order, escapes in strings, numbers of 19
//! digits or more, an unknown field) makes it give up and return `None`; the caller then
//! decodes the frame with serde, which accepts every valid spelling. So the fast path can
//! never change what a frame means, only how fast it is read.

use shared_models::messages::simulation::{BlockColumns, TickBlock, TimeRange};
use std::collections::BTreeMap;

/// The block in `text` (a whole frame), or `None` to let serde decode it.
pub(crate) fn parse_tick_block(text: &str) -> Option<TickBlock> {
    let mut p = Reader { text, i: 0 };
    p.lit("{\"type\":\"tick_block\",\"data\":{\"session_id\":")?;
    let session_id = p.string()?.to_string();
    p.lit(",\"first_sequence_id\":")?;
    let first_sequence_id = u64::try_from(p.int()?).ok()?;
    let times = if p.lit(",\"times\":").is_some() {
        p.ints()?
    } else {
        Vec::new()
    };
    let time_range = if p.lit(",\"time_range\":{\"start\":").is_some() {
        let start = p.int()?;
        p.lit(",\"step\":")?;
        let step = p.int()?;
        p.lit(",\"count\":")?;
        let count = u32::try_from(p.int()?).ok()?;
        p.lit("}")?;
        Some(TimeRange { start, step, count })
    } else {
        None
    };
    // Every column is as long as the block (fewer rows for a symbol with gaps).
    let expect = time_range
        .map_or(times.len(), |r| r.count as usize)
        .min(1 << 20);
    p.lit(",\"symbols\":{")?;
    let mut symbols = BTreeMap::new();
    if p.lit("}").is_none() {
        loop {
            let name = p.string()?.to_string();
            p.lit(":{\"price_scale\":")?;
            let price_scale = u32::try_from(p.int()?).ok()?;
            p.lit(",\"volume_scale\":")?;
            let volume_scale = u32::try_from(p.int()?).ok()?;
            let rows = if p.lit(",\"rows\":").is_some() {
                let rows: Option<Vec<u32>> = p
                    .ints()?
                    .into_iter()
                    .map(|r| u32::try_from(r).ok())
                    .collect();
                Some(rows?)
            } else {
                None
            };
            p.lit(",\"open\":")?;
            let open = p.ints_like(expect)?;
            p.lit(",\"high\":")?;
            let high = p.ints_like(open.len())?;
            p.lit(",\"low\":")?;
            let low = p.ints_like(open.len())?;
            p.lit(",\"close\":")?;
            let close = p.ints_like(open.len())?;
            p.lit(",\"volume\":")?;
            let volume = p.ints_like(open.len())?;
            p.lit("}")?;
            let cols = BlockColumns {
                price_scale,
                volume_scale,
                rows,
                open,
                high,
                low,
                close,
                volume,
            };
            if symbols.insert(name, cols).is_some() {
                return None; // a duplicate key: let serde say what it thinks
            }
            if p.lit(",").is_none() {
                p.lit("}")?;
                break;
            }
        }
    }
    p.lit("}}")?;
    (p.i == text.len()).then_some(TickBlock {
        session_id,
        first_sequence_id,
        times,
        time_range,
        symbols,
    })
}

struct Reader<'a> {
    text: &'a str,
    i: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&self) -> &'a [u8] {
        &self.text.as_bytes()[self.i..]
    }

    fn lit(&mut self, s: &str) -> Option<()> {
        self.bytes()
            .starts_with(s.as_bytes())
            .then(|| self.i += s.len())
    }

    /// A string without escapes.
    fn string(&mut self) -> Option<&'a str> {
        self.lit("\"")?;
        let len = self.bytes().iter().position(|&c| c == b'"' || c == b'\\')?;
        if self.bytes()[len] != b'"' {
            return None;
        }
        let s = self.text.get(self.i..self.i + len)?;
        self.i += len + 1;
        Some(s)
    }

    /// An integer of at most 18 digits (so it cannot overflow).
    fn int(&mut self) -> Option<i64> {
        let b = self.bytes();
        let negative = b.first() == Some(&b'-');
        let start = usize::from(negative);
        let rest = b.get(start..)?;
        // One pass: fold the digits while counting them (wrapping, so a long run of digits
        // cannot overflow; it is refused below).
        let mut n = 0i64;
        let mut digits = 0;
        for &c in rest {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            n = n.wrapping_mul(10).wrapping_add(i64::from(d));
            digits += 1;
        }
        // JSON has no leading zeros ("007"), and "-" alone is no number.
        if digits == 0 || digits > 18 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        self.i += start + digits;
        Some(if negative { -n } else { n })
    }

    /// An array of integers; `expect` is a guess of its length (the columns of a block are
    /// equally long), so the vector is allocated once.
    fn ints_like(&mut self, expect: usize) -> Option<Vec<i64>> {
        self.lit("[")?;
        let mut out = Vec::with_capacity(expect);
        if self.lit("]").is_some() {
            return Some(out);
        }
        loop {
            out.push(self.int()?);
            match self.bytes().first() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Some(out);
                }
                _ => return None,
            }
        }
    }

    fn ints(&mut self) -> Option<Vec<i64>> {
        self.ints_like(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_models::{Envelope, ServerMessage};

    fn frame(block: &TickBlock) -> String {
        let env = Envelope::new(ServerMessage::TickBlock(block.clone()), None);
        serde_json::to_string(&env).unwrap()
    }

    fn cols(rows: Option<Vec<u32>>, v: Vec<i64>) -> BlockColumns {
        BlockColumns {
            price_scale: 2,
            volume_scale: 4,
            rows,
            open: v.clone(),
            high: v.iter().map(|x| x + 1).collect(),
            low: v.iter().map(|x| x - 1).collect(),
            close: v.clone(),
            volume: v,
        }
    }

    #[test]
    fn reads_what_the_daemon_writes_exactly_as_serde_does() {
        let blocks = [
            TickBlock {
                session_id: "5b0e1c8e-2f7d".into(),
                first_sequence_id: 4096,
                times: vec![],
                time_range: Some(TimeRange {
                    start: 1_577_836_800,
                    step: 60,
                    count: 3,
                }),
                symbols: BTreeMap::from([(
                    "ACME".into(),
                    cols(None, vec![0, -5, i64::from(i32::MAX)]),
                )]),
            },
            TickBlock {
                session_id: "s".into(),
                first_sequence_id: 0,
                times: vec![-86_400, 0, 86_400],
                time_range: None,
                symbols: BTreeMap::from([
                    ("A".into(), cols(None, vec![1, 2, 3])),
                    ("B".into(), cols(Some(vec![0, 2]), vec![10, 30])),
                ]),
            },
            TickBlock {
                session_id: "s".into(),
                first_sequence_id: 7,
                times: vec![],
                time_range: None,
                symbols: BTreeMap::new(),
            },
        ];
        for block in blocks {
            let text = frame(&block);
            assert_eq!(parse_tick_block(&text), Some(block), "{text}");
        }
    }

    #[test]
    fn anything_unexpected_is_left_to_serde() {
        let block = TickBlock {
            session_id: "s".into(),
            first_sequence_id: 1,
            times: vec![5],
            time_range: None,
            symbols: BTreeMap::from([("A".into(), cols(None, vec![1]))]),
        };
        let text = frame(&block);
        for odd in [
            text.replace(",\"first", ", \"first"),
            text.replace("\"s\"", "\"s\\u0041\""),
            text.replace("[5]", "[05]"),
            text.replace("[5]", "[12345678901234567890]"),
            text.replace("[5]", "[5.0]"),
            text.replace("[5]", "[-]"),
            format!("{text} "),
            text.replace("}}}", "},\"extra\":1}}"),
            text[..text.len() - 1].to_string(),
        ] {
            assert_eq!(parse_tick_block(&odd), None, "{odd}");
        }
    }
}
