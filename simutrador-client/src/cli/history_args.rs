//! The flags of the history commands: the filters `session list` and `session stats` share,
//! `session compare`, and `session export`, with their value parsers. Turned into protocol
//! requests here so both commands send exactly the same filters.

use clap::{Args, ValueEnum};
use serde_json::Value;
use shared_models::lifecycle::{Performance, parse_duration};
use shared_models::messages::client::ListSessions;
use shared_models::messages::history::GetHistoryStats;
use shared_models::{SessionState, TerminationReason};
use std::path::PathBuf;
use std::str::FromStr;

use super::args::{parse_date, parse_performance};

/// Which sessions `session list` and `session stats` look at.
#[derive(Debug, Args, Default, Clone)]
pub struct HistoryFilterArgs {
    /// Only sessions in this state (created, running, paused, completed, stopped, expired,
    /// failed, damaged).
    #[arg(long, value_name = "STATE", value_parser = SessionState::from_str)]
    pub state: Option<SessionState>,
    /// Only sessions created on or after this day (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub created_from: Option<String>,
    /// Only sessions created on or before this day.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub created_to: Option<String>,
    /// Only sessions in profit or at a loss.
    #[arg(long, value_name = "profit|loss", value_parser = parse_performance)]
    pub performance: Option<Performance>,
    /// Only sessions covering at least this simulated period (end date − start date, whole
    /// days inclusive), e.g. 30d, 52w.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub min_duration: Option<u64>,
    /// Only sessions covering at most this simulated period.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub max_duration: Option<u64>,
    /// Only sessions that ended for this reason: completed, manual_stop, emergency_stop,
    /// loss_limit, bankrupt, time_limit, idle_timeout, error.
    #[arg(long, value_name = "REASON", value_parser = parse_reason)]
    pub reason: Option<TerminationReason>,
}

impl HistoryFilterArgs {
    /// The `list_sessions` request with these filters.
    pub fn list_query(&self) -> ListSessions {
        ListSessions {
            state: self.state,
            created_from: self.created_from.clone(),
            created_to: self.created_to.clone(),
            performance: self.performance,
            min_duration_seconds: self.min_duration,
            max_duration_seconds: self.max_duration,
            reason: self.reason,
            ..ListSessions::default()
        }
    }

    /// The `get_history_stats` request with these filters.
    pub fn stats_query(&self) -> GetHistoryStats {
        GetHistoryStats {
            state: self.state,
            created_from: self.created_from.clone(),
            created_to: self.created_to.clone(),
            performance: self.performance,
            min_duration_seconds: self.min_duration,
            max_duration_seconds: self.max_duration,
            reason: self.reason,
        }
    }
}

/// `session compare A B …`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Two to twenty session ids, shown left to right.
    #[arg(value_name = "ID", num_args = 2..=20, required = true)]
    pub ids: Vec<String>,
}

/// `session stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Which sessions.
    #[command(flatten)]
    pub filter: HistoryFilterArgs,
}

/// File format of `session export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// trades.parquet, equity.parquet, metrics.parquet.
    Parquet,
    /// trades.csv, equity.csv, metrics.csv (as `session results --csv`).
    Csv,
}

/// `session export ID`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The session id (its run must have ended).
    pub id: String,
    /// File format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
    pub format: ExportFormat,
    /// Folder to write into (created if missing) [default: ./<ID>].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// A termination reason in its wire spelling (`loss_limit`, also `loss-limit`).
pub fn parse_reason(text: &str) -> Result<TerminationReason, String> {
    let wire = text.trim().to_ascii_lowercase().replace('-', "_");
    serde_json::from_value(Value::String(wire)).map_err(|_| {
        format!(
            "'{text}' is not an end reason; use completed, manual_stop, emergency_stop, \
             loss_limit, bankrupt, time_limit, idle_timeout or error"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_parse_in_either_spelling() {
        assert_eq!(parse_reason("loss-limit"), Ok(TerminationReason::LossLimit));
        assert_eq!(parse_reason("Bankrupt"), Ok(TerminationReason::Bankrupt));
        assert!(
            parse_reason("cancelled")
                .unwrap_err()
                .contains("loss_limit")
        );
    }

    #[test]
    fn list_and_stats_send_the_same_filters() {
        let f = HistoryFilterArgs {
            min_duration: Some(86_400),
            reason: Some(TerminationReason::Completed),
            ..Default::default()
        };
        assert_eq!(f.stats_query().as_list_query(), f.list_query());
    }
}
