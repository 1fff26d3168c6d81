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
//!
//! On a session with several symbols a built-in runs one signal per symbol and sizes each
//! entry with [`equal_share`]: the buying power left is split equally among the symbols that
//! hold no position, so every symbol trades with the same share of the account.

mod rsi_reversion;
mod sma_cross;

pub use rsi_reversion::RsiReversionSignal;
pub use sma_cross::{Cross, SmaCrossSignal};

use rust_decimal::Decimal;
use shared_models::trading::OrderSide;

/// The `percent_of_equity` of one entry when `flat` symbols (this one included) hold no
/// position: `1 / flat`, so that the entries of the flat symbols, filled one after the other,
/// each get the same part of the buying power left. Exactly [`Decimal::ONE`] for one symbol
/// (and for 0, which a caller only reaches by entering a symbol that already holds a position),
/// so a single-symbol session sizes exactly as a plain `percent_of_equity = 1` order.
pub fn equal_share(flat: usize) -> Decimal {
    if flat <= 1 {
        Decimal::ONE
    } else {
        Decimal::ONE / Decimal::from(flat)
    }
}

/// What a built-in strategy does at a bar's close. Both parts may be set: the position is
/// closed first, then the new one is entered, in one acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    /// Close the whole position of the symbol.
    pub close_position: bool,
    /// Then enter on this side: with 100 % of the buying power on a single symbol, an
    /// [`equal_share`] of it on several.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_shares_split_what_is_left_evenly() {
        assert_eq!(equal_share(1), Decimal::ONE);
        assert_eq!(equal_share(0), Decimal::ONE);
        assert_eq!(equal_share(2), Decimal::new(5, 1));
        assert_eq!(equal_share(4), Decimal::new(25, 2));
        // Three flat symbols entering at once: 1/3, then 1/2 of the rest, then all of it.
        let mut left = Decimal::from(90_000);
        for flat in (1..=3).rev() {
            let budget = left * equal_share(flat);
            assert!((budget - Decimal::from(30_000)).abs() < Decimal::new(1, 20));
            left -= budget;
        }
    }
}
