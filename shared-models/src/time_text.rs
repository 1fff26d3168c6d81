//! Fast reading of wire times (`#[serde(with = "crate::time_text")]` on `DateTime<Utc>`
//! fields that travel often, like the `sim_time` of every fill).
//!
//! The daemon writes times as `YYYY-MM-DDTHH:MM:SSZ`; [`parse`] reads exactly that shape with
//! integer arithmetic (chrono's general RFC 3339 parser costs ~1,700 instructions a time) and
//! hands every other spelling (offsets, fractions, lower-case `t`…) to chrono, so it accepts
//! and returns exactly what chrono's own serde does. [`serialize`] writes whole-second times
//! the same way with integer arithmetic and gives everything else to chrono.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::de::{self, Visitor};
use serde::{Deserializer, Serialize, Serializer};
use std::fmt;

/// Read an RFC 3339 time as chrono's serde for `DateTime<Utc>` does.
pub fn parse(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match fast(text.as_bytes()) {
        Some(t) => Ok(t),
        None => text
            .parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` only.
fn fast(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, s) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if s > 59 {
        return None; // leap seconds: chrono's rules
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, mo, d)?;
    Some(date.and_hms_opt(h, mi, s)?.and_utc())
}

/// Serialize as chrono does (`YYYY-MM-DDTHH:MM:SSZ` for whole seconds in years 0..=9999,
/// written with integer arithmetic; chrono's `Display` writes it a character at a time, about
/// 1,000 instructions; anything else goes to chrono).
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    match format_fast(t) {
        Some(buf) => match std::str::from_utf8(&buf) {
            Ok(text) => s.serialize_str(text),
            Err(_) => t.serialize(s),
        },
        None => t.serialize(s),
    }
}

/// The text of a whole-second time in years 0..=9999, or `None` for chrono to write.
pub(crate) fn format_fast(t: &DateTime<Utc>) -> Option<[u8; 20]> {
    use chrono::{Datelike, Timelike};
    if t.nanosecond() != 0 {
        return None;
    }
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut b = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, width: usize, mut v: u32| {
        for i in (at..at + width).rev() {
            // `v % 10` is a digit, so the cast cannot truncate.
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    Some(b)
}

/// Deserialize with [`parse`].
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(TimeVisitor)
}

struct TimeVisitor;

impl Visitor<'_> for TimeVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date and time")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DateTime<Utc>, E> {
        parse(v).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_chrono_writes() {
        use chrono::TimeZone;
        let times = [
            Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1, 2, 3, 4, 5, 6).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-5, 1, 1, 0, 0, 0).unwrap(),
            Utc.timestamp_opt(1_600_000_000, 123_000_000).unwrap(),
            Utc.timestamp_opt(1_600_000_000, 7).unwrap(),
        ];
        // And a spread of ordinary times, about 37 hours and some seconds apart.
        let spread = (0..5_000i64).map(|i| Utc.timestamp_opt(i * 133_337 - 50_000_000, 0).unwrap());
        for t in times.into_iter().chain(spread) {
            let mut ours = serde_json::Serializer::new(Vec::new());
            serialize(&t, &mut ours).unwrap();
            assert_eq!(
                String::from_utf8(ours.into_inner()).unwrap(),
                serde_json::to_string(&t).unwrap(),
                "{t:?}"
            );
        }
    }

    fn chrono_parse(text: &str) -> Option<DateTime<Utc>> {
        serde_json::from_value::<DateTime<Utc>>(serde_json::Value::String(text.into())).ok()
    }

    #[test]
    fn reads_what_chrono_reads() {
        let mut t = -2_000_000_000i64;
        while t < 4_000_000_000 {
            let text = DateTime::from_timestamp(t, 0)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            assert_eq!(parse(&text).ok(), chrono_parse(&text), "{text}");
            assert_eq!(parse(&text).ok().map(|d| d.timestamp()), Some(t));
            t += 7_777_777;
        }
        for text in [
            "2020-01-01T00:00:00Z",
            "2020-02-30T00:00:00Z",
            "2020-01-01T24:00:00Z",
            "2016-12-31T23:59:60Z",
            "2020-01-01t00:00:00Z",
            "2020-01-01T00:00:00+02:00",
            "2020-01-01T00:00:00.5Z",
            "2020-01-01 00:00:00Z",
            "2020-1-01T00:00:00Z",
            "+020-01-01T00:00:00Z",
            "",
            "nonsense",
        ] {
            assert_eq!(parse(text).ok(), chrono_parse(text), "{text}");
        }
    }
}
