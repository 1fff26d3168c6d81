//! Exact shortcuts for `Decimal` work on the hot path, each returning what the general
//! `rust_decimal` routine returns, bit for bit (the property tests compare them):
//! [`floor_div`] for percent sizing, [`is_multiple`] for lot checks and [`to_f64`] for the
//! statistics.

use std::cmp::Ordering;

use rust_decimal::Decimal;

/// `d > 0`, from the sign and the zero test alone (no general comparison).
#[inline]
pub(crate) fn is_pos(d: Decimal) -> bool {
    !d.is_sign_negative() && !d.is_zero()
}

/// `d < 0`, likewise.
#[inline]
pub(crate) fn is_neg(d: Decimal) -> bool {
    d.is_sign_negative() && !d.is_zero()
}

/// `a.cmp(&b)`: decimals of one scale (the usual case on the hot path) compare as their
/// signed mantissas; others go to `rust_decimal`.
#[inline]
pub(crate) fn cmp(a: Decimal, b: Decimal) -> Ordering {
    if a.scale() == b.scale() {
        a.mantissa().cmp(&b.mantissa())
    } else {
        a.cmp(&b)
    }
}

/// `a.min(b)`, the same operand on ties (`a`), so the same bits.
#[inline]
pub(crate) fn min(a: Decimal, b: Decimal) -> Decimal {
    if cmp(a, b) == Ordering::Greater { b } else { a }
}

/// `a.max(b)`, the same operand on ties (`a`).
#[inline]
pub(crate) fn max(a: Decimal, b: Decimal) -> Decimal {
    if cmp(a, b) == Ordering::Less { b } else { a }
}

/// ⌊a / (b × lot)⌋ for positive operands, in integers: the same value as
/// `((a / b) / lot).floor()` in `Decimal`, without two long divisions. `None` (use the
/// divisions) when an operand is not positive, a product overflows, the lot is below 10⁻⁸, the
/// quotient reaches 10¹², or it lies within 10⁻¹² below an integer: `Decimal` division keeps
/// at least 27 significant digits (and 28 decimals), so outside those cases its rounding moves
/// the quotient by less than 10⁻¹⁴ and cannot change the floor.
pub(crate) fn floor_div(a: Decimal, b: Decimal, lot: Decimal) -> Option<Decimal> {
    const LIMIT: i128 = 1_000_000_000_000;
    if !is_pos(a) || !is_pos(b) || !is_pos(lot) || lot.scale() > 8 {
        return None;
    }
    // a / (b·lot) = (ma · 10^(sb+sl)) / (mb · ml · 10^sa), in 64-bit integers when the
    // products fit (the same q and r as the 128-bit version below, which takes the rest).
    if let (Some((ma, _, sa)), Some((mb, _, sb)), Some((ml, _, sl))) =
        (parts(a), parts(b), parts(lot))
    {
        let pow = |s: u32| POW10_U64.get(s as usize).copied();
        let num = pow(sb + sl).and_then(|p| ma.checked_mul(p));
        let den = pow(sa).and_then(|p| mb.checked_mul(ml)?.checked_mul(p));
        if let (Some(num), Some(den)) = (num, den) {
            let (q, r) = (num / den, num % den);
            let limit = LIMIT as u64;
            if q >= limit || (r != 0 && u128::from(den - r) * u128::from(limit) <= u128::from(den))
            {
                return None;
            }
            return Some(Decimal::from(q));
        }
    }
    let pow = |s: u32| POW10_I128.get(s as usize).copied();
    let num = a.mantissa().checked_mul(pow(b.scale() + lot.scale())?)?;
    let den = b
        .mantissa()
        .checked_mul(lot.mantissa())?
        .checked_mul(pow(a.scale())?)?;
    // Both positive; in 64 bits when they fit (a hardware division instead of a 128-bit one).
    let (q, r) = match (u64::try_from(num), u64::try_from(den)) {
        (Ok(n), Ok(d)) => (i128::from(n / d), i128::from(n % d)),
        _ => (num / den, num % den),
    };
    if q >= LIMIT || (r != 0 && (den - r).checked_mul(LIMIT)? <= den) {
        return None;
    }
    i64::try_from(q).ok().map(Decimal::from)
}

/// Whether `q` is a whole multiple of `step` (> 0): `q % step == 0`, in integers when the
/// mantissas allow it.
pub(crate) fn is_multiple(q: Decimal, step: Decimal) -> bool {
    // 64-bit mantissas (the common case): the same remainder without 128-bit division.
    if let (Some((qm, _, qs)), Some((sm, _, ss))) = (parts(q), parts(step)) {
        let r = if qs <= ss {
            POW10_U64
                .get((ss - qs) as usize)
                .and_then(|&p| qm.checked_mul(p))
                .map(|n| n % sm)
        } else {
            POW10_U64
                .get((qs - ss) as usize)
                .and_then(|&p| sm.checked_mul(p))
                .map(|d| qm % d)
        };
        if let Some(r) = r {
            return r == 0;
        }
    }
    let (qs, ss) = (q.scale(), step.scale());
    let (qm, sm) = (q.mantissa(), step.mantissa());
    let exact = if qs <= ss {
        10i128
            .checked_pow(ss - qs)
            .and_then(|p| qm.checked_mul(p))
            .and_then(|n| n.checked_rem(sm))
    } else {
        10i128
            .checked_pow(qs - ss)
            .and_then(|p| sm.checked_mul(p))
            .and_then(|d| qm.checked_rem(d))
    };
    match exact {
        Some(r) => r == 0,
        None => q.checked_rem(step).is_some_and(|r| r.is_zero()),
    }
}

/// `cash.saturating_add(qty.saturating_mul(price))`, the same bits, in 64-bit integers: `None`
/// (use `Decimal`) unless every operand is non-zero with a 64-bit mantissa, the product, the
/// operands aligned to the larger scale and their sum or difference fit in 64 bits, the scale
/// is at most 28 and the result is non-zero. In that domain `rust_decimal` returns the exact
/// product at the summed scale, and the exact sum at the larger scale with its sign.
#[cfg(test)]
pub(crate) fn mul_add(cash: Decimal, qty: Decimal, price: Decimal) -> Option<Decimal> {
    mul_add_parts(parts(cash)?, parts(qty)?, price)
}

/// A non-zero decimal with a 64-bit mantissa as (mantissa, negative, scale).
pub(crate) type Parts = (u64, bool, u32);

/// The [`Parts`] of `d`, or `None` when it is zero or its mantissa needs more than 64 bits.
#[inline]
pub(crate) fn parts(d: Decimal) -> Option<Parts> {
    let u = d.unpack();
    let m = (u64::from(u.mid) << 32) | u64::from(u.lo);
    (u.hi == 0 && m != 0).then_some((m, u.negative, u.scale))
}

/// [`mul_add`] with the cash and the quantity already split into [`Parts`] (they change only
/// on fills, while the price changes every bar).
#[inline]
pub(crate) fn mul_add_parts(cash: Parts, qty: Parts, price: Decimal) -> Option<Decimal> {
    let ((mc, nc, sc), (mq, nq, sq), (mp, np, sp)) = (cash, qty, parts(price)?);
    let (mv, nv, sv) = (mq.checked_mul(mp)?, nq != np, sq + sp);
    if sv > Decimal::MAX_SCALE {
        return None;
    }
    let scale = sc.max(sv);
    let up = |m: u64, s: u32| match scale - s {
        0 => Some(m),
        d => POW10_U64.get(d as usize).and_then(|&p| m.checked_mul(p)),
    };
    let (a, b) = (up(mc, sc)?, up(mv, sv)?);
    let (magnitude, negative) = if nc == nv {
        (a.checked_add(b)?, nc)
    } else if a >= b {
        (a - b, nc)
    } else {
        (b - a, !nc)
    };
    (magnitude != 0).then(|| {
        Decimal::from_parts(
            magnitude as u32,
            (magnitude >> 32) as u32,
            0,
            negative,
            scale,
        )
    })
}

/// `cash + qty × price` for a cash and a quantity that change only on fills and prices that
/// change every bar: [`mul_add_parts`] with the alignment done once per price scale, so a bar
/// costs one multiplication and one addition. Whenever it answers, the answer is
/// [`mul_add_parts`]'s (every intermediate then fits in 63 bits, inside that function's domain);
/// otherwise it asks that function.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MarkCache {
    cash: Parts,
    qty: Parts,
    /// The price scale `base`, `mult` and `scale` are for (`u32::MAX`: none yet); `ok` is false
    /// when they overflow for it.
    price_scale: u32,
    ok: bool,
    /// The result's scale: max(cash scale, qty scale + price scale).
    scale: u32,
    /// ±cash at `scale`.
    base: i64,
    /// ±qty × 10^(scale − qty scale − price scale).
    mult: i64,
}

impl MarkCache {
    pub fn new(cash: Parts, qty: Parts) -> Self {
        MarkCache {
            cash,
            qty,
            price_scale: u32::MAX,
            ok: false,
            scale: 0,
            base: 0,
            mult: 0,
        }
    }

    /// `mul_add_parts(cash, qty, price)`.
    #[inline]
    pub fn mark(&mut self, price: Decimal) -> Option<Decimal> {
        self.fast(price)
            .or_else(|| mul_add_parts(self.cash, self.qty, price))
    }

    #[inline]
    fn fast(&mut self, price: Decimal) -> Option<Decimal> {
        let (mp, np, sp) = parts(price)?;
        if sp != self.price_scale {
            self.prepare(sp);
        }
        if !self.ok {
            return None;
        }
        let mp = i64::try_from(mp).ok()?;
        let v = self
            .mult
            .checked_mul(if np { -mp } else { mp })?
            .checked_add(self.base)?;
        let m = v.unsigned_abs();
        (v != 0).then(|| Decimal::from_parts(m as u32, (m >> 32) as u32, 0, v < 0, self.scale))
    }

    #[cold]
    fn prepare(&mut self, sp: u32) {
        let ((mc, nc, sc), (mq, nq, sq)) = (self.cash, self.qty);
        self.price_scale = sp;
        self.ok = false;
        let sv = sq + sp;
        if sv > Decimal::MAX_SCALE {
            return;
        }
        let scale = sc.max(sv);
        let signed = |m: u64, negative: bool, s: u32| {
            let m = i64::try_from(m.checked_mul(*POW10_U64.get((scale - s) as usize)?)?).ok()?;
            Some(if negative { -m } else { m })
        };
        if let (Some(base), Some(mult)) = (signed(mc, nc, sc), signed(mq, nq, sv)) {
            (self.scale, self.base, self.mult, self.ok) = (scale, base, mult, true);
        }
    }
}

/// 10ⁿ for n ≤ 19.
const POW10_U64: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// 10ⁿ for n ≤ 38 (all that fit in an `i128`).
const POW10_I128: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// 10ⁿ as `f64`, exact for n ≤ 22 (so equal to `10f64.powi(n)`, whose intermediate products
/// are all exact powers of ten there).
const POW10: [f64; 20] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19,
];

/// `d.to_f64()`, the same bits, in 64-bit integers when the mantissa has at most 64 bits and
/// the scale is at most 19 (`rust_decimal` does the same steps in 128-bit integers).
#[inline]
pub(crate) fn to_f64(d: Decimal) -> f64 {
    let u = d.unpack();
    let m = (u64::from(u.mid) << 32) | u64::from(u.lo);
    match u.hi {
        0 => parts_to_f64(m, u.negative, u.scale),
        _ => None,
    }
    .unwrap_or_else(|| {
        let wide = (u128::from(u.hi) << 64) | u128::from(m);
        wide_to_f64(wide, u.negative, u.scale)
    })
}

/// `Decimal::to_f64` of ±`m` × 10^−`scale` (`m` < 2⁹⁶, `scale` ≤ 28), the same steps in the
/// same 128-bit integers and `f64` operations, without the power loop and the rounding call.
fn wide_to_f64(m: u128, negative: bool, scale: u32) -> f64 {
    let sign = |x: f64| if negative { -x } else { x };
    let Some(&precision) = POW10_I128.get(scale as usize) else {
        return f64::NAN;
    };
    if scale == 0 {
        return if m == 0 { 0.0 } else { sign(m as f64) };
    }
    let precision = precision as u128;
    let (integral, frac) = (m / precision, m % precision);
    let frac_f64 = frac as f64 / precision as f64;
    let integral = integral as f64;
    if frac_f64 == 0.0 {
        return sign(integral);
    }
    let value = integral + frac_f64;
    let round_to = 10f64.powi(scale as i32);
    sign(round_nonneg(value * round_to) / round_to)
}

/// `x.round()` for `x` ≥ 0 (and NaN), without the library call: below 2⁵², `x as i64` truncates
/// exactly and `x − trunc(x)` is exact, so comparing it with ½ rounds half away from zero.
#[inline]
pub(crate) fn round_nonneg(x: f64) -> f64 {
    if x.is_nan() || x >= 4_503_599_627_370_496.0 || x == 0.0 {
        // 2⁵² and above are integers already; NaN, infinities and ±0 as `round` has them.
        return x.round();
    }
    // Below 2⁵² the signed conversions are exact (and single instructions, unlike `u64`'s).
    let t = (x as i64) as f64;
    if x - t >= 0.5 { t + 1.0 } else { t }
}

/// The `f64` of the decimal ±`m` × 10^−`scale`, computed as `Decimal::to_f64` does; `None`
/// when the scale is above 19.
#[inline]
pub(crate) fn parts_to_f64(m: u64, negative: bool, scale: u32) -> Option<f64> {
    let p = *POW10.get(scale as usize)?;
    let sign = |x: f64| if negative { -x } else { x };
    if scale == 0 {
        // `as_i128() as f64`: rounding to nearest is symmetric, and −0 is the integer 0.
        return Some(if m == 0 { 0.0 } else { sign(m as f64) });
    }
    let precision = POW10_U64[scale as usize];
    let (integral, frac) = (m / precision, m % precision);
    let frac_f64 = frac as f64 / p;
    let integral = integral as f64;
    if frac_f64 == 0.0 {
        return Some(sign(integral));
    }
    let value = integral + frac_f64;
    Some(sign(round_nonneg(value * p) / p))
}
