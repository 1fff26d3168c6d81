//! `session create`: merge the session file and the flags (flags win), optionally walk
//! through every field interactively, show the preview the daemon computes
//! (`validate_session`: normalized parameters and bars to replay), then create.

use anyhow::Context as _;
use serde_json::json;
use shared_models::CreateSessionRequest;
use simutrador_client::session_request::{load_session_file, require_complete};

use super::Context;
use super::args::CreateArgs;
use super::interactive;
use super::limits_view;
use super::output::usage;
use super::render;

/// Run `session create`.
pub async fn create(args: CreateArgs, ctx: &Context) -> anyhow::Result<()> {
    if args.interactive {
        interactive::require_terminal()?;
    }
    let mut request = match &args.config {
        Some(path) => load_session_file(path)?,
        None => CreateSessionRequest::default(),
    };
    apply_flags(&mut request, &args);
    if !args.interactive {
        require_complete(&request).map_err(|e| {
            usage(format!(
                "{e}; give SYMBOL... --start DATE --end DATE, or put them in a session file (--config FILE)"
            ))
        })?;
    }

    let client = ctx.client().await?;
    if args.interactive {
        request = interactive::fill(&client, request).await?;
    }
    let preview = client
        .validate_session(request.clone())
        .await
        .context("the daemon refused the session parameters")?;
    ctx.out
        .note(&render::preview(&preview.params, preview.bar_count))?;
    if let Some(limits) = &preview.limits {
        ctx.out.note(&limits_view::preview(
            limits,
            preview.params.initial_capital,
        ))?;
    }

    if args.interactive && !args.yes && !interactive::confirm("Create this session?").await? {
        return ctx
            .out
            .emit(&json!({"created": false, "preview": preview}), || {
                "Nothing created.".to_string()
            });
    }
    let info = client
        .create_session(request)
        .await
        .context("the daemon refused to create the session")?;
    ctx.out.emit(&info, || {
        format!(
            "Created session {} (state {}, {} bars to replay).{}\nNext: `simutrador-client session status {}`",
            info.session_id,
            info.state,
            info.bar_count,
            info.limits
                .as_ref()
                .map(|l| format!("\n{}", limits_view::lines(l)))
                .unwrap_or_default(),
            info.session_id
        )
    })
}

/// Overlay the flags on the request from the file.
fn apply_flags(request: &mut CreateSessionRequest, args: &CreateArgs) {
    if !args.symbols.is_empty() {
        request.symbols = args
            .symbols
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    if let Some(start) = &args.start {
        request.start_date = start.clone();
    }
    if let Some(end) = &args.end {
        request.end_date = end.clone();
    }
    if let Some(tf) = args.timeframe {
        request.timeframe = Some(tf.to_string());
    }
    let overlay = |slot: &mut Option<_>, flag: Option<_>| {
        if flag.is_some() {
            *slot = flag;
        }
    };
    overlay(&mut request.initial_capital, args.capital);
    overlay(&mut request.commission_rate, args.commission_rate);
    overlay(&mut request.commission_per_share, args.commission_per_share);
    overlay(&mut request.commission_min, args.commission_min);
    overlay(&mut request.slippage_bps, args.slippage_bps);
    if args.no_short {
        request.allow_short = Some(false);
    }
    if args.close_at_end {
        request.close_at_end = Some(true);
    }
    let l = &args.limits;
    if l.max_duration.is_some() {
        request.max_duration = l.max_duration.clone();
    }
    if l.loss_limit_pct.is_some() || l.loss_limit_amount.is_some() {
        request.loss_limit_pct = l.loss_limit_pct;
        request.loss_limit_amount = l.loss_limit_amount;
    }
    overlay(&mut request.halt_threshold_pct, l.halt_threshold_pct);
    if l.halt_bars.is_some() {
        request.halt_bars = l.halt_bars;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, Command, SessionCommand};
    use clap::Parser;
    use rust_decimal_macros::dec;
    use simutrador_client::parse_session_toml;

    fn args(argv: &[&str]) -> CreateArgs {
        let mut full = vec!["c", "session", "create"];
        full.extend_from_slice(argv);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Session(SessionCommand::Create(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_override_the_session_file() {
        let mut request = parse_session_toml(
            "symbols = [\"ACME\"]\nstart_date = 2020-01-02\nend_date = 2020-12-31\ninitial_capital = 5000\ncommission_rate = 0.002\n",
            "s.toml",
        )
        .unwrap();
        apply_flags(
            &mut request,
            &args(&[
                "GLOBEX",
                "--capital",
                "7000",
                "--no-short",
                "--close-at-end",
                "--end",
                "2020-06-30",
            ]),
        );
        assert_eq!(request.symbols, ["GLOBEX"]);
        assert_eq!(request.start_date, "2020-01-02");
        assert_eq!(request.end_date, "2020-06-30");
        assert_eq!(request.initial_capital, Some(dec!(7000)));
        assert_eq!(request.commission_rate, Some(dec!(0.002)));
        assert_eq!(request.allow_short, Some(false));
        assert_eq!(request.close_at_end, Some(true));
    }

    #[test]
    fn without_a_file_the_flags_must_name_symbols_and_dates() {
        let mut request = CreateSessionRequest::default();
        apply_flags(&mut request, &args(&["ACME", "--start", "2020-01-02"]));
        let err = require_complete(&request).unwrap_err().to_string();
        assert!(
            err.contains("end_date") && !err.contains("symbols"),
            "{err}"
        );
    }
}
