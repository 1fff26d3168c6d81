//! `session stop ID [--emergency]`, `session events ID`, `session update ID` and the bulk
//! `session delete --state S --older-than D [--yes]`.

use shared_models::lifecycle::{SessionEventRecord, SessionTerminated, StopKind};
use shared_models::messages::client::ListSessions;
use shared_models::messages::lifecycle::UpdateSession;
use std::fmt::Write;
use std::io::IsTerminal;

use super::Context;
use super::args::{DeleteArgs, UpdateArgs};
use super::output::usage;
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

/// `session delete --state S --older-than D`: every matching session, after a confirmation
/// (or `--yes`). Sessions that cannot be deleted are reported and the rest go on; the command
/// fails when any did.
pub async fn delete_many(args: DeleteArgs, ctx: &Context) -> anyhow::Result<()> {
    let created_to = match &args.older_than {
        Some(d) => {
            let seconds = shared_models::lifecycle::parse_duration(d).map_err(usage)?;
            let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
            let cutoff = chrono::Utc::now()
                .checked_sub_signed(chrono::TimeDelta::try_seconds(seconds).unwrap_or_default())
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
            Some(cutoff.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        }
        None => None,
    };
    let client = ctx.client().await?;
    let mut ids = Vec::new();
    let mut offset = 0u32;
    loop {
        let page = client
            .list_sessions(ListSessions {
                state: args.state,
                created_to: created_to.clone(),
                limit: Some(500),
                offset: Some(offset),
                ..ListSessions::default()
            })
            .await?;
        ids.extend(page.sessions.into_iter().map(|s| s.session_id));
        if !page.has_more || page.limit == 0 {
            break;
        }
        offset = offset.saturating_add(page.limit);
    }
    let what = describe_filter(&args);
    if ids.is_empty() {
        return ctx
            .out
            .emit(&serde_json::json!({"deleted": [], "failed": []}), || {
                format!("No sessions {what}; nothing deleted.")
            });
    }
    if !args.yes {
        confirm(ids.len(), &what).await?;
    }
    let (mut deleted, mut failed) = (Vec::new(), Vec::new());
    for id in ids {
        match client.delete_session(&id).await {
            Ok(id) => deleted.push(id),
            Err(e) => failed.push(serde_json::json!({"session_id": id, "error": e.to_string()})),
        }
    }
    let failures = failed.len();
    let report = serde_json::json!({"deleted": deleted, "failed": failed});
    ctx.out.emit(&report, || {
        let mut text = format!("Deleted {} sessions {what}.", deleted.len());
        for f in &failed {
            let _ = write!(
                text,
                "\n  not deleted: {} ({})",
                f["session_id"].as_str().unwrap_or("?"),
                f["error"].as_str().unwrap_or("?")
            );
        }
        text
    })?;
    if failures > 0 {
        anyhow::bail!("{failures} sessions could not be deleted");
    }
    Ok(())
}

/// "in state completed, created more than 7d ago".
fn describe_filter(args: &DeleteArgs) -> String {
    let mut parts = Vec::new();
    if let Some(state) = args.state {
        parts.push(format!("in state {state}"));
    }
    if let Some(d) = &args.older_than {
        parts.push(format!("created more than {d} ago"));
    }
    parts.join(", ")
}

/// Ask "Delete N sessions …? [y/N]" on the terminal; without one, refuse and name `--yes`.
async fn confirm(count: usize, what: &str) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(usage(format!(
            "this would delete {count} sessions {what}; add --yes to confirm (stdin is not a terminal, so the command cannot ask)"
        )));
    }
    let question = format!("Delete {count} sessions {what}? [y/N] ");
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let mut err = std::io::stderr();
        let _ = err.write_all(question.as_bytes());
        let _ = err.flush();
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await??;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(usage("cancelled; nothing was deleted"))
    }
}
