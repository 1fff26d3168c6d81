//! Short session ids: every `session` command that takes an id accepts a unique prefix of it
//! (`session status 3f2a`), like git's abbreviated hashes.
//!
//! A full id (36 characters, a UUID) is used as given, with no extra request. Anything
//! shorter is looked up among the caller's sessions (`list_sessions`, every page): one match
//! is used, several are an error that lists them, none leaves the text as it is so the daemon
//! answers its usual `SESSION_NOT_FOUND`.

use shared_models::messages::client::ListSessions;
use simutrador_client::Client;

use super::args::SessionCommand;
use super::output::usage;

/// Length of a full session id (a hyphenated UUID).
const FULL_ID_LEN: usize = 36;
/// Sessions asked for per page while looking a prefix up (the daemon's maximum).
const PAGE: u32 = 500;
/// Candidates named in an ambiguity error.
const SHOWN: usize = 10;

/// The session id a command names, to be resolved in place; `None` for commands without one
/// (`create`, `list`, a bulk `delete`).
pub fn id_of(cmd: &mut SessionCommand) -> Option<&mut String> {
    match cmd {
        SessionCommand::Status { id }
        | SessionCommand::Stop { id, .. }
        | SessionCommand::Events { id, .. }
        | SessionCommand::Watch { id }
        | SessionCommand::Fork { id } => Some(id),
        SessionCommand::Delete(args) => args.id.as_mut(),
        SessionCommand::Run(args) => Some(&mut args.id),
        SessionCommand::Results(args) => Some(&mut args.id),
        SessionCommand::Update(args) => Some(&mut args.id),
        SessionCommand::Rerun(args) => Some(&mut args.id),
        SessionCommand::Report(args) => Some(&mut args.id),
        SessionCommand::Export(args) => Some(&mut args.id),
        SessionCommand::Create(_)
        | SessionCommand::List(_)
        | SessionCommand::Stats(_)
        | SessionCommand::Compare(_) => None,
    }
}

/// Replace a prefix in `cmd` by the one session id it names (see the module doc); each of
/// `session compare`'s ids likewise.
pub async fn resolve_in(cmd: &mut SessionCommand, ctx: &super::Context) -> anyhow::Result<()> {
    if let SessionCommand::Compare(args) = cmd {
        if args.ids.iter().any(|id| needs_lookup(id.trim())) {
            let client = ctx.client().await?;
            for id in &mut args.ids {
                let text = id.trim().to_string();
                *id = if needs_lookup(&text) {
                    resolve(&client, &text).await?
                } else {
                    text
                };
            }
            client.close().await;
        }
        return Ok(());
    }
    let Some(id) = id_of(cmd) else {
        return Ok(());
    };
    let text = id.trim().to_string();
    if !needs_lookup(&text) {
        *id = text;
        return Ok(());
    }
    let client = ctx.client().await?;
    *id = resolve(&client, &text).await?;
    client.close().await;
    Ok(())
}

/// True when `text` may be a prefix rather than a whole id.
fn needs_lookup(text: &str) -> bool {
    !text.is_empty() && text.len() < FULL_ID_LEN
}

/// The one id among the caller's sessions that starts with `prefix` (case-insensitive).
pub async fn resolve(client: &Client, prefix: &str) -> anyhow::Result<String> {
    let mut ids = Vec::new();
    let mut offset = 0u32;
    loop {
        let page = client
            .list_sessions(ListSessions {
                limit: Some(PAGE),
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
    pick(prefix, &ids)
}

/// The id of `ids` that `prefix` names: the only one starting with it, else the prefix itself
/// when none does (the daemon then says the session does not exist).
pub fn pick(prefix: &str, ids: &[String]) -> anyhow::Result<String> {
    let lower = prefix.to_ascii_lowercase();
    let matches: Vec<&String> = ids
        .iter()
        .filter(|id| id.to_ascii_lowercase().starts_with(&lower))
        .collect();
    match matches.as_slice() {
        [] => Ok(prefix.to_string()),
        [one] => Ok((*one).clone()),
        many => {
            let shown: Vec<&str> = many.iter().take(SHOWN).map(|s| s.as_str()).collect();
            let more = many.len().saturating_sub(SHOWN);
            Err(usage(format!(
                "the session id prefix '{prefix}' is ambiguous: it matches {} sessions ({}{}); type more characters",
                many.len(),
                shown.join(", "),
                if more > 0 {
                    format!(", and {more} more")
                } else {
                    String::new()
                }
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        [
            "3f2a9c1e-0000-4000-8000-000000000001",
            "3f2b0000-0000-4000-8000-000000000002",
            "a1000000-0000-4000-8000-000000000003",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn a_unique_prefix_names_its_session() {
        assert_eq!(pick("3f2a", &ids()).unwrap(), ids()[0]);
        assert_eq!(pick("A1", &ids()).unwrap(), ids()[2]);
    }

    #[test]
    fn an_ambiguous_prefix_lists_the_candidates() {
        let err = pick("3f2", &ids()).unwrap_err().to_string();
        assert!(
            err.contains("ambiguous") && err.contains(&ids()[0]) && err.contains(&ids()[1]),
            "{err}"
        );
    }

    #[test]
    fn no_match_is_left_to_the_daemon_and_full_ids_need_no_lookup() {
        assert_eq!(pick("ffff", &ids()).unwrap(), "ffff");
        assert!(!needs_lookup(&ids()[0]));
        assert!(needs_lookup("3f"));
        assert!(!needs_lookup(""));
    }
}
