//! How backtesting.py 0.6.6 annualizes (`compute_stats` in `backtesting/_stats.py`): from the
//! data period (the median spacing of the last 100 bars, in whole days) it picks the periods
//! per year and the calendar bucket the equity is resampled to before returns are taken:
//!
//! | data period (whole days) | periods per year | bucket |
//! |---|---|---|
//! | 7 | 52 | calendar week, Monday to Sunday (`W`) |
//! | 31 | 12 | calendar month (`ME`) |
//! | 365 | 1 | calendar year (`YE`) |
//! | anything else (intraday, daily, …) | 365 when > 2/7 × 0.6 of the bars fall on a weekend, else 252 | UTC day (`D`) |
//!
//! The equity's last value in each bucket that has bars gives one point; returns are the
//! changes between consecutive points (empty buckets are skipped, the first point has none).

use chrono::Datelike;

use super::clock::utc;

const DAY: i64 = 86_400;

/// The calendar bucket returns are taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bucket {
    /// UTC day.
    Day,
    /// Monday 00:00 to Sunday 24:00, UTC.
    Week,
    /// Calendar month, UTC.
    Month,
    /// Calendar year, UTC.
    Year,
}

impl Bucket {
    /// A number that is the same for two times exactly when they are in the same bucket, and
    /// grows with time.
    pub fn key(self, t: i64) -> i64 {
        let day = t.div_euclid(DAY);
        match self {
            Bucket::Day => day,
            // 1970-01-01 was a Thursday (weekday 3 counting Monday as 0).
            Bucket::Week => (day + 3).div_euclid(7),
            Bucket::Month => {
                let d = utc(t);
                i64::from(d.year()) * 12 + i64::from(d.month0())
            }
            Bucket::Year => i64::from(utc(t).year()),
        }
    }

    /// The bucket of data whose median spacing, doubled, is `twice_median`
    /// ([`median_spacing_doubled`]): pandas' `index[-100:].diff().median().days` picks it.
    pub fn for_spacing(twice_median: Option<i64>) -> Bucket {
        match twice_median.map(|twice| twice.div_euclid(2 * DAY)) {
            Some(7) => Bucket::Week,
            Some(31) => Bucket::Month,
            Some(365) => Bucket::Year,
            _ => Bucket::Day,
        }
    }

    /// Periods per year for returns over this bucket, for `bars` bars of which `weekend`
    /// fall on a Saturday or Sunday (they decide 365 or 252 for daily buckets).
    pub fn periods_per_year(self, bars: usize, weekend: usize) -> f64 {
        match self {
            Bucket::Week => 52.0,
            Bucket::Month => 12.0,
            Bucket::Year => 1.0,
            Bucket::Day if bars > 0 && weekend as f64 / bars as f64 > 2.0 / 7.0 * 0.6 => 365.0,
            Bucket::Day => 252.0,
        }
    }
}

/// Twice the median spacing of the last 100 bars (twice, so the mean of the two middle
/// spacings of an even count stays an integer).
pub(crate) fn median_spacing_doubled(times: &[i64]) -> Option<i64> {
    let tail = &times[times.len().saturating_sub(100)..];
    let mut diffs: Vec<i64> = tail.windows(2).map(|w| w[1] - w[0]).collect();
    if diffs.is_empty() {
        return None;
    }
    diffs.sort_unstable();
    let n = diffs.len();
    Some(if n % 2 == 1 {
        2 * diffs[n / 2]
    } else {
        diffs[n / 2 - 1] + diffs[n / 2]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::MONTH_STARTS_2021;

    /// Mon 1 Jan 2024 00:00 UTC.
    const MON: i64 = 1_704_067_200;

    /// Periods per year and the bucket of `times`, `weekend` of them on a weekend.
    fn annualization(times: &[i64], weekend: usize) -> (f64, Bucket) {
        let bucket = Bucket::for_spacing(median_spacing_doubled(times));
        (bucket.periods_per_year(times.len(), weekend), bucket)
    }

    #[test]
    fn the_data_period_picks_periods_and_bucket() {
        let every = |step: i64, n: i64| (0..n).map(|i| MON + i * step).collect::<Vec<_>>();
        assert_eq!(annualization(&every(7 * DAY, 30), 0), (52.0, Bucket::Week));
        assert_eq!(annualization(&every(365 * DAY, 5), 0), (1.0, Bucket::Year));
        assert_eq!(annualization(&every(DAY, 5), 0), (252.0, Bucket::Day));
        assert_eq!(annualization(&every(DAY, 7), 2), (365.0, Bucket::Day));
        assert_eq!(annualization(&every(60, 500), 0), (252.0, Bucket::Day));
        assert_eq!(annualization(&[MON], 0), (252.0, Bucket::Day));
    }

    #[test]
    fn month_ends_are_31_days_only_when_the_median_says_so() {
        // Month-start bars of 2021: spacings 31 28 31 30 31 30 31 31 30 31 30 (sorted, the
        // middle one is 31) → monthly.
        let firsts = MONTH_STARTS_2021;
        assert_eq!(annualization(&firsts, 0), (12.0, Bucket::Month));
        // Four bars: spacings 31 28 31 → median 31; three: 31 28 → 29.5 days → 29: daily.
        assert_eq!(annualization(&firsts[..4], 0).0, 12.0);
        assert_eq!(annualization(&firsts[..3], 0).0, 252.0);
    }

    #[test]
    fn buckets_follow_the_calendar() {
        let sun_late = MON + 6 * DAY + 23 * 3600;
        assert_eq!(Bucket::Week.key(MON), Bucket::Week.key(sun_late));
        assert_ne!(Bucket::Week.key(sun_late), Bucket::Week.key(MON + 7 * DAY));
        assert_ne!(Bucket::Week.key(MON - 1), Bucket::Week.key(MON));
        let jan31 = MON + 30 * DAY + 3600;
        assert_eq!(Bucket::Month.key(MON), Bucket::Month.key(jan31));
        assert_eq!(
            Bucket::Month.key(jan31) + 1,
            Bucket::Month.key(MON + 31 * DAY)
        );
        assert_eq!(Bucket::Year.key(MON), 2024);
        assert_eq!(
            Bucket::Day.key(MON + DAY - 1) + 1,
            Bucket::Day.key(MON + DAY)
        );
    }
}
