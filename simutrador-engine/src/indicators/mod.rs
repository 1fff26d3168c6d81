//! Rolling indicators for strategies: O(1) per update, no allocation after construction
//! (every window is a fixed ring buffer allocated once).
//!
//! | indicator | values | exactness |
//! |---|---|---|
//! | [`Sma`] | `Decimal` | exact running sum; [`Sma::compare`] compares two averages exactly |
//! | [`Ema`] | `f64` | seeded with the SMA of the first `period` values, then `α = 2 / (period + 1)` |
//! | [`Rsi`] | `f64` | Wilder's smoothing, seeded with plain means of the first `period` changes |
//! | [`RollingMax`] / [`RollingMin`] | any `Copy + PartialOrd` | exact (monotonic deque) |
//!
//! Each `update` returns the value once the window is full (`None` before), and `value()`
//! returns the latest one.

mod ema;
mod extremes;
mod ring;
mod rsi;
mod sma;

pub use ema::Ema;
pub use extremes::{RollingMax, RollingMin};
pub use rsi::Rsi;
pub use sma::Sma;
