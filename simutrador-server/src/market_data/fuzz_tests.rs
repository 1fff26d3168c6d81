//! Fuzzing the CSV reader and `data import`: arbitrary text and valid files with one line
//! mutated never panic; a bad file is refused with the line that is wrong (the mutated line,
//! or the next one when the mutation broke the time order), and an import that is refused
//! writes nothing. What parses writes back (`write_csv`) and reads again to the same bars.
//!
//! Cases: `PROPTEST_CASES` (default 256, 32 for the import, which touches the disk);
//! `bench/fuzz/frames_csv.sh` runs them longer.

use proptest::prelude::*;
use shared_models::Timeframe;
use std::path::Path;

use super::MarketDataError;
use super::csv::{parse_csv, write_csv};
use super::import::{ImportRequest, import_file};

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A valid daily file of `n` rows, pandas shape or canonical.
fn valid(n: usize, pandas: bool) -> String {
    let mut s = String::from(if pandas {
        ",Open,High,Low,Close,Volume\n"
    } else {
        "timestamp,open,high,low,close,volume\n"
    });
    for i in 0..n {
        let day = 1 + i % 28;
        let month = 1 + i / 28;
        let c = 100 + (i % 7) as i64;
        s.push_str(&format!(
            "2020-{month:02}-{day:02},{c}.5,{}.25,{}.75,{c}.5,{}\n",
            c + 1,
            c - 1,
            1000 + i
        ));
    }
    s
}

/// Parse, and check what parses survives a write and a read.
fn check(text: &str) -> Result<(), MarketDataError> {
    let path = Path::new("fuzz.csv");
    let series = parse_csv(text, path)?;
    let mut out = Vec::new();
    write_csv(&series, &mut out).expect("write to memory");
    let again = parse_csv(&String::from_utf8(out).expect("utf-8"), path).expect("re-read");
    assert_eq!(again.content_hash(), series.content_hash());
    Ok(())
}

fn line_of(e: &MarketDataError) -> Option<usize> {
    match e {
        MarketDataError::Parse { line, .. } => Some(*line),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn arbitrary_text_never_panics(text in "(?s).{0,600}") {
        if let Err(e) = check(&text) {
            prop_assert!(!e.to_string().is_empty());
            if let Some(line) = line_of(&e) {
                prop_assert!(line >= 1 && line <= text.lines().count().max(1), "{e}");
            }
        }
    }

    #[test]
    fn arbitrary_rows_under_a_valid_header_never_panic(
        rows in prop::collection::vec(
            prop::collection::vec(
                prop_oneof![
                    "[0-9.eE+-]{0,24}",
                    "20[0-9]{2}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?",
                    "\"[^\"]{0,8}\"",
                    ".{0,12}",
                ],
                0..8,
            ),
            0..12,
        ),
    ) {
        let mut text = String::from("timestamp,open,high,low,close,volume\n");
        for r in &rows {
            text.push_str(&r.join(","));
            text.push('\n');
        }
        if let Err(e) = check(&text) {
            let line = line_of(&e).expect("a row error names its line");
            // Line 1 only for a file without data rows.
            prop_assert!(line >= 1 && line <= rows.len() + 1, "{e}");
        }
    }

    #[test]
    fn a_mutated_line_is_the_line_named(
        n in 1usize..60,
        pandas in any::<bool>(),
        at in any::<prop::sample::Index>(),
        field in 0usize..6,
        value in prop_oneof![
            Just(String::new()), Just("-1".to_string()), Just("0".to_string()),
            Just("abc".to_string()), Just("1e400".to_string()), Just("2019-13-45".to_string()),
            Just("99999999999999999999".to_string()), Just("1.0000000000001".to_string()),
            "[0-9.,\"-]{0,10}",
        ],
    ) {
        let text = valid(n, pandas);
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let k = 1 + at.index(n); // 0-based index of a data row
        let mut fields: Vec<String> = lines[k].split(',').map(String::from).collect();
        fields[field] = value;
        lines[k] = fields.join(",");
        let mutated = lines.join("\n") + "\n";
        if let Err(e) = check(&mutated) {
            let line = line_of(&e).expect("a row error names its line");
            // 1-based: the mutated row is line k + 1; a broken time order shows on the next.
            prop_assert!(line == k + 1 || line == k + 2, "line {line} for a change on line {}: {e}", k + 1);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(32)))]

    #[test]
    fn a_refused_import_writes_nothing(
        text in prop_oneof![
            "(?s).{0,200}",
            (1usize..20, any::<prop::sample::Index>(), "[a-z0-9.-]{0,6}").prop_map(|(n, at, junk)| {
                let mut lines: Vec<String> = valid(n, false).lines().map(String::from).collect();
                let k = 1 + at.index(n);
                lines[k] = format!("{junk},{}", lines[k]);
                lines.join("\n")
            }),
        ],
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("in.csv");
        std::fs::write(&file, &text).expect("write");
        let data = dir.path().join("data");
        let req = ImportRequest {
            file,
            symbol: "FUZZ".into(),
            timeframe: Timeframe::D1,
            asset_class: None,
            exchange: None,
            description: None,
            data_dir: data.clone(),
            replace: false,
        };
        match import_file(&req) {
            Ok(summary) => prop_assert!(summary.destination.exists()),
            Err(e) => {
                prop_assert!(!data.join("1d/FUZZ.csv").exists(), "{e}");
                if let Some(line) = line_of(&e) {
                    prop_assert!(e.to_string().contains(&format!("in.csv:{line}:")), "{e}");
                }
            }
        }
    }
}
