use super::*;
use crate::batch::expand::expand;

const ISSUE_FILE: &str = r#"[defaults]
symbols = ["GOOG"]
start_date = "2004-08-19"
end_date = "2013-03-01"
timeframe = "1d"
initial_capital = 10000
commission_rate = 0.002
strategy = "sma-cross"

[defaults.params]
short = false

[sweep]
fast = [5, 10, 20]
slow = [20, 50]

[output]
dir = "results/goog-sweep"
formats = ["csv", "json"]
trades = true
"#;

fn parse(text: &str) -> Result<BatchConfig, BatchFileError> {
    BatchConfig::parse(
        text,
        "b.toml",
        Path::new("/data/batches"),
        &StrategyRegistry::built_ins(),
    )
}

fn problems(text: &str) -> Vec<(usize, String, String)> {
    let err = match parse(text) {
        Ok(c) => expand(&c, &StrategyRegistry::built_ins()).unwrap_err(),
        Err(e) => e,
    };
    err.problems
        .into_iter()
        .map(|p| (p.line, p.path, p.message))
        .collect()
}

#[test]
fn the_issue_file_gives_five_runs_and_one_skip() {
    let config = parse(ISSUE_FILE).unwrap();
    assert_eq!(
        config.output.dir,
        Some(PathBuf::from("/data/batches/results/goog-sweep"))
    );
    assert!(config.output.trades && !config.output.equity);
    let plan = expand(&config, &StrategyRegistry::built_ins()).unwrap();
    let names: Vec<&str> = plan.runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "sma-cross fast=5 slow=20",
            "sma-cross fast=5 slow=50",
            "sma-cross fast=10 slow=20",
            "sma-cross fast=10 slow=50",
            "sma-cross fast=20 slow=50",
        ]
    );
    assert_eq!(
        plan.runs.iter().map(|r| r.index).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    let first = &plan.runs[0];
    assert_eq!(first.strategy.params["short"], "false");
    assert_eq!(first.strategy.params["fast"], "5");
    assert_eq!(first.request.symbols, ["GOOG"]);
    assert_eq!(
        first.request.commission_rate,
        Some(rust_decimal::Decimal::new(2, 3))
    );
    assert_eq!(
        first.request.initial_capital,
        Some(rust_decimal::Decimal::from(10_000))
    );
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(plan.skipped[0].name, "sma-cross fast=20 slow=20");
    assert!(
        plan.skipped[0].reason.contains("fast must be"),
        "{}",
        plan.skipped[0].reason
    );
}

#[test]
fn simulations_override_defaults_and_sweep_session_keys() {
    let text = r#"
[defaults]
symbols = ["ACME"]
start_date = 2020-01-02
end_date = 2020-12-31
strategy = "sma-cross"
[defaults.params]
short = false

[sweep]
fast = [5, 10]
skip = ["fast > 5"]

[[simulation]]
name = "cross"
[simulation.sweep]
symbols = [["ACME"], ["GLOBEX", "ACME"]]

[[simulation]]
name = "hold"
strategy = "buy-and-hold"
end_date = "2020-06-30"
"#;
    let config = parse(text).unwrap();
    let plan = expand(&config, &StrategyRegistry::built_ins()).unwrap();
    let names: Vec<&str> = plan.runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "cross fast=5 symbols=ACME",
            "cross fast=5 symbols=GLOBEX+ACME",
            "hold"
        ]
    );
    assert_eq!(plan.runs[1].request.symbols, ["GLOBEX", "ACME"]);
    // buy-and-hold does not inherit sma-cross's parameters or its sweep.
    assert!(plan.runs[2].strategy.params.is_empty());
    assert_eq!(plan.runs[2].request.end_date, "2020-06-30");
    assert_eq!(plan.runs[0].request.start_date, "2020-01-02");
    assert_eq!(plan.skipped.len(), 2);
    assert!(
        plan.skipped
            .iter()
            .all(|s| s.reason == "skip rule `fast > 5`")
    );
}

#[test]
fn every_problem_names_its_key_path_and_line() {
    let text = r#"[defaults]
symbols = ["GOOG"]
start_date = "2004-13-19"
end_date = "2013-03-01"
strategy = "sma-cross"
capital = 5

[defaults.params]
short = "maybe"

[sweep]
fast = [5, "x"]
slow = 20

[[simulation]]
strategy = "sma-crossing"
timeframe = "2d"

[output]
formats = ["xml"]
"#;
    let got = problems(text);
    let want: &[(usize, &str, &str)] = &[
        (3, "defaults.start_date", "not a date"),
        (6, "defaults.capital", "unknown key 'capital'"),
        (9, "defaults.params.short", "short = maybe is not valid"),
        (12, "sweep.fast[1]", "fast = x is not valid"),
        (13, "sweep.slow", "takes a list of values"),
        (
            16,
            "simulation[0].strategy",
            "unknown strategy 'sma-crossing'",
        ),
        (17, "simulation[0].timeframe", "not a timeframe"),
        (20, "output.formats[0]", "unknown format"),
    ];
    for (line, path, needle) in want {
        assert!(
            got.iter()
                .any(|(l, p, m)| l == line && p == path && m.contains(needle)),
            "missing {line} {path} {needle} in {got:#?}"
        );
    }
}

#[test]
fn structural_and_syntax_errors_have_lines() {
    let got = problems("[defaults]\nsymbols = [\"A\"\n");
    assert_eq!(got[0].1, "(syntax)");
    assert_eq!(got[0].0, 2);
    let got = problems(
        "[defaults]\nstrategy = \"sma-cross\"\nsymbols = [\"A\"]\nstart_date = \"2020-01-02\"\n\n[sweep]\nfastt = [1, 2]\n",
    );
    assert!(
        got.iter()
            .any(|(l, p, m)| *l == 7 && p == "sweep.fastt" && m.contains("neither")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(_, p, m)| p == "defaults" && m.contains("no end_date")),
        "{got:?}"
    );
    let got = problems(
        "[[simulation]]\nname = \"a\"\nstrategy = \"buy-and-hold\"\nsymbols = [\"A\"]\nstart_date = \"2020-01-02\"\nend_date = \"2020-02-01\"\n[[simulation]]\nname = \"a\"\nstrategy = \"buy-and-hold\"\nsymbols = [\"A\"]\nstart_date = \"2020-01-02\"\nend_date = \"2020-02-01\"\n",
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].0, got[0].1.as_str()), (8, "simulation[1].name"));
}

#[test]
fn an_entry_where_every_combination_is_rejected_is_a_bad_file() {
    let text = "[defaults]\nsymbols = [\"A\"]\nstart_date = \"2020-01-02\"\nend_date = \"2020-02-01\"\nstrategy = \"sma-cross\"\n[defaults.params]\nfast = 30\n";
    let got = problems(text);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].2.contains("no combination can run") && got[0].2.contains("fast must be"),
        "{got:?}"
    );
    let got = problems(
        "[defaults]\nsymbols = [\"A\"]\nstart_date = \"2020-01-02\"\nend_date = \"2020-02-01\"\nstrategy = \"sma-cross\"\n[sweep]\nfast = [1]\nskip = [\"fast ~ 3\", \"speed > 2\"]\n",
    );
    assert!(
        got.iter()
            .any(|(l, p, m)| *l == 8 && p == "sweep.skip[0]" && m.contains("not a skip rule")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(_, p, m)| p == "sweep.skip[1]" && m.contains("speed > 2")),
        "{got:?}"
    );
}

#[test]
fn the_example_files_check() {
    for (name, text) in [
        (
            "batch-goog-sweep.toml",
            include_str!("../../../configs/batch-goog-sweep.toml"),
        ),
        (
            "batch-demo.toml",
            include_str!("../../../configs/batch-demo.toml"),
        ),
    ] {
        let config = BatchConfig::parse(
            text,
            name,
            Path::new("configs"),
            &StrategyRegistry::built_ins(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let plan =
            expand(&config, &StrategyRegistry::built_ins()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!plan.runs.is_empty(), "{name}");
    }
    assert!(include_str!("../../../configs/batch-goog-sweep.toml").contains(ISSUE_FILE));
}
