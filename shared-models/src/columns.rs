//! The columnar layout of `results` (`get_results {format: columns}`): one array per field
//! instead of one object per trade or equity point. A million-point equity curve shrinks from
//! ~63 MB of `{"time": "...", "equity": "..."}` objects to about a tenth (the times as a start
//! and a step, the equities as decimal strings), and decodes without a date parse per point.
//!
//! Both directions are exact: [`EquityColumns::from_points`] then
//! [`EquityColumns::into_points`] (and the same for trades) give back equal values, bit for bit
//! (every `Decimal` keeps its scale, times are whole seconds).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::trading::{EquityPoint, Trade, TradeSide};

/// The equity curve as columns. Point `i` is at `time_start + i × time_step` when `time_step`
/// is given (evenly spaced bars), else at `time_start + time_deltas[0] + … + time_deltas[i]`
/// (`time_deltas[0]` is 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EquityColumns {
    /// Time of the first point, Unix seconds (0 for an empty curve).
    pub time_start: i64,
    /// Seconds between consecutive points, when they are evenly spaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_step: Option<i64>,
    /// Seconds from the previous point, one per point, when they are not evenly spaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_deltas: Option<Vec<i64>>,
    /// Equity at each close.
    #[serde(with = "crate::decimal_text::vec")]
    pub equity: Vec<Decimal>,
    /// [`EquityPoint::drawdown_pct`] of each point (absent from servers before it was
    /// reported: every point then reads 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawdown_pct: Option<Vec<f64>>,
    /// [`EquityPoint::drawdown_duration`] of each point, `null` where a point has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawdown_duration: Option<Vec<Option<i64>>>,
}

/// Closed trades as columns (each as long as the number of trades); times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradeColumns {
    /// Symbols.
    pub symbol: Vec<String>,
    /// Directions.
    pub side: Vec<TradeSide>,
    /// Units.
    #[serde(with = "crate::decimal_text::vec")]
    pub quantity: Vec<Decimal>,
    /// Entry bar times.
    pub entry_time: Vec<i64>,
    /// Entry fill prices.
    #[serde(with = "crate::decimal_text::vec")]
    pub entry_price: Vec<Decimal>,
    /// Exit bar times.
    pub exit_time: Vec<i64>,
    /// Exit fill prices.
    #[serde(with = "crate::decimal_text::vec")]
    pub exit_price: Vec<Decimal>,
    /// Net profit or loss.
    #[serde(with = "crate::decimal_text::vec")]
    pub pnl: Vec<Decimal>,
    /// Returns, percent.
    pub return_pct: Vec<f64>,
    /// Both commissions.
    #[serde(with = "crate::decimal_text::vec")]
    pub commission: Vec<Decimal>,
    /// Durations, seconds.
    pub duration: Vec<i64>,
    /// Entry bar indices ([`Trade::entry_bar`]), when every trade has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_bar: Option<Vec<u64>>,
    /// Exit bar indices ([`Trade::exit_bar`]), when every trade has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_bar: Option<Vec<u64>>,
}

fn time(seconds: i64) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp(seconds, 0).ok_or_else(|| format!("time {seconds} is out of range"))
}

/// Times of consecutive points: the calendar date is computed once per day (most points of a
/// curve share their day with the previous one), the rest is the time of day.
#[derive(Default)]
struct Days {
    day: Option<(i64, chrono::NaiveDate)>,
}

impl Days {
    fn time(&mut self, seconds: i64) -> Result<DateTime<Utc>, String> {
        let (day, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
        let date = match self.day {
            Some((d, date)) if d == day => date,
            _ => {
                let date = time(seconds)?.date_naive();
                self.day = Some((day, date));
                date
            }
        };
        let tod = chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs as u32, 0)
            .ok_or_else(|| format!("time {seconds} is out of range"))?;
        Ok(date.and_time(tod).and_utc())
    }
}

impl EquityColumns {
    /// The columns of `points`.
    pub fn from_points(points: &[EquityPoint]) -> Self {
        let times: Vec<i64> = points.iter().map(|p| p.time.timestamp()).collect();
        let mut columns = Self::from_times(&times, points.iter().map(|p| p.equity).collect());
        columns.drawdown_pct = Some(points.iter().map(|p| p.drawdown_pct).collect());
        columns.drawdown_duration = Some(points.iter().map(|p| p.drawdown_duration).collect());
        columns
    }

    /// The columns of a curve given as its times (Unix seconds) and, parallel to them, its
    /// equity values: what [`EquityColumns::from_points`] gives for the same points, without
    /// building them.
    pub fn from_times(times: &[i64], equity: Vec<Decimal>) -> Self {
        let start = times.first().copied().unwrap_or(0);
        let step = match times {
            [a, b, ..] => Some(b - a),
            _ => Some(0),
        }
        .filter(|&step| {
            times.iter().enumerate().all(|(i, &t)| {
                Some(t)
                    == step
                        .checked_mul(i as i64)
                        .and_then(|d| start.checked_add(d))
            })
        });
        let deltas = step.is_none().then(|| {
            let mut prev = start;
            times
                .iter()
                .map(|&t| {
                    std::mem::replace(&mut prev, t)
                        .wrapping_neg()
                        .wrapping_add(t)
                })
                .collect()
        });
        EquityColumns {
            time_start: start,
            time_step: step,
            time_deltas: deltas,
            equity,
            drawdown_pct: None,
            drawdown_duration: None,
        }
    }

    /// The points. Errors: `time_deltas` of another length than `equity`, neither
    /// `time_step` nor `time_deltas`, or times out of range.
    pub fn into_points(self) -> Result<Vec<EquityPoint>, String> {
        let n = self.equity.len();
        let dd_pct = self.drawdown_pct.unwrap_or_default();
        let dd_dur = self.drawdown_duration.unwrap_or_default();
        if (!dd_pct.is_empty() && dd_pct.len() != n) || (!dd_dur.is_empty() && dd_dur.len() != n) {
            return Err(format!(
                "equity_columns: the drawdown columns must hold {n} values"
            ));
        }
        let drawdown = |i: usize| {
            (
                dd_pct.get(i).copied().unwrap_or(0.0),
                dd_dur.get(i).copied().flatten(),
            )
        };
        let mut out = Vec::with_capacity(n);
        let mut days = Days::default();
        match (self.time_step, self.time_deltas) {
            (Some(step), _) => {
                let mut t = self.time_start;
                for (i, equity) in self.equity.into_iter().enumerate() {
                    let (drawdown_pct, drawdown_duration) = drawdown(i);
                    out.push(EquityPoint {
                        time: days.time(t)?,
                        equity,
                        drawdown_pct,
                        drawdown_duration,
                    });
                    t = t.checked_add(step).unwrap_or(i64::MAX);
                }
            }
            (None, Some(deltas)) if deltas.len() == n => {
                let mut t = self.time_start;
                for (i, (equity, d)) in self.equity.into_iter().zip(deltas).enumerate() {
                    t = t.checked_add(d).ok_or("equity_columns: time overflow")?;
                    let (drawdown_pct, drawdown_duration) = drawdown(i);
                    out.push(EquityPoint {
                        time: days.time(t)?,
                        equity,
                        drawdown_pct,
                        drawdown_duration,
                    });
                }
            }
            (None, Some(d)) => {
                return Err(format!(
                    "equity_columns: {} time_deltas for {n} points",
                    d.len()
                ));
            }
            (None, None) if n == 0 => {}
            (None, None) => return Err("equity_columns: no time_step or time_deltas".into()),
        }
        Ok(out)
    }
}

impl TradeColumns {
    /// The columns of `trades`.
    pub fn from_trades(trades: &[Trade]) -> Self {
        let mut c = TradeColumns::default();
        let bars = |f: fn(&Trade) -> Option<u64>| trades.iter().map(f).collect::<Option<Vec<_>>>();
        c.entry_bar = bars(|t| t.entry_bar);
        c.exit_bar = bars(|t| t.exit_bar);
        for t in trades {
            c.symbol.push(t.symbol.to_string());
            c.side.push(t.side);
            c.quantity.push(t.quantity);
            c.entry_time.push(t.entry_time.timestamp());
            c.entry_price.push(t.entry_price);
            c.exit_time.push(t.exit_time.timestamp());
            c.exit_price.push(t.exit_price);
            c.pnl.push(t.pnl);
            c.return_pct.push(t.return_pct);
            c.commission.push(t.commission);
            c.duration.push(t.duration);
        }
        c
    }

    /// The trades. Errors: columns of different lengths, times out of range.
    pub fn into_trades(self) -> Result<Vec<Trade>, String> {
        let n = self.symbol.len();
        let lens = [
            self.side.len(),
            self.quantity.len(),
            self.entry_time.len(),
            self.entry_price.len(),
            self.exit_time.len(),
            self.exit_price.len(),
            self.pnl.len(),
            self.return_pct.len(),
            self.commission.len(),
            self.duration.len(),
        ];
        let bar_len = |v: &Option<Vec<u64>>| v.as_ref().is_some_and(|v| v.len() != n);
        if lens.iter().any(|&l| l != n) || bar_len(&self.entry_bar) || bar_len(&self.exit_bar) {
            return Err(format!("trade_columns: every column must hold {n} values"));
        }
        let bar = |v: &Option<Vec<u64>>, i: usize| v.as_ref().and_then(|v| v.get(i).copied());
        let mut out = Vec::with_capacity(n);
        // `.into()`: the trade's symbol type may become a compact string.
        #[allow(clippy::useless_conversion)]
        for i in 0..n {
            out.push(Trade {
                symbol: self.symbol[i].clone().into(),
                side: self.side[i],
                quantity: self.quantity[i],
                entry_time: time(self.entry_time[i])?,
                entry_price: self.entry_price[i],
                exit_time: time(self.exit_time[i])?,
                exit_price: self.exit_price[i],
                pnl: self.pnl[i],
                return_pct: self.return_pct[i],
                commission: self.commission[i],
                duration: self.duration[i],
                entry_bar: bar(&self.entry_bar, i),
                exit_bar: bar(&self.exit_bar, i),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: i64, equity: Decimal) -> EquityPoint {
        EquityPoint {
            time: time(t).unwrap_or_default(),
            equity,
            drawdown_pct: (t % 7) as f64 / 4.0,
            drawdown_duration: (t % 3 == 0).then_some(t),
        }
    }

    #[test]
    fn equity_columns_round_trip_evenly_spaced_and_gapped() {
        let even: Vec<EquityPoint> = (0..5)
            .map(|i| point(1_000 + 60 * i, Decimal::new(100_000 + i, (i % 3) as u32)))
            .collect();
        let cols = EquityColumns::from_points(&even);
        assert_eq!(
            (cols.time_step, cols.time_deltas.is_none()),
            (Some(60), true)
        );
        assert_eq!(cols.clone().into_points(), Ok(even));

        let gapped = vec![
            point(100, Decimal::new(1, 0)),
            point(160, Decimal::new(10, 1)),
            point(400, Decimal::new(100, 2)),
        ];
        let cols = EquityColumns::from_points(&gapped);
        assert_eq!(cols.time_deltas, Some(vec![0, 60, 240]));
        let back = cols.into_points().unwrap_or_default();
        assert_eq!(back, gapped);
        // Same value, different scales: kept apart.
        assert_eq!(back[2].equity.to_string(), "1.00");

        for one in [vec![], vec![point(5, Decimal::ONE)]] {
            assert_eq!(EquityColumns::from_points(&one).into_points(), Ok(one));
        }
    }

    #[test]
    fn the_day_cache_gives_chrono_s_times() {
        let mut days = Days::default();
        for t in (-200_000..200_000)
            .step_by(997)
            .chain([1_577_836_800, 1_577_923_199])
        {
            assert_eq!(days.time(t), time(t), "{t}");
        }
        assert!(days.time(i64::MAX).is_err());
    }

    #[test]
    fn malformed_columns_are_errors() {
        let cols = EquityColumns {
            time_start: 0,
            time_step: None,
            time_deltas: Some(vec![0]),
            equity: vec![Decimal::ONE, Decimal::ONE],
            drawdown_pct: None,
            drawdown_duration: None,
        };
        assert!(cols.into_points().is_err());
        let trades = TradeColumns {
            symbol: vec!["A".into()],
            ..TradeColumns::default()
        };
        assert!(trades.into_trades().is_err());
    }
}
