//! The pure decision rules of the built-in strategies: given a bar's close and the position
//! held, what to do. No orders, no account, no I/O — the client's `Strategy` implementations
//! (and anything else that runs a built-in, such as a hosted run in the daemon) turn a
//! [`Decision`] into orders.
//!
//! - [`SmaCrossSignal`] — `sma-cross`: golden and death crosses of two exact moving averages.
//! - [`RsiReversionSignal`] — `rsi-reversion`: Wilder's RSI crossing up through two levels.
//!
//! Each signal is primed with warm-up closes ([`SmaCrossSignal::prime`]) and then fed one close
//! per bar; a decision is taken at the bar's close and (in the execution model) filled at the
//! next open.

mod rsi_reversion;
mod sma_cross;

pub use rsi_reversion::RsiReversionSignal;
pub use sma_cross::{Cross, SmaCrossSignal};

use shared_models::trading::OrderSide;

/// What a built-in strategy does at a bar's close. Both parts may be set: the position is
/// closed first, then the new one is entered, in one acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    /// Close the whole position of the symbol.
    pub close_position: bool,
    /// Then enter with 100 % of equity on this side.
    pub enter: Option<OrderSide>,
}

impl Decision {
    /// Nothing to do.
    pub const NONE: Decision = Decision {
        close_position: false,
        enter: None,
    };

    /// True when the decision trades.
    pub fn trades(&self) -> bool {
        self.close_position || self.enter.is_some()
    }
}
