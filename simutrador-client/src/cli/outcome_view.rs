//! Why a run ended and what ran, as the CLI says it: the end line of `session run` and
//! `session rerun` ("Stopped: loss limit reached at bar 120 of 253 (equity 79,876.5)."), the
//! origin lines of `session status` and `session results` (strategy, client, data), and the
//! exit code of a run that did not complete (the table in `docs/client.md`).

use rust_decimal::Decimal;
use shared_models::results::RunOutcome;
use shared_models::{SessionInfo, StrategyRef, TerminationReason};
use std::fmt::Write as _;
use std::process::ExitCode;

use super::render::money;

/// Exit code of a run cut short by one of the session's limits or by bankruptcy
/// (`loss_limit`, `time_limit`, `idle_timeout`, `bankrupt`).
pub const EXIT_LIMIT: u8 = 3;
/// Exit code of a run stopped by a user (`manual_stop`, `emergency_stop`).
pub const EXIT_STOPPED: u8 = 4;
/// Exit code of a run ended by the daemon's failure (`error`, `store_error`).
pub const EXIT_SERVER_ERROR: u8 = 5;

/// The exit code of a run that ended for `reason`: 0 when it completed (or the daemon did
/// not say), else [`EXIT_LIMIT`], [`EXIT_STOPPED`] or [`EXIT_SERVER_ERROR`].
pub fn exit_code(reason: Option<TerminationReason>) -> u8 {
    use TerminationReason::*;
    match reason {
        None | Some(Completed) => 0,
        Some(LossLimit | TimeLimit | IdleTimeout | Bankrupt) => EXIT_LIMIT,
        Some(ManualStop | EmergencyStop) => EXIT_STOPPED,
        Some(Error | StoreError) => EXIT_SERVER_ERROR,
    }
}

/// [`exit_code`] as a process exit code.
pub fn exit_status(reason: Option<TerminationReason>) -> ExitCode {
    ExitCode::from(exit_code(reason))
}

/// One sentence on why a run ended early, or `None` when it completed (or nobody said):
/// `Stopped: loss limit reached at bar 120 of 253 (equity 79,876.5).`
pub fn end_line(outcome: &RunOutcome, equity: Decimal) -> Option<String> {
    let reason = outcome
        .termination_reason
        .filter(|r| *r != TerminationReason::Completed)?;
    let verb = match reason {
        TerminationReason::Error | TerminationReason::StoreError => "Failed",
        TerminationReason::TimeLimit | TerminationReason::IdleTimeout => "Expired",
        _ => "Stopped",
    };
    let at = match (outcome.settled_ticks, outcome.total_ticks) {
        (Some(n), Some(total)) => format!(" at bar {n} of {total}"),
        (Some(n), None) => format!(" at bar {n}"),
        _ => String::new(),
    };
    Some(format!(
        "{verb}: {}{at} (equity {}; reason {reason}).",
        reason.describe(),
        money(equity.round_dp(2))
    ))
}

/// `stopped (loss_limit: loss limit reached)`, or just the state.
pub fn state_and_reason(info: &SessionInfo) -> String {
    match info.termination_reason {
        Some(r) => format!("{} ({r}: {})", info.state, r.describe()),
        None => info.state.to_string(),
    }
}

/// The origin lines (indented like a session's details): strategy, client, data. Empty when
/// the daemon knows none of them.
pub fn origin_lines(
    strategy: Option<&StrategyRef>,
    client_version: Option<&str>,
    data_fingerprint: Option<&str>,
) -> String {
    let mut out = String::new();
    if let Some(s) = strategy {
        let kind = if s.built_in { "built-in" } else { "own" };
        let _ = writeln!(out, "  strategy    {} ({kind})", s.label());
    }
    if let Some(v) = client_version {
        let _ = writeln!(out, "  client      {v}");
    }
    if let Some(d) = data_fingerprint {
        let _ = writeln!(out, "  data        {d}");
    }
    out
}

/// The lines `session status` adds: why it ended, in words, and what ran on it.
pub fn status_lines(info: &SessionInfo) -> String {
    let mut out = String::new();
    if let Some(r) = info.termination_reason {
        let _ = writeln!(out, "  why         {}", r.describe());
    }
    out.push_str(&origin_lines(
        info.strategy.as_ref(),
        info.client_version.as_deref(),
        info.data_fingerprint.as_deref(),
    ));
    out
}

/// The lines above a results table: how the run ended and what ran. Empty from a daemon
/// that does not say.
pub fn results_header(outcome: &RunOutcome) -> String {
    let mut out = String::new();
    if let Some(state) = outcome.final_state {
        let _ = write!(out, "Session {state}");
        if let Some(r) = outcome.termination_reason {
            let _ = write!(out, " ({r}: {})", r.describe());
        }
        if let (Some(n), Some(total)) = (outcome.settled_ticks, outcome.total_ticks) {
            let _ = write!(out, ", {n} of {total} bars");
        }
        out.push('\n');
    }
    out.push_str(&origin_lines(
        outcome.strategy.as_ref(),
        outcome.client_version.as_deref(),
        outcome.data_fingerprint.as_deref(),
    ));
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use shared_models::SessionState;

    fn outcome(reason: TerminationReason) -> RunOutcome {
        RunOutcome {
            final_state: Some(SessionState::Stopped),
            termination_reason: Some(reason),
            settled_ticks: Some(120),
            total_ticks: Some(253),
            ..RunOutcome::default()
        }
    }

    #[test]
    fn every_reason_has_its_exit_code() {
        use TerminationReason::*;
        let codes: Vec<u8> = TerminationReason::ALL
            .into_iter()
            .map(|r| exit_code(Some(r)))
            .collect();
        assert_eq!(codes, [0, 4, 4, 3, 3, 3, 3, 5, 5]);
        assert_eq!(TerminationReason::ALL[0], Completed);
        assert_eq!(exit_code(None), 0, "an older daemon that does not say");
    }

    #[test]
    fn an_early_end_says_why_where_and_at_what_equity() {
        let line = end_line(&outcome(TerminationReason::LossLimit), dec!(79876.504));
        assert_eq!(
            line.as_deref(),
            Some(
                "Stopped: loss limit reached at bar 120 of 253 (equity 79,876.5; reason loss_limit)."
            )
        );
        assert!(end_line(&outcome(TerminationReason::Completed), dec!(1)).is_none());
        let failed = end_line(&outcome(TerminationReason::StoreError), dec!(1)).unwrap();
        assert!(failed.starts_with("Failed: "), "{failed}");
    }
}
