//! Tests of `numeric.rs`: every shortcut against the `rust_decimal` / `f64` routine it replaces,
//! bit for bit, on random values.

use super::numeric::{
    MarkCache, cmp, is_multiple, is_neg, is_pos, max, min, mul_add, parts, round_nonneg, to_f64,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::cmp::Ordering;

use shared_models::test_rng::xorshift as rng;

#[test]
fn to_f64_is_bit_identical() {
    let mut s = 0x1234_5678_9abc_def1u64;
    let mut cases = vec![
        Decimal::ZERO,
        -Decimal::new(0, 3),
        Decimal::MAX,
        Decimal::MIN,
        Decimal::new(1, 28),
        Decimal::new(12_517_349, 2),
        Decimal::new(-12_517_349, 2),
        Decimal::from_i128_with_scale(u64::MAX as i128, 19),
        Decimal::from_i128_with_scale(u64::MAX as i128 + 1, 19),
    ];
    for _ in 0..200_000 {
        let bits = 1 + rng(&mut s) % 96;
        let m = (i128::from(rng(&mut s)) << 64 | i128::from(rng(&mut s))) >> (128 - bits);
        let scale = (rng(&mut s) % 29) as u32;
        let m = m.clamp(-(1i128 << 96) + 1, (1i128 << 96) - 1);
        cases.push(Decimal::from_i128_with_scale(m, scale));
    }
    for d in cases {
        let want = d.to_f64().unwrap_or(f64::NAN);
        assert_eq!(to_f64(d).to_bits(), want.to_bits(), "{d:?}");
    }
}

/// A random decimal with a mantissa of up to 64 bits (often small, zero or shared).
fn small(s: &mut u64) -> Decimal {
    let bits = rng(s) % 65;
    let m = if bits == 0 { 0 } else { rng(s) >> (64 - bits) };
    let m = if rng(s).is_multiple_of(2) {
        i128::from(m)
    } else {
        -i128::from(m)
    };
    Decimal::from_i128_with_scale(m, (rng(s) % 30).min(28) as u32)
}

#[test]
fn mul_add_is_bit_identical() {
    let mut s = 0x5555_aaaa_1234_9876u64;
    let mut hits = 0;
    for i in 0..400_000 {
        let (cash, qty, price) = (small(&mut s), small(&mut s), small(&mut s));
        // Equal magnitudes now and then, so sums cancel.
        let cash = if i % 7 == 0 {
            -qty.saturating_mul(price)
        } else {
            cash
        };
        let want = cash.saturating_add(qty.saturating_mul(price));
        if let Some(got) = mul_add(cash, qty, price) {
            hits += 1;
            assert_eq!(
                got.serialize(),
                want.serialize(),
                "{cash} + {qty} × {price}"
            );
        }
    }
    assert!(hits > 20_000, "{hits}");
    let d = |m: i64, s: u32| Decimal::new(m, s);
    for (c, q, p) in [
        (d(10_000_000, 2), d(120, 0), d(100_012, 2)),
        (d(-5, 0), d(-3, 1), d(7, 3)),
        (d(12_000_000, 2), d(-120, 0), d(100_001, 2)),
    ] {
        let want = c.saturating_add(q.saturating_mul(p));
        assert_eq!(
            mul_add(c, q, p).map(|x| x.serialize()),
            Some(want.serialize())
        );
    }
}

#[test]
fn comparisons_match_decimal() {
    let mut s = 0x2468_ace0_1357_9bdfu64;
    for i in 0..200_000 {
        let a = small(&mut s);
        // Same scale half of the time, equal values (of other scales) now and then.
        let b = match i % 4 {
            0 | 1 => Decimal::from_i128_with_scale(small(&mut s).mantissa(), a.scale()),
            2 => a.checked_mul(Decimal::new(10, 1)).unwrap_or(a),
            _ => small(&mut s),
        };
        assert_eq!(cmp(a, b), a.cmp(&b), "{a:?} {b:?}");
        assert_eq!(min(a, b).serialize(), a.min(b).serialize(), "{a:?} {b:?}");
        assert_eq!(max(a, b).serialize(), a.max(b).serialize(), "{a:?} {b:?}");
        assert_eq!(is_pos(a), a > Decimal::ZERO, "{a:?}");
        assert_eq!(is_neg(a), a < Decimal::ZERO, "{a:?}");
    }
    let nz = -Decimal::new(0, 3);
    assert!(!is_pos(nz) && !is_neg(nz));
    assert_eq!(cmp(nz, Decimal::new(0, 3)), Ordering::Equal);
}

#[test]
fn round_nonneg_matches_round() {
    let mut s = 0x0bad_cafe_f00d_1234u64;
    let mut cases = vec![
        0.0,
        0.5,
        1.5,
        2.5,
        0.49999999999999994,
        4_503_599_627_370_495.5,
    ];
    cases.extend([
        f64::MAX,
        f64::INFINITY,
        f64::MIN_POSITIVE,
        1e300,
        9.007_199_254_740_993e15,
    ]);
    for _ in 0..300_000 {
        let bits = rng(&mut s);
        // Any non-negative double, and halves and near-halves of moderate size.
        cases.push(f64::from_bits(bits >> 1));
        let k = (rng(&mut s) % (1 << 40)) as f64;
        cases.push(k + 0.5);
        cases.push(f64::from_bits((k + 0.5).to_bits() - 1));
        cases.push((rng(&mut s) % 1_000_000_000) as f64 / 1_000.0);
    }
    for x in cases {
        assert_eq!(round_nonneg(x).to_bits(), x.round().to_bits(), "{x:e}");
    }
    assert!(round_nonneg(f64::NAN).is_nan());
}

#[test]
fn mark_cache_matches_mul_add() {
    let mut s = 0x1357_2468_9bdf_ace0u64;
    let mut hits = 0;
    for _ in 0..2_000 {
        let (cash, qty) = (small(&mut s), small(&mut s));
        let (Some(c), Some(q)) = (parts(cash), parts(qty)) else {
            continue;
        };
        let mut cache = MarkCache::new(c, q);
        for i in 0..100 {
            // Prices of a few scales, small often enough that the fast path answers.
            let price = if i % 3 == 0 {
                small(&mut s)
            } else {
                Decimal::new((rng(&mut s) % 1_000_000) as i64, (rng(&mut s) % 3) as u32)
            };
            let want = mul_add(cash, qty, price).map(|d| d.serialize());
            let got = cache.mark(price).map(|d| d.serialize());
            hits += usize::from(got.is_some());
            assert_eq!(got, want, "{cash} + {qty} × {price}");
        }
    }
    assert!(hits > 10_000, "{hits}");
}

#[test]
fn is_multiple_matches_remainder() {
    let mut s = 0x0fed_cba9_8765_4321u64;
    for _ in 0..100_000 {
        let q = Decimal::new(
            (rng(&mut s) % 2_000_000) as i64 - 1_000_000,
            (rng(&mut s) % 9) as u32,
        );
        let step = Decimal::new((rng(&mut s) % 1000) as i64 + 1, (rng(&mut s) % 9) as u32);
        let want = q.checked_rem(step).is_some_and(|r| r.is_zero());
        assert_eq!(is_multiple(q, step), want, "{q} % {step}");
    }
    for _ in 0..100_000 {
        let (q, step) = (small(&mut s), small(&mut s).abs());
        if step.is_zero() {
            continue;
        }
        let want = q.checked_rem(step).is_some_and(|r| r.is_zero());
        assert_eq!(is_multiple(q, step), want, "{q} % {step}");
    }
    assert!(is_multiple(Decimal::MAX, Decimal::ONE));
    assert!(!is_multiple(Decimal::MAX, Decimal::new(2, 0)));
    assert!(is_multiple(Decimal::new(3, 0), Decimal::new(1, 28)));
}
