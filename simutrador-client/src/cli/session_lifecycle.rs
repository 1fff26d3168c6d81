//! `session stop ID [--emergency]`, `session events ID` and `session update ID`.

use shared_models::lifecycle::{SessionEventRecord, SessionTerminated, StopKind};
use shared_models::messages::lifecycle::UpdateSession;
use std::fmt::Write;

use super::Context;
use super::args::UpdateArgs;
use super::render::time;

/// `session stop`.
pub async fn stop(id: &str, emergency: bool, ctx: &Context) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let kind = if emergency {
        StopKind::Emergency
    } else {
        StopKind::Manual
    };
    let t = client.stop_session(id, kind).await?;
    ctx.out.emit(&t, || terminated(&t))
}

/// The human form of `session_terminated`.
pub fn terminated(t: &SessionTerminated) -> String {
    let f = &t.final_stats;
    let reason = serde_json::to_value(t.reason).unwrap_or_default();
    format!(
        "Session {} {} ({}).\n  equity      {}\n  P&L         {} ({:.2}%)\n  trades      {}\n  progress    {}/{} ticks\n  max drawdown {:.2}%",
        t.session_id,
        t.state,
        reason.as_str().unwrap_or("?"),
        f.equity,
        f.pnl,
        f.return_pct,
        f.num_trades,
        f.settled_ticks,
        f.total_ticks,
        f.max_drawdown_pct
    )
}

/// One event as a line.
pub fn event_line(e: &SessionEventRecord) -> String {
    let data = match &e.data {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(m) if m.is_empty() => String::new(),
        v => {
            let text = v.to_string();
            let short: String = text.chars().take(100).collect();
            if short.len() < text.len() {
                format!(" {short}…")
            } else {
                format!(" {short}")
            }
        }
    };
    format!(
        "{:>4}  {}  {:<20} {:<6}{}",
        e.seq,
        time(e.time),
        e.kind.as_str(),
        e.actor,
        data
    )
}

/// `session events`.
pub async fn events(
    id: &str,
    limit: Option<u32>,
    offset: Option<u32>,
    ctx: &Context,
) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let list = client.session_events(id, limit, offset).await?;
    ctx.out.emit(&list, || {
        let mut out = format!(
            "Events of session {} ({} in all)\n",
            list.session_id, list.total
        );
        for e in &list.events {
            let _ = writeln!(out, "{}", event_line(e));
        }
        if list.has_more {
            let next = list.offset + list.events.len() as u32;
            let _ = write!(out, "More: --offset {next}");
        }
        out
    })
}

/// `session update`.
pub async fn update(args: UpdateArgs, ctx: &Context) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let l = args.limits;
    let update = UpdateSession {
        session_id: args.id.trim().to_string(),
        initial_capital: args.capital,
        max_duration: l.max_duration,
        loss_limit_amount: l.loss_limit_amount,
        loss_limit_pct: l.loss_limit_pct,
        halt_threshold_pct: l.halt_threshold_pct,
        halt_bars: l.halt_bars,
        ..UpdateSession::default()
    };
    let info = client.update_session(update).await?;
    ctx.out.emit(&info, || {
        let mut text = format!("Updated session {}.\n", info.session_id);
        if let Some(l) = &info.limits {
            text.push_str(&super::limits_view::lines(l));
        }
        text
    })
}
