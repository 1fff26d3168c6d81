//! Running a built-in's signal on every symbol of the session, and turning one tick's
//! decisions into orders with equal allocation (`docs/strategies.md`, "Several symbols").
//!
//! Each symbol gets its own copy of the signal, primed with its own warm-up bars and fed its
//! own closes. At a tick, every close is sent first (in symbol order), then every entry, each
//! with `percent_of_equity = equal_share(flat)` where `flat` counts the symbols holding no
//! position once this tick's closes have filled, less the entries already sent at this tick.
//! The daemon fills the orders of one acknowledgement in order, so the flat symbols share the
//! buying power left equally. With one symbol this is exactly "close, then enter with
//! `percent_of_equity = 1`".

use rust_decimal::Decimal;
use shared_models::trading::OrderSide;
use simutrador_engine::signals::{Decision, RsiReversionSignal, SmaCrossSignal, equal_share};

use crate::strategy::{StartContext, StrategyContext, TickView};

/// A built-in's decision rule, as the engine's signals implement it.
pub(crate) trait Signal: Clone {
    /// Bars the indicators need before the first decision.
    fn warmup_bars(&self) -> usize;
    /// Feed a warm-up close.
    fn prime(&mut self, close: Decimal);
    /// Feed the next close; what to do holding `held` units.
    fn decide(&mut self, close: Decimal, held: Decimal) -> Decision;
}

impl Signal for SmaCrossSignal {
    fn warmup_bars(&self) -> usize {
        self.indicator_warmup_bars()
    }
    fn prime(&mut self, close: Decimal) {
        SmaCrossSignal::prime(self, close);
    }
    fn decide(&mut self, close: Decimal, held: Decimal) -> Decision {
        SmaCrossSignal::decide(self, close, held)
    }
}

impl Signal for RsiReversionSignal {
    fn warmup_bars(&self) -> usize {
        self.indicator_warmup_bars()
    }
    fn prime(&mut self, close: Decimal) {
        RsiReversionSignal::prime(self, close);
    }
    fn decide(&mut self, close: Decimal, held: Decimal) -> Decision {
        RsiReversionSignal::decide(self, close, held)
    }
}

/// One signal per symbol, copied from a fresh prototype when the run starts.
#[derive(Debug, Clone)]
pub(crate) struct PerSymbol<S> {
    prototype: S,
    signals: Vec<S>,
    decisions: Vec<Decision>,
}

impl<S: Signal> PerSymbol<S> {
    /// Signals that start as `prototype`.
    pub(crate) fn new(prototype: S) -> Self {
        PerSymbol {
            prototype,
            signals: Vec::new(),
            decisions: Vec::new(),
        }
    }

    /// The prototype's indicator warm-up, less the history bars that prime it.
    pub(crate) fn warmup_bars(&self, history_bars: u32) -> u32 {
        let bars = u32::try_from(self.prototype.warmup_bars()).unwrap_or(u32::MAX);
        bars.saturating_sub(history_bars)
    }

    /// One fresh signal per symbol, each primed with its symbol's warm-up bars.
    pub(crate) fn start(&mut self, ctx: &StartContext<'_>) {
        self.reset(ctx.symbols.len());
        for (i, signal) in self.signals.iter_mut().enumerate() {
            for bar in ctx.history.iter(i) {
                signal.prime(bar.candle.close);
            }
        }
    }

    fn reset(&mut self, symbols: usize) {
        self.signals = vec![self.prototype.clone(); symbols];
        self.decisions = vec![Decision::NONE; symbols];
    }

    /// Feed every symbol with a bar at this tick its close, then send the orders.
    pub(crate) fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        if self.signals.len() != ctx.symbols().len() {
            // Started without `on_start` (a caller driving the strategy by hand).
            self.reset(ctx.symbols().len());
        }
        let mut trades = false;
        for (i, (signal, decision)) in self
            .signals
            .iter_mut()
            .zip(self.decisions.iter_mut())
            .enumerate()
        {
            *decision = match tick.close(i) {
                Some(close) => signal.decide(close, ctx.account().quantity(i)),
                None => Decision::NONE,
            };
            trades |= decision.trades();
        }
        if trades {
            act(&self.decisions, ctx);
        }
    }
}

/// Turn one tick's decisions (`decisions[i]` is symbol `i`'s) into orders: every close first,
/// then every entry with an equal share of the buying power left to the flat symbols.
pub(crate) fn act(decisions: &[Decision], ctx: &mut StrategyContext) {
    let mut flat = 0;
    for (i, decision) in decisions.iter().enumerate() {
        if decision.close_position {
            if let Some(symbol) = ctx.symbols().get(i).cloned() {
                ctx.close_position(&symbol);
            }
            flat += 1;
        } else if ctx.account().quantity(i).is_zero() {
            flat += 1;
        }
    }
    for (i, decision) in decisions.iter().enumerate() {
        let Some(side) = decision.enter else { continue };
        let Some(symbol) = ctx.symbols().get(i).cloned() else {
            continue;
        };
        let share = equal_share(flat);
        flat = flat.saturating_sub(1);
        match side {
            OrderSide::Buy => ctx.buy_percent(&symbol, share),
            OrderSide::Sell => ctx.sell_percent(&symbol, share),
        };
    }
}
