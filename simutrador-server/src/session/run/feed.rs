//! The tick feed of one run: the session's bar series merged into ticks (one per distinct bar
//! time across the symbols), and the three shapes ticks take — `tick` messages, `tick_block`
//! columns, and engine [`Candle`]s for settlement.
//!
//! The series are shared with the catalog (`Arc`), so a run holds only the merged tick times
//! and a few cursors. Sending and settling walk the same ticks at different paces, each with
//! its own [`Cursor`].

use chrono::DateTime;
use shared_models::messages::simulation::{
    BlockColumns, HistorySnapshot, Tick, TickBlock, TimeRange,
};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use crate::market_data::BarSeries;
use shared_models::{Bar, Candle};

/// The merged ticks of a run.
#[derive(Debug)]
pub struct Feed {
    symbols: Vec<String>,
    series: Vec<Arc<BarSeries>>,
    ranges: Vec<Range<usize>>,
    times: Vec<i64>,
}

/// Per-symbol positions while walking the ticks in order.
#[derive(Debug, Clone)]
pub struct Cursor {
    next_tick: usize,
    pos: Vec<usize>,
}

impl Feed {
    /// Ticks of `series` (parallel to `symbols`) with `first_second <= ts <= last_second`.
    pub fn new(symbols: Vec<String>, series: Vec<Arc<BarSeries>>, first: i64, last: i64) -> Feed {
        let ranges: Vec<Range<usize>> = series.iter().map(|s| s.index_range(first, last)).collect();
        let times = merge_times(&series, &ranges);
        Feed {
            symbols,
            series,
            ranges,
            times,
        }
    }

    /// Number of ticks.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True when there is no tick.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Time of tick `i` (Unix seconds).
    pub fn time(&self, i: usize) -> i64 {
        self.times.get(i).copied().unwrap_or_default()
    }

    /// The symbols, in engine order.
    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    /// A cursor at tick 0.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            next_tick: 0,
            pos: self.ranges.iter().map(|r| r.start).collect(),
        }
    }

    /// Fill `out` with the engine candles of the cursor's next tick and advance it.
    pub fn next_candles(&self, cur: &mut Cursor, out: &mut Vec<Option<Candle>>) {
        out.clear();
        let t = self.time(cur.next_tick);
        for (k, s) in self.series.iter().enumerate() {
            let p = cur.pos[k];
            if p < self.ranges[k].end && s.timestamps()[p] == t {
                out.push(Some(s.candle(p)));
                cur.pos[k] += 1;
            } else {
                out.push(None);
            }
        }
        cur.next_tick += 1;
    }

    /// The cursor's next tick as a `tick` message; advances it.
    pub fn next_tick(&self, session_id: &str, cur: &mut Cursor) -> Tick {
        let i = cur.next_tick;
        let t = self.time(i);
        let mut candles = BTreeMap::new();
        for (k, s) in self.series.iter().enumerate() {
            let p = cur.pos[k];
            if p < self.ranges[k].end && s.timestamps()[p] == t {
                candles.insert(self.symbols[k].clone(), s.candle(p));
                cur.pos[k] += 1;
            }
        }
        cur.next_tick += 1;
        Tick {
            session_id: session_id.to_string(),
            sequence_id: i as u64,
            sim_time: DateTime::from_timestamp(t, 0).unwrap_or_default(),
            candles,
        }
    }

    /// Which rows of each symbol ticks `cur.next_tick .. end` hold; advances the cursor.
    fn plan(&self, cur: &mut Cursor, end: usize) -> (usize, usize, Vec<Part>) {
        let start = cur.next_tick;
        let end = end.min(self.times.len()).max(start);
        let times = &self.times[start..end];
        let mut parts = Vec::with_capacity(self.series.len());
        for (k, s) in self.series.iter().enumerate() {
            let from = cur.pos[k];
            let ts = s.timestamps();
            let mut to = from;
            let mut rows = Vec::new();
            let mut dense = true;
            for (row, &t) in times.iter().enumerate() {
                if to < self.ranges[k].end && ts[to] == t {
                    rows.push(row as u32);
                    to += 1;
                } else {
                    dense = false;
                }
            }
            cur.pos[k] = to;
            if to > from {
                let rows = (!dense).then_some(rows);
                parts.push(Part { k, from, to, rows });
            }
        }
        cur.next_tick = end;
        parts.sort_by(|a, b| self.symbols[a.k].cmp(&self.symbols[b.k]));
        (start, end, parts)
    }

    /// Ticks `cur.next_tick .. end` as one `tick_block`; advances the cursor to `end`. With
    /// `compact`, evenly spaced times travel as a `time_range`.
    pub fn next_block(
        &self,
        session_id: &str,
        cur: &mut Cursor,
        end: usize,
        compact: bool,
    ) -> TickBlock {
        let (start, end, parts) = self.plan(cur, end);
        let times = &self.times[start..end];
        let symbols = parts
            .into_iter()
            .map(|p| {
                let s = &self.series[p.k];
                let cols = BlockColumns {
                    price_scale: s.price_scale(),
                    volume_scale: s.volume_scale(),
                    rows: p.rows,
                    open: s.opens()[p.from..p.to].to_vec(),
                    high: s.highs()[p.from..p.to].to_vec(),
                    low: s.lows()[p.from..p.to].to_vec(),
                    close: s.closes()[p.from..p.to].to_vec(),
                    volume: s.volumes()[p.from..p.to].to_vec(),
                };
                (self.symbols[p.k].clone(), cols)
            })
            .collect();
        let time_range = compact.then(|| time_range(times)).flatten();
        TickBlock {
            session_id: session_id.to_string(),
            first_sequence_id: start as u64,
            times: if time_range.is_some() {
                Vec::new()
            } else {
                times.to_vec()
            },
            time_range,
            symbols,
        }
    }

    /// The same `tick_block` as [`Feed::next_block`], as the frame's JSON text, written
    /// straight from the series (no copy of the columns, no serde): exactly the text serde
    /// writes for it (tested).
    pub fn encode_block(
        &self,
        session_id: &str,
        cur: &mut Cursor,
        end: usize,
        compact: bool,
    ) -> String {
        let (start, end, parts) = self.plan(cur, end);
        let times = &self.times[start..end];
        let mut out = String::with_capacity(128 + 40 * times.len() * parts.len().max(1));
        let mut num = itoa::Buffer::new();
        out.push_str("{\"type\":\"tick_block\",\"data\":{\"session_id\":");
        push_json_str(&mut out, session_id);
        out.push_str(",\"first_sequence_id\":");
        out.push_str(num.format(start));
        match compact.then(|| time_range(times)).flatten() {
            Some(r) => {
                out.push_str(",\"time_range\":{\"start\":");
                out.push_str(num.format(r.start));
                out.push_str(",\"step\":");
                out.push_str(num.format(r.step));
                out.push_str(",\"count\":");
                out.push_str(num.format(r.count));
                out.push('}');
            }
            None if times.is_empty() => {}
            None => push_ints(&mut out, ",\"times\":", times),
        }
        out.push_str(",\"symbols\":{");
        for (i, p) in parts.iter().enumerate() {
            let s = &self.series[p.k];
            if i > 0 {
                out.push(',');
            }
            push_json_str(&mut out, &self.symbols[p.k]);
            out.push_str(":{\"price_scale\":");
            out.push_str(num.format(s.price_scale()));
            out.push_str(",\"volume_scale\":");
            out.push_str(num.format(s.volume_scale()));
            if let Some(rows) = &p.rows {
                push_ints(&mut out, ",\"rows\":", rows);
            }
            let range = p.from..p.to;
            push_ints(&mut out, ",\"open\":", &s.opens()[range.clone()]);
            push_ints(&mut out, ",\"high\":", &s.highs()[range.clone()]);
            push_ints(&mut out, ",\"low\":", &s.lows()[range.clone()]);
            push_ints(&mut out, ",\"close\":", &s.closes()[range.clone()]);
            push_ints(&mut out, ",\"volume\":", &s.volumes()[range]);
            out.push('}');
        }
        out.push_str("}}}");
        out
    }

    /// Up to `bars` bars per symbol before the first tick.
    pub fn history(&self, session_id: &str, bars: usize) -> HistorySnapshot {
        let mut out = BTreeMap::new();
        for (k, s) in self.series.iter().enumerate() {
            let end = self.ranges[k].start;
            let start = end.saturating_sub(bars);
            if start == end {
                continue;
            }
            let list = (start..end)
                .map(|p| Bar {
                    time: s.timestamps()[p],
                    candle: s.candle(p),
                })
                .collect();
            out.insert(self.symbols[k].clone(), list);
        }
        HistorySnapshot {
            session_id: session_id.to_string(),
            bars: out,
        }
    }
}

impl Cursor {
    /// Index of the next tick this cursor will produce.
    pub fn position(&self) -> usize {
        self.next_tick
    }
}

/// One symbol's share of a tick block: rows `from..to` of its series, and their positions
/// in the block when it lacks some ticks.
struct Part {
    k: usize,
    from: usize,
    to: usize,
    rows: Option<Vec<u32>>,
}

/// `key` then `[v,v,…]`, the string reserved up front (the columns are most of a run's
/// bytes).
fn push_ints<T: itoa::Integer + Copy>(out: &mut String, key: &str, values: &[T]) {
    let mut num = itoa::Buffer::new();
    out.push_str(key);
    out.reserve(values.len() * 8 + 2);
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(num.format(*v));
    }
    out.push(']');
}

/// A JSON string, escaped as serde_json escapes it.
fn push_json_str(out: &mut String, s: &str) {
    match serde_json::to_string(s) {
        Ok(text) => out.push_str(&text),
        Err(_) => out.push_str("\"\""),
    }
}

/// `times` as a range when they are evenly spaced (and there are at least two).
fn time_range(times: &[i64]) -> Option<TimeRange> {
    let [first, second, ..] = times else {
        return None;
    };
    let step = second.checked_sub(*first)?;
    let even = times.windows(2).all(|w| w[1].wrapping_sub(w[0]) == step);
    even.then_some(TimeRange {
        start: *first,
        step,
        count: u32::try_from(times.len()).ok()?,
    })
}

/// Distinct timestamps of all series within their ranges, increasing.
fn merge_times(series: &[Arc<BarSeries>], ranges: &[Range<usize>]) -> Vec<i64> {
    if let [only] = series {
        return only.timestamps()[ranges[0].clone()].to_vec();
    }
    let mut pos: Vec<usize> = ranges.iter().map(|r| r.start).collect();
    let mut out = Vec::with_capacity(ranges.iter().map(|r| r.len()).max().unwrap_or(0));
    loop {
        let mut next: Option<i64> = None;
        for (k, s) in series.iter().enumerate() {
            if pos[k] < ranges[k].end {
                let t = s.timestamps()[pos[k]];
                next = Some(next.map_or(t, |n: i64| n.min(t)));
            }
        }
        let Some(t) = next else { break };
        out.push(t);
        for (k, s) in series.iter().enumerate() {
            if pos[k] < ranges[k].end && s.timestamps()[pos[k]] == t {
                pos[k] += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn series(points: &[(i64, i64)]) -> Arc<BarSeries> {
        let bars: Vec<Bar> = points
            .iter()
            .map(|&(time, c)| Bar {
                time,
                candle: Candle {
                    open: Decimal::new(c, 2),
                    high: Decimal::new(c + 10, 2),
                    low: Decimal::new(c - 10, 2),
                    close: Decimal::new(c, 2),
                    volume: Decimal::from(5),
                },
            })
            .collect();
        Arc::new(BarSeries::from_bars(&bars).unwrap())
    }

    #[test]
    fn integers_are_written_as_itoa_writes_them() {
        let mut values = vec![
            0,
            1,
            -1,
            9,
            10,
            -10,
            99_999,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ];
        let mut x: i64 = 7;
        for _ in 0..10_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            values.push(x >> (x.unsigned_abs() % 60));
        }
        let mut ours = String::new();
        push_ints(&mut ours, "k", &values);
        let theirs: Vec<String> = values.iter().map(i64::to_string).collect();
        assert_eq!(ours, format!("k[{}]", theirs.join(",")));
    }

    #[test]
    fn ticks_merge_calendars_and_blocks_mark_missing_rows() {
        let a = series(&[(10, 100), (20, 110), (30, 120), (40, 130)]);
        let b = series(&[(20, 500), (40, 520), (50, 530)]);
        let feed = Feed::new(vec!["A".into(), "B".into()], vec![a, b], 15, 45);
        assert_eq!(feed.len(), 3); // 20, 30, 40
        let mut cur = feed.cursor();
        let block = feed.next_block("s", &mut cur, 3, false);
        assert_eq!(block.times, vec![20, 30, 40]);
        assert_eq!(block.time_range, None);
        let compact = feed.next_block("s", &mut feed.cursor(), 3, true);
        assert!(compact.times.is_empty());
        assert_eq!(
            compact.time_range,
            Some(TimeRange {
                start: 20,
                step: 10,
                count: 3
            })
        );
        assert_eq!(compact.bar_times(), Ok(vec![20, 30, 40]));
        assert_eq!(time_range(&[1, 2, 4]), None);
        assert_eq!(time_range(&[1]), None);
        assert_eq!(block.symbols["A"].rows, None);
        assert_eq!(block.symbols["A"].close, vec![110, 120, 130]);
        assert_eq!(block.symbols["B"].rows, Some(vec![0, 2]));
        assert_eq!(block.symbols["B"].close, vec![500, 520]);

        let mut settle = feed.cursor();
        let mut candles = Vec::new();
        feed.next_candles(&mut settle, &mut candles);
        assert_eq!(candles[1].map(|c| c.close), Some(Decimal::new(500, 2)));
        feed.next_candles(&mut settle, &mut candles);
        assert!(candles[1].is_none());
        assert_eq!(candles[0].map(|c| c.close), Some(Decimal::new(120, 2)));

        let mut ticks = feed.cursor();
        feed.next_tick("s", &mut ticks);
        let second = feed.next_tick("s", &mut ticks);
        assert_eq!(second.sequence_id, 1);
        assert!(second.candles.contains_key("A") && !second.candles.contains_key("B"));

        // The text written straight from the series is serde's text for the same block.
        for (symbols, compact, ends) in [
            (vec!["A", "B"], false, vec![1, 3]),
            (vec!["B", "A"], true, vec![2, 3]),
            (vec!["B", "A"], true, vec![3]),
        ] {
            let (a, b) = (feed.series[0].clone(), feed.series[1].clone());
            let series = if symbols[0] == "A" {
                vec![a, b]
            } else {
                vec![b, a]
            };
            let names = symbols.iter().map(|s| s.to_string()).collect();
            let f = Feed::new(names, series, 15, 45);
            let (mut c1, mut c2) = (f.cursor(), f.cursor());
            for end in ends {
                let block = f.next_block("s\"1", &mut c1, end, compact);
                let serde = serde_json::to_string(&shared_models::Envelope::new(
                    shared_models::ServerMessage::TickBlock(block),
                    None,
                ))
                .unwrap();
                assert_eq!(f.encode_block("s\"1", &mut c2, end, compact), serde);
            }
        }

        let history = feed.history("s", 5);
        assert_eq!(history.bars["A"].len(), 1);
        assert!(!history.bars.contains_key("B"));
    }
}
