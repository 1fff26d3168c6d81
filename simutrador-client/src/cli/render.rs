//! Human-readable views: the session preview, one session in detail, and the aligned tables
//! of `session list` (with P&L, return, trades, max drawdown and end reason) and `data
//! symbols`. JSON output never goes through here.

use chrono::{DateTime, Utc};
use comfy_table::{CellAlignment, Table, presets};
use rust_decimal::Decimal;
use shared_models::messages::server::{SessionList, SymbolList};
use shared_models::{SessionInfo, SessionParams};
use std::fmt::Write as _;

/// `1234567.5` → `1,234,567.5`.
pub fn money(amount: Decimal) -> String {
    let text = amount.normalize().to_string();
    let (sign, digits) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |d| ("-", d));
    let (int, frac) = digits
        .split_once('.')
        .map_or((digits, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// A fraction as a percentage: `0.001` → `0.1 %`.
pub fn percent(fraction: Decimal) -> String {
    format!("{} %", (fraction * Decimal::ONE_HUNDRED).normalize())
}

/// Minute-precision UTC time.
pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The costs in one line: "commission 0.1 % of value, min 1; slippage 2 bps", or "none".
pub fn costs(p: &SessionParams) -> String {
    let mut parts = Vec::new();
    if !p.commission_rate.is_zero() {
        parts.push(format!("{} of value", percent(p.commission_rate)));
    }
    if !p.commission_per_share.is_zero() {
        parts.push(format!("{} per share", money(p.commission_per_share)));
    }
    let mut text = if parts.is_empty() {
        "no commission".to_string()
    } else {
        format!("commission {}", parts.join(" + "))
    };
    if !p.commission_min.is_zero() {
        let _ = write!(text, " (min {})", money(p.commission_min));
    }
    if p.slippage_bps.is_zero() {
        text.push_str(", no slippage");
    } else {
        let _ = write!(text, ", slippage {} bps", p.slippage_bps.normalize());
    }
    text
}

/// The lines shared by the preview and the detail view.
fn params_lines(p: &SessionParams, bars: u64, out: &mut String) {
    let _ = writeln!(out, "  symbols     {}", p.symbols.join(", "));
    let _ = writeln!(
        out,
        "  range       {} → {} (inclusive, UTC)",
        p.start_date, p.end_date
    );
    let _ = writeln!(out, "  timeframe   {}", p.timeframe);
    let _ = writeln!(out, "  bars        {bars} to replay");
    let _ = writeln!(out, "  capital     {}", money(p.initial_capital));
    let _ = writeln!(out, "  costs       {}", costs(p));
    let _ = writeln!(
        out,
        "  shorting    {}",
        if p.allow_short {
            "allowed"
        } else {
            "not allowed"
        }
    );
    if !p.metadata.is_empty() {
        let _ = writeln!(
            out,
            "  metadata    {}",
            serde_json::Value::Object(p.metadata.clone())
        );
    }
}

/// What `session create` shows before sending.
pub fn preview(p: &SessionParams, bars: u64) -> String {
    let mut out = String::from("Session preview\n");
    params_lines(p, bars, &mut out);
    out
}

/// `session status`.
pub fn session_detail(s: &SessionInfo) -> String {
    let mut out = format!("Session {}\n", s.session_id);
    let _ = writeln!(out, "  state       {}", s.state);
    params_lines(&s.params, s.bar_count, &mut out);
    let _ = writeln!(out, "  created     {}", time(s.created_at));
    let _ = writeln!(out, "  updated     {}", time(s.updated_at));
    if let Some(t) = s.idle_expires_at {
        let _ = writeln!(out, "  idle until  {} (removed if unused)", time(t));
    }
    if let Some(t) = s.started_at {
        let _ = writeln!(out, "  started     {}", time(t));
    }
    if let Some(t) = s.ended_at {
        let _ = writeln!(out, "  ended       {}", time(t));
    }
    if let Some(r) = s.termination_reason {
        let _ = writeln!(
            out,
            "  reason      {}",
            serde_json::to_value(r)
                .unwrap_or_default()
                .as_str()
                .unwrap_or("?")
        );
    }
    if let Some(d) = &s.damage {
        let _ = writeln!(out, "  damage      {d}");
    }
    out
}

pub fn table(header: &[&str], right_aligned: &[usize]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_header(header.to_vec());
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, 2));
        if right_aligned.contains(&i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// `session list`: the table and "showing X–Y of TOTAL".
pub fn session_list(list: &SessionList) -> String {
    if list.sessions.is_empty() {
        return if list.total == 0 {
            "No sessions. Create one with `simutrador-client session create SYMBOL --start YYYY-MM-DD --end YYYY-MM-DD`.".into()
        } else {
            format!(
                "No sessions on this page (offset {} of {}); use a smaller --offset.",
                list.offset, list.total
            )
        };
    }
    let mut t = table(
        &[
            "ID", "STATE", "SYMBOLS", "TF", "RANGE", "CAPITAL", "P&L", "RETURN", "TRADES",
            "MAX DD", "END", "CREATED",
        ],
        &[5, 6, 7, 8, 9],
    );
    for s in &list.sessions {
        let p = &s.params;
        let dash = || "-".to_string();
        t.add_row(vec![
            s.session_id.clone(),
            s.state.to_string(),
            p.symbols.join(","),
            p.timeframe.to_string(),
            format!("{} → {}", p.start_date, p.end_date),
            money(p.initial_capital),
            s.equity
                .map_or_else(dash, |e| money((e - p.initial_capital).round_dp(2))),
            s.return_pct.map_or_else(dash, |r| format!("{r:.2} %")),
            s.trades.map_or_else(dash, |n| n.to_string()),
            s.max_drawdown_pct
                .map_or_else(dash, |d| format!("{d:.2} %")),
            s.termination_reason.map_or_else(dash, reason),
            time(s.created_at),
        ]);
    }
    let first = u64::from(list.offset) + 1;
    let last = u64::from(list.offset) + list.sessions.len() as u64;
    let mut out = format!("{t}\nshowing {first}–{last} of {}", list.total);
    let damaged = list.sessions.iter().filter(|s| s.damage.is_some()).count();
    if damaged > 0 {
        let _ = write!(
            out,
            "\n{damaged} damaged (corrupt journal, kept in quarantine, never resumed): `session status ID` says which file and line"
        );
    }
    if list.has_more {
        let _ = write!(out, " (next page: --offset {last})");
    }
    out
}

/// A termination reason in its wire spelling (`loss_limit`).
pub fn reason(r: shared_models::TerminationReason) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `data symbols`: one row per symbol and timeframe.
pub fn symbol_list(list: &SymbolList) -> String {
    if list.symbols.is_empty() {
        return "No symbols match. Drop the filters, or import data with `simutrador-server data import`.".into();
    }
    let mut t = table(
        &["SYMBOL", "CLASS", "TF", "FIRST", "LAST", "BARS", "SOURCE"],
        &[5],
    );
    let mut any_synthetic = false;
    for s in &list.symbols {
        any_synthetic |= s.synthetic;
        for r in &s.timeframes {
            t.add_row(vec![
                s.symbol.clone(),
                s.asset_class.to_string(),
                r.timeframe.to_string(),
                stamp(r.first, r.timeframe.is_daily_or_longer()),
                stamp(r.last, r.timeframe.is_daily_or_longer()),
                r.bars.to_string(),
                if s.synthetic {
                    "synthetic*".into()
                } else {
                    s.exchange.clone().unwrap_or_default()
                },
            ]);
        }
    }
    let mut out = t.to_string();
    if any_synthetic {
        out.push_str("\n* synthetic: generated demo data, not real prices");
    }
    out
}

/// A bar time: the date for daily bars, minutes otherwise.
pub fn stamp(t: DateTime<Utc>, daily: bool) -> String {
    if daily {
        t.format("%Y-%m-%d").to_string()
    } else {
        time(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_are_grouped_and_exact() {
        assert_eq!(money(dec!(100000)), "100,000");
        assert_eq!(money(dec!(1234567.50)), "1,234,567.5");
        assert_eq!(money(dec!(-999.25)), "-999.25");
        assert_eq!(money(dec!(0)), "0");
        assert_eq!(percent(dec!(0.001)), "0.1 %");
    }
}
