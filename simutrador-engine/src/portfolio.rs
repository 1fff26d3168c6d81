//! The books: cash, one net position per symbol, commissions, buying power, percent sizing and
//! trade booking. All `Decimal`, all checked: an overflow makes a fill fail, never a panic.

use rust_decimal::Decimal;
use shared_models::trading::{CompactString, OrderSide, PositionView, Trade, TradeSide};

use super::clock::DayClock;
use super::config::{Candle, EngineConfig, SymbolSpec};
use super::numeric::{self, floor_div, is_neg, is_pos};
use super::rejection::{RejectCode, Rejection};

/// One symbol's net position and last known prices.
#[derive(Debug, Clone, Default)]
pub(crate) struct Position {
    /// Signed units (negative = short).
    pub qty: Decimal,
    /// Average entry price of the open units.
    pub avg_price: Decimal,
    /// Time of the fill that opened the position.
    pub entry_time: i64,
    /// Index of that fill's bar (see [`Books::bar`]).
    pub entry_bar: u64,
    /// Entry commissions not yet attributed to a closed trade.
    pub entry_commission: Decimal,
    /// Last settled close (zero before the first bar).
    pub last_close: Decimal,
    /// First settled close (for Buy & Hold).
    pub first_close: Option<Decimal>,
}

/// A fill the books accepted: what to report.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Booked {
    pub units: Decimal,
    pub commission: Decimal,
}

/// A closed round trip as the books keep it: the symbol as an index, times as unix seconds,
/// and the return left to [`TradeRecord::to_trade`], which runs only when trades are read
/// (results, `Engine::trades`), not on every fill.
#[derive(Debug, Clone)]
pub(crate) struct TradeRecord {
    pub symbol: usize,
    pub long: bool,
    pub quantity: Decimal,
    pub entry_time: i64,
    pub entry_price: Decimal,
    pub exit_time: i64,
    pub exit_price: Decimal,
    /// Net of both commissions.
    pub pnl: Decimal,
    pub commission: Decimal,
    /// Bar indices of the entry and the exit (see [`Books::bar`]).
    pub entry_bar: u64,
    pub exit_bar: u64,
}

impl TradeRecord {
    /// The wire [`Trade`]; `return_pct` is pnl over the entry value (entry price × quantity),
    /// in percent, as `f64`.
    pub fn to_trade(&self, symbol: &str, clock: &mut DayClock) -> Trade {
        let basis = self.entry_price.saturating_mul(self.quantity);
        let return_pct = if basis.is_zero() {
            0.0
        } else {
            self.pnl
                .checked_div(basis)
                .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
                .map(numeric::to_f64)
                .unwrap_or(0.0)
        };
        Trade {
            symbol: CompactString::from(symbol),
            side: if self.long {
                TradeSide::Long
            } else {
                TradeSide::Short
            },
            quantity: self.quantity,
            entry_time: clock.at(self.entry_time),
            entry_price: self.entry_price,
            exit_time: clock.at(self.exit_time),
            exit_price: self.exit_price,
            pnl: self.pnl,
            return_pct,
            commission: self.commission,
            duration: self.exit_time.saturating_sub(self.entry_time),
            entry_bar: Some(self.entry_bar),
            exit_bar: Some(self.exit_bar),
        }
    }
}

/// Cash, positions, closed trades and cost settings.
#[derive(Debug, Clone)]
pub(crate) struct Books {
    pub cash: Decimal,
    pub positions: Vec<Position>,
    pub trades: Vec<TradeRecord>,
    pub commissions: Decimal,
    /// Index of the bar being settled among the settled bars (the equity curve's length
    /// before its point is pushed): fills record it as their trades' entry or exit bar.
    pub bar: u64,
    rate: Decimal,
    per_share: Decimal,
    min: Decimal,
    /// 1 + short margin: how much a short of value V reduces buying power beyond its proceeds.
    short_factor: Decimal,
    short_margin: Decimal,
    allow_short: bool,
    /// No commission of any kind.
    free: bool,
    /// With one symbol: the cash and its quantity split for [`numeric::mul_add_parts`]
    /// (`None` when either does not fit); refreshed on every fill, the only place they change.
    mark_cache: Option<numeric::MarkCache>,
}

fn overflow() -> Rejection {
    Rejection::invalid_order("the order's value overflows the engine's arithmetic")
}

impl Books {
    /// Sets the cash to 0 (bankruptcy, after every position was closed): the debt left
    /// by the closing fills is written off, as backtesting.py does.
    pub fn write_off_cash(&mut self) {
        self.cash = Decimal::ZERO;
        self.mark_cache = None;
    }

    /// Empty books with the configured capital and costs.
    pub fn new(config: &EngineConfig) -> Self {
        Books {
            cash: config.initial_capital,
            positions: vec![Position::default(); config.symbols.len()],
            trades: Vec::new(),
            commissions: Decimal::ZERO,
            bar: 0,
            rate: config.commission_rate,
            per_share: config.commission_per_share,
            min: config.commission_min,
            short_factor: Decimal::ONE + config.short_margin,
            short_margin: config.short_margin,
            allow_short: config.allow_short,
            free: config.commission_rate.is_zero()
                && config.commission_per_share.is_zero()
                && config.commission_min.is_zero(),
            mark_cache: None,
        }
    }

    /// max(min, units × price × rate + units × per_share); the minimum only for units > 0.
    /// Without costs that is `Decimal::ZERO` (products with a zero are that exact value).
    #[inline]
    pub fn commission(&self, units: Decimal, price: Decimal) -> Option<Decimal> {
        if self.free {
            return Some(Decimal::ZERO);
        }
        let v = units
            .checked_mul(price)?
            .checked_mul(self.rate)?
            .checked_add(units.checked_mul(self.per_share)?)?;
        Some(if is_pos(units) && self.min > v {
            self.min
        } else {
            v
        })
    }

    /// Σ |short value| at the last closes, except `skip`.
    fn shorts_value(&self, skip: Option<usize>) -> Option<Decimal> {
        let mut sum = Decimal::ZERO;
        for (i, p) in self.positions.iter().enumerate() {
            if is_neg(p.qty) && Some(i) != skip {
                sum = sum.checked_add(p.qty.abs().checked_mul(p.last_close)?)?;
            }
        }
        Some(sum)
    }

    /// equity − Σ long value − Σ |short value| × margin, which is cash − (1 + margin) × Σ |short
    /// value| (longs are already paid for out of cash).
    pub fn buying_power(&self) -> Decimal {
        self.shorts_value(None)
            .and_then(|s| s.checked_mul(self.short_factor))
            .and_then(|s| self.cash.checked_sub(s))
            .unwrap_or(Decimal::MIN)
    }

    /// Records the closes of this tick's bars (`candles[i]` is symbol `i`'s) and returns the
    /// equity, cash + Σ quantity × last close, and whether a position with a candle entry is
    /// open (when none is, the equity is the cash).
    #[inline]
    pub fn mark(&mut self, candles: &[Option<Candle>]) -> (Decimal, bool) {
        // One symbol (the common case), straight through: the same steps as below.
        if let [p] = self.positions.as_mut_slice() {
            let Some(c) = candles.first() else {
                return (self.cash, false);
            };
            if let Some(c) = c {
                p.last_close = c.close;
                if p.first_close.is_none() {
                    p.first_close = Some(c.close);
                }
            }
            if p.qty.is_zero() {
                return (self.cash, false);
            }
            let close = p.last_close;
            let equity = self
                .mark_cache
                .as_mut()
                .and_then(|m| m.mark(close))
                .unwrap_or_else(|| self.cash.saturating_add(p.qty.saturating_mul(close)));
            return (equity, true);
        }
        let mut open = false;
        for (p, c) in self.positions.iter_mut().zip(candles) {
            if let Some(c) = c {
                p.last_close = c.close;
                if p.first_close.is_none() {
                    p.first_close = Some(c.close);
                }
            }
            open |= !p.qty.is_zero();
        }
        if !open {
            return (self.cash, false);
        }
        (self.cash.saturating_add(self.positions_value()), true)
    }

    /// Σ quantity × last close.
    /// (Zero plus the first value is that value, bit for bit, so the sum starts from it.)
    pub fn positions_value(&self) -> Decimal {
        let mut values = self
            .positions
            .iter()
            .filter(|p| !p.qty.is_zero())
            .map(|p| p.qty.saturating_mul(p.last_close));
        let first = values.next().unwrap_or(Decimal::ZERO);
        values.fold(first, Decimal::saturating_add)
    }

    /// The largest multiple of `lot` with units × price × factor + commission ≤ budget, where
    /// factor is 1 for buys and the short margin for sells. Zero if not even one lot fits.
    pub fn size_for(&self, side: OrderSide, p: Decimal, price: Decimal, lot: Decimal) -> Decimal {
        let budget = self.buying_power().checked_mul(p).unwrap_or(Decimal::ZERO);
        if !is_pos(budget) || !is_pos(price) {
            return Decimal::ZERO;
        }
        let factor = if side == OrderSide::Buy {
            Decimal::ONE
        } else {
            self.short_margin
        };
        let cost = |u: Decimal| -> Option<Decimal> {
            u.checked_mul(price)?
                .checked_mul(factor)?
                .checked_add(self.commission(u, price)?)
        };
        let floor_lot = |x: Decimal| {
            x.checked_div(lot)
                .map_or(Decimal::ZERO, |n| n.floor().saturating_mul(lot))
        };
        // Without rate and per-share costs the two additions add `rust_decimal`'s plain zero
        // (any product with a zero is that value), and x + 0 is x, bit for bit.
        let per_unit = if self.rate.is_zero() && self.per_share.is_zero() {
            price.saturating_mul(factor)
        } else {
            price
                .saturating_mul(factor)
                .saturating_add(price.saturating_mul(self.rate))
                .saturating_add(self.per_share)
        };
        let mut units = match floor_div(budget, per_unit, lot) {
            Some(n) => n.saturating_mul(lot),
            None => match budget.checked_div(per_unit) {
                Some(u) => floor_lot(u),
                None => return Decimal::ZERO,
            },
        };
        if is_pos(self.min) && cost(units).is_none_or(|c| c > budget) {
            let rest = (budget - self.min).max(Decimal::ZERO);
            units = units.min(
                rest.checked_div(price.saturating_mul(factor))
                    .map_or(Decimal::ZERO, floor_lot),
            );
        }
        // Rounding guard: step down until affordable (at most a couple of steps in practice).
        for _ in 0..4 {
            if !is_pos(units) || cost(units).is_some_and(|c| numeric::cmp(c, budget).is_le()) {
                return numeric::max(units, Decimal::ZERO);
            }
            units -= lot;
        }
        Decimal::ZERO
    }

    /// Applies a fill of `units` (> 0) at `price`: checks shorting and buying power, moves
    /// cash, books the closed part as a trade and opens the rest. `symbol_name` is only used
    /// for the trade record. On `Err` nothing changed and it says why the fill is refused.
    #[allow(clippy::too_many_arguments)]
    pub fn fill(
        &mut self,
        symbol: usize,
        spec: &SymbolSpec,
        side: OrderSide,
        units: Decimal,
        price: Decimal,
        time: i64,
    ) -> Result<Booked, Rejection> {
        let pos = &self.positions[symbol];
        let opposite =
            !pos.qty.is_zero() && pos.qty.is_sign_negative() != (side == OrderSide::Sell);
        let closing = if opposite {
            numeric::min(units, pos.qty.abs())
        } else {
            Decimal::ZERO
        };
        let opening = units - closing;
        // `sign * units` without a multiplication: ±1 × u keeps u's mantissa and scale and only
        // sets the sign (a zero product is the plain zero).
        let signed = if units.is_zero() {
            Decimal::ZERO
        } else if side == OrderSide::Buy {
            units
        } else {
            -units
        };
        let new_qty = pos.qty.checked_add(signed).ok_or_else(overflow)?;
        if !self.allow_short && is_neg(new_qty) {
            return Err(Rejection::new(
                RejectCode::ShortNotAllowed,
                format!(
                    "selling {units} {} would leave a short of {}; this session does not allow shorts",
                    spec.symbol,
                    new_qty.abs()
                ),
            ));
        }
        let commission = self.commission(units, price).ok_or_else(overflow)?;
        let value = units.checked_mul(price).ok_or_else(overflow)?;
        let cash = if side == OrderSide::Buy {
            self.cash
                .checked_sub(value)
                .and_then(|c| c.checked_sub(commission))
        } else {
            self.cash
                .checked_add(value)
                .and_then(|c| c.checked_sub(commission))
        }
        .ok_or_else(overflow)?;
        if is_pos(opening) {
            // Buying power after the fill, with this symbol's short (if any) at the fill price.
            let others = self.shorts_value(Some(symbol)).ok_or_else(overflow)?;
            let own = if is_neg(new_qty) {
                new_qty.abs().checked_mul(price).ok_or_else(overflow)?
            } else {
                Decimal::ZERO
            };
            let after = others
                .checked_add(own)
                .and_then(|s| s.checked_mul(self.short_factor))
                .and_then(|s| cash.checked_sub(s))
                .ok_or_else(overflow)?;
            if is_neg(after) {
                return Err(Rejection::new(
                    RejectCode::InsufficientBuyingPower,
                    format!(
                        "{side:?} {units} {} at {price} needs {} more buying power than the {} \
                     available; reduce the quantity or use percent_of_equity",
                        spec.symbol,
                        -after,
                        self.buying_power()
                    ),
                ));
            }
        }
        // Commit.
        self.cash = cash;
        self.commissions += commission;
        let close_commission = if closing.is_zero() {
            Decimal::ZERO
        } else if opening.is_zero() {
            commission
        } else {
            commission * closing / units
        };
        if is_pos(closing) {
            self.book_trade(symbol, closing, price, close_commission, time);
        }
        let pos = &mut self.positions[symbol];
        if is_pos(opening) {
            let open_commission = commission - close_commission;
            if pos.qty.is_zero() {
                pos.avg_price = price;
                pos.entry_time = time;
                pos.entry_bar = self.bar;
                pos.entry_commission = open_commission;
            } else {
                let held = pos.qty.abs();
                pos.avg_price = pos
                    .avg_price
                    .saturating_mul(held)
                    .saturating_add(value)
                    .checked_div(held + units)
                    .unwrap_or(pos.avg_price);
                pos.entry_commission += open_commission;
            }
        }
        pos.qty = new_qty;
        if pos.qty.is_zero() {
            pos.avg_price = Decimal::ZERO;
            pos.entry_commission = Decimal::ZERO;
        }
        if self.positions.len() == 1 {
            self.mark_cache = numeric::parts(self.cash)
                .zip(numeric::parts(new_qty))
                .map(|(cash, qty)| numeric::MarkCache::new(cash, qty));
        }
        Ok(Booked { units, commission })
    }

    /// Books the closing of `units` of the position at `price` as a trade.
    fn book_trade(
        &mut self,
        symbol: usize,
        units: Decimal,
        price: Decimal,
        exit_commission: Decimal,
        time: i64,
    ) {
        let pos = &mut self.positions[symbol];
        let held = pos.qty.abs();
        let entry_share = if numeric::cmp(units, held).is_eq() {
            pos.entry_commission
        } else {
            pos.entry_commission * units / held
        };
        pos.entry_commission -= entry_share;
        let long = is_pos(pos.qty);
        let diff = if long {
            price - pos.avg_price
        } else {
            pos.avg_price - price
        };
        let gross = diff.saturating_mul(units);
        let commission = entry_share + exit_commission;
        self.trades.push(TradeRecord {
            symbol,
            long,
            quantity: units,
            entry_time: pos.entry_time,
            entry_price: pos.avg_price,
            exit_time: time,
            exit_price: price,
            pnl: gross.saturating_sub(commission),
            commission,
            entry_bar: pos.entry_bar,
            exit_bar: self.bar,
        });
    }

    /// The open positions, valued at the last closes.
    pub fn position_views(&self, symbols: &[SymbolSpec]) -> Vec<PositionView> {
        self.positions
            .iter()
            .zip(symbols)
            .filter(|(p, _)| !p.qty.is_zero())
            .map(|(p, s)| {
                let market_value = p.qty.saturating_mul(p.last_close);
                PositionView {
                    symbol: s.symbol.clone(),
                    quantity: p.qty,
                    avg_price: p.avg_price,
                    market_value,
                    unrealized_pnl: market_value.saturating_sub(p.qty.saturating_mul(p.avg_price)),
                }
            })
            .collect()
    }
}
