//! `session create | status | list | delete | run | results`. `create` lives in
//! [`super::session_create`], `run` and `results` in [`super::session_run`].

use serde_json::json;
use shared_models::messages::client::ListSessions;

use super::Context;
use super::args::SessionCommand;
use super::render;
use super::session_create;
use super::session_run;

/// Run a `session` command.
pub async fn run(cmd: SessionCommand, ctx: &Context) -> anyhow::Result<()> {
    match cmd {
        SessionCommand::Create(args) => session_create::create(args, ctx).await,
        SessionCommand::Run(args) => session_run::run(args, ctx).await,
        SessionCommand::Results(args) => session_run::results(args, ctx).await,
        SessionCommand::Status { id } => {
            let client = ctx.client().await?;
            let info = client.get_session(id.trim()).await?;
            ctx.out.emit(&info, || render::session_detail(&info))
        }
        SessionCommand::List(args) => {
            let client = ctx.client().await?;
            let filter = ListSessions {
                state: args.state,
                limit: args.limit,
                offset: args.offset,
            };
            let list = client.list_sessions(filter).await?;
            ctx.out.emit(&list, || render::session_list(&list))
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
