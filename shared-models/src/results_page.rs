//! Paging of `get_results`: the trades and the equity curve of a long run travel in pages
//! (`offset` / `limit`), so neither the daemon nor the client builds one reply of tens of
//! megabytes. Rules and examples: `docs/protocol.md`, "Paged results".
//!
//! A page is a window `offset .. offset + limit` over *both* lists (trades and equity points,
//! each clipped to its own length); the reply's [`ResultsPage`] gives both totals and the
//! `next_offset` to ask for, `None` after the last page. The pages, concatenated in order, are
//! exactly the unpaged results.
//!
//! This module also slices the columnar layouts ([`EquityColumns::slice`],
//! [`TradeColumns::slice`]): a slice is self-contained (its own `time_start`), so each page
//! decodes on its own.

use serde::{Deserialize, Serialize};
use std::ops::Range;

use crate::columns::{EquityColumns, TradeColumns};
use crate::messages::results::{ResultsFormat, ResultsReply};
use crate::results::Metrics;
use crate::trading::PositionView;

/// Items per list in a page when `get_results` gives an `offset` without a `limit`.
pub const DEFAULT_PAGE_LIMIT: u32 = 10_000;

/// The largest `limit`; also the most trades or equity points an unpaged `get_results`
/// answers (larger results must be paged).
pub const MAX_PAGE_LIMIT: u32 = 100_000;

/// Where a page of `results` sits (present only in replies to a paged `get_results`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultsPage {
    /// Index of the first trade and the first equity point in this page.
    pub offset: u64,
    /// The page size used (items per list).
    pub limit: u32,
    /// Closed trades in the whole results.
    pub trades_total: u64,
    /// Equity points in the whole results.
    pub equity_total: u64,
    /// The `offset` of the next page; absent after the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

impl ResultsPage {
    /// The page at `offset` of `limit` items over lists of `trades_total` and `equity_total`.
    pub fn new(offset: u64, limit: u32, trades_total: u64, equity_total: u64) -> Self {
        let end = offset.saturating_add(u64::from(limit));
        ResultsPage {
            offset,
            limit,
            trades_total,
            equity_total,
            next_offset: (end < trades_total.max(equity_total)).then_some(end),
        }
    }

    /// The indices of this page in a list of `total` items.
    pub fn range(&self, total: u64) -> Range<usize> {
        let start = self.offset.min(total);
        let end = self.offset.saturating_add(u64::from(self.limit)).min(total);
        // Both are at most `total`, the length of an in-memory list: they fit in a usize.
        usize::try_from(start).unwrap_or(usize::MAX)..usize::try_from(end).unwrap_or(usize::MAX)
    }
}

impl EquityColumns {
    /// Points `range` (clipped to the curve) as self-contained columns.
    pub fn slice(&self, range: Range<usize>) -> EquityColumns {
        let n = self.equity.len();
        let (start, end) = (range.start.min(n), range.end.min(n));
        if start >= end {
            return EquityColumns {
                time_start: 0,
                time_step: Some(0),
                time_deltas: None,
                equity: Vec::new(),
                drawdown_pct: self.drawdown_pct.as_ref().map(|_| Vec::new()),
                drawdown_duration: self.drawdown_duration.as_ref().map(|_| Vec::new()),
            };
        }
        let equity = self.equity[start..end].to_vec();
        fn cut<T: Clone>(v: &Option<Vec<T>>, start: usize, end: usize) -> Option<Vec<T>> {
            v.as_ref()
                .map(|v| v.get(start..end).map(<[T]>::to_vec).unwrap_or_default())
        }
        let drawdown_pct = cut(&self.drawdown_pct, start, end);
        let drawdown_duration = cut(&self.drawdown_duration, start, end);
        match (&self.time_step, &self.time_deltas) {
            (Some(step), _) => EquityColumns {
                time_start: (start as i64)
                    .wrapping_mul(*step)
                    .wrapping_add(self.time_start),
                time_step: Some(*step),
                time_deltas: None,
                equity,
                drawdown_pct,
                drawdown_duration,
            },
            (None, deltas) => {
                let deltas = deltas.as_deref().unwrap_or(&[]);
                let first = deltas
                    .iter()
                    .take(start + 1)
                    .fold(self.time_start, |t, d| t.wrapping_add(*d));
                let mut page = Vec::with_capacity(end - start);
                page.push(0);
                page.extend(deltas.iter().take(end).skip(start + 1));
                EquityColumns {
                    time_start: first,
                    time_step: None,
                    time_deltas: Some(page),
                    equity,
                    drawdown_pct,
                    drawdown_duration,
                }
            }
        }
    }
}

impl TradeColumns {
    /// Closed trades `range` (clipped to the list).
    pub fn slice(&self, range: Range<usize>) -> TradeColumns {
        fn cut<T: Clone>(v: &[T], r: &Range<usize>) -> Vec<T> {
            let (s, e) = (r.start.min(v.len()), r.end.min(v.len()));
            v.get(s..e.max(s)).map(<[T]>::to_vec).unwrap_or_default()
        }
        TradeColumns {
            symbol: cut(&self.symbol, &range),
            side: cut(&self.side, &range),
            quantity: cut(&self.quantity, &range),
            entry_time: cut(&self.entry_time, &range),
            entry_price: cut(&self.entry_price, &range),
            exit_time: cut(&self.exit_time, &range),
            exit_price: cut(&self.exit_price, &range),
            pnl: cut(&self.pnl, &range),
            return_pct: cut(&self.return_pct, &range),
            commission: cut(&self.commission, &range),
            duration: cut(&self.duration, &range),
            entry_bar: self.entry_bar.as_ref().map(|v| cut(v, &range)),
            exit_bar: self.exit_bar.as_ref().map(|v| cut(v, &range)),
        }
    }

    /// How many trades (the length of the `symbol` column).
    pub fn len(&self) -> usize {
        self.symbol.len()
    }

    /// True without trades.
    pub fn is_empty(&self) -> bool {
        self.symbol.is_empty()
    }
}

impl ResultsReply {
    /// `results` from columns — the whole results or one `page` of them — in `format`
    /// (`summary` leaves the trades and the curve out). Errors: columns that do not convert to
    /// rows (different lengths, times out of range).
    pub fn from_columns(
        session_id: String,
        metrics: Metrics,
        open_positions: Vec<PositionView>,
        parts: Option<(TradeColumns, EquityColumns)>,
        format: ResultsFormat,
        page: Option<ResultsPage>,
    ) -> Result<ResultsReply, String> {
        let mut reply = ResultsReply {
            session_id,
            metrics,
            trades: None,
            trade_columns: None,
            open_positions,
            equity_curve: None,
            equity_columns: None,
            page,
            outcome: Default::default(),
        };
        match (format, parts) {
            (ResultsFormat::Rows, Some((trades, equity))) => {
                reply.trades = Some(trades.into_trades()?);
                reply.equity_curve = Some(equity.into_points()?);
            }
            (ResultsFormat::Columns, Some((trades, equity))) => {
                reply.trade_columns = Some(Box::new(trades));
                reply.equity_columns = Some(Box::new(equity));
            }
            _ => {}
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trading::EquityPoint;
    use rust_decimal::Decimal;

    fn curve(times: &[i64]) -> Vec<EquityPoint> {
        times
            .iter()
            .enumerate()
            .map(|(i, &t)| EquityPoint {
                time: chrono::DateTime::from_timestamp(t, 0).unwrap_or_default(),
                equity: Decimal::new(100_000 + i as i64, 2),
                drawdown_pct: i as f64 / 8.0,
                drawdown_duration: (i % 4 == 3).then_some(60 * i as i64),
            })
            .collect()
    }

    #[test]
    fn pages_of_either_time_layout_concatenate_to_the_whole_curve() {
        let even: Vec<i64> = (0..23).map(|i| 1_600_000_000 + 60 * i).collect();
        let uneven: Vec<i64> = (0..23).map(|i| 1_600_000_000 + 60 * i * i).collect();
        for times in [even, uneven] {
            let points = curve(&times);
            let cols = EquityColumns::from_points(&points);
            for limit in [1u32, 5, 22, 23, 100] {
                let mut joined = Vec::new();
                let mut offset = Some(0);
                while let Some(o) = offset {
                    let page = ResultsPage::new(o, limit, 0, points.len() as u64);
                    let part = cols.slice(page.range(points.len() as u64));
                    joined.extend(part.into_points().unwrap());
                    offset = page.next_offset;
                }
                assert_eq!(joined, points, "limit {limit}");
            }
        }
    }

    #[test]
    fn a_page_past_either_list_is_empty_and_the_last_page_has_no_next_offset() {
        let page = ResultsPage::new(10, 10, 3, 20);
        assert_eq!(page.range(3), 3..3);
        assert_eq!(page.range(20), 10..20);
        assert_eq!(page.next_offset, None);
        assert_eq!(ResultsPage::new(0, 10, 3, 20).next_offset, Some(10));
        let empty = EquityColumns::from_points(&[]).slice(0..5);
        assert!(empty.into_points().unwrap().is_empty());
        assert!(TradeColumns::default().slice(2..9).is_empty());
    }
}
