//! How a session's limits read on the terminal: the preview of `session create` (end time,
//! maximum loss in money and percent) and the lines of `session status`.

use rust_decimal::Decimal;
use shared_models::lifecycle::SessionLimits;
use std::fmt::Write;

use super::render::time;

/// The limit lines (indented like the rest of a session's details).
pub fn lines(l: &SessionLimits) -> String {
    let mut out = String::new();
    let _ = write!(out, "  time limit  {}", l.max_duration);
    match l.expires_at {
        Some(t) => {
            let _ = writeln!(out, " (ends {})", time(t));
        }
        None => {
            let end = chrono::Utc::now()
                + chrono::Duration::seconds(i64::try_from(l.max_duration_seconds).unwrap_or(0));
            let _ = writeln!(out, " (would end {} if created now)", time(end));
        }
    }
    match (l.max_loss_amount, l.max_loss_pct) {
        (Some(a), Some(p)) => {
            let _ = writeln!(out, "  max loss    {a} ({p}% of the capital)");
        }
        _ => {
            let _ = writeln!(out, "  max loss    none");
        }
    }
    let _ = writeln!(
        out,
        "  warnings at {}% of each limit",
        l.warning_threshold_pct
    );
    if let (Some(t), Some(b)) = (l.halt_threshold_pct, l.halt_bars) {
        let _ = writeln!(
            out,
            "  halt        moves over {t}% halt new orders for {b} bar(s)"
        );
    }
    out
}

/// The limits part of the creation preview.
pub fn preview(l: &SessionLimits, capital: Decimal) -> String {
    let mut out = String::from("Limits\n");
    out.push_str(&lines(l));
    if let Some(a) = l.max_loss_amount {
        let _ = writeln!(out, "  stops when equity falls to {}", capital - a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn shows_end_time_and_max_loss_in_money_and_percent() {
        let l = SessionLimits {
            max_duration: "4h".into(),
            max_duration_seconds: 14_400,
            expires_at: None,
            max_loss_amount: Some(dec!(10000)),
            max_loss_pct: Some(dec!(20)),
            warning_threshold_pct: dec!(80),
            halt_threshold_pct: None,
            halt_bars: None,
        };
        let text = preview(&l, dec!(50000));
        assert!(text.contains("time limit  4h (would end"), "{text}");
        assert!(
            text.contains("max loss    10000 (20% of the capital)"),
            "{text}"
        );
        assert!(text.contains("falls to 40000"), "{text}");
    }
}
