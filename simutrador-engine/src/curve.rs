//! The equity curve, stored compactly: usually 8 bytes a bar.
//!
//! Times are implicit while the bars are evenly spaced (`first + i × step`, the common case)
//! and listed only from the first irregular gap on. Each equity value is packed into one `i64`
//! (mantissa and scale, see [`pack`]) while it fits, which covers any realistic account; the
//! first value that does not fit turns the list into plain `Decimal`s. Either way the values
//! read back bit for bit (same mantissa, scale and sign), and the vectors grow by doubling, so
//! pushing allocates only O(log n) times over a run.

use std::borrow::Cow;

use rust_decimal::Decimal;
use shared_models::trading::EquityPoint;

use super::clock::DayClock;
use super::numeric;

/// Bits of a packed value that hold the scale (0..=28).
const SCALE_BITS: u32 = 5;
/// Packed mantissas have fewer than 58 bits.
const MANTISSA_LIMIT: u64 = 1 << 58;

/// `±mantissa << 5 | scale`, or `None` when the mantissa has 58 bits or more or the value is a
/// negative zero (which an integer mantissa cannot carry).
#[inline]
fn pack(d: Decimal) -> Option<i64> {
    let u = d.unpack();
    let m = (u64::from(u.mid) << 32) | u64::from(u.lo);
    if u.hi != 0 || m >= MANTISSA_LIMIT || (m == 0 && u.negative) {
        return None;
    }
    let m = m as i64; // < 2^58: exact
    let m = if u.negative { -m } else { m };
    Some((m << SCALE_BITS) | i64::from(u.scale))
}

#[inline]
fn unpack(v: i64) -> Decimal {
    let scale = (v & ((1 << SCALE_BITS) - 1)) as u32;
    let m = (v >> SCALE_BITS).unsigned_abs();
    Decimal::from_parts(
        m as u32,
        (m >> 32) as u32,
        0,
        v < 0,
        scale.min(Decimal::MAX_SCALE),
    )
}

/// Bar times: implicit while evenly spaced, listed after the first irregular step.
#[derive(Debug, Clone, Default)]
struct Times {
    first: i64,
    step: i64,
    len: usize,
    /// `first + len × step`, the next time while they are evenly spaced.
    next: i64,
    /// Every time, once they stopped being evenly spaced.
    listed: Option<Vec<i64>>,
    /// Points reserved ahead, applied when the times become listed.
    reserved: usize,
}

impl Times {
    fn get(&self, i: usize) -> i64 {
        match &self.listed {
            Some(v) => v[i],
            None => self.first.wrapping_add(self.step.wrapping_mul(i as i64)),
        }
    }

    #[inline]
    fn push(&mut self, t: i64) {
        if self.listed.is_none() && self.len >= 2 && t == self.next {
            self.next = t.wrapping_add(self.step);
            self.len += 1;
        } else {
            self.push_slow(t);
        }
    }

    /// The first two times, an irregular one, and every time once listed.
    #[cold]
    fn push_slow(&mut self, t: i64) {
        if let Some(v) = &mut self.listed {
            v.push(t);
        } else if self.len == 0 {
            self.first = t;
        } else if self.len == 1 {
            self.step = t.wrapping_sub(self.first);
            self.next = t.wrapping_add(self.step);
        } else {
            let mut v = Vec::with_capacity(self.reserved.max(self.len + 1));
            v.extend((0..self.len).map(|i| self.get(i)));
            v.push(t);
            self.listed = Some(v);
        }
        self.len += 1;
    }
}

/// Equity values: packed while they fit, full `Decimal`s after.
#[derive(Debug, Clone)]
enum Values {
    Packed(Vec<i64>),
    Full(Vec<Decimal>),
}

/// Equity at every settled bar's close.
#[derive(Debug, Clone)]
pub(crate) struct EquityCurve {
    times: Times,
    values: Values,
}

impl Default for EquityCurve {
    fn default() -> Self {
        EquityCurve {
            times: Times::default(),
            values: Values::Packed(Vec::new()),
        }
    }
}

impl EquityCurve {
    /// Appends one point.
    #[inline]
    pub fn push(&mut self, time: i64, equity: Decimal) {
        self.times.push(time);
        match (&mut self.values, pack(equity)) {
            (Values::Packed(v), Some(p)) => v.push(p),
            _ => self.push_full(equity),
        }
    }

    /// A value that does not pack, or any value once the list holds full `Decimal`s.
    #[cold]
    fn push_full(&mut self, equity: Decimal) {
        match &mut self.values {
            Values::Packed(v) => {
                let mut full = Vec::with_capacity(v.capacity().max(v.len() + 1));
                full.extend(v.iter().map(|&p| unpack(p)));
                full.push(equity);
                self.values = Values::Full(full);
            }
            Values::Full(v) => v.push(equity),
        }
    }

    /// Reserves room for `n` more points.
    pub fn reserve(&mut self, n: usize) {
        self.times.reserved = self.times.len + n;
        if let Some(v) = &mut self.times.listed {
            v.reserve(n);
        }
        match &mut self.values {
            Values::Packed(v) => v.reserve(n),
            Values::Full(v) => v.reserve(n),
        }
    }

    /// Replaces the equity of the last point (used by `flatten`); no-op when empty.
    pub fn set_last(&mut self, equity: Decimal) {
        let Some(time) = self.last_time() else {
            return;
        };
        match &mut self.values {
            Values::Packed(v) => {
                v.pop();
            }
            Values::Full(v) => {
                v.pop();
            }
        }
        // Re-push the value only: the time stays.
        self.times.len -= 1;
        self.times.next = time;
        if let Some(v) = &mut self.times.listed {
            v.pop();
        }
        self.push(time, equity);
    }

    /// Time of the last point.
    pub fn last_time(&self) -> Option<i64> {
        self.times.len.checked_sub(1).map(|i| self.times.get(i))
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.times.len
    }

    /// Bar times (built when they are implicit).
    pub fn times(&self) -> Cow<'_, [i64]> {
        match &self.times.listed {
            Some(v) => Cow::Borrowed(v),
            None => Cow::Owned((0..self.len()).map(|i| self.times.get(i)).collect()),
        }
    }

    /// `(first, step)` while the times are implicit (`first + i × step`; `step` is 0 for
    /// fewer than two points); `None` once they are listed.
    pub fn spacing(&self) -> Option<(i64, i64)> {
        self.times
            .listed
            .is_none()
            .then_some((self.times.first, self.times.step))
    }

    /// Equity values, parallel to [`EquityCurve::times`] (unpacked when packed).
    pub fn values(&self) -> Cow<'_, [Decimal]> {
        match &self.values {
            Values::Packed(v) => Cow::Owned(v.iter().map(|&p| unpack(p)).collect()),
            Values::Full(v) => Cow::Borrowed(v),
        }
    }

    /// Equity values as `f64`, each exactly `Decimal::to_f64` of the value (see
    /// [`numeric::to_f64`]); packed values are converted without unpacking.
    pub fn values_f64(&self) -> Vec<f64> {
        match &self.values {
            Values::Packed(v) => v
                .iter()
                .map(|&p| {
                    let scale = (p & ((1 << SCALE_BITS) - 1)) as u32;
                    let m = (p >> SCALE_BITS).unsigned_abs();
                    numeric::parts_to_f64(m, p < 0, scale)
                        .unwrap_or_else(|| numeric::to_f64(unpack(p)))
                })
                .collect(),
            Values::Full(v) => v.iter().map(|&d| numeric::to_f64(d)).collect(),
        }
    }

    /// The last equity value.
    pub fn last_value(&self) -> Option<Decimal> {
        match &self.values {
            Values::Packed(v) => v.last().map(|&p| unpack(p)),
            Values::Full(v) => v.last().copied(),
        }
    }

    /// The largest equity value; of equal maxima the last (as `Iterator::max` picks it, which
    /// matters for its scale). Packed values of one scale compare as integers.
    pub fn peak(&self) -> Option<Decimal> {
        match &self.values {
            Values::Packed(v) => {
                let mut it = v.iter().copied();
                let mut best = it.next()?;
                let scale_of = |p: i64| p & ((1 << SCALE_BITS) - 1);
                for p in it {
                    let ge = if scale_of(p) == scale_of(best) {
                        // Same scale: (m << 5) | scale orders like m.
                        p >= best
                    } else {
                        unpack(p) >= unpack(best)
                    };
                    if ge {
                        best = p;
                    }
                }
                Some(unpack(best))
            }
            Values::Full(v) => v.iter().copied().max(),
        }
    }

    /// Bytes held by the vectors (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        let times = self.times.listed.as_ref().map_or(0, Vec::capacity);
        let values = match &self.values {
            Values::Packed(v) => v.capacity() * std::mem::size_of::<i64>(),
            Values::Full(v) => v.capacity() * std::mem::size_of::<Decimal>(),
        };
        times * std::mem::size_of::<i64>() + values
    }

    /// The wire form, without the drawdown columns (0 and `None`; `Engine::results` fills
    /// them in).
    pub fn to_points(&self) -> Vec<EquityPoint> {
        let mut clock = DayClock::default();
        let mut time = |i: usize| clock.at(self.times.get(i));
        match &self.values {
            Values::Packed(v) => v
                .iter()
                .enumerate()
                .map(|(i, &p)| EquityPoint {
                    time: time(i),
                    equity: unpack(p),
                    drawdown_pct: 0.0,
                    drawdown_duration: None,
                })
                .collect(),
            Values::Full(v) => v
                .iter()
                .enumerate()
                .map(|(i, &equity)| EquityPoint {
                    time: time(i),
                    equity,
                    drawdown_pct: 0.0,
                    drawdown_duration: None,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(d: Decimal) -> [u8; 16] {
        d.serialize()
    }

    #[test]
    fn packing_round_trips_bit_for_bit_or_declines() {
        let m58 = (1i128 << 58) - 1;
        assert!(pack(Decimal::from_i128_with_scale(m58, 0)).is_some());
        let cases = [
            Decimal::ZERO,
            Decimal::new(0, 2),
            Decimal::new(-1, 0),
            Decimal::new(12_517_349, 2),
            Decimal::new(100_000, 0),
            Decimal::new(-5, 28),
            Decimal::from_i128_with_scale(m58, 3),
            Decimal::from_i128_with_scale(-m58, 7),
            Decimal::from_i128_with_scale(-m58 - 1, 7),
            Decimal::from_i128_with_scale(m58 + 1, 0),
            Decimal::MAX,
            Decimal::MIN,
            -Decimal::new(0, 3), // negative zero
        ];
        for d in cases {
            match pack(d) {
                Some(p) => assert_eq!(bits(unpack(p)), bits(d), "{d}"),
                None => assert!(
                    d.mantissa().abs() > m58 || (d.is_zero() && d.is_sign_negative()),
                    "{d} should pack"
                ),
            }
        }
    }

    #[test]
    fn irregular_times_and_unpackable_values_read_back_exactly() {
        let mut c = EquityCurve::default();
        c.reserve(4);
        let points = [
            (60, Decimal::new(1, 0)),
            (120, Decimal::new(15, 1)),
            (180, Decimal::MAX),
            (200, -Decimal::new(0, 2)),
            (260, Decimal::new(7, 3)),
        ];
        for (t, v) in points {
            c.push(t, v);
        }
        c.set_last(Decimal::new(8, 3));
        assert_eq!(c.times().as_ref(), [60, 120, 180, 200, 260]);
        let want = [
            Decimal::new(1, 0),
            Decimal::new(15, 1),
            Decimal::MAX,
            -Decimal::new(0, 2),
            Decimal::new(8, 3),
        ];
        let got: Vec<[u8; 16]> = c.values().iter().map(|&d| bits(d)).collect();
        let want: Vec<[u8; 16]> = want.iter().map(|&d| bits(d)).collect();
        assert_eq!(got, want);
        assert_eq!(c.last_time(), Some(260));
        assert_eq!(c.last_value().map(bits), Some(bits(Decimal::new(8, 3))));
        assert_eq!(c.peak().map(bits), Some(bits(Decimal::MAX)));
        let f: Vec<u64> = c.values_f64().iter().map(|x| x.to_bits()).collect();
        let want: Vec<u64> = c
            .values()
            .iter()
            .map(|d| numeric::to_f64(*d).to_bits())
            .collect();
        assert_eq!(f, want);
        assert_eq!(c.to_points().len(), 5);
    }

    #[test]
    fn packed_peak_and_f64_match_the_decimals() {
        use rust_decimal::prelude::ToPrimitive;
        // Equal maxima in different scales: the last one is the peak.
        let values = [
            Decimal::new(-5, 1),
            Decimal::new(100, 0),
            Decimal::new(10_000, 2),
            Decimal::new(99_999, 3),
            Decimal::new(1_000, 1),
            Decimal::new(123_456_789, 7),
            Decimal::new(-7, 0),
        ];
        let mut c = EquityCurve::default();
        for (i, &v) in values.iter().enumerate() {
            c.push(i as i64 * 60, v);
        }
        let want = values.iter().copied().max().map(bits);
        assert_eq!(c.peak().map(bits), want);
        assert_eq!(bits(Decimal::new(1_000, 1)), want.unwrap_or_default());
        for (x, d) in c.values_f64().iter().zip(values) {
            assert_eq!(x.to_bits(), d.to_f64().unwrap_or(f64::NAN).to_bits(), "{d}");
        }
    }

    #[test]
    fn evenly_spaced_times_are_implicit() {
        let mut c = EquityCurve::default();
        for i in 0..10 {
            c.push(1_000 + i * 60, Decimal::new(i, 2));
        }
        assert_eq!(c.heap_bytes(), c.len().next_power_of_two() * 8);
        assert_eq!(c.times().len(), 10);
        assert_eq!(c.last_time(), Some(1_540));
    }
}
