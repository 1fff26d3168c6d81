//! Tests of the CSV reader and writer.

use super::*;
use rust_decimal_macros::dec;
use std::path::PathBuf;

fn parse(text: &str) -> Result<BarSeries, MarketDataError> {
    parse_csv(text, Path::new("t.csv"))
}

fn line_and_reason(text: &str) -> (usize, String) {
    match parse(text) {
        Err(MarketDataError::Parse { line, reason, path }) => {
            assert_eq!(path, PathBuf::from("t.csv"));
            (line, reason)
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn canonical_shape() {
    let s = parse(
        "timestamp,open,high,low,close,volume\n\
         2024-01-02T00:00:00Z,10,11,9,10.5,100\n\
         2024-01-03T00:00:00Z,10.5,12.25,10,12,0.5\n",
    )
    .unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s.price_scale(), 2);
    assert_eq!(s.volume_scale(), 1);
    let b = s.bar(1);
    let c = b.candle;
    assert_eq!(
        (c.open, c.high, c.close, c.volume),
        (dec!(10.5), dec!(12.25), dec!(12), dec!(0.5))
    );
    assert_eq!(b.time, 1_704_240_000);
}

#[test]
fn pandas_shape_with_crlf_bom_and_adj_close() {
    let s = parse(
        "\u{feff},Open,High,Low,Close,Adj Close,Volume\r\n\
         2017-04-19 09:00:00,1.0716,1.0722,1.07083,1.07219,1.0,1413\r\n\
         2017-04-19 10:00:00,1.07214,1.07296,1.07214,1.0726,1.0,1241\r\n\r\n",
    )
    .unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s.price_scale(), 5);
    assert_eq!(s.candle(0).low, dec!(1.07083));
    assert_eq!(s.bar(1).time - s.bar(0).time, 3600);
}

#[test]
fn date_index_names_and_optional_volume() {
    for head in ["Date", "DATETIME", "time", "Timestamp"] {
        let s = parse(&format!("{head},Close,Open,Low,High\n2020-01-01,2,1,1,3\n")).unwrap();
        let b = s.candle(0);
        assert_eq!(
            (b.open, b.high, b.low, b.close, b.volume),
            (dec!(1), dec!(3), dec!(1), dec!(2), dec!(0))
        );
    }
}

#[test]
fn bad_rows_are_reported_with_their_line() {
    let head = "timestamp,open,high,low,close,volume\n2020-01-01,1,2,1,2,5\n";
    let cases = [
        ("2020-01-02,1,2,x,2,5", "low 'x' is not a number"),
        ("2020-01-32,1,2,1,2,5", "not a valid timestamp"),
        ("2020-01-02,1,1,2,1,5", "high is below low"),
        ("2020-01-02,3,4,2,5,5", "close is outside"),
        ("2020-01-02,1,4,2,3,5", "open is outside"),
        ("2020-01-01,1,2,1,2,5", "is not after the previous row"),
        ("2019-12-31,1,2,1,2,5", "sort the file"),
        ("2020-01-02,1,2,1,2", "expected 6 columns"),
        ("2020-01-02,1,2,1,2,5,6", "expected 6 columns"),
        ("2020-01-02,1,2,1,2,-5", "volume is negative"),
        ("2020-01-02,0,2,0,2,5", "positive"),
        ("2020-01-02,1,2,1,,5", "close is empty"),
        ("2020-01-02,1,2,1,1.0000000000001,5", "13 decimal places"),
        ("2020-01-02,1,99999999999999999999,1,2,5", "too large"),
    ];
    for (row, want) in cases {
        // A blank line before the bad row: line numbers count it.
        let (line, reason) = line_and_reason(&format!("{head}\n{row}\n2030-01-01,1,2,1,2,5\n"));
        assert_eq!(line, 4, "{row}: {reason}");
        assert!(
            reason.contains(want),
            "{row}: '{reason}' should contain '{want}'"
        );
    }
}

#[test]
fn overflow_after_rescale_names_the_row() {
    let text = "timestamp,open,high,low,close\n2020-01-01,1.000000000001,2,1,2\n2020-01-02,10000000,10000000,10000000,10000000\n";
    let (line, reason) = line_and_reason(text);
    assert_eq!(line, 3);
    assert!(reason.contains("too large"), "{reason}");
}

#[test]
fn bad_files_have_clear_errors() {
    assert!(line_and_reason("").1.contains("empty"));
    assert!(line_and_reason("\n\n").1.contains("empty"));
    let (line, r) = line_and_reason("timestamp,open,high,low,close,volume\n");
    assert_eq!(line, 1);
    assert!(r.contains("no data rows"), "{r}");
    assert!(
        line_and_reason("ts,open,high,low,close\n")
            .1
            .contains("unknown column 'ts'")
    );
    assert!(
        line_and_reason("date,open,high,low\n")
            .1
            .contains("no 'close' column")
    );
    assert!(
        line_and_reason("open,high,low,close\n")
            .1
            .contains("no time column")
    );
    assert!(
        line_and_reason("date,open,open,high,low,close\n")
            .1
            .contains("twice")
    );
    assert!(
        line_and_reason("date,open,,high,low,close\n")
            .1
            .contains("no name")
    );
}

#[test]
fn garbage_never_panics() {
    let samples = [
        "\"",
        ",",
        ",,,,\n,,,,",
        "date,open,high,low,close\n\"2020-01-01,1,2,1,2\n",
        "date,open,high,low,close\n2020-01-01,-,+,.,e\n",
        "date,open,high,low,close\n2020-01-01,1e999,1,1,1\n",
        "date,open,high,low,close\n\u{0}\u{1}\n",
        "date,open,high,low,close\n9999999999-01-01,1,1,1,1\n",
        "date,open,high,low,close\n2020-01-01T,1,1,1,1\n",
        "date,open,high,low,close\n2020-01-01 1,1,1,1,1\n",
    ];
    for s in samples {
        assert!(parse(s).is_err(), "{s:?}");
    }
}

#[test]
fn non_utf8_file_reports_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.csv");
    std::fs::write(&p, b"date,open,high,low,close\n2020-01-01,1,1,1,1\n\xff\n").unwrap();
    match read_csv_file(&p) {
        Err(MarketDataError::Parse { line, .. }) => assert_eq!(line, 3),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        read_csv_file(&dir.path().join("missing.csv")),
        Err(MarketDataError::Io { .. })
    ));
}

#[test]
fn writer_round_trips_exactly() {
    let text = ",Open,High,Low,Close,Volume\n2004-08-19,100,104.06,95.96,100.34,22351900\n\
                2004-08-20 15:30,101.01,109.08,100.5,108.31,0.125\n";
    let s = parse(text).unwrap();
    let mut out = Vec::new();
    write_csv(&s, &mut out).unwrap();
    let written = String::from_utf8(out).unwrap();
    assert_eq!(
        written,
        "timestamp,open,high,low,close,volume\n\
         2004-08-19T00:00:00Z,100.00,104.06,95.96,100.34,22351900.000\n\
         2004-08-20T15:30:00Z,101.01,109.08,100.50,108.31,0.125\n"
    );
    let back = parse(&written).unwrap();
    for i in 0..s.len() {
        assert_eq!(back.bar(i), s.bar(i));
    }
}

#[test]
fn fixed_point_formatting() {
    let fmt = |m, s| {
        let mut v = Vec::new();
        write_fixed(&mut v, m, s).unwrap();
        String::from_utf8(v).unwrap()
    };
    assert_eq!(fmt(5, 3), "0.005");
    assert_eq!(fmt(-1234, 2), "-12.34");
    assert_eq!(fmt(7, 0), "7");
    assert_eq!(fmt(i64::MIN, 4), "-922337203685477.5808");
}

#[test]
fn numbers_keep_their_decimals() {
    assert_eq!(parse_number("1.50", "x"), Ok((150, 2)));
    assert_eq!(parse_number("-3", "x"), Ok((-3, 0)));
    assert_eq!(parse_number(".5", "x"), Ok((5, 1)));
    assert_eq!(parse_number("1e-05", "x"), Ok((1, 5)));
    assert!(parse_number("1.2.3", "x").is_err());
    assert!(parse_number("NaN", "x").is_err());
}
