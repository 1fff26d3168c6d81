//! The limits part of a session report: each limit and how much of it the run used, as a
//! bar (red from 80 %), with the volatility halt and the warning threshold.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::fmt::Write as _;

use super::SessionReport;
use super::page::escape;
use super::stats::duration;

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

fn meter(label: &str, used_pct: Option<f64>, text: &str) -> String {
    let bar = match used_pct {
        Some(p) => {
            let w = p.clamp(0.0, 100.0);
            let hot = if p >= 80.0 { " class=\"hot\"" } else { "" };
            format!(
                "<span class=\"meter\"><span{hot} style=\"width:{w:.1}%\"></span></span> {p:.1}% used"
            )
        }
        None => "no limit".into(),
    };
    format!(
        "<tr><td>{}</td><td style=\"text-align:left\">{}</td><td style=\"text-align:left\">{bar}</td></tr>\n",
        escape(label),
        escape(text)
    )
}

/// The limits and how much of each the run used: the time limit against the time from start
/// to end, the loss limit against the deepest fall of the equity below the initial capital.
pub(super) fn limits(r: &SessionReport<'_>) -> String {
    let Some(l) = &r.info.limits else {
        return "<p>No limits recorded.</p>\n".into();
    };
    let mut out = String::from("<table id=\"limits\"><tbody>\n");
    let ran = match (r.info.started_at, r.info.ended_at) {
        (Some(a), Some(b)) => Some((b - a).num_seconds().max(0)),
        _ => None,
    };
    let used = ran.map(|s| s as f64 * 100.0 / (l.max_duration_seconds.max(1) as f64));
    let text = match ran {
        Some(s) => format!("{} (ran {})", l.max_duration, duration(s)),
        None => l.max_duration.clone(),
    };
    out.push_str(&meter("Time limit", used, &text));
    let capital = r.info.params.initial_capital;
    let lowest = r.results.equity_curve.iter().map(|p| p.equity).min();
    let worst_loss = lowest.map(|e| (capital - e).max(Decimal::ZERO));
    match l.max_loss_amount {
        Some(max) => {
            let used = worst_loss.map(|w| f(w) * 100.0 / f(max).max(f64::MIN_POSITIVE));
            let text = format!(
                "{} ({}% of the capital); deepest loss {}",
                max,
                l.max_loss_pct.map(|p| p.to_string()).unwrap_or_default(),
                worst_loss
                    .map(|w| w.round_dp(2).to_string())
                    .unwrap_or_default()
            );
            out.push_str(&meter("Loss limit", used, &text));
        }
        None => out.push_str(&meter("Loss limit", None, "none")),
    }
    let halt = match (l.halt_threshold_pct, l.halt_bars) {
        (Some(t), Some(b)) => format!("moves over {t}% halt new orders for {b} bar(s)"),
        _ => "none".into(),
    };
    let _ = writeln!(
        out,
        "<tr><td>Volatility halt</td><td style=\"text-align:left\" colspan=\"2\">{}</td></tr>",
        escape(&halt)
    );
    let _ = writeln!(
        out,
        "<tr><td>Warnings</td><td style=\"text-align:left\" colspan=\"2\">at {}% of each limit</td></tr>",
        l.warning_threshold_pct
    );
    out.push_str("</tbody></table>\n");
    out
}
