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
}

/// Periods per year and the bucket, for bar times `times` (increasing) of which `weekend`
/// fall on a Saturday or Sunday.
pub(crate) fn annualization(times: &[i64], weekend: usize) -> (f64, Bucket) {
    match data_period_days(times) {
        Some(7) => (52.0, Bucket::Week),
        Some(31) => (12.0, Bucket::Month),
        Some(365) => (1.0, Bucket::Year),
        _ if !times.is_empty() && weekend as f64 / times.len() as f64 > 2.0 / 7.0 * 0.6 => {
            (365.0, Bucket::Day)
        }
        _ => (252.0, Bucket::Day),
    }
}

/// pandas' `index[-100:].diff().median().days`: the median spacing of the last 100 bars,
/// floored to whole days (`None` with fewer than two bars).
fn data_period_days(times: &[i64]) -> Option<i64> {
    let twice = median_spacing_doubled(times)?;
    Some(twice.div_euclid(2 * DAY))
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

    /// Mon 1 Jan 2024 00:00 UTC.
    const MON: i64 = 1_704_067_200;

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
        // middle one is 31) → monthly. Of Jan..Jun: 31 28 31 30 31 → median 31.
        let firsts = [
            1_609_459_200, // 2021-01-01
            1_612_137_600,
            1_614_556_800,
            1_617_235_200,
            1_619_827_200,
            1_622_505_600,
            1_625_097_600,
            1_627_776_000,
            1_630_454_400,
            1_633_046_400,
            1_635_724_800,
            1_638_316_800, // 2021-12-01
        ];
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
