//! Reading and writing OHLCV CSV files.
//!
//! Two shapes are read:
//! - canonical: `timestamp,open,high,low,close,volume`;
//! - pandas / downloader: the first column unnamed (the header starts with `,`) or named
//!   `Date`, `Datetime`, `Time` or `Timestamp` (any case), then `Open,High,Low,Close[,Volume]`
//!   in any case and order. `Adj Close`, `Dividends` and `Stock Splits` columns are ignored;
//!   any other column is an error. Without a volume column every volume is 0.
//!
//! Timestamps: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`, `YYYY-MM-DDTHH:MM:SS` with an optional
//! `Z` or `±hh:mm` (RFC 3339). No zone means UTC.
//!
//! A bad row rejects the whole file with [`MarketDataError::Parse`] (1-based line and a reason
//! that says what to fix); rows are never skipped. Blank lines are ignored. Numbers keep every
//! decimal they were written with (see [`super::bars`]); nothing goes through `f64`.
//!
//! The writer emits the canonical shape with RFC 3339 timestamps (`2004-08-19T00:00:00Z`) and
//! prices written exactly as stored (at the series' scale).

use std::io::Write;
use std::path::Path;

use super::MarketDataError;
use super::bars::{BarSeries, MAX_SCALE, RawColumns, check_bar, rescale};
use super::timefmt::{format_rfc3339, parse_timestamp};

/// The header of the canonical form.
pub const CANONICAL_HEADER: &str = "timestamp,open,high,low,close,volume";

const IGNORED_COLUMNS: [&str; 4] = ["adj close", "adj_close", "dividends", "stock splits"];
const TIME_NAMES: [&str; 4] = ["date", "datetime", "time", "timestamp"];

/// Read and check one CSV file.
pub fn read_csv_file(path: &Path) -> Result<BarSeries, MarketDataError> {
    let bytes = std::fs::read(path).map_err(|source| MarketDataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        parse_err(path, line, "the file is not valid UTF-8 text".into())
    })?;
    parse_csv(text, path)
}

/// Parse CSV text; `path` is only used in error messages.
pub fn parse_csv(text: &str, path: &Path) -> Result<BarSeries, MarketDataError> {
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
    let (header_line, header) = loop {
        match lines.next() {
            Some((n, l)) if !l.trim().is_empty() => break (n, l.trim_start_matches('\u{feff}')),
            Some(_) => continue,
            None => {
                return Err(parse_err(
                    path,
                    1,
                    format!(
                        "the file is empty; expected a header such as `{CANONICAL_HEADER}` and one row per bar"
                    ),
                ));
            }
        }
    };
    let layout = Layout::from_header(header).map_err(|r| parse_err(path, header_line, r))?;

    let mut rows: Vec<Row> = Vec::with_capacity(text.len() / 48);
    let mut line_of: Vec<usize> = Vec::with_capacity(text.len() / 48);
    let mut fields: Vec<&str> = Vec::with_capacity(layout.width);
    let (mut price_scale, mut volume_scale) = (0u32, 0u32);
    let mut prev_ts: Option<i64> = None;
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        split_fields(line, &mut fields);
        let row = layout
            .parse_row(&fields, prev_ts)
            .map_err(|r| parse_err(path, n, r))?;
        price_scale = row.ohlc.iter().fold(price_scale, |s, p| s.max(p.1));
        volume_scale = volume_scale.max(row.volume.1);
        prev_ts = Some(row.ts);
        rows.push(row);
        line_of.push(n);
    }
    if rows.is_empty() {
        return Err(parse_err(
            path,
            header_line,
            "the file has a header but no data rows".into(),
        ));
    }

    let mut raw = RawColumns::with_capacity(rows.len(), price_scale, volume_scale);
    for (row, &n) in rows.iter().zip(&line_of) {
        let mut ohlc = [0i64; 4];
        for (slot, (m, s)) in ohlc.iter_mut().zip(row.ohlc) {
            *slot = rescale(m, s, price_scale).ok_or_else(|| {
                parse_err(path, n, format!(
                    "a price is too large to hold with {price_scale} decimal places (other rows have that many); use fewer decimals"
                ))
            })?;
        }
        let v = rescale(row.volume.0, row.volume.1, volume_scale).ok_or_else(|| {
            parse_err(path, n, format!(
                "the volume is too large to hold with {volume_scale} decimal places (other rows have that many); use fewer decimals"
            ))
        })?;
        raw.push(row.ts, ohlc, v);
    }
    BarSeries::from_raw(raw)
        .map_err(|(i, r)| parse_err(path, line_of.get(i).copied().unwrap_or(0), r))
}

/// Write `series` in the canonical form.
pub fn write_csv<W: Write>(series: &BarSeries, out: &mut W) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(out);
    writeln!(w, "{CANONICAL_HEADER}")?;
    let (ps, vs) = (series.price_scale(), series.volume_scale());
    for i in 0..series.len() {
        w.write_all(format_rfc3339(series.timestamps()[i]).as_bytes())?;
        for m in [
            series.opens()[i],
            series.highs()[i],
            series.lows()[i],
            series.closes()[i],
        ] {
            w.write_all(b",")?;
            write_fixed(&mut w, m, ps)?;
        }
        w.write_all(b",")?;
        write_fixed(&mut w, series.volumes()[i], vs)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// `mantissa / 10^scale` written in plain decimal notation.
fn write_fixed<W: Write>(w: &mut W, mantissa: i64, scale: u32) -> std::io::Result<()> {
    let digits = mantissa.unsigned_abs().to_string();
    let sign = if mantissa < 0 { "-" } else { "" };
    let scale = scale as usize;
    if scale == 0 {
        return write!(w, "{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    write!(w, "{sign}{int}.{frac}")
}

fn parse_err(path: &Path, line: usize, reason: String) -> MarketDataError {
    MarketDataError::Parse {
        path: path.to_path_buf(),
        line,
        reason,
    }
}

/// One parsed row: prices and volume as (mantissa, decimal places).
struct Row {
    ts: i64,
    ohlc: [(i64, u32); 4],
    volume: (i64, u32),
}

/// Which column holds what.
struct Layout {
    width: usize,
    time: usize,
    ohlc: [usize; 4],
    volume: Option<usize>,
}

impl Layout {
    fn from_header(header: &str) -> Result<Self, String> {
        let mut names = Vec::new();
        split_fields(header, &mut names);
        let hint = format!(
            "expected `{CANONICAL_HEADER}` or a pandas-style `,Open,High,Low,Close,Volume` header"
        );
        let mut time = None;
        let mut cols: [Option<usize>; 5] = [None; 5];
        for (i, raw) in names.iter().enumerate() {
            let name = raw.trim().to_ascii_lowercase();
            let slot = match name.as_str() {
                "" if i == 0 => {
                    time = Some(0);
                    continue;
                }
                n if TIME_NAMES.contains(&n) => {
                    if time.replace(i).is_some() {
                        return Err(format!("more than one time column in the header; {hint}"));
                    }
                    continue;
                }
                "open" => 0,
                "high" => 1,
                "low" => 2,
                "close" => 3,
                "volume" => 4,
                n if IGNORED_COLUMNS.contains(&n) => continue,
                "" => return Err(format!("column {} has no name; {hint}", i + 1)),
                _ => return Err(format!("unknown column '{}'; {hint}", raw.trim())),
            };
            if cols[slot].replace(i).is_some() {
                return Err(format!(
                    "column '{}' appears twice in the header",
                    raw.trim()
                ));
            }
        }
        let time = time.ok_or_else(|| format!("no time column (timestamp/date); {hint}"))?;
        let mut ohlc = [0; 4];
        for (k, name) in ["open", "high", "low", "close"].iter().enumerate() {
            ohlc[k] = cols[k].ok_or_else(|| format!("no '{name}' column; {hint}"))?;
        }
        Ok(Layout {
            width: names.len(),
            time,
            ohlc,
            volume: cols[4],
        })
    }

    fn parse_row(&self, f: &[&str], prev_ts: Option<i64>) -> Result<Row, String> {
        if f.len() != self.width {
            return Err(format!(
                "expected {} columns like the header, found {}",
                self.width,
                f.len()
            ));
        }
        let ts = parse_timestamp(f[self.time].trim())?;
        let mut ohlc = [(0, 0); 4];
        for (k, name) in ["open", "high", "low", "close"].iter().enumerate() {
            ohlc[k] = parse_number(f[self.ohlc[k]], name)?;
        }
        let volume = match self.volume {
            Some(c) => parse_number(f[c], "volume")?,
            None => (0, 0),
        };
        // Compare prices at a common scale before the file-wide rescale.
        let top = ohlc.iter().map(|p| p.1).max().unwrap_or(0);
        let mut common = [0i64; 4];
        for (slot, (m, s)) in common.iter_mut().zip(ohlc) {
            *slot = rescale(m, s, top).ok_or("a price has too many digits")?;
        }
        check_bar(prev_ts, ts, common, volume.0).map_err(|e| {
            if e.starts_with("time") {
                format!(
                    "time {} is not after the previous row's {}; sort the file by time and remove duplicate rows",
                    f[self.time].trim(),
                    prev_ts.map(format_rfc3339).unwrap_or_default()
                )
            } else {
                format!("{e}; fix the row")
            }
        })?;
        Ok(Row { ts, ohlc, volume })
    }
}

/// Split a line on commas; a field wrapped in double quotes may contain commas.
fn split_fields<'a>(line: &'a str, out: &mut Vec<&'a str>) {
    out.clear();
    let bytes = line.as_bytes();
    let (mut start, mut in_quotes) = (0, false);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => {
                out.push(unquote(&line[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(unquote(&line[start..]));
}

fn unquote(f: &str) -> &str {
    let t = f.trim();
    t.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(t)
}

/// Parse a plain decimal (`-12.345`, `1e-5` also accepted) into (mantissa, decimal places).
pub fn parse_number(s: &str, what: &str) -> Result<(i64, u32), String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(format!("{what} is empty; every row needs a number there"));
    }
    let bad = || format!("{what} '{t}' is not a number; write it like 123.45");
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.contains(['e', 'E']) {
        let d = rust_decimal::Decimal::from_scientific(t)
            .map_err(|_| bad())?
            .normalize();
        let m = i64::try_from(d.mantissa()).map_err(|_| format!("{what} '{t}' is too large"))?;
        return check_scale(m, d.scale(), what, t);
    }
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let mut m: i64 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        m = m
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(b - b'0')))
            .ok_or_else(|| format!("{what} '{t}' is too large"))?;
    }
    let scale = u32::try_from(frac.len()).unwrap_or(u32::MAX);
    check_scale(if neg { -m } else { m }, scale, what, t)
}

fn check_scale(m: i64, scale: u32, what: &str, t: &str) -> Result<(i64, u32), String> {
    if scale > MAX_SCALE {
        return Err(format!(
            "{what} '{t}' has {scale} decimal places; at most {MAX_SCALE} are supported, round it"
        ));
    }
    Ok((m, scale))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "csv_tests.rs"]
mod tests;
