//! `session watch ID`: follow a session live. Three `indicatif` bars on stderr — time limit
//! used (with the countdown), loss limit used, simulation progress — turning yellow at 80 %
//! and red at 100 %, the latest events underneath, and a hint for `session stop`. Updates
//! arrive as `session_stats_update` pushes (`subscribe_session`); warnings and the end are
//! printed as they come. Ends when the session ends (exit 0) or on Ctrl-C.
//!
//! With `--json`, one JSON line per push on stdout instead (the last one is the
//! `session_terminated` or final `session` of the session).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use shared_models::ServerMessage;
use shared_models::lifecycle::SessionStatsUpdate;
use tokio::sync::broadcast::error::RecvError;

use super::Context;
use super::session_lifecycle::{event_line, terminated};

/// Run `session watch`.
pub async fn watch(id: &str, ctx: &Context) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let mut pushes = client.subscribe();
    let info = client.get_session(id).await?;
    if info.state.is_terminal() {
        return ctx.out.emit(&info, || {
            format!(
                "Session {} has ended ({}); see `session events {}`.",
                id, info.state, id
            )
        });
    }
    let sub = client.subscribe_session(id).await?;
    let bars = Bars::new(ctx.out.is_json());
    if !ctx.out.is_json() {
        bars.println(format!(
            "Watching session {id} (updates every {} ms). Stop it: simutrador-client session stop {id} [--emergency]",
            sub.interval_ms
        ));
        if let Ok(list) = client.session_events(id, Some(3), None).await {
            let skip = list.total.saturating_sub(3) as u32;
            if let Ok(latest) = client.session_events(id, Some(3), Some(skip)).await {
                for e in &latest.events {
                    bars.println(event_line(e));
                }
            }
        }
    }
    loop {
        let msg = tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                let _ = client.unsubscribe_session(id).await;
                bars.finish();
                return Ok(());
            }
            msg = pushes.recv() => msg,
        };
        let msg = match msg {
            Ok(m) => m,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => anyhow::bail!("the connection to the daemon closed"),
        };
        match &msg {
            ServerMessage::SessionStatsUpdate(u) if u.session_id == id => {
                if ctx.out.is_json() {
                    json_line(&msg);
                } else {
                    bars.update(u);
                }
                if u.state.is_terminal() {
                    // The end itself comes as session_terminated (early end) or not at all
                    // (completed): show the final state.
                    let info = client.get_session(id).await?;
                    bars.finish();
                    return ctx
                        .out
                        .emit(&info, || format!("Session {id} {}.", info.state));
                }
            }
            ServerMessage::SessionWarning(w) if w.session_id == id => {
                if ctx.out.is_json() {
                    json_line(&msg);
                } else {
                    bars.println(format!("WARNING: {}", w.message));
                }
            }
            ServerMessage::SessionTerminated(t) if t.session_id == id => {
                bars.finish();
                if ctx.out.is_json() {
                    json_line(&msg);
                    return Ok(());
                }
                println!("{}", terminated(t));
                return Ok(());
            }
            _ => {}
        }
    }
}

fn json_line(msg: &ServerMessage) {
    if let Ok(text) = serde_json::to_string(msg) {
        println!("{text}");
    }
}

/// The three bars.
struct Bars {
    multi: MultiProgress,
    time: ProgressBar,
    loss: ProgressBar,
    sim: ProgressBar,
}

impl Bars {
    fn new(hidden: bool) -> Bars {
        let target = if hidden {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let multi = MultiProgress::with_draw_target(target);
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
                u.equity, u.pnl, u.drawdown_pct
            ),
        );
        set(
            &self.sim,
            u.sim_progress_pct,
            format!("{} trades, {}", u.trades, u.state),
        );
    }

    fn println(&self, line: String) {
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
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

/// Green below 80 %, yellow from 80 %, red at 100 %.
fn style(pct: f64) -> ProgressStyle {
    let colour = if pct >= 100.0 {
        "red"
    } else if pct >= 80.0 {
        "yellow"
    } else {
        "green"
    };
    let template = format!("{{prefix:>10}} [{{bar:30.{colour}/white}}] {{pos:>3}}% {{msg}}");
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

    #[test]
    fn countdowns_read_naturally() {
        assert_eq!(countdown(3723), "1h 02m 03s");
        assert_eq!(countdown(59), "0m 59s");
    }
}
