//! Building runs: the feed and the engine of a session (engine configuration from its
//! parameters, symbol specs from the catalog, its risk rules), `start_simulation`'s options,
//! and rebuilding the run of a session restored after a restart from its journal. The
//! protocol command only decodes the request and calls [`start`]; `resume_simulation` and the
//! lifecycle's early ends call [`SessionManager::rebuild_restored_run`]. Both build through
//! [`build`], which refuses bars other than those the session was created on
//! (`DATA_CHANGED`, [`check_data`]). Every build takes one snapshot of the daemon's
//! [`SharedCatalog`]; the run keeps the series of that snapshot to its end, however often
//! the data dir is reloaded meanwhile, and a paused run is checked against the catalog as it
//! is now before it resumes ([`check_resume`]).

use rust_decimal::Decimal;
use serde_json::json;
use shared_models::dates::DateBound;
use shared_models::messages::simulation::StartSimulation;
use shared_models::session::MAX_CLIENT_VERSION_CHARS;
use shared_models::{AssetClass, ErrorCode, SessionState};
use simutrador_engine::{Engine, EngineConfig, SymbolSpec};
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::actor::RunActor;
use super::core::{RunCore, RunOptions, RunSetup};
use super::feed::Feed;
use super::handle::RunHandle;
use super::io::{Effect, Output};
use crate::error::{ApiResult, api_error};
use crate::market_data::fingerprint::{DataFingerprint, SymbolFingerprint};
use crate::market_data::{Catalog, SharedCatalog};
use crate::session::outbound::OutboundTx;
use crate::session::{Session, SessionManager};

/// Largest accepted `max_pending_ticks`.
pub const MAX_WINDOW: u32 = 65_536;
/// Largest accepted `warmup_bars`.
pub const MAX_WARMUP: u32 = 10_000;

/// What runs are built from: the market data, and the daemon's shutdown signal (a run that
/// sees it checkpoints its journal and ends, leaving the session resumable).
#[derive(Debug, Clone, Default)]
pub struct RunEnv {
    /// The catalog the sessions' bars come from (a snapshot per run).
    pub catalog: Arc<SharedCatalog>,
    /// Cancelled when the daemon shuts down.
    pub shutdown: CancellationToken,
}

/// Smallest tradable quantity per asset class.
pub fn lot_step(class: AssetClass) -> Decimal {
    match class {
        AssetClass::Equity => Decimal::ONE,
        AssetClass::Forex => Decimal::new(1, 2),
        AssetClass::Crypto => Decimal::new(1, 4),
    }
}

/// The options of `start_simulation`, checked: `VALIDATION_FAILED` out of range.
pub fn options(req: &StartSimulation) -> ApiResult<RunOptions> {
    let window = req.max_pending_ticks.unwrap_or(1);
    let warmup = req.warmup_bars.unwrap_or(0);
    if window == 0 || window > MAX_WINDOW || warmup > MAX_WARMUP {
        return Err(api_error(
            ErrorCode::ValidationFailed,
            format!("max_pending_ticks must be 1..={MAX_WINDOW} and warmup_bars 0..={MAX_WARMUP}"),
            json!({ "max_pending_ticks": window, "warmup_bars": warmup }),
        ));
    }
    Ok(RunOptions {
        window: window as usize,
        account_updates: req.account_updates.unwrap_or_default(),
        encoding: req.tick_encoding.unwrap_or_default(),
        warmup_bars: warmup as usize,
        indicator_warmup_bars: req.indicator_warmup_bars.unwrap_or(0) as usize,
        events: req.events.unwrap_or_default(),
        compact_times: req.compact_times.unwrap_or(false),
    })
}

/// `VALIDATION_FAILED` when `start_simulation`'s `strategy` or `client_version` is larger
/// than the daemon keeps (see [`shared_models::StrategyRef::problem`]).
pub fn check_origin(req: &StartSimulation) -> ApiResult<()> {
    let problem = match (&req.strategy, &req.client_version) {
        (Some(s), _) if s.problem().is_some() => s.problem().map(|p| ("strategy", p)),
        (_, Some(v)) if v.chars().count() > MAX_CLIENT_VERSION_CHARS => Some((
            "client_version",
            format!("client_version must hold at most {MAX_CLIENT_VERSION_CHARS} characters"),
        )),
        _ => None,
    };
    match problem {
        Some((field, message)) => Err(api_error(
            ErrorCode::ValidationFailed,
            message,
            json!({ "field": field }),
        )),
        None => Ok(()),
    }
}

/// Start `session`'s simulation for `start_simulation` (`req`), streaming to `stream`; the
/// run's actor answers the request (`simulation_started`, with `request_id`).
pub fn start(
    sessions: &Arc<SessionManager>,
    session: &Arc<Session>,
    req: &StartSimulation,
    stream: OutboundTx,
    request_id: Option<String>,
) -> ApiResult<()> {
    let options = options(req)?;
    check_origin(req)?;
    refuse_damaged(session)?;
    let env = &sessions.hooks.runs;
    let (feed, engine) = build(session, &env.catalog.snapshot())?;
    check_active_limit(sessions, session)?;
    sessions.check_store()?;
    let log = sessions.store().run_log(&session.id, true).map_err(|e| {
        sessions.store_failed(&e);
        crate::session::store::health::refusal(&session.id, &e)
    })?;
    // Kept with the start: the transition journals it.
    session.set_origin(req.strategy.clone(), req.client_version.clone());
    sessions.transition(session, SessionState::Running, None)?;
    let (handle, inbox) = RunHandle::channel();
    session.set_run_handle(handle);
    tracing::info!(session_id = %session.id, ticks = feed.len(), window = options.window, "simulation started");
    let core = RunCore::new(setup(session), feed, engine, options, inbox.stop_flag());
    let actor = RunActor::new(core, session.clone(), sessions.clone(), stream, log);
    let task = actor.run(request_id, inbox, env.shutdown.clone());
    sessions.tasks().spawn(task);
    Ok(())
}

/// `INVALID_STATE` for a damaged session before anything else is checked (its journal is in
/// quarantine and what it recorded cannot be trusted, its data fingerprint included).
fn refuse_damaged(session: &Session) -> ApiResult<()> {
    if session.state() != SessionState::Damaged {
        return Ok(());
    }
    Err(api_error(
        ErrorCode::InvalidState,
        format!(
            "session {} is damaged (its journal is in quarantine) and cannot run; see `session status` and docs/store.md",
            session.id
        ),
        json!({ "state": session.state() }),
    ))
}

/// `ACTIVE_SESSION_EXISTS` when the user already runs `max_active_sessions_per_user`
/// sessions (running or paused).
pub fn check_active_limit(sessions: &SessionManager, session: &Session) -> ApiResult<()> {
    let max = sessions.limits().max_active_per_user;
    let active = sessions.active_count(&session.user_id);
    if session.state() == SessionState::Created && active >= max {
        return Err(api_error(
            ErrorCode::ActiveSessionExists,
            format!(
                "you already have {active} running or paused sessions (the limit is {max}); stop one with stop_session first"
            ),
            json!({ "active_sessions": active, "max_active_sessions_per_user": max }),
        ));
    }
    Ok(())
}

/// Rebuild the run of a paused session restored after a restart from its run journal and
/// start its actor paused and detached: the task's handle, or `None` when another request
/// attached a run first. `INVALID_STATE` without a run journal. Used by `resume_simulation`
/// and by every early end (stop, time limit, idle timeout), so a restored run ends like a
/// live paused one: flattened, with results.
pub fn rebuild(
    sessions: &Arc<SessionManager>,
    session: &Arc<Session>,
) -> ApiResult<Option<JoinHandle<()>>> {
    refuse_damaged(session)?;
    let env = &sessions.hooks.runs;
    let stored = sessions.store().load_run(&session.id);
    let (feed, engine) = build(session, &env.catalog.snapshot())?;
    let (handle, inbox) = RunHandle::channel();
    let rebuilt = RunCore::replay(setup(session), feed, engine, stored, inbox.stop_flag());
    let (core, pending) = rebuilt.ok_or_else(|| {
        api_error(
            ErrorCode::InvalidState,
            format!(
                "session {} was paused before a restart but its run journal is missing; stop it and create a new one",
                session.id
            ),
            json!({ "state": session.state() }),
        )
    })?;
    let log = sessions.store().run_log(&session.id, false).map_err(|e| {
        sessions.store_failed(&e);
        crate::session::store::health::refusal(&session.id, &e)
    })?;
    if !session.attach_run_handle(handle) {
        return Ok(None);
    }
    let actor = RunActor::restored(core, pending, session.clone(), sessions.clone(), log);
    let task = actor.run(None, inbox, env.shutdown.clone());
    Ok(Some(sessions.tasks().spawn(task)))
}

/// Rebuild the results of a `completed` session that has none: its end was journaled but its
/// results record was not (the daemon stopped between the two: a completed run journals its
/// results after it has sent `simulation_end`). Its run journal is replayed over the same
/// bars and finished (every tick had been acknowledged), the results are journaled, and the
/// run journal goes. `Ok(false)` when there is nothing to rebuild from (no run journal).
pub fn rebuild_results(sessions: &SessionManager, session: &Session) -> ApiResult<bool> {
    let stored = sessions.store().load_run(&session.id);
    let (feed, engine) = build(session, &sessions.hooks.runs.catalog.snapshot())?;
    let replayed = RunCore::replay(
        setup(session),
        feed,
        engine,
        stored,
        super::core::StopFlag::default(),
    );
    let Some((mut core, _)) = replayed else {
        return Ok(false);
    };
    let mut out = Vec::new();
    core.finish_replayed(&mut out);
    let results = out.into_iter().find_map(|o| match o {
        Output::Session(Effect::Results(r)) => Some(r),
        _ => None,
    });
    let Some(results) = results else {
        return Ok(false);
    };
    session.set_completed_results(*results);
    sessions.results_ready(session);
    Ok(true)
}

/// `DATA_CHANGED` when the paused `session`'s bars are no longer those of the catalog as it
/// is now: its run still holds the bars it started on, but the data dir was reloaded
/// meanwhile (`data import --replace`, an edited file), and resuming would finish a run the
/// daemon could not rebuild after a restart. Sessions in any other state pass (a running
/// session's resume is refused by its run; a restored one is checked when it is rebuilt).
pub fn check_resume(sessions: &SessionManager, session: &Session) -> ApiResult<()> {
    if session.state() != SessionState::Paused {
        return Ok(());
    }
    let (first, last) = bounds(session)?;
    check_data(
        session,
        &sessions.hooks.runs.catalog.snapshot(),
        first,
        last,
    )
}

/// `DATA_CHANGED` when the catalog's bars for `session` (between `first` and `last`) are not
/// those it was created on. A session without a fingerprint (journaled before they existed)
/// is not checked. The daemon reloads its catalog when the data dir changes, so this fails
/// live (a start or resume after `data import --replace`) as well as for a session restored
/// after a restart on re-imported or edited data.
pub fn check_data(session: &Session, catalog: &Catalog, first: i64, last: i64) -> ApiResult<()> {
    let Some(was) = &session.data else {
        return Ok(());
    };
    let p = &session.params;
    let now: Vec<(String, Option<SymbolFingerprint>)> = p
        .symbols
        .iter()
        .map(|symbol| {
            let fp = catalog.series(symbol, p.timeframe).map(|s| {
                let one = DataFingerprint::of_series(
                    p.timeframe,
                    [(symbol.as_str(), s.as_ref())],
                    first,
                    last,
                );
                one.symbols.into_iter().next()
            });
            (symbol.clone(), fp.flatten())
        })
        .collect();
    let changes = was.changes(&now);
    if changes.is_empty() && was.timeframe == p.timeframe {
        return Ok(());
    }
    let id = &session.id;
    Err(api_error(
        ErrorCode::DataChanged,
        format!(
            "the market data of session {id} changed since it was created ({}); its run cannot continue on other bars. \
             Fork it onto the current data (`simutrador-client session fork {id}`, or fork_session: a new session with the same parameters, from the start), \
             or restore the original data (a running daemon reloads its data dir by itself)",
            changes.join("; ")
        ),
        json!({
            "session_id": id.as_ref(),
            "fingerprint": was.digest(),
            "changes": changes,
        }),
    ))
}

/// The first and last Unix second of `session`'s dates (inclusive).
fn bounds(session: &Session) -> ApiResult<(i64, i64)> {
    let p = &session.params;
    let bound = |s: &str| {
        DateBound::parse(s).map_err(|e| api_error(ErrorCode::Internal, e.to_string(), json!(null)))
    };
    Ok((
        bound(&p.start_date)?.first_second(),
        bound(&p.end_date)?.last_second(),
    ))
}

/// What the run core needs of `session`.
pub fn setup(session: &Session) -> RunSetup {
    let (p, limits) = (&session.params, &session.limits);
    RunSetup {
        session_id: session.id.to_string(),
        timeframe: p.timeframe,
        initial_capital: p.initial_capital,
        loss_warning_at: limits.loss_warning_equity(p.initial_capital),
        risk: limits.engine_rules(),
    }
}

/// The feed and the engine of `session` over `catalog`; `DATA_CHANGED` when the bars are not
/// those the session was created on ([`check_data`]).
pub fn build(session: &Session, catalog: &Catalog) -> ApiResult<(Feed, Engine)> {
    let p = &session.params;
    let (first, last) = bounds(session)?;
    check_data(session, catalog, first, last)?;
    let mut series = Vec::new();
    let mut specs = Vec::new();
    for symbol in &p.symbols {
        let entry = catalog.get(symbol);
        let s = entry.and_then(|e| e.series.get(&p.timeframe));
        let (Some(entry), Some(s)) = (entry, s) else {
            return Err(api_error(
                ErrorCode::InvalidSymbol,
                format!("{symbol} is no longer in the catalog at {}", p.timeframe),
                json!({ "invalid_symbols": [symbol] }),
            ));
        };
        series.push(s.clone());
        specs.push(SymbolSpec {
            symbol: symbol.clone(),
            asset_class: entry.asset_class,
            lot_step: lot_step(entry.asset_class),
        });
    }
    let feed = Feed::new(p.symbols.clone(), series, first, last);
    let config = EngineConfig {
        initial_capital: p.initial_capital,
        commission_rate: p.commission_rate,
        commission_per_share: p.commission_per_share,
        commission_min: p.commission_min,
        slippage_bps: p.slippage_bps,
        allow_short: p.allow_short,
        short_margin: Decimal::ONE,
        close_at_end: p.close_at_end,
        symbols: specs,
    };
    let mut engine = Engine::new(config)
        .map_err(|e| api_error(ErrorCode::ValidationFailed, e.to_string(), json!(null)))?;
    engine.reserve_bars(feed.len());
    Ok((feed, engine))
}
