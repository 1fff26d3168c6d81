//! `session create | status | list | delete | run | results | stop | events | update | watch
//! | fork`. `create` lives in
//! [`super::session_create`], `run` and `results` in [`super::session_run`], bulk `delete` in
//! [`super::session_lifecycle`]; ids may be unique prefixes ([`super::session_ids`]).

use serde_json::json;
use shared_models::messages::client::ListSessions;

use super::Context;
use super::args::SessionCommand;
use super::render;
use super::session_create;
use super::session_ids;
use super::session_lifecycle;
use super::session_run;
use super::session_watch;

/// Run a `session` command (a session id may be a unique prefix, [`session_ids`]).
pub async fn run(mut cmd: SessionCommand, ctx: &Context) -> anyhow::Result<()> {
    session_ids::resolve_in(&mut cmd, ctx).await?;
    match cmd {
        SessionCommand::Create(args) => session_create::create(args, ctx).await,
        SessionCommand::Run(args) => session_run::run(args, ctx).await,
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
                state: args.state,
                limit: args.limit,
                offset: args.offset,
                created_from: args.created_from,
                created_to: args.created_to,
                performance: args.performance,
                sort: args.sort,
            };
            let list = client.list_sessions(filter).await?;
            ctx.out.emit(&list, || render::session_list(&list))
        }
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
