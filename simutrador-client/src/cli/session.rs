//! `session create | status | list | delete | run | results | stop | events | update | watch
//! | fork | compare | stats | export`. `create` lives in [`super::session_create`], `run` and
//! `results` in [`super::session_run`], `compare` in [`super::session_compare`], `stats` in
//! [`super::session_stats`], `export` in [`super::export`].

use serde_json::json;
use shared_models::messages::client::ListSessions;

use super::Context;
use super::args::SessionCommand;
use super::export;
use super::render;
use super::session_compare;
use super::session_create;
use super::session_lifecycle;
use super::session_run;
use super::session_stats;
use super::session_watch;

/// Run a `session` command.
pub async fn run(cmd: SessionCommand, ctx: &Context) -> anyhow::Result<()> {
    match cmd {
        SessionCommand::Create(args) => session_create::create(args, ctx).await,
        SessionCommand::Run(args) => session_run::run(args, ctx).await,
        SessionCommand::Results(args) => session_run::results(args, ctx).await,
        SessionCommand::Status { id } => {
            let client = ctx.client().await?;
            let info = client.get_session(id.trim()).await?;
            ctx.out.emit(&info, || {
                let mut text = render::session_detail(&info);
                if let Some(l) = &info.limits {
                    text.push_str(&super::limits_view::lines(l));
                }
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
        SessionCommand::Delete { id } => {
            let client = ctx.client().await?;
            let deleted = client.delete_session(id.trim()).await?;
            ctx.out.emit(&json!({"session_id": deleted}), || {
                format!("Deleted session {deleted}.")
            })
        }
    }
}
