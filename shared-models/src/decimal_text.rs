//! Fast exact text for `Decimal`s, for the long columns of `results` (a million equity values).
//!
//! [`write`] gives exactly the text of `Decimal`'s `Display` (the wire form: `"100120.50"`,
//! `"-0.005"`) and [`parse`] reads it back to the same bits (mantissa, scale and sign), each
//! with integer arithmetic on a `u64` mantissa; anything outside that fast path (mantissas of
//! 20 digits or more, negative zero, exponents, `+` signs) falls back to `rust_decimal`'s own
//! code. The module `vec` is a `serde(with)` adapter for `Vec<Decimal>` using both.

use rust_decimal::Decimal;
use std::str::FromStr;

/// Append the text of `d` (the same as `d.to_string()`).
pub fn write(out: &mut String, d: Decimal) {
    if !write_to(out, d) {
        out.push_str(&d.to_string());
    }
}

/// Write the text of `d` to `out` with the fast path; false (having written nothing) when `d`
/// is outside it and the caller must use `Display`.
fn write_to<W: std::fmt::Write>(out: &mut W, d: Decimal) -> bool {
    let u = d.unpack();
    if u.hi != 0 || (u.negative && u.lo == 0 && u.mid == 0) {
        return false;
    }
    let m = (u64::from(u.mid) << 32) | u64::from(u.lo);
    let scale = u.scale as usize;
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(m);
    let sign = if u.negative { "-" } else { "" };
    let written = if scale == 0 {
        out.write_str(sign).and_then(|()| out.write_str(digits))
    } else if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.write_str(sign)
            .and_then(|()| out.write_str(int))
            .and_then(|()| out.write_char('.'))
            .and_then(|()| out.write_str(frac))
    } else {
        const ZEROS: &str = "0000000000000000000000000000";
        out.write_str(sign)
            .and_then(|()| out.write_str("0."))
            .and_then(|()| out.write_str(&ZEROS[..scale - digits.len()]))
            .and_then(|()| out.write_str(digits))
    };
    written.is_ok()
}

/// A decimal's text on the stack (at most 64 bytes; the fast path's texts are shorter).
struct StackText {
    bytes: [u8; 64],
    len: usize,
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl StackText {
    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so the bytes are UTF-8.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

/// Read a decimal's text exactly as `Decimal::from_str` does.
pub fn parse(text: &str) -> Result<Decimal, rust_decimal::Error> {
    fast(text.as_bytes()).map_or_else(|| Decimal::from_str(text), Ok)
}

/// `-?digits(.digits)?` with at most 19 digits in all and not negative zero.
fn fast(b: &[u8]) -> Option<Decimal> {
    let (negative, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let dot = digits.iter().position(|&c| c == b'.');
    let count = digits.len() - usize::from(dot.is_some());
    let scale = match dot {
        None => 0,
        Some(i) if i > 0 && i + 1 < digits.len() => digits.len() - i - 1,
        Some(_) => return None,
    };
    if count == 0 || count > 19 || scale > Decimal::MAX_SCALE as usize {
        return None;
    }
    let mut m: u64 = 0;
    for (i, &c) in digits.iter().enumerate() {
        let d = c.wrapping_sub(b'0');
        if d < 10 {
            m = m * 10 + u64::from(d);
        } else if Some(i) != dot {
            return None;
        }
    }
    if negative && m == 0 {
        return None;
    }
    Some(Decimal::from_parts(
        m as u32,
        (m >> 32) as u32,
        0,
        negative,
        scale as u32,
    ))
}

/// `#[serde(with = "crate::decimal_text::one")]` for a `Decimal` that travels often (the fields
/// of every fill): the same string as `Decimal`'s own serde, written and read with the fast
/// path; reading accepts what `Decimal`'s serde accepts (strings, scientific strings, numbers).
pub mod one {
    use rust_decimal::Decimal;
    use rust_decimal::prelude::FromPrimitive;
    use serde::de::{self, Unexpected, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;
    use std::str::FromStr;

    /// Serialize as a string (built on the stack: one of these is in every fill).
    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        let mut text = super::StackText {
            bytes: [0; 64],
            len: 0,
        };
        if super::write_to(&mut text, *d) {
            s.serialize_str(text.as_str())
        } else {
            s.serialize_str(&d.to_string())
        }
    }

    /// Deserialize a decimal string (or number).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(OneVisitor)
    }

    struct OneVisitor;

    impl Visitor<'_> for OneVisitor {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a Decimal type representing a fixed-point number")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            super::parse(v)
                .or_else(|_| Decimal::from_scientific(v))
                .map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Decimal::from_i64(v).ok_or_else(|| E::invalid_value(Unexpected::Signed(v), &self))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Decimal::from_u64(v).ok_or_else(|| E::invalid_value(Unexpected::Unsigned(v), &self))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
            Decimal::from_str(&v.to_string())
                .map_err(|_| E::invalid_value(Unexpected::Float(v), &self))
        }
    }
}

/// `#[serde(default, with = "crate::decimal_text::option", skip_serializing_if =
/// "Option::is_none")]` for an optional `Decimal` that travels often (the prices and sizes of
/// every order): as [`one`], with `null` for `None`.
pub mod option {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize `Some` as [`super::one`] does, `None` as `null`.
    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::one::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    /// Deserialize `null` or a decimal string (or number).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        Ok(Option::<One>::deserialize(d)?.map(|One(d)| d))
    }

    struct One(Decimal);

    impl<'de> Deserialize<'de> for One {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            super::one::deserialize(d).map(One)
        }
    }
}

/// `#[serde(with = "crate::decimal_text::vec")]` for `Vec<Decimal>`: strings on the wire, as
/// `Decimal`'s own serde gives, written and read with the fast path (numbers are accepted too).
pub mod vec {
    use rust_decimal::Decimal;
    use serde::de::{self, SeqAccess, Visitor};
    use serde::ser::SerializeSeq;
    use serde::{Deserializer, Serializer};
    use std::fmt;

    /// Serialize as an array of strings.
    pub fn serialize<S: Serializer>(values: &[Decimal], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(values.len()))?;
        let mut text = String::with_capacity(32);
        for &d in values {
            text.clear();
            super::write(&mut text, d);
            seq.serialize_element(text.as_str())?;
        }
        seq.end()
    }

    /// Deserialize an array of decimal strings (or numbers).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Decimal>, D::Error> {
        d.deserialize_seq(VecVisitor)
    }

    struct VecVisitor;

    impl<'de> Visitor<'de> for VecVisitor {
        type Value = Vec<Decimal>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of decimals")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
            while let Some(Text(d)) = seq.next_element()? {
                out.push(d);
            }
            Ok(out)
        }
    }

    /// One element: a decimal string, or a number.
    struct Text(Decimal);

    impl<'de> serde::Deserialize<'de> for Text {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(TextVisitor).map(Text)
        }
    }

    struct TextVisitor;

    impl<'de> Visitor<'de> for TextVisitor {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal as a string")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            super::parse(v).map_err(|e| E::custom(format!("invalid decimal '{v}': {e}")))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_rng::Rng;

    fn text(d: Decimal) -> String {
        let mut s = String::new();
        write(&mut s, d);
        s
    }

    #[test]
    fn one_reads_and_writes_what_decimal_serde_does() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Fast(#[serde(with = "super::one")] Decimal);
        let values = [
            Decimal::ZERO,
            Decimal::new(-5, 3),
            Decimal::new(10_012_000, 2),
            Decimal::MAX,
            Decimal::MIN,
            -Decimal::ZERO,
        ];
        for d in values {
            let ours = serde_json::to_string(&Fast(d)).unwrap();
            assert_eq!(ours, serde_json::to_string(&d).unwrap());
            let back: Fast = serde_json::from_str(&ours).unwrap();
            let theirs: Decimal = serde_json::from_str(&ours).unwrap();
            assert_eq!(back.0.serialize(), theirs.serialize(), "{d:?}");
        }
        for text in [
            r#""1e3""#,
            r#""-2.5E-2""#,
            "12",
            "-7",
            "1.25",
            r#"" 1""#,
            r#""x""#,
            "true",
            "1e400",
        ] {
            let ours = serde_json::from_str::<Fast>(text)
                .map(|f| f.0.serialize())
                .ok();
            let theirs = serde_json::from_str::<Decimal>(text)
                .map(|d| d.serialize())
                .ok();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn option_reads_and_writes_what_decimal_serde_does() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Fast {
            #[serde(
                default,
                with = "super::option",
                skip_serializing_if = "Option::is_none"
            )]
            d: Option<Decimal>,
        }
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Plain {
            #[serde(default, skip_serializing_if = "Option::is_none")]
            d: Option<Decimal>,
        }
        for d in [None, Some(Decimal::new(-5, 3)), Some(Decimal::MAX)] {
            let ours = serde_json::to_string(&Fast { d }).unwrap();
            assert_eq!(ours, serde_json::to_string(&Plain { d }).unwrap());
        }
        for text in [
            r#"{}"#,
            r#"{"d":null}"#,
            r#"{"d":"1.50"}"#,
            r#"{"d":2}"#,
            r#"{"d":"x"}"#,
            r#"{"d":[]}"#,
        ] {
            let ours = serde_json::from_str::<Fast>(text).map(|f| f.d).ok();
            let theirs = serde_json::from_str::<Plain>(text).map(|p| p.d).ok();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn same_text_and_bits_as_rust_decimal() {
        let mut rng = Rng(7);
        let mut cases = vec![
            Decimal::ZERO,
            Decimal::new(5, 3),
            Decimal::new(-5, 3),
            Decimal::new(100_000, 0),
            Decimal::new(10_012_000, 2),
            Decimal::new(0, 4),
            Decimal::MAX,
            Decimal::MIN,
            -Decimal::ZERO,
            Decimal::new(i64::MAX, 28),
        ];
        for _ in 0..100_000 {
            let r = rng.next();
            let m = match r % 3 {
                0 => (rng.next() % 2_000) as i64 - 1_000,
                1 => (rng.next() % 20_000_000_000) as i64 - 10_000_000_000,
                _ => rng.next() as i64,
            };
            cases.push(Decimal::new(m, (rng.next() % 29) as u32));
        }
        for d in cases {
            let t = text(d);
            assert_eq!(t, d.to_string());
            let back = parse(&t).unwrap();
            assert_eq!(
                back.serialize(),
                Decimal::from_str(&t).unwrap().serialize(),
                "{t}"
            );
            if !(d.is_zero() && d.is_sign_negative()) {
                // (Negative zero reads back as zero, with rust_decimal's parser too.)
                assert_eq!(back.serialize(), d.serialize(), "{t}");
            }
        }
    }

    #[test]
    fn odd_text_falls_back_or_fails_like_rust_decimal() {
        for t in [
            "",
            "-",
            ".5",
            "5.",
            "1e5",
            "+1",
            "1.2.3",
            "12345678901234567890123",
            "-0",
        ] {
            assert_eq!(
                parse(t).map(|d| d.serialize()),
                Decimal::from_str(t).map(|d| d.serialize()),
                "{t}"
            );
        }
    }
}
