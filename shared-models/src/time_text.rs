//! Fast reading of wire times (`#[serde(with = "crate::time_text")]` on `DateTime<Utc>`
//! fields that travel often, like the `sim_time` of every fill).
//!
//! The daemon writes times as `YYYY-MM-DDTHH:MM:SSZ`; [`parse`] reads exactly that shape with
//! integer arithmetic (chrono's general RFC 3339 parser costs ~1,700 instructions a time) and
//! hands every other spelling (offsets, fractions, lower-case `t`…) to chrono, so it accepts
//! and returns exactly what chrono's own serde does. Writing is chrono's.

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

/// Serialize as chrono does.
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    t.serialize(s)
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
