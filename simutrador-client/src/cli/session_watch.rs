//! `session watch ID`: follow a session live until it ends. Updates arrive as
//! `session_stats_update` pushes (`subscribe_session`); warnings and the end as they come; new
//! entries of the event log are printed whenever the state changes or a warning fires. How it
//! looks — bars on a terminal, plain lines in a pipe, JSON lines with `--json` — is
//! [`super::session_watch_view`]'s business.
//!
//! Ends when the session ends (a final line with its state, reason and figures; exit 0) or on
//! Ctrl-C (exit 0; the session keeps running). When the connection drops (the daemon
//! restarts, the network blinks) the watch connects again with backoff and picks up where it
//! was (the event log from the last event shown). Someone else's session id is
//! `SESSION_NOT_FOUND` (exit 1), like every other session command.

use shared_models::lifecycle::SessionStatsUpdate;
use shared_models::{ServerMessage, SessionState};
use simutrador_client::{Client, ClientError};
use std::time::Duration;
use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::Context;
use super::session_watch_view::View;

/// How many past events are shown when watching starts.
const LATEST_EVENTS: u32 = 3;
/// Waits between reconnection attempts: doubling from the first, capped at the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Attempts before the watch gives up (about 5 minutes of waiting in all).
const MAX_ATTEMPTS: u32 = 15;

/// How following the pushes of one connection ended.
enum Follow {
    /// The session ended.
    Ended,
    /// Ctrl-C.
    Detached,
    /// The connection dropped.
    Lost,
}

/// Run `session watch`.
pub async fn watch(id: &str, ctx: &Context) -> anyhow::Result<()> {
    let mut client = ctx.client().await?;
    let info = client.get_session(id).await?;
    let mut view = View::new(ctx.out.is_json());
    if info.state.is_terminal() {
        view.already_ended(&info);
        return Ok(());
    }
    let mut state = info.state;
    let mut last: Option<SessionStatsUpdate> = None;
    let mut events: Option<EventTail> = None;
    loop {
        match attach_and_follow(&client, id, &mut view, &mut events, &mut state, &mut last).await {
            Ok(Follow::Ended) => break,
            Ok(Follow::Detached) => return Ok(()),
            Ok(Follow::Lost) => {}
            Err(e) if e.is_transient() => {}
            Err(e) => return Err(e.into()),
        }
        if super::output::pipe_closed() {
            return Ok(());
        }
        match reconnect(ctx, id, state, &mut view).await? {
            Some(c) => client = c,
            None => return Ok(()),
        }
    }
    let info = client.get_session(id).await?;
    if let Some(events) = events.as_mut() {
        events.show(&client, id, &mut view).await;
    }
    view.ended(&info, last.as_ref());
    Ok(())
}

/// Subscribe on `client` (the header the first time), catch up on the event log and the
/// state, then follow the pushes until the session ends, Ctrl-C, or the connection drops.
async fn attach_and_follow(
    client: &Client,
    id: &str,
    view: &mut View,
    events: &mut Option<EventTail>,
    state: &mut SessionState,
    last: &mut Option<SessionStatsUpdate>,
) -> Result<Follow, ClientError> {
    let mut pushes = client.subscribe();
    let sub = client.subscribe_session(id).await?;
    let tail = match events {
        Some(tail) => tail,
        None => {
            view.header(id, sub.interval_ms);
            events.insert(EventTail::latest(client, id, LATEST_EVENTS).await)
        }
    };
    tail.show(client, id, view).await;
    // The session may have ended between the first look and the subscription: no push
    // would ever come, so look again now that updates are flowing.
    *state = client.get_session(id).await?.state;
    follow(client, id, &mut pushes, view, tail, state, last).await
}

/// The pushes of one connection, until the session ends, Ctrl-C, or the connection drops.
async fn follow(
    client: &Client,
    id: &str,
    pushes: &mut Receiver<ServerMessage>,
    view: &mut View,
    events: &mut EventTail,
    state: &mut SessionState,
    last: &mut Option<SessionStatsUpdate>,
) -> Result<Follow, ClientError> {
    // A closed stdout (`| head`) ends the watch; `main` turns it into exit 141.
    while !state.is_terminal() && !super::output::pipe_closed() {
        let msg = tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                let _ = client.unsubscribe_session(id).await;
                view.detached(id, *state);
                return Ok(Follow::Detached);
            }
            msg = pushes.recv() => msg,
        };
        let msg = match msg {
            Ok(m) => m,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return Ok(Follow::Lost),
        };
        match msg {
            ServerMessage::SessionStatsUpdate(u) if u.session_id == id => {
                view.update(&u);
                let changed = u.state != *state;
                *state = u.state;
                *last = Some(u);
                if changed {
                    events.show(client, id, view).await;
                }
            }
            ServerMessage::SessionWarning(w) if w.session_id == id => {
                view.warning(&w);
                events.show(client, id, view).await;
            }
            ServerMessage::SessionTerminated(t) if t.session_id == id => {
                view.terminated(&t);
                *state = t.state;
            }
            _ => {}
        }
    }
    Ok(Follow::Ended)
}

/// Connect again with backoff (0.5 s, 1 s, 2 s, … capped at 30 s; [`MAX_ATTEMPTS`] tries),
/// saying so on the view. `None` on Ctrl-C (watching stops, the session does not).
async fn reconnect(
    ctx: &Context,
    id: &str,
    state: SessionState,
    view: &mut View,
) -> anyhow::Result<Option<Client>> {
    let mut wait = BACKOFF_FIRST;
    let mut failure = String::new();
    for attempt in 1..=MAX_ATTEMPTS {
        view.reconnecting(attempt, wait);
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                view.detached(id, state);
                return Ok(None);
            }
            () = tokio::time::sleep(wait) => {}
        }
        match ctx.client().await {
            Ok(client) => {
                view.reconnected();
                return Ok(Some(client));
            }
            Err(e) => failure = format!("{e:#}"),
        }
        wait = (wait * 2).min(BACKOFF_MAX);
    }
    anyhow::bail!(
        "the connection to the daemon dropped and {MAX_ATTEMPTS} attempts to reconnect failed (last: {failure}); the session may still be running: `simutrador-client session status {id}`"
    )
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
