//! Bankruptcy, backtesting.py 0.6.6's rule (`_Broker.next`): when the equity at a bar's close
//! is 0 or less, every working order is cancelled, every position is closed at that bar's
//! close (booked as trades, through [`Engine::flatten`]), the cash is set to 0 so the equity
//! is exactly 0, and the account is done: later orders are rejected and later bars only
//! extend the equity curve at 0, so the statistics run over every bar of the data as
//! backtesting.py's do (see `docs/execution-model.md` and `docs/metrics.md`).
//!
//! Bankruptcy is checked before the loss limit: a bar whose close crosses both (or a loss
//! limit of the whole capital) is a bankruptcy, and the equity is never reported below 0.

use rust_decimal::Decimal;

use super::config::{BarEvents, Candle};
use super::engine::Engine;

/// Why an order decided after the bankruptcy is rejected (`INVALID_ORDER`).
pub(super) const NO_ORDERS: &str =
    "the account is bankrupt (equity reached 0); no new orders are taken";

impl Engine {
    /// True once the equity reached 0 or less at a bar's close: everything was closed at
    /// that close, the equity is 0 and stays 0, and no order is taken any more.
    #[inline]
    pub fn bankrupt(&self) -> bool {
        self.bankrupt
    }

    /// A bar after the bankruptcy: equity stays 0 to the end of the data (backtesting.py's
    /// `_equity[i:] = 0`); the closes still count for Buy & Hold (nothing is held, so nothing
    /// is marked). Out of line, so `settle`'s hot path stays as small as it was.
    #[cold]
    #[inline(never)]
    pub(super) fn settle_after_bankruptcy(&mut self, time: i64, candles: &[Option<Candle>]) {
        let _ = self.books.mark(candles);
        self.record_close();
        self.curve.push(time, Decimal::ZERO);
    }

    /// The close of the bar at `time` left the equity at or below 0: cancel and close
    /// everything at that close, write the remaining debt off and stop.
    #[cold]
    pub(super) fn go_bankrupt(&mut self, time: i64, out: &mut BarEvents) {
        self.bankrupt = true;
        self.flatten(time, out);
        self.books.write_off_cash();
        self.equity = Decimal::ZERO;
        self.curve.set_last(Decimal::ZERO);
    }
}
