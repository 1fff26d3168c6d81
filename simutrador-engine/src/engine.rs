//! [`Engine`]: the public face of the simulation. It owns the config, the books, the working
//! orders and the equity curve; `execution.rs` holds the per-bar order work (fills, brackets,
//! time in force).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared_models::results::{Metrics, SimulationResults};
use shared_models::trading::{
    AccountSnapshot, CompactString, ExecutionReport, OrderRequest, OrderSide, OrderStatus,
    OrderUpdate,
};

use super::clock::{DayClock, Stamp};
use super::config::{BarEvents, Candle, EngineConfig, EngineError};
use super::curve::EquityCurve;
use super::fills::Slippage;
use super::ids::IdSet;
use super::metrics::{self, MetricsInput};
use super::orders::{self, WorkingOrder, child_ids};
use super::portfolio::Books;
use super::rejection::Rejection;

/// A deterministic, single-threaded simulation of one account over a stream of bars.
///
/// Call [`Engine::submit`] with the strategy's decisions after each bar it saw, and
/// [`Engine::settle`] for every bar time in order. See `docs/execution-model.md`.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(super) config: EngineConfig,
    pub(super) books: Books,
    pub(super) slippage: Slippage,
    /// Working orders in submission (creation) order.
    pub(super) orders: Vec<WorkingOrder>,
    /// Every accepted order id (and reserved bracket child ids). Only looked up, never
    /// iterated, so its hashing cannot affect output order.
    pub(super) ids: IdSet,
    pub(super) curve: EquityCurve,
    /// Time of the last settled bar (the curve's last time, kept at hand for `settle`).
    last_time: Option<i64>,
    pub(super) equity: Decimal,
    pub(super) next_execution: u64,
    pub(super) next_group: u64,
    /// Converts event times, once per bar time.
    stamp: Stamp,
    /// The symbols' names as the events carry them (inline strings, copied per event).
    names: Vec<CompactString>,
    /// Loss limit and volatility halt (see `risk.rs`); `None` when the session has neither.
    pub(super) risk: Option<Box<super::risk::RiskState>>,
    /// Set at the close where equity reached 0 or less (see `bankrupt.rs`).
    pub(super) bankrupt: bool,
    /// The first symbol's close at every settled bar (its last close carried forward, NaN
    /// before its first bar), as `f64`: Buy & Hold, Alpha and Beta (see `docs/metrics.md`).
    pub(super) closes: Vec<f64>,
    /// Bars (from the first settled one) before the strategy's indicators are all defined:
    /// Buy & Hold starts at this bar (backtesting.py's `_indicator_warmup_nbars`).
    indicator_warmup: usize,
}

impl Engine {
    /// An engine with cash = `initial_capital`, no positions, no orders.
    pub fn new(config: EngineConfig) -> Result<Engine, EngineError> {
        super::config::validate(&config)?;
        let names = config
            .symbols
            .iter()
            .map(|s| CompactString::from(s.symbol.as_str()))
            .collect();
        Ok(Engine {
            books: Books::new(&config),
            slippage: Slippage::new(config.slippage_bps),
            equity: config.initial_capital,
            config,
            orders: Vec::new(),
            ids: IdSet::default(),
            curve: EquityCurve::default(),
            last_time: None,
            next_execution: 0,
            next_group: 0,
            stamp: Stamp::default(),
            names,
            risk: None,
            bankrupt: false,
            closes: Vec::new(),
            indicator_warmup: 0,
        })
    }

    /// Reserves room for `bars` more equity points, so a run of known length never
    /// reallocates (and copies) the curve while settling.
    pub fn reserve_bars(&mut self, bars: usize) {
        self.curve.reserve(bars);
        self.closes.reserve(bars);
    }

    /// Sets how many bars, from the first settled one, the strategy's indicators need before
    /// they are all defined (backtesting.py's `_indicator_warmup_nbars`; 0 by default): Buy &
    /// Hold is measured from the close of that bar. A value past the last bar measures from
    /// the last bar (a return of 0).
    pub fn set_indicator_warmup(&mut self, bars: usize) {
        self.indicator_warmup = bars;
    }

    /// Records the first symbol's close for this bar (see [`Engine::closes`]).
    #[inline]
    pub(super) fn record_close(&mut self) {
        let close = match self.books.positions.first() {
            Some(p) if p.first_close.is_some() => super::numeric::to_f64(p.last_close),
            _ => f64::NAN,
        };
        self.closes.push(close);
    }

    /// The configuration the engine was built with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Orders and cancels decided at the close of the bar at `decided_at` (unix seconds). They
    /// can fill from the next bar of their symbol on, never on `decided_at`'s bar.
    ///
    /// Cancels are applied first: a cancel of a working order emits `cancelled`; a cancel of
    /// an unknown or finished id is a no-op (the order's own final update was already sent).
    /// Then each order is validated: an invalid one gets a `rejected` update whose reason is
    /// its [`Rejection`] as `"CODE: message"` (`INVALID_ORDER: …`, `SHORT_NOT_ALLOWED: …`,
    /// `TRADING_HALTED: …`), a valid one an `accepted` update.
    pub fn submit(
        &mut self,
        decided_at: i64,
        orders: impl IntoIterator<Item = OrderRequest>,
        cancels: &[String],
        out: &mut BarEvents,
    ) {
        let at = self.stamp(decided_at);
        for id in cancels {
            if let Some(o) = self.orders.iter_mut().find(|o| !o.done && o.id == *id) {
                o.done = true;
                out.order_updates.push(OrderUpdate {
                    order_id: o.id.clone(),
                    status: OrderStatus::Cancelled,
                    reason: Some("cancelled by the strategy".into()),
                    sim_time: at,
                });
            }
        }
        for req in orders {
            let (status, reason) = match self.accept(&req, decided_at) {
                Ok(()) => (OrderStatus::Accepted, None),
                Err(rejection) => (OrderStatus::Rejected, Some(rejection.to_reason())),
            };
            out.order_updates.push(OrderUpdate {
                order_id: req.order_id,
                status,
                reason,
                sim_time: at,
            });
        }
        self.orders.retain(|o| !o.done);
    }

    /// Validates `req`, reserves its id (and a bracket entry's children's ids) and adds it to
    /// the working orders; `Err` says why not.
    fn accept(&mut self, req: &OrderRequest, decided_at: i64) -> Result<(), Rejection> {
        // The id is reserved at once (one probe of the id set) and taken back on rejection.
        let hash = IdSet::hash(&req.order_id);
        if !self.ids.insert_hashed(hash, &req.order_id) {
            return Err(Rejection::invalid_order(format!(
                "order_id '{}' was already used in this session; use a new id",
                req.order_id
            )));
        }
        let accepted = self.accept_reserved(req, decided_at);
        if accepted.is_err() {
            self.ids.remove_last(hash, &req.order_id);
        }
        accepted
    }

    /// [`Engine::accept`] once the order's own id is reserved.
    fn accept_reserved(&mut self, req: &OrderRequest, decided_at: i64) -> Result<(), Rejection> {
        let order = orders::validate(
            req,
            &self.config.symbols,
            self.config.allow_short,
            decided_at,
        )?;
        if self.bankrupt {
            return Err(Rejection::invalid_order(super::bankrupt::NO_ORDERS));
        }
        if self.risk.is_some() {
            self.risk_check(&order)?;
        }
        self.reserve_child_ids(&order)?;
        self.orders.push(order);
        Ok(())
    }

    /// Reserves a bracket entry's children's ids.
    fn reserve_child_ids(&mut self, order: &WorkingOrder) -> Result<(), Rejection> {
        let (sl, tp) = if order.stop_loss.is_some() || order.take_profit.is_some() {
            let (sl, tp) = child_ids(&order.id);
            if self.ids.contains(&sl) || self.ids.contains(&tp) {
                return Err(Rejection::invalid_order(format!(
                    "the bracket ids '{sl}'/'{tp}' of this order are already used; use a new id"
                )));
            }
            (Some(sl), Some(tp))
        } else {
            (None, None)
        };
        for id in [sl, tp].into_iter().flatten() {
            self.ids.insert(&id);
        }
        Ok(())
    }

    /// Settles one tick at `time`: `candles[i]` is the bar of `config.symbols[i]` (`None`, or
    /// a missing trailing entry, means no bar for that symbol). Works the orders in submission
    /// order (each sized after the earlier ones filled, bracket children right after their
    /// entry), applies time in force, marks every position at its last close and appends one
    /// equity point. A `time` at or before the last settled one is ignored, and so is every
    /// bar after the loss limit stopped the run. When the equity at the close is 0 or less the
    /// account goes bankrupt (see [`Engine::bankrupt`]); later bars then only extend the
    /// equity curve at 0.
    pub fn settle(&mut self, time: i64, candles: &[Option<Candle>], out: &mut BarEvents) {
        if self.last_time.is_some_and(|t| time <= t) || self.loss_limit_hit() {
            return;
        }
        self.last_time = Some(time);
        self.books.bar = self.curve.len() as u64;
        if self.bankrupt {
            self.settle_after_bankruptcy(time, candles);
            return;
        }
        if !self.orders.is_empty() {
            self.work_orders(time, candles, out);
        }
        let (equity, _) = self.books.mark(candles);
        self.record_close();
        self.equity = equity;
        self.curve.push(time, self.equity);
        if !super::numeric::is_pos(self.equity) {
            // Bankrupt (equity ≤ 0, by its sign bits: no `Decimal` comparison per bar):
            // closed out at this close; the loss limit and halts no longer matter.
            self.go_bankrupt(time, out);
            return;
        }
        if self.risk.is_some() {
            self.apply_risk(time, candles, out);
        }
    }

    /// True when some order could still fill on a later bar.
    #[inline]
    pub fn has_working_orders(&self) -> bool {
        !self.orders.is_empty()
    }

    /// Equity at the last settled close (cash before the first bar).
    #[inline]
    pub fn equity(&self) -> Decimal {
        self.equity
    }

    /// Cash.
    pub fn cash(&self) -> Decimal {
        self.books.cash
    }

    /// Signed quantity held in `config.symbols[symbol]` (zero for an unknown index).
    #[inline]
    pub fn position(&self, symbol: usize) -> Decimal {
        self.books
            .positions
            .get(symbol)
            .map_or(Decimal::ZERO, |p| p.qty)
    }

    /// Closed trades so far, in exit order (built from the books' compact records).
    pub fn trades(&self) -> Vec<shared_models::trading::Trade> {
        let mut clock = DayClock::default();
        self.books
            .trades
            .iter()
            .map(|t| t.to_trade(&self.config.symbols[t.symbol].symbol, &mut clock))
            .collect()
    }

    /// Number of closed trades so far.
    pub fn trade_count(&self) -> usize {
        self.books.trades.len()
    }

    /// Number of settled bars (points on the equity curve).
    pub fn bars(&self) -> usize {
        self.curve.len()
    }

    /// Heap bytes held by the equity curve.
    pub fn equity_curve_bytes(&self) -> usize {
        self.curve.heap_bytes()
    }

    /// Cash, equity, buying power, open positions and working order ids.
    pub fn account(&self) -> AccountSnapshot {
        AccountSnapshot {
            cash: self.books.cash,
            equity: self.equity,
            buying_power: self.books.buying_power(),
            positions: self.books.position_views(&self.config.symbols),
            open_orders: self.orders.iter().map(|o| o.id.to_string()).collect(),
        }
    }

    /// Cancels every working order and closes every position at its last settled close (no
    /// slippage; booked as trades, commissions charged; executions carry the order id
    /// `flatten:SYMBOL`). The last equity point is updated to the flat equity. Used for
    /// stops, loss limits, bankruptcy and `close_at_end`.
    pub fn flatten(&mut self, time: i64, out: &mut BarEvents) {
        let at = self.stamp(time);
        self.books.bar = self.curve.len().saturating_sub(1) as u64;
        for o in self.orders.drain(..) {
            out.order_updates.push(OrderUpdate {
                order_id: o.id,
                status: OrderStatus::Cancelled,
                reason: Some("cancelled: the session is closing all positions".into()),
                sim_time: at,
            });
        }
        for i in 0..self.books.positions.len() {
            let p = &self.books.positions[i];
            if p.qty.is_zero() {
                continue;
            }
            let side = if p.qty > Decimal::ZERO {
                OrderSide::Sell
            } else {
                OrderSide::Buy
            };
            let (units, price) = (p.qty.abs(), p.last_close);
            let spec = &self.config.symbols[i];
            if let Ok(b) = self.books.fill(i, spec, side, units, price, time) {
                let id = compact_str::format_compact!("flatten:{}", spec.symbol);
                self.report(
                    id,
                    i,
                    side,
                    b.units,
                    price,
                    b.commission,
                    Decimal::ZERO,
                    time,
                    out,
                );
            }
        }
        self.equity = self.books.cash.saturating_add(self.books.positions_value());
        self.curve.set_last(self.equity);
    }

    /// End of data: with `close_at_end`, flattens at the last settled bar; otherwise leaves
    /// positions open. Call it once before [`Engine::results`].
    pub fn finish(&mut self, out: &mut BarEvents) {
        if let (true, Some(t)) = (self.config.close_at_end, self.curve.last_time()) {
            self.flatten(t, out);
        }
    }

    /// Final results: metrics, closed trades (with their bar indices), open positions and the
    /// equity curve (with its drawdown columns). Buy & Hold, Alpha and Beta are those of the
    /// first symbol (`config.symbols[0]`), as backtesting.py's single symbol.
    pub fn results(&self) -> SimulationResults {
        let trades = self.trades();
        let (metrics, drawdown_pct, drawdown_duration) = self.final_metrics(&trades);
        let mut equity_curve = self.curve.to_points();
        for ((p, pct), dur) in equity_curve
            .iter_mut()
            .zip(drawdown_pct)
            .zip(drawdown_duration)
        {
            p.drawdown_pct = pct;
            p.drawdown_duration = dur;
        }
        SimulationResults {
            metrics,
            trades,
            open_positions: self.books.position_views(&self.config.symbols),
            equity_curve,
            outcome: Default::default(),
        }
    }

    /// The metrics of the run over `trades` (its closed trades) and the equity curve's
    /// drawdown columns (`DrawdownPct` × 100 and `DrawdownDuration` per point); the times and
    /// values they need are freed before this returns.
    pub(super) fn final_metrics(
        &self,
        trades: &[shared_models::trading::Trade],
    ) -> (Metrics, Vec<f64>, Vec<Option<i64>>) {
        let (times, equity) = (self.curve.times(), self.curve.values_f64());
        let input = MetricsInput {
            times: &times,
            equity: &equity,
            equity_final: self.curve.last_value(),
            equity_peak: self.curve.peak(),
            initial_capital: self.config.initial_capital,
            trades,
            closes: &self.closes,
            indicator_warmup: self.indicator_warmup,
        };
        let (drawdown_pct, drawdown_duration) = metrics::drawdown_columns(&times, &equity);
        (metrics::compute(&input), drawdown_pct, drawdown_duration)
    }

    /// Appends an execution report and a `filled` update.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn report(
        &mut self,
        order_id: CompactString,
        symbol: usize,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal,
        commission: Decimal,
        slippage: Decimal,
        time: i64,
        out: &mut BarEvents,
    ) {
        self.next_execution += 1;
        let sim_time = self.stamp(time);
        out.executions.push(ExecutionReport {
            execution_id: execution_id(self.next_execution),
            order_id,
            symbol: self.names[symbol].clone(),
            side,
            quantity,
            price,
            commission,
            slippage,
            sim_time,
        });
    }

    /// `time` as a `DateTime`, converted once per bar time rather than once per event.
    pub(super) fn stamp(&mut self, time: i64) -> DateTime<Utc> {
        self.stamp.at(time)
    }
}

/// `E{n}`, inline (no allocation), without the formatting machinery.
fn execution_id(n: u64) -> CompactString {
    let mut id = CompactString::const_new("E");
    id.push_str(itoa::Buffer::new().format(n));
    id
}
