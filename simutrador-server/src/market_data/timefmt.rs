//! Bar timestamps as text: parsing the forms CSV files use and formatting them back.
//!
//! Accepted: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DDTHH:MM[:SS]`,
//! and any of the datetime forms followed by `Z` or `±hh:mm` (RFC 3339). No zone means UTC.
//! Fractional seconds are refused: bars are stamped to the second.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use shared_models::dates::{DateBound, InvalidDate};

const FORMATS_HINT: &str =
    "use YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS] or RFC 3339 such as 2004-08-19T00:00:00Z";

/// Parse a bar timestamp into Unix seconds (UTC).
pub fn parse_timestamp(s: &str) -> Result<i64, String> {
    let bad = || format!("'{s}' is not a valid timestamp; {FORMATS_HINT}");
    let b = s.as_bytes();
    if b.len() < 10 {
        return Err(bad());
    }
    let date = parse_date(&b[..10]).ok_or_else(bad)?;
    let day = days_since_epoch(date).ok_or_else(bad)?;
    let rest = &b[10..];
    if rest.is_empty() {
        return Ok(day * 86_400);
    }
    // Fast path: ` HH:MM`, ` HH:MM:SS`, `THH:MM:SS`, optionally followed by `Z`.
    let (sep, rest) = (rest[0], &rest[1..]);
    if sep != b' ' && sep != b'T' && sep != b't' {
        return Err(bad());
    }
    let rest = rest
        .strip_suffix(b"Z")
        .or(rest.strip_suffix(b"z"))
        .unwrap_or(rest);
    let secs = match rest.len() {
        5 if rest[2] == b':' => hms(&rest[0..2], &rest[3..5], b"00"),
        8 if rest[2] == b':' && rest[5] == b':' => hms(&rest[0..2], &rest[3..5], &rest[6..8]),
        _ => None,
    };
    if let Some(secs) = secs {
        return Ok(day * 86_400 + secs);
    }
    // Offsets and anything else RFC 3339 allows.
    let t = DateTime::parse_from_rfc3339(s).map_err(|_| bad())?;
    if t.timestamp_subsec_nanos() != 0 {
        return Err(format!(
            "'{s}' has fractional seconds; bars are stamped to the second"
        ));
    }
    Ok(t.timestamp())
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn parse_date(b: &[u8]) -> Option<NaiveDate> {
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = i32::try_from(digits(&b[0..4])?).ok()?;
    NaiveDate::from_ymd_opt(y, digits(&b[5..7])?, digits(&b[8..10])?)
}

fn hms(h: &[u8], m: &[u8], s: &[u8]) -> Option<i64> {
    let (h, m, s) = (digits(h)?, digits(m)?, digits(s)?);
    (h < 24 && m < 60 && s < 60).then(|| i64::from(h * 3600 + m * 60 + s))
}

/// [`DateBound::parse`] with a fast path for plain `YYYY-MM-DD` (same results).
pub fn parse_date_bound(s: &str) -> Result<DateBound, InvalidDate> {
    let t = s.trim().as_bytes();
    if t.len() == 10
        && let Some(d) = parse_date(t)
    {
        return Ok(DateBound::Date(d));
    }
    DateBound::parse(s)
}

/// Days from 1970-01-01 to `d`.
pub fn days_since_epoch(d: NaiveDate) -> Option<i64> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    Some(d.signed_duration_since(epoch).num_days())
}

/// A Unix second as a UTC instant (the Unix epoch when out of chrono's range).
pub fn to_datetime(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap_or_default()
}

/// A Unix second as RFC 3339 with `Z`, e.g. `2004-08-19T00:00:00Z`.
pub fn format_rfc3339(ts: i64) -> String {
    to_datetime(ts).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The UTC calendar day of a Unix second.
pub fn day_of(ts: i64) -> NaiveDate {
    to_datetime(ts).date_naive()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        let day = 1_092_873_600; // 2004-08-19
        assert_eq!(parse_timestamp("2004-08-19"), Ok(day));
        assert_eq!(parse_timestamp("2004-08-19 09:30"), Ok(day + 34_200));
        assert_eq!(parse_timestamp("2004-08-19 09:30:15"), Ok(day + 34_215));
        assert_eq!(parse_timestamp("2004-08-19T09:30:15Z"), Ok(day + 34_215));
        assert_eq!(parse_timestamp("2004-08-19T09:30:15"), Ok(day + 34_215));
        assert_eq!(
            parse_timestamp("2004-08-19T11:30:15+02:00"),
            Ok(day + 34_215)
        );
        assert_eq!(
            parse_timestamp("2004-08-19 11:30:15+02:00"),
            Ok(day + 34_215)
        );
        assert_eq!(parse_timestamp("1969-12-31"), Ok(-86_400));
        assert_eq!(format_rfc3339(day), "2004-08-19T00:00:00Z");
    }

    #[test]
    fn date_bounds_match_the_shared_parser() {
        for s in [
            "2020-01-31",
            " 2020-02-29 ",
            "2021-02-29",
            "2020-1-31",
            "2020-01-31T10:00:00Z",
            "x",
        ] {
            assert_eq!(parse_date_bound(s), DateBound::parse(s), "{s}");
        }
    }

    #[test]
    fn refused_forms() {
        for bad in [
            "",
            "2021-02-30",
            "2021-13-01",
            "19/08/2004",
            "2004-08-19 24:00",
            "2004-08-19 9:30",
            "2004-08-19T09:30:15.5Z",
            "2004-08-19X",
            "２００４-08-19",
            "2004-08-19 09:30:60",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }
}
