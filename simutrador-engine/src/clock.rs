//! Bar times as `DateTime<Utc>`: [`utc`] for one time, [`Stamp`] for the many events of one bar
//! time, and [`DayClock`] for long runs of increasing times (the equity curve, metrics), which
//! converts the date once per day instead of once per bar.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

const DAY: i64 = 86_400;

/// `DateTime` for a bar time (the epoch for times chrono cannot represent).
pub(crate) fn utc(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

/// [`utc`] of the last time asked for: the many events of one bar convert its time once, and
/// a new time on the same day reuses the day's date.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp {
    time: i64,
    utc: DateTime<Utc>,
    clock: DayClock,
}

impl Default for Stamp {
    fn default() -> Self {
        Stamp {
            time: 0,
            utc: utc(0),
            clock: DayClock::default(),
        }
    }
}

impl Stamp {
    /// `utc(time)`.
    #[inline]
    pub fn at(&mut self, time: i64) -> DateTime<Utc> {
        if self.time != time {
            self.time = time;
            self.utc = self.clock.at(time);
        }
        self.utc
    }
}

/// [`utc`] with the date of the last day asked for kept: the same value, bit for bit (chrono
/// builds a timestamp's `DateTime` from exactly this date and time of day).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DayClock {
    /// The day number and its date (`None`: chrono cannot represent it).
    day: Option<(i64, Option<NaiveDate>)>,
    /// The first second of that day, when it is representable: a time in
    /// `[start, start + 86 400)` is on that day, `t − start` seconds after midnight.
    start: Option<i64>,
}

impl DayClock {
    /// `utc(t)`.
    #[inline]
    pub fn at(&mut self, t: i64) -> DateTime<Utc> {
        let (date, secs) = match (self.day, self.start) {
            // t ≥ start, so the wrapping difference is the true one.
            (Some((_, date)), Some(start))
                if t >= start && (t.wrapping_sub(start) as u64) < DAY as u64 =>
            {
                (date, t.wrapping_sub(start))
            }
            _ => {
                let day = t.div_euclid(DAY);
                let date = match self.day {
                    Some((d, date)) if d == day => date,
                    _ => {
                        let date = day
                            .checked_mul(DAY)
                            .and_then(|s| DateTime::from_timestamp(s, 0))
                            .map(|d| d.date_naive());
                        self.day = Some((day, date));
                        date
                    }
                };
                self.start = day.checked_mul(DAY);
                (date, t.rem_euclid(DAY))
            }
        };
        let secs = secs as u32; // 0..86 400
        match (date, NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)) {
            (Some(date), Some(time)) => date.and_time(time).and_utc(),
            _ => DateTime::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{DayClock, utc};

    #[test]
    fn day_clock_matches_utc() {
        let mut c = DayClock::default();
        let times = [
            0,
            59,
            86_399,
            86_400,
            -1,
            -86_401,
            1_704_067_200,
            1_704_067_260,
            1_704_153_599,
            i64::MAX,
            i64::MIN,
            8_210_298_412_799,
            8_210_298_412_800,
            -8_334_632_851_200,
            -8_334_632_851_201,
        ];
        for t in times {
            assert_eq!(c.at(t), utc(t), "{t}");
        }
        for t in (1_704_067_200..1_704_067_200 + 3 * 86_400).step_by(37) {
            assert_eq!(c.at(t), utc(t), "{t}");
        }
    }
}
