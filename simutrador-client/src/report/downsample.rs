//! Downsampling for display: a chart of a million bars is drawn from at most two points per
//! horizontal bucket (the minimum and the maximum of the bucket, in time order), so the
//! browser draws a few thousand points while every spike and dip stays visible. Tables keep
//! the exact numbers; only the charts are thinned.
//!
//! The rule (documented in `docs/reports.md`): with `n` points and `buckets` buckets, a series
//! of at most `2 × buckets` points is kept whole; a longer one is cut into `buckets` runs of
//! consecutive points of (nearly) equal length, and each run contributes its minimum and its
//! maximum (one point when they coincide), in the order they occur. The first and the last
//! point are always kept.

/// Buckets per chart: about one per horizontal pixel of a wide screen.
pub const DEFAULT_BUCKETS: usize = 1000;

/// A series thinned for display: the times and values of the points kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thinned {
    /// Seconds since the Unix epoch, ascending as given.
    pub times: Vec<i64>,
    /// The values at those times.
    pub values: Vec<f64>,
}

impl Thinned {
    /// Points kept.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Nothing kept.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }
}

/// Min/max per bucket of `(times[i], values[i])` (the shorter of the two lengths counts).
/// Non-finite values are skipped.
pub fn min_max(times: &[i64], values: &[f64], buckets: usize) -> Thinned {
    let n = times.len().min(values.len());
    let buckets = buckets.max(1);
    let mut out = Thinned::default();
    if n <= 2 * buckets {
        for i in 0..n {
            push(&mut out, times[i], values[i]);
        }
        return out;
    }
    for b in 0..buckets {
        let (start, end) = (b * n / buckets, (b + 1) * n / buckets);
        let mut lo: Option<usize> = None;
        let mut hi: Option<usize> = None;
        for i in start..end {
            let v = values[i];
            if !v.is_finite() {
                continue;
            }
            if lo.is_none_or(|j| v < values[j]) {
                lo = Some(i);
            }
            if hi.is_none_or(|j| v > values[j]) {
                hi = Some(i);
            }
        }
        // The first point of the first bucket and the last of the last bucket are kept too.
        let mut keep: Vec<usize> = lo.into_iter().chain(hi).collect();
        if b == 0 {
            keep.push(0);
        }
        if b == buckets - 1 {
            keep.push(n - 1);
        }
        keep.sort_unstable();
        keep.dedup();
        for i in keep {
            push(&mut out, times[i], values[i]);
        }
    }
    out
}

fn push(out: &mut Thinned, t: i64, v: f64) {
    if v.is_finite() {
        out.times.push(t);
        out.values.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_series_are_kept_whole() {
        let t: Vec<i64> = (0..10).collect();
        let v: Vec<f64> = t.iter().map(|x| *x as f64).collect();
        let d = min_max(&t, &v, 5);
        assert_eq!(d.times, t);
        assert_eq!(d.values, v);
    }

    #[test]
    fn a_million_points_become_at_most_two_per_bucket_with_extremes_kept() {
        let n = 1_000_000;
        let t: Vec<i64> = (0..n).collect();
        let mut v: Vec<f64> = t.iter().map(|x| (*x as f64 / 1000.0).sin()).collect();
        v[123_457] = 50.0; // a spike
        v[876_543] = -50.0; // a dip
        let d = min_max(&t, &v, DEFAULT_BUCKETS);
        assert!(d.len() <= 2 * DEFAULT_BUCKETS + 2, "{}", d.len());
        assert!(d.len() >= DEFAULT_BUCKETS);
        assert!(d.values.contains(&50.0) && d.values.contains(&-50.0));
        assert_eq!(d.times.first(), Some(&0));
        assert_eq!(d.times.last(), Some(&(n - 1)));
        assert!(d.times.windows(2).all(|w| w[0] < w[1]), "time order kept");
    }

    #[test]
    fn non_finite_values_are_skipped() {
        let d = min_max(&[1, 2, 3], &[1.0, f64::NAN, 3.0], 10);
        assert_eq!(d.times, vec![1, 3]);
    }
}
