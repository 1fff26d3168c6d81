//! `session watch ID`: follow a session live until it ends. Updates arrive as
//! `session_stats_update` pushes (`subscribe_session`); warnings and the end as they come; new
//! entries of the event log are printed whenever the state changes or a warning fires. How it
//! looks — bars on a terminal, plain lines in a pipe, JSON lines with `--json` — is
//! [`super::session_watch_view`]'s business.
//!
//! Ends when the session ends (a final line with its state, reason and figures; exit 0) or on
//! Ctrl-C (exit 0; the session keeps running). Someone else's session id is
//! `SESSION_NOT_FOUND` (exit 1), like every other session command.

use shared_models::ServerMessage;
use shared_models::lifecycle::SessionStatsUpdate;
use simutrador_client::Client;
use tokio::sync::broadcast::error::RecvError;

use super::Context;
use super::session_watch_view::View;

/// How many past events are shown when watching starts.
const LATEST_EVENTS: u32 = 3;

/// Run `session watch`.
pub async fn watch(id: &str, ctx: &Context) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let mut pushes = client.subscribe();
    let info = client.get_session(id).await?;
    let mut view = View::new(ctx.out.is_json());
    if info.state.is_terminal() {
        view.already_ended(&info);
        return Ok(());
    }
    let sub = client.subscribe_session(id).await?;
    view.header(id, sub.interval_ms);
    let mut events = EventTail::latest(&client, id, LATEST_EVENTS).await;
    events.show(&client, id, &mut view).await;
    // The session may have ended between the first look and the subscription: no push
    // would ever come, so look again now that updates are flowing.
    let mut state = client.get_session(id).await?.state;
    let mut last: Option<SessionStatsUpdate> = None;
    // A closed stdout (`| head`) ends the watch; `main` turns it into exit 141.
    while !state.is_terminal() && !super::output::pipe_closed() {
        let msg = tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                let _ = client.unsubscribe_session(id).await;
                view.detached(id, state);
                return Ok(());
            }
            msg = pushes.recv() => msg,
        };
        let msg = match msg {
            Ok(m) => m,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => anyhow::bail!("the connection to the daemon closed"),
        };
        match msg {
            ServerMessage::SessionStatsUpdate(u) if u.session_id == id => {
                view.update(&u);
                let changed = u.state != state;
                state = u.state;
                last = Some(u);
                if changed {
                    events.show(&client, id, &mut view).await;
                }
            }
            ServerMessage::SessionWarning(w) if w.session_id == id => {
                view.warning(&w);
                events.show(&client, id, &mut view).await;
            }
            ServerMessage::SessionTerminated(t) if t.session_id == id => {
                view.terminated(&t);
                state = t.state;
            }
            _ => {}
        }
    }
    let info = client.get_session(id).await?;
    events.show(&client, id, &mut view).await;
    view.ended(&info, last.as_ref());
    Ok(())
}

/// The part of the event log already shown: everything before `seen`.
struct EventTail {
    seen: u32,
}

impl EventTail {
    /// Start with only the `n` latest events left to show.
    async fn latest(client: &Client, id: &str, n: u32) -> EventTail {
        let total = match client.session_events(id, Some(1), None).await {
            Ok(list) => u32::try_from(list.total).unwrap_or(u32::MAX),
            Err(_) => 0,
        };
        EventTail {
            seen: total.saturating_sub(n),
        }
    }

    /// Print the events recorded since the last call. The event log is a nicety here: a
    /// failure to read it is not worth ending the watch for.
    async fn show(&mut self, client: &Client, id: &str, view: &mut View) {
        loop {
            let Ok(list) = client.session_events(id, Some(100), Some(self.seen)).await else {
                return;
            };
            for e in &list.events {
                view.event(e);
            }
            self.seen += list.events.len() as u32;
            if !list.has_more || list.events.is_empty() {
                return;
            }
        }
    }
}
