//! Simulation requests: `start_simulation`, `tick_ack`, `order_batch`, `pause_simulation`,
//! `resume_simulation`, `get_account` (answered by the session's run task, in order with the
//! tick stream) and `get_results` (answered here from the stored results).

use rust_decimal::Decimal;
use serde_json::json;
use shared_models::dates::DateBound;
use shared_models::messages::client::SessionRef;
use shared_models::messages::simulation::{
    GetResults, OrderBatch, ResultsReply, StartSimulation, TickAck, TickAcks,
};
use shared_models::{AssetClass, ErrorCode, ServerMessage, SessionState};
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Apply, Reply};
use crate::error::{ApiResult, api_error};
use crate::market_data::Catalog;
use crate::protocol::connection::ConnectionContext;
use crate::session::run::feed::Feed;
use crate::session::run::task::{Run, RunOptions};
use crate::session::run::{Control, ReplyTo, RunHandle};
use crate::session::{Session, SessionManager};
use simutrador_engine::{Engine, EngineConfig, SymbolSpec};

/// Largest accepted `max_pending_ticks`.
pub const MAX_WINDOW: u32 = 65_536;
/// Largest accepted `warmup_bars`.
pub const MAX_WARMUP: u32 = 10_000;

/// Smallest tradable quantity per asset class.
pub fn lot_step(class: AssetClass) -> Decimal {
    match class {
        AssetClass::Equity => Decimal::ONE,
        AssetClass::Forex => Decimal::new(1, 2),
        AssetClass::Crypto => Decimal::new(1, 4),
    }
}

fn reply_to(ctx: &ConnectionContext, request_id: Option<&str>) -> ReplyTo {
    ReplyTo {
        outbound: ctx.outbound.clone(),
        request_id: request_id.map(str::to_string),
    }
}

fn not_running(session: &Session) -> crate::error::ApiError {
    let state = session.state();
    api_error(
        ErrorCode::InvalidState,
        format!(
            "session {} has no running simulation (it is {state}); start it with start_simulation",
            session.id
        ),
        json!({ "state": state }),
    )
}

/// Forward a request to the session's run task.
fn forward(
    ctx: &ConnectionContext,
    session_id: &str,
    make: impl FnOnce(ReplyTo) -> Control,
    request_id: Option<&str>,
) -> ApiResult<Reply> {
    let session = ctx.state.sessions.get(&ctx.user_id, session_id)?;
    let handle = session.run_handle().ok_or_else(|| not_running(&session))?;
    if handle.send(make(reply_to(ctx, request_id))) {
        Ok(Reply::Deferred)
    } else {
        Err(not_running(&session))
    }
}

impl Apply for StartSimulation {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        let state = &ctx.state;
        let session = state.sessions.get(&ctx.user_id, &self.session_id)?;
        let window = self.max_pending_ticks.unwrap_or(1);
        let warmup = self.warmup_bars.unwrap_or(0);
        if window == 0 || window > MAX_WINDOW || warmup > MAX_WARMUP {
            return Err(api_error(
                ErrorCode::ValidationFailed,
                format!(
                    "max_pending_ticks must be 1..={MAX_WINDOW} and warmup_bars 0..={MAX_WARMUP}"
                ),
                json!({ "max_pending_ticks": window, "warmup_bars": warmup }),
            ));
        }
        let (feed, engine) = build(&session, ctx.state.validator.catalog())?;
        super::lifecycle::check_active_limit(ctx, &session)?;
        state
            .sessions
            .transition(&session, SessionState::Running, None)?;
        let (handle, rx) = RunHandle::channel();
        session.set_run_handle(handle);
        let options = RunOptions {
            window: window as usize,
            account_updates: self.account_updates.unwrap_or_default(),
            encoding: self.tick_encoding.unwrap_or_default(),
            warmup_bars: warmup as usize,
            events: self.events.unwrap_or_default(),
            compact_times: self.compact_times.unwrap_or(false),
        };
        tracing::info!(session_id = %session.id, ticks = feed.len(), window, "simulation started");
        let run = Run::new(
            session,
            state.sessions.clone(),
            feed,
            engine,
            options,
            ctx.outbound.clone(),
        );
        let task = run.run(request_id.map(str::to_string), rx, state.shutdown.clone());
        state.sessions.tasks().spawn(task);
        Ok(Reply::Deferred)
    }
}

/// The feed and the engine of a session.
fn build(session: &Arc<Session>, catalog: &Catalog) -> ApiResult<(Feed, Engine)> {
    let p = &session.params;
    let bound = |s: &str| {
        DateBound::parse(s).map_err(|e| api_error(ErrorCode::Internal, e.to_string(), json!(null)))
    };
    let (first, last) = (
        bound(&p.start_date)?.first_second(),
        bound(&p.end_date)?.last_second(),
    );
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

impl Apply for TickAck {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        let id = self.session_id.clone();
        forward(ctx, &id, |r| Control::Ack(self, r), request_id)
    }
}

impl Apply for TickAcks {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        let id = self.session_id.clone();
        let acks: Vec<TickAck> = self.into_acks().collect();
        forward(ctx, &id, |r| Control::Acks(acks, r), request_id)
    }
}

impl Apply for OrderBatch {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        let id = self.session_id.clone();
        forward(ctx, &id, |r| Control::Batch(self, r), request_id)
    }
}

/// `pause_simulation`.
pub struct Pause(pub SessionRef);
/// `resume_simulation`.
pub struct Resume(pub SessionRef);
/// `get_account`.
pub struct Account(pub SessionRef);
/// `get_results`.
pub struct Results(pub GetResults);

impl Apply for Pause {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        forward(ctx, &self.0.session_id, Control::Pause, request_id)
    }
}

impl Apply for Resume {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        let session = ctx.state.sessions.get(&ctx.user_id, &self.0.session_id)?;
        if session.run_handle().is_none() && session.state() == SessionState::Paused {
            restore_run(ctx, &session)?;
        }
        forward(ctx, &self.0.session_id, Control::Resume, request_id)
    }
}

/// A paused session restored after a restart has no run task yet: rebuild it from the run
/// journal (replaying the client's decisions) and start it paused and detached.
fn restore_run(ctx: &ConnectionContext, session: &Arc<Session>) -> ApiResult<()> {
    let state = &ctx.state;
    let catalog = state.validator.catalog();
    rebuild_run(catalog, &state.sessions, &state.shutdown, session).map(|_| ())
}

/// Rebuild the run of a paused session restored after a restart from its run journal and
/// start its task paused and detached; the task's handle, or `None` when another request
/// attached a task first. `INVALID_STATE` without a run journal. Used by `resume_simulation`
/// and, through the manager's run restorer, by every early end (stop, time limit, idle
/// timeout), so a restored run ends like a live paused one: flattened, with results.
pub(crate) fn rebuild_run(
    catalog: &Catalog,
    sessions: &Arc<SessionManager>,
    shutdown: &CancellationToken,
    session: &Arc<Session>,
) -> ApiResult<Option<JoinHandle<()>>> {
    let stored = sessions.store().load_run(&session.id);
    let (feed, engine) = build(session, catalog)?;
    let run = Run::restore(session.clone(), sessions.clone(), feed, engine, stored)
        .ok_or_else(|| {
            api_error(
                ErrorCode::InvalidState,
                format!(
                    "session {} was paused before a restart but its run journal is missing; stop it and create a new one",
                    session.id
                ),
                json!({ "state": session.state() }),
            )
        })?;
    let (handle, rx) = RunHandle::channel();
    if session.attach_run_handle(handle) {
        let task = run.run(None, rx, shutdown.clone());
        Ok(Some(sessions.tasks().spawn(task)))
    } else {
        Ok(None)
    }
}

impl Apply for Account {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        forward(ctx, &self.0.session_id, Control::Account, request_id)
    }
}

impl Apply for Results {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let session = ctx.state.sessions.get(&ctx.user_id, &self.0.session_id)?;
        let results = session.results().ok_or_else(|| {
            let state = session.state();
            api_error(
                ErrorCode::InvalidState,
                format!(
                    "session {} has no results yet (it is {state}); run it to the end first",
                    session.id
                ),
                json!({ "state": state }),
            )
        })?;
        let format = self.0.format.unwrap_or_default();
        let reply = ResultsReply::new(session.id.to_string(), &results, format);
        Ok(ServerMessage::Results(reply).into())
    }
}
