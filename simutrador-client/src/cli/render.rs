//! Human-readable views: the session preview, one session in detail, and the aligned tables
//! of `session list` (with P&L, return, trades, max drawdown and end reason) and `data
//! symbols`. JSON output never goes through here.
//!
//! Every table starts at [`table`] and fits the width [`width_limit`] gives (the terminal's
//! when stdout is one, `COLUMNS` when set, no limit otherwise or with `--wide`): [`fit`]
//! first drops the columns a table names as least important, in that order, and says which;
//! cells of what is left wrap. A table printed with `{}` instead of [`fit`] only wraps.

use chrono::{DateTime, Utc};
use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement, Table, presets};
use rust_decimal::Decimal;
use shared_models::messages::server::{SessionList, SymbolList};
use shared_models::{SessionInfo, SessionParams};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by `--wide`: tables show every column whatever the width.
static WIDE: AtomicBool = AtomicBool::new(false);

/// `--wide`: no width limit for this process's tables.
pub fn set_wide(wide: bool) {
    WIDE.store(wide, Ordering::Relaxed);
}

/// The narrowest width a table is fitted to (a smaller `COLUMNS` is taken as this).
const MIN_WIDTH: u16 = 20;

/// The width tables must fit in: none with `--wide`; else `COLUMNS` when it is a number;
/// else the terminal's width when stdout is a terminal; else none (a pipe or a file gets
/// every column).
pub fn width_limit() -> Option<u16> {
    let columns = std::env::var("COLUMNS").ok();
    // comfy-table asks the terminal only when stdout is one.
    let terminal = || Table::new().width();
    limit_from(WIDE.load(Ordering::Relaxed), columns.as_deref(), terminal)
}

/// [`width_limit`] from its inputs.
fn limit_from(
    wide: bool,
    columns: Option<&str>,
    terminal: impl FnOnce() -> Option<u16>,
) -> Option<u16> {
    if wide {
        return None;
    }
    match columns.and_then(|c| c.trim().parse::<u16>().ok()) {
        Some(c) if c > 0 => Some(c.max(MIN_WIDTH)),
        _ => terminal().filter(|w| *w > 0).map(|w| w.max(MIN_WIDTH)),
    }
}

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

/// A borderless table with `header`, the columns `right_aligned` aligned right, sized to fit
/// [`width_limit`] (cells wrap when it is too narrow; [`fit`] drops columns first).
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
    if let Some(width) = width_limit() {
        table
            .set_width(width)
            .set_content_arrangement(ContentArrangement::Dynamic);
    }
    table
}

/// Render `t` within [`width_limit`]: while it is too wide, hide the next column of
/// `drop_order` (least important first), then let the cells wrap; a line after the table
/// names the hidden columns.
pub fn fit(t: Table, drop_order: &[usize]) -> String {
    fit_to(t, drop_order, width_limit())
}

/// [`fit`] for an explicit width (`None`: no limit).
pub fn fit_to(mut t: Table, drop_order: &[usize], limit: Option<u16>) -> String {
    let mut hidden = Vec::new();
    if let Some(limit) = limit {
        t.set_width(limit)
            .set_content_arrangement(ContentArrangement::Dynamic);
        let widths = t.column_max_content_widths();
        // Content plus the two spaces between columns; the last column needs none.
        let natural = |hidden: &[usize]| {
            let total: usize = widths
                .iter()
                .enumerate()
                .filter(|(i, _)| !hidden.contains(i))
                .map(|(_, w)| usize::from(*w) + 2)
                .sum();
            total.saturating_sub(2)
        };
        for &column in drop_order {
            if natural(&hidden) <= usize::from(limit) {
                break;
            }
            if let Some(c) = t.column_mut(column) {
                c.set_constraint(ColumnConstraint::Hidden);
                hidden.push(column);
            }
        }
    }
    let mut out = t
        .lines()
        .map(|line| line.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    if !hidden.is_empty() {
        let names: Vec<String> = t
            .header()
            .map(|h| {
                h.cell_iter()
                    .enumerate()
                    .filter(|(i, _)| hidden.contains(i))
                    .map(|(_, c)| c.content())
                    .collect()
            })
            .unwrap_or_default();
        let note = format!("(hidden to fit: {}; --wide shows all)", names.join(", "));
        out.push('\n');
        out.push_str(&wrap(&note, limit.map_or(usize::MAX, usize::from)));
    }
    out
}

/// `text` broken into lines of at most `width` characters, at spaces (a longer word stays
/// whole).
fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines.join("\n")
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
    // An id is copied, never wrapped; least important first: when the table is too wide
    // these columns go, in this order.
    if let Some(id) = t.column_mut(0) {
        id.set_constraint(ColumnConstraint::ContentWidth);
    }
    // CREATED, CAPITAL, TF, MAX DD, TRADES, RANGE, P&L, SYMBOLS; ID, STATE, RETURN and END stay.
    let mut out = fit(t, &[11, 5, 3, 9, 8, 4, 6, 2]);
    let _ = write!(out, "\nshowing {first}–{last} of {}", list.total);
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
    let mut out = fit(t, &[6, 1, 5]);
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

    #[test]
    fn the_width_comes_from_wide_columns_or_the_terminal() {
        assert_eq!(limit_from(true, Some("80"), || Some(100)), None);
        assert_eq!(limit_from(false, Some("80"), || Some(100)), Some(80));
        assert_eq!(limit_from(false, Some("wide"), || Some(100)), Some(100));
        assert_eq!(limit_from(false, None, || None), None, "a pipe: no limit");
        assert_eq!(limit_from(false, Some("5"), || None), Some(MIN_WIDTH));
    }

    fn wide_table() -> Table {
        let mut t = table(&["ID", "STATE", "NOTE", "CREATED"], &[]);
        t.set_width(u16::MAX); // not the test runner's terminal
        t.add_row(vec![
            "5b0e1c8e-2f7d-4d0a-9a57-1f3c2d9e8b11",
            "completed",
            "a long note that would make the table far too wide for a narrow terminal",
            "2026-12-07 17:00 UTC",
        ]);
        t
    }

    #[test]
    fn tables_drop_low_priority_columns_then_wrap_to_fit() {
        let text = fit_to(wide_table(), &[3, 2], None);
        assert!(text.lines().any(|l| l.chars().count() > 100), "{text}");

        let text = fit_to(wide_table(), &[3, 2], Some(60));
        assert!(text.lines().all(|l| l.chars().count() <= 60), "{text}");
        assert!(
            text.contains("completed") && !text.contains("long note"),
            "{text}"
        );
        assert!(text.contains("(hidden to fit: NOTE, CREATED;"), "{text}");
        assert_eq!(wrap("a bb ccc dddd", 6), "a bb\nccc\ndddd");

        // Nothing left to drop: the cells wrap.
        let text = fit_to(wide_table(), &[], Some(60));
        assert!(text.lines().all(|l| l.chars().count() <= 60), "{text}");
        assert!(!text.contains("hidden"), "{text}");
    }
}
