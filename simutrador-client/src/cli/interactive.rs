//! `session create --interactive`: walk through every field with `inquire` prompts, defaults
//! pre-filled from the flags/file (or the server's defaults), symbols offered from the
//! daemon's catalog. Prompts render on stderr and run on a blocking thread, so the
//! connection's tasks keep running while the user thinks.
//!
//! Only what the daemon has is offered: the timeframes of the catalog (of the symbols given
//! by flag or file, else of any symbol; the daemon does not resample), then the symbols with
//! bars at the chosen one. The loss limit defaults to none (the server's
//! `default_loss_limit_pct` then applies, 0 = none) unless the flags or the file give one.

use inquire::validator::Validation;
use inquire::{Confirm, CustomType, InquireError, MultiSelect, Select, Text};
use rust_decimal::Decimal;
use shared_models::messages::client::ListSymbols;
use shared_models::{CreateSessionRequest, SymbolInfo, Timeframe};
use simutrador_client::Client;
use simutrador_client::session_request::defaults;
use std::io::IsTerminal;

use super::args::{parse_date, parse_decimal};
use super::output::usage;
use super::render::stamp;

/// Refuse `--interactive` without a terminal (exit 2).
pub fn require_terminal() -> anyhow::Result<()> {
    if std::io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(usage(
            "--interactive needs a terminal, but stdin is not one; give the fields as flags \
             (SYMBOL... --start --end ...) or in a session file (--config FILE)",
        ))
    }
}

/// Run a blocking prompt off the async threads; cancelling it is a usage error.
async fn blocking<T: Send + 'static>(
    prompt: impl FnOnce() -> Result<T, InquireError> + Send + 'static,
) -> anyhow::Result<T> {
    match tokio::task::spawn_blocking(prompt).await? {
        Ok(value) => Ok(value),
        Err(InquireError::OperationCanceled | InquireError::OperationInterrupted) => {
            Err(usage("cancelled; nothing was created"))
        }
        Err(e) => Err(usage(format!(
            "the prompt failed ({e}); run without --interactive"
        ))),
    }
}

/// Ask a yes/no question (default yes).
pub async fn confirm(question: &'static str) -> anyhow::Result<bool> {
    blocking(move || Confirm::new(question).with_default(true).prompt()).await
}

/// Ask for every field of `start`, using its values as defaults.
pub async fn fill(
    client: &Client,
    start: CreateSessionRequest,
) -> anyhow::Result<CreateSessionRequest> {
    let current_tf = start
        .timeframe
        .as_deref()
        .and_then(|t| t.parse::<Timeframe>().ok())
        .unwrap_or(defaults::TIMEFRAME);
    let everything = client.list_symbols(ListSymbols::default()).await?.symbols;
    let choices = timeframe_choices(&everything, &start.symbols);
    let timeframe = blocking(move || {
        let cursor = choices.iter().position(|t| *t == current_tf).unwrap_or(0);
        Select::new("Timeframe (those the daemon has bars for):", choices)
            .with_starting_cursor(cursor)
            .prompt()
    })
    .await?;
    let catalog: Vec<SymbolInfo> = everything
        .into_iter()
        .filter(|s| s.timeframes.iter().any(|r| r.timeframe == timeframe))
        .collect();
    blocking(move || ask_rest(start, timeframe, &catalog)).await
}

/// The timeframes to offer: those with bars for the symbols already chosen (for any symbol
/// when none is, or none of them is in the catalog), in [`Timeframe::ALL`] order; every
/// timeframe when the catalog is empty.
pub fn timeframe_choices(catalog: &[SymbolInfo], symbols: &[String]) -> Vec<Timeframe> {
    let chosen: Vec<&SymbolInfo> = catalog
        .iter()
        .filter(|s| {
            symbols
                .iter()
                .any(|c| c.trim().eq_ignore_ascii_case(&s.symbol))
        })
        .collect();
    let pool: Vec<&SymbolInfo> = if chosen.is_empty() {
        catalog.iter().collect()
    } else {
        chosen
    };
    let offered: Vec<Timeframe> = Timeframe::ALL
        .iter()
        .copied()
        .filter(|tf| {
            pool.iter()
                .any(|s| s.timeframes.iter().any(|r| r.timeframe == *tf))
        })
        .collect();
    if offered.is_empty() {
        Timeframe::ALL.to_vec()
    } else {
        offered
    }
}

fn ask_rest(
    mut req: CreateSessionRequest,
    timeframe: Timeframe,
    catalog: &[SymbolInfo],
) -> Result<CreateSessionRequest, InquireError> {
    req.timeframe = Some(timeframe.to_string());
    req.symbols = ask_symbols(&req.symbols, timeframe, catalog)?;

    // Default range: the span every chosen symbol covers.
    let ranges: Vec<_> = catalog
        .iter()
        .filter(|s| {
            req.symbols
                .iter()
                .any(|c| c.eq_ignore_ascii_case(&s.symbol))
        })
        .filter_map(|s| s.timeframes.iter().find(|r| r.timeframe == timeframe))
        .collect();
    let daily = timeframe.is_daily_or_longer();
    let first = ranges
        .iter()
        .map(|r| r.first)
        .max()
        .map(|t| stamp(t, daily));
    let last = ranges.iter().map(|r| r.last).min().map(|t| stamp(t, daily));
    req.start_date = ask_date("Start date (inclusive):", &req.start_date, first)?;
    req.end_date = ask_date("End date (inclusive):", &req.end_date, last)?;

    req.initial_capital = Some(ask_amount(
        "Initial capital:",
        req.initial_capital.unwrap_or(defaults::INITIAL_CAPITAL),
        None,
    )?);
    req.commission_rate = Some(ask_amount(
        "Commission rate (fraction of value):",
        req.commission_rate.unwrap_or(defaults::COST),
        Some("0.001 = 0.1 %"),
    )?);
    req.commission_per_share = Some(ask_amount(
        "Commission per share:",
        req.commission_per_share.unwrap_or(defaults::COST),
        None,
    )?);
    req.commission_min = Some(ask_amount(
        "Minimum commission per fill:",
        req.commission_min.unwrap_or(defaults::COST),
        None,
    )?);
    req.slippage_bps = Some(ask_amount(
        "Slippage (basis points):",
        req.slippage_bps.unwrap_or(defaults::COST),
        None,
    )?);
    req.allow_short = Some(
        Confirm::new("Allow short selling?")
            .with_default(req.allow_short.unwrap_or(defaults::ALLOW_SHORT))
            .prompt()?,
    );
    ask_limits(&mut req)?;
    Ok(req)
}

/// Time-limit choices offered by `--interactive`.
pub const DURATION_CHOICES: [&str; 5] = ["1h", "4h", "24h", "7d", "other…"];
/// Loss-limit choices offered by `--interactive`.
pub const LOSS_CHOICES: [&str; 5] = ["10%", "20%", "30%", "none", "other…"];

/// The time limit (1h, 4h, 24h, 7d or any duration) and the loss limit (10 %, 20 %, 30 %,
/// none or any percentage).
fn ask_limits(req: &mut CreateSessionRequest) -> Result<(), InquireError> {
    let current = req.max_duration.clone().unwrap_or_else(|| "24h".into());
    let start = DURATION_CHOICES
        .iter()
        .position(|c| *c == current)
        .unwrap_or(2);
    let picked = Select::new("Time limit:", DURATION_CHOICES.to_vec())
        .with_starting_cursor(start)
        .prompt()?;
    req.max_duration = Some(if picked == "other…" {
        Text::new("Time limit (e.g. 90m, 12h, 3d):")
            .with_default(&current)
            .with_validator(|s: &str| {
                Ok(match shared_models::lifecycle::parse_duration(s) {
                    Ok(_) => Validation::Valid,
                    Err(e) => Validation::Invalid(e.into()),
                })
            })
            .prompt()?
    } else {
        picked.to_string()
    });
    let picked = Select::new(
        "Loss limit (of the initial capital):",
        LOSS_CHOICES.to_vec(),
    )
    .with_starting_cursor(loss_cursor(req.loss_limit_pct))
    .prompt()?;
    req.loss_limit_amount = None;
    req.loss_limit_pct = match picked {
        // 0 = no loss limit, also over the daemon's `default_loss_limit_pct`.
        "none" => Some(Decimal::ZERO),
        "other…" => Some(ask_amount(
            "Loss limit (percent, 0 = none):",
            req.loss_limit_pct.unwrap_or(Decimal::from(15)),
            None,
        )?),
        p => p.trim_end_matches('%').parse().ok(),
    };
    Ok(())
}

/// Where the loss-limit choice starts: the percentage the flags or the file give, else
/// "none".
pub fn loss_cursor(current: Option<Decimal>) -> usize {
    let none = LOSS_CHOICES.iter().position(|c| *c == "none").unwrap_or(0);
    let other = LOSS_CHOICES.len() - 1;
    match current {
        None => none,
        Some(p) if p.is_zero() => none,
        Some(p) => LOSS_CHOICES
            .iter()
            .position(|c| c.trim_end_matches('%').parse::<Decimal>().ok() == Some(p.normalize()))
            .unwrap_or(other),
    }
}

fn ask_symbols(
    current: &[String],
    timeframe: Timeframe,
    catalog: &[SymbolInfo],
) -> Result<Vec<String>, InquireError> {
    if catalog.is_empty() {
        let default = current.join(",");
        let answer = Text::new("Symbols (comma separated):")
            .with_default(&default)
            .with_help_message("the daemon lists no symbols at this timeframe")
            .with_validator(|s: &str| {
                Ok(if s.split(',').any(|p| !p.trim().is_empty()) {
                    Validation::Valid
                } else {
                    Validation::Invalid("give at least one symbol".into())
                })
            })
            .prompt()?;
        return Ok(answer
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect());
    }
    let daily = timeframe.is_daily_or_longer();
    let labels: Vec<String> = catalog
        .iter()
        .map(|s| {
            let range = s
                .timeframes
                .iter()
                .find(|r| r.timeframe == timeframe)
                .map(|r| {
                    format!(
                        "{} → {}, {} bars",
                        stamp(r.first, daily),
                        stamp(r.last, daily),
                        r.bars
                    )
                })
                .unwrap_or_default();
            let synthetic = if s.synthetic { ", synthetic" } else { "" };
            format!("{:<10} {} ({range}{synthetic})", s.symbol, s.asset_class)
        })
        .collect();
    let selected: Vec<usize> = catalog
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            current
                .iter()
                .any(|c| c.trim().eq_ignore_ascii_case(&s.symbol))
        })
        .map(|(i, _)| i)
        .collect();
    let chosen = MultiSelect::new("Symbols (space to select, enter to accept):", labels)
        .with_default(&selected)
        .with_validator(|picked: &[inquire::list_option::ListOption<&String>]| {
            Ok(if picked.is_empty() {
                Validation::Invalid("select at least one symbol".into())
            } else {
                Validation::Valid
            })
        })
        .raw_prompt()?;
    Ok(chosen
        .into_iter()
        .filter_map(|o| catalog.get(o.index).map(|s| s.symbol.clone()))
        .collect())
}

fn ask_date(
    question: &str,
    current: &str,
    suggested: Option<String>,
) -> Result<String, InquireError> {
    let default = if current.trim().is_empty() {
        suggested.unwrap_or_default()
    } else {
        current.to_string()
    };
    let answer = Text::new(question)
        .with_default(&default)
        .with_help_message("YYYY-MM-DD or RFC 3339, UTC")
        .with_validator(|s: &str| {
            Ok(match parse_date(s) {
                Ok(_) => Validation::Valid,
                Err(e) => Validation::Invalid(e.into()),
            })
        })
        .prompt()?;
    // Validated above.
    Ok(parse_date(&answer).unwrap_or(answer))
}

fn ask_amount(
    question: &str,
    default: Decimal,
    help: Option<&str>,
) -> Result<Decimal, InquireError> {
    let parser = |s: &str| parse_decimal(s).map_err(|_| ());
    let mut prompt = CustomType::<Decimal>::new(question)
        .with_default(default)
        .with_parser(&parser)
        .with_error_message("write a number, like 100000 or 0.001");
    if let Some(help) = help {
        prompt = prompt.with_help_message(help);
    }
    prompt.prompt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use shared_models::{AssetClass, TimeframeRange};

    fn symbol(name: &str, timeframes: &[Timeframe]) -> SymbolInfo {
        let t = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        SymbolInfo {
            symbol: name.into(),
            asset_class: AssetClass::Equity,
            exchange: None,
            description: None,
            synthetic: false,
            timeframes: timeframes
                .iter()
                .map(|tf| TimeframeRange {
                    timeframe: *tf,
                    first: t,
                    last: t,
                    bars: 10,
                })
                .collect(),
        }
    }

    #[test]
    fn only_timeframes_the_data_has_are_offered() {
        let catalog = [
            symbol("GOOG", &[Timeframe::D1]),
            symbol("ACME", &[Timeframe::M1, Timeframe::D1]),
        ];
        assert_eq!(
            timeframe_choices(&catalog, &["goog".into()]),
            [Timeframe::D1]
        );
        assert_eq!(
            timeframe_choices(&catalog, &[]),
            [Timeframe::M1, Timeframe::D1]
        );
        assert_eq!(timeframe_choices(&[], &[]), Timeframe::ALL.to_vec());
    }

    #[test]
    fn the_loss_limit_defaults_to_none_unless_one_is_given() {
        assert_eq!(LOSS_CHOICES[loss_cursor(None)], "none");
        assert_eq!(LOSS_CHOICES[loss_cursor(Some(Decimal::ZERO))], "none");
        assert_eq!(LOSS_CHOICES[loss_cursor(Some(Decimal::from(30)))], "30%");
        assert_eq!(
            LOSS_CHOICES[loss_cursor(Some(Decimal::new(125, 1)))],
            "other…"
        );
    }
}
