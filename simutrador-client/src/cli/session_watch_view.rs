//! What `session watch` prints, in one of three forms, all on stdout:
//!
//! - **Bars** when stdout is a terminal: three `indicatif` bars — time limit used (with the
//!   countdown), loss limit used, simulation progress — green, yellow from 80 %, red at 100 %,
//!   with the events, warnings and the `session stop` hint printed above them.
//! - **Lines** when stdout is not a terminal (a pipe, a file, CI): the same content as plain
//!   lines and no ANSI escapes, throttled: a progress line at most every [`PIPE_EVERY`]
//!   (at once when the state changes; an update that would print the same line again is
//!   skipped), so a log of a long run stays readable. Events, warnings and the final line
//!   are never held back.
//! - **JSON** with `--json`: one compact JSON object per line — each push as it came
//!   (`session_stats_update`, `session_warning`, `session_terminated`), and last the final
//!   `session` (`{"type":"session","data":{...}}`).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rust_decimal::Decimal;
use shared_models::lifecycle::{
    SessionEventRecord, SessionStatsUpdate, SessionTerminated, SessionWarning,
};
use shared_models::{ServerMessage, SessionInfo, SessionState};
use std::io::IsTerminal;

use super::render::money;
use super::session_lifecycle::event_line;

/// Least time between two progress lines in a pipe (a state change prints at once).
pub const PIPE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Where and how the watch prints.
pub enum View {
    Bars(Bars),
    Lines(Throttle),
    Json,
}

/// When a pipe gets the next progress line: the line printed last, when, in which state.
#[derive(Debug, Default)]
pub struct Throttle {
    last: Option<String>,
    at: Option<tokio::time::Instant>,
    state: Option<SessionState>,
}

impl Throttle {
    /// Whether `line` (of an update in `state`) is printed now; records it when it is.
    pub fn admit(&mut self, line: &str, state: SessionState) -> bool {
        let now = tokio::time::Instant::now();
        let due = match (self.at, self.state) {
            (Some(at), Some(was)) => was != state || now.duration_since(at) >= PIPE_EVERY,
            _ => true,
        };
        if !due || self.last.as_deref() == Some(line) {
            return false;
        }
        self.last = Some(line.to_string());
        self.at = Some(now);
        self.state = Some(state);
        true
    }
}

impl View {
    /// JSON with `json`, else bars on a terminal and plain lines elsewhere.
    pub fn new(json: bool) -> View {
        if json {
            View::Json
        } else if std::io::stdout().is_terminal() {
            View::Bars(Bars::new())
        } else {
            View::Lines(Throttle::default())
        }
    }

    /// The first lines: what is watched, and how to stop it.
    pub fn header(&mut self, id: &str, interval_ms: u64) {
        self.line(format!(
            "Watching session {id} (updates every {interval_ms} ms; Ctrl-C stops watching, not the session)."
        ));
        self.line(format!(
            "Stop the session: simutrador-client session stop {id} [--emergency]"
        ));
    }

    /// One `session_stats_update`.
    pub fn update(&mut self, u: &SessionStatsUpdate) {
        match self {
            View::Bars(bars) => bars.update(u),
            View::Lines(throttle) => {
                let line = progress_line(u);
                if throttle.admit(&line, u.state) {
                    stdout_line(&line);
                }
            }
            View::Json => json_line(&ServerMessage::SessionStatsUpdate(u.clone())),
        }
    }

    /// One entry of the event log (not in JSON).
    pub fn event(&mut self, e: &SessionEventRecord) {
        if !matches!(self, View::Json) {
            self.line(format!("event {}", event_line(e)));
        }
    }

    /// A `session_warning`.
    pub fn warning(&mut self, w: &SessionWarning) {
        match self {
            View::Json => json_line(&ServerMessage::SessionWarning(w.clone())),
            _ => self.line(format!("WARNING: {}", w.message)),
        }
    }

    /// A `session_terminated` (the final line comes from [`View::ended`]).
    pub fn terminated(&mut self, t: &SessionTerminated) {
        if matches!(self, View::Json) {
            json_line(&ServerMessage::SessionTerminated(t.clone()));
        }
    }

    /// The session was over before watching started.
    pub fn already_ended(&mut self, info: &SessionInfo) {
        match self {
            View::Json => json_line(&ServerMessage::Session(info.clone())),
            _ => self.line(format!(
                "Session {} has already ended: {}; see `simutrador-client session events {}`.",
                info.session_id,
                state_and_reason(info),
                info.session_id
            )),
        }
    }

    /// The session ended while watched: the final line.
    pub fn ended(&mut self, info: &SessionInfo, last: Option<&SessionStatsUpdate>) {
        if let View::Bars(bars) = self {
            bars.finish();
        }
        if matches!(self, View::Json) {
            json_line(&ServerMessage::Session(info.clone()));
            return;
        }
        let figures = last.map_or_else(String::new, |u| {
            format!(
                ": equity {}, P&L {}, {} trades, {:.1}% simulated",
                cents(u.equity),
                cents(u.pnl),
                u.trades,
                u.sim_progress_pct
            )
        });
        self.line(format!(
            "Session {} ended: {}{figures}.",
            info.session_id,
            state_and_reason(info)
        ));
    }

    /// The connection dropped: attempt `attempt` comes after `wait`.
    pub fn reconnecting(&mut self, attempt: u32, wait: std::time::Duration) {
        if !matches!(self, View::Json) {
            self.line(format!(
                "connection to the daemon lost; reconnecting in {:.1} s (attempt {attempt})…",
                wait.as_secs_f64()
            ));
        }
    }

    /// Connected again; the watch goes on.
    pub fn reconnected(&mut self) {
        if !matches!(self, View::Json) {
            self.line("reconnected to the daemon; watching again.".to_string());
        }
    }

    /// Ctrl-C: watching stops, the session does not.
    pub fn detached(&mut self, id: &str, state: SessionState) {
        if let View::Bars(bars) = self {
            bars.finish();
        }
        if !matches!(self, View::Json) {
            self.line(format!(
                "Stopped watching session {id}; it is still {state}."
            ));
        }
    }

    /// A line of text above the bars, or on its own; nothing with `--json`.
    fn line(&self, text: String) {
        match self {
            View::Bars(bars) => bars.println(text),
            View::Lines(_) => stdout_line(&text),
            View::Json => {}
        }
    }
}

/// The P&L lines of `session status`: equity and P&L with the return, at the last settled
/// bar — live figures while the session runs or is paused, final ones once it ended. Nothing
/// before the start.
pub fn pnl_lines(info: &SessionInfo) -> String {
    let Some(equity) = info.equity else {
        return String::new();
    };
    let pnl = equity - info.params.initial_capital;
    let when = if info.state.is_terminal() {
        "final".to_string()
    } else {
        format!("live, at tick {} of {}", info.settled_ticks, info.bar_count)
    };
    format!(
        "  equity      {} ({when})\n  P&L         {} ({:+.2}%)\n",
        cents(equity),
        cents(pnl),
        info.return_pct.unwrap_or(0.0)
    )
}

/// `stopped (emergency_stop: emergency stop by the user)`, or just the state.
fn state_and_reason(info: &SessionInfo) -> String {
    super::outcome_view::state_and_reason(info)
}

/// An amount for the eye: grouped, to the cent (the exact figures are in `--json`).
fn cents(amount: Decimal) -> String {
    money(amount.round_dp(2))
}

/// One update as a plain line.
fn progress_line(u: &SessionStatsUpdate) -> String {
    format!(
        "progress: simulation {:.1}% | time used {:.0}% ({} left) | loss limit used {:.1}% | equity {} P&L {} drawdown {:.2}% | {} trades | {}",
        u.sim_progress_pct,
        u.time_used_pct,
        countdown(u.remaining),
        u.loss_limit_used_pct,
        cents(u.equity),
        cents(u.pnl),
        u.drawdown_pct,
        u.trades,
        u.state
    )
}

fn json_line(msg: &ServerMessage) {
    if let Ok(text) = serde_json::to_string(msg) {
        stdout_line(&text);
    }
}

/// One line on stdout; a closed pipe is recorded (the watch loop then stops), not a panic.
fn stdout_line(text: &str) {
    let _ = super::output::stdout_line(text);
}

/// The three bars, drawn on stdout (a terminal).
pub struct Bars {
    multi: MultiProgress,
    time: ProgressBar,
    loss: ProgressBar,
    sim: ProgressBar,
}

impl Bars {
    fn new() -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
        let bar = |prefix: &'static str| {
            let b = multi.add(ProgressBar::new(100));
            b.set_style(style(0.0));
            b.set_prefix(prefix);
            b
        };
        Bars {
            time: bar("time used"),
            loss: bar("loss limit"),
            sim: bar("simulation"),
            multi,
        }
    }

    fn update(&self, u: &SessionStatsUpdate) {
        set(
            &self.time,
            u.time_used_pct,
            format!("{} left", countdown(u.remaining)),
        );
        set(
            &self.loss,
            u.loss_limit_used_pct,
            format!(
                "equity {} (P&L {}), drawdown {:.2}%",
                cents(u.equity),
                cents(u.pnl),
                u.drawdown_pct
            ),
        );
        set(
            &self.sim,
            u.sim_progress_pct,
            format!("{} trades, {}", u.trades, u.state),
        );
    }

    fn println(&self, line: String) {
        if self.multi.println(&line).is_err() {
            stdout_line(&line);
        }
    }

    fn finish(&self) {
        for b in [&self.time, &self.loss, &self.sim] {
            b.abandon();
        }
    }
}

fn set(bar: &ProgressBar, pct: f64, msg: String) {
    bar.set_style(style(pct));
    bar.set_position(pct.clamp(0.0, 100.0).round() as u64);
    bar.set_message(msg);
}

/// The bar's colour: green below 80 %, yellow from 80 %, red at 100 %.
fn colour(pct: f64) -> &'static str {
    if pct >= 100.0 {
        "red"
    } else if pct >= 80.0 {
        "yellow"
    } else {
        "green"
    }
}

fn style(pct: f64) -> ProgressStyle {
    let template = format!(
        "{{prefix:>10}} [{{bar:30.{}/white}}] {{pos:>3}}% {{msg}}",
        colour(pct)
    );
    ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// `1h 02m 03s`.
fn countdown(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else {
        format!("{m}m {s:02}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_pipe_gets_a_progress_line_at_most_every_few_seconds() {
        let mut t = Throttle::default();
        assert!(t.admit("a", SessionState::Running));
        // A burst of updates (one per fill on a fast run) prints nothing more...
        for i in 0..100 {
            tokio::time::advance(PIPE_EVERY / 200).await;
            assert!(!t.admit(&format!("b{i}"), SessionState::Running));
        }
        // ...until the interval has passed, or the state changes.
        tokio::time::advance(PIPE_EVERY / 2).await;
        assert!(t.admit("c", SessionState::Running));
        assert!(t.admit("d", SessionState::Paused));
        tokio::time::advance(PIPE_EVERY).await;
        assert!(!t.admit("d", SessionState::Paused), "same line again");
    }
    use rust_decimal_macros::dec;

    #[test]
    fn countdowns_read_naturally() {
        assert_eq!(countdown(3723), "1h 02m 03s");
        assert_eq!(countdown(59), "0m 59s");
    }

    #[test]
    fn bars_turn_yellow_at_80_and_red_at_100_percent() {
        assert_eq!(colour(79.9), "green");
        assert_eq!(colour(80.0), "yellow");
        assert_eq!(colour(100.0), "red");
    }

    #[test]
    fn a_plain_line_has_every_figure_and_no_escape() {
        let u = SessionStatsUpdate {
            session_id: "s".into(),
            state: SessionState::Running,
            elapsed: 10,
            remaining: 3590,
            time_used_pct: 0.3,
            sim_progress_pct: 24.79,
            equity: dec!(100250.504),
            pnl: dec!(250.5),
            drawdown_pct: 1.25,
            loss_limit_used_pct: 0.0,
            trades: 3,
        };
        let line = progress_line(&u);
        assert_eq!(
            line,
            "progress: simulation 24.8% | time used 0% (59m 50s left) | loss limit used 0.0% | equity 100,250.5 P&L 250.5 drawdown 1.25% | 3 trades | running"
        );
        assert!(!line.contains('\u{1b}'));
    }
}
