//! Dates as users write them: `YYYY-MM-DD` (a whole UTC day) or RFC 3339 (an instant).
//!
//! Session ranges are inclusive at both ends: a session from `2020-01-02` to `2020-01-31`
//! replays every bar stamped on 2 January through 31 January, UTC.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use std::fmt;

/// One end of a date range, as the user gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateBound {
    /// A whole UTC day.
    Date(NaiveDate),
    /// An exact instant (normalized to UTC).
    Instant(DateTime<Utc>),
}

/// A date string that is neither `YYYY-MM-DD` nor RFC 3339, or names an impossible day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a valid date; use YYYY-MM-DD (for example 2020-01-31) or RFC 3339 (2020-01-31T14:30:00Z)"
)]
pub struct InvalidDate(pub String);

impl DateBound {
    /// Parse `YYYY-MM-DD` or RFC 3339 (any offset; converted to UTC).
    pub fn parse(s: &str) -> Result<Self, InvalidDate> {
        let t = s.trim();
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Ok(DateBound::Date(d));
        }
        DateTime::parse_from_rfc3339(t)
            .map(|dt| DateBound::Instant(dt.with_timezone(&Utc)))
            .map_err(|_| InvalidDate(s.to_string()))
    }

    /// First second (Unix time) covered when this bound starts a range.
    pub fn first_second(&self) -> i64 {
        match self {
            DateBound::Date(d) => day_start(*d),
            DateBound::Instant(t) => {
                let s = t.timestamp();
                if t.timestamp_subsec_nanos() > 0 {
                    s + 1
                } else {
                    s
                }
            }
        }
    }

    /// Last second (Unix time) covered when this bound ends a range.
    pub fn last_second(&self) -> i64 {
        match self {
            DateBound::Date(d) => day_start(*d) + 86_399,
            DateBound::Instant(t) => t.timestamp(),
        }
    }

    /// The UTC calendar day of this bound.
    pub fn date(&self) -> NaiveDate {
        match self {
            DateBound::Date(d) => *d,
            DateBound::Instant(t) => t.date_naive(),
        }
    }
}

fn day_start(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|dt| dt.and_utc().timestamp())
        .unwrap_or_default()
}

impl fmt::Display for DateBound {
    /// The canonical form: `YYYY-MM-DD` for days, RFC 3339 with `Z` for instants.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateBound::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            DateBound::Instant(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_cover_the_whole_utc_day() {
        let b = DateBound::parse("2020-01-02").unwrap();
        assert_eq!(b.first_second(), 1_577_923_200);
        assert_eq!(b.last_second(), 1_577_923_200 + 86_399);
        assert_eq!(b.to_string(), "2020-01-02");
    }

    #[test]
    fn instants_are_normalized_to_utc() {
        let b = DateBound::parse("2020-01-02T10:00:00+02:00").unwrap();
        assert_eq!(b.to_string(), "2020-01-02T08:00:00Z");
        assert_eq!(b.first_second(), b.last_second());
    }

    #[test]
    fn impossible_dates_are_refused() {
        for bad in [
            "2021-02-30",
            "2021-13-01",
            "yesterday",
            "",
            "2021-02-28T25:00:00Z",
        ] {
            assert!(DateBound::parse(bad).is_err(), "{bad}");
        }
    }
}
