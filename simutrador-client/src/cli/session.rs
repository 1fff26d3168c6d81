//! `session create | status | list | delete | run | results | stop | events | update | watch
//! | fork | rerun | compare | stats | export | report`. `create` lives in
//! [`super::session_create`], `run` and `results` in [`super::session_run`], `rerun` in
//! [`super::session_rerun`], bulk `delete` in [`super::session_lifecycle`], `compare` in
//! [`super::session_compare`], `stats` in [`super::session_stats`], `export` in
//! [`super::export`], `report` in [`super::report`]; ids may be unique prefixes
//! ([`super::session_ids`]).

use serde_json::json;
use shared_models::messages::client::ListSessions;
use std::process::ExitCode;

use super::Context;
use super::args::SessionCommand;
use super::export;
use super::render;
use super::session_compare;
use super::session_create;
use super::session_ids;
use super::session_lifecycle;
use super::session_rerun;
use super::session_run;
use super::session_stats;
use super::session_watch;

/// Run a `session` command (a session id may be a unique prefix, [`session_ids`]); `run` and
/// `rerun` say how the run ended in their exit code.
pub async fn run(mut cmd: SessionCommand, ctx: &Context) -> anyhow::Result<ExitCode> {
    session_ids::resolve_in(&mut cmd, ctx).await?;
    match cmd {
        SessionCommand::Run(args) => session_run::run(args, ctx).await,
        SessionCommand::Rerun(args) => session_rerun::rerun(args, ctx).await,
        other => run_other(other, ctx).await.map(|()| ExitCode::SUCCESS),
    }
}

/// The `session` commands that exit 0 on success.
async fn run_other(cmd: SessionCommand, ctx: &Context) -> anyhow::Result<()> {
    match cmd {
        SessionCommand::Run(_) | SessionCommand::Rerun(_) => Ok(()),
        SessionCommand::Create(args) => session_create::create(args, ctx).await,
        SessionCommand::Results(args) => session_run::results(args, ctx).await,
        SessionCommand::Status { id } => {
            let client = ctx.client().await?;
            let info = client.get_session(id.trim()).await?;
            ctx.out.emit(&info, || {
                let mut text = render::session_detail(&info);
                text.push_str(&super::session_watch_view::pnl_lines(&info));
                if let Some(l) = &info.limits {
                    text.push_str(&super::limits_view::lines(l));
                }
                text.push_str(&super::outcome_view::status_lines(&info));
                text
            })
        }
        SessionCommand::Stop { id, emergency } => {
            session_lifecycle::stop(id.trim(), emergency, ctx).await
        }
        SessionCommand::Events { id, limit, offset } => {
            session_lifecycle::events(id.trim(), limit, offset, ctx).await
        }
        SessionCommand::Update(args) => session_lifecycle::update(args, ctx).await,
        SessionCommand::Watch { id } => session_watch::watch(id.trim(), ctx).await,
        SessionCommand::List(args) => {
            let client = ctx.client().await?;
            let filter = ListSessions {
                limit: args.limit,
                offset: args.offset,
                sort: args.sort,
                ..args.filter.list_query()
            };
            let list = client.list_sessions(filter).await?;
            ctx.out.emit(&list, || render::session_list(&list))
        }
        SessionCommand::Compare(args) => session_compare::compare(args, ctx).await,
        SessionCommand::Stats(args) => session_stats::stats(args, ctx).await,
        SessionCommand::Export(args) => export::export(args, ctx).await,
        SessionCommand::Fork { id } => {
            let client = ctx.client().await?;
            let info = client.fork_session(id.trim()).await?;
            ctx.out.emit(&info, || {
                format!(
                    "Forked session {} into {} ({} bars, on the current data).\n{}",
                    id.trim(),
                    info.session_id,
                    info.bar_count,
                    render::session_detail(&info)
                )
            })
        }
        SessionCommand::Report(args) => super::report::session(args, ctx).await,
        SessionCommand::Delete(args) => match args.id {
            Some(id) => {
                let client = ctx.client().await?;
                let deleted = client.delete_session(id.trim()).await?;
                ctx.out.emit(&json!({"session_id": deleted}), || {
                    format!("Deleted session {deleted}.")
                })
            }
            None => session_lifecycle::delete_many(args, ctx).await,
        },
    }
}
