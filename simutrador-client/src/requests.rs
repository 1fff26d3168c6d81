//! One typed method per request of the protocol, on [`Client`]: each sends its message,
//! waits for the documented reply and returns its payload. Anything else is a
//! [`ClientError::Protocol`].

use chrono::{DateTime, Utc};
use shared_models::messages::client::{
    GetSymbolRange, ListSessions, ListSymbols, Ping, SessionRef,
};
use shared_models::messages::history::{
    CompareSessions, GetHistoryStats, HistoryStats, SessionComparison,
};
use shared_models::messages::results::{GetResults, ResultsFormat};
use shared_models::messages::server::{SessionList, SessionPreview, SymbolList};
use shared_models::messages::simulation::{SimulationStarted, StartSimulation};
use shared_models::results::SimulationResults;
use shared_models::results_page::{MAX_PAGE_LIMIT, ResultsPage};
use shared_models::trading::AccountSnapshot;
use shared_models::{
    ClientMessage, CreateSessionRequest, ErrorCode, ServerMessage, SessionInfo, SymbolRange,
    Timeframe,
};

use crate::connection::Client;
use crate::error::{ClientError, Result};

/// Unwrap the expected reply variant or explain what came instead.
macro_rules! expect_reply {
    ($reply:expr, $variant:ident, $wire:literal) => {
        match $reply {
            ServerMessage::$variant(data) => Ok(data),
            other => Err(unexpected($wire, &other)),
        }
    };
}

fn unexpected(expected: &str, got: &ServerMessage) -> ClientError {
    ClientError::Protocol(format!(
        "expected '{expected}' but the daemon replied '{}'",
        got.type_name()
    ))
}

impl Client {
    /// Validate the parameters against the daemon's market data and create a session.
    pub async fn create_session(&self, request: CreateSessionRequest) -> Result<SessionInfo> {
        let reply = self.request(ClientMessage::CreateSession(request)).await?;
        expect_reply!(reply, SessionCreated, "session_created")
    }

    /// Run every `create_session` check without creating anything: the normalized parameters
    /// and the number of bars the session would replay.
    pub async fn validate_session(&self, request: CreateSessionRequest) -> Result<SessionPreview> {
        let reply = self
            .request(ClientMessage::ValidateSession(request))
            .await?;
        expect_reply!(reply, SessionValidated, "session_validated")
    }

    /// One of your sessions.
    pub async fn get_session(&self, session_id: &str) -> Result<SessionInfo> {
        let reply = self
            .request(ClientMessage::GetSession(SessionRef {
                session_id: session_id.to_string(),
            }))
            .await?;
        expect_reply!(reply, Session, "session")
    }

    /// A page of your sessions, newest first.
    pub async fn list_sessions(&self, filter: ListSessions) -> Result<SessionList> {
        let reply = self.request(ClientMessage::ListSessions(filter)).await?;
        expect_reply!(reply, SessionList, "session_list")
    }

    /// Statistics of `session_ids` (1 to 20 of yours) side by side, in the order given
    /// (`compare_sessions`).
    pub async fn compare_sessions(&self, session_ids: &[String]) -> Result<SessionComparison> {
        let reply = self
            .request(ClientMessage::CompareSessions(CompareSessions {
                session_ids: session_ids.to_vec(),
            }))
            .await?;
        expect_reply!(reply, SessionComparison, "session_comparison")
    }

    /// Aggregate figures (count, win rate, mean and median return, best and worst, per
    /// strategy) across your sessions passing `filter` — the filters of
    /// [`Client::list_sessions`] (`get_history_stats`).
    pub async fn history_stats(&self, filter: GetHistoryStats) -> Result<HistoryStats> {
        let reply = self.request(ClientMessage::GetHistoryStats(filter)).await?;
        expect_reply!(reply, HistoryStats, "history_stats")
    }

    /// Remove a session; returns its id.
    pub async fn delete_session(&self, session_id: &str) -> Result<String> {
        let reply = self
            .request(ClientMessage::DeleteSession(SessionRef {
                session_id: session_id.to_string(),
            }))
            .await?;
        expect_reply!(reply, SessionDeleted, "session_deleted").map(|d| d.session_id)
    }

    /// A new session with the parameters and limits of `session_id`, on the market data the
    /// daemon holds now, starting from scratch (state `created`); the original is left as
    /// it is. The way on after `DATA_CHANGED`.
    pub async fn fork_session(&self, session_id: &str) -> Result<SessionInfo> {
        let reply = self
            .request(ClientMessage::ForkSession(SessionRef {
                session_id: session_id.to_string(),
            }))
            .await?;
        expect_reply!(reply, SessionCreated, "session_created")
    }

    /// The daemon's market-data catalog, optionally filtered.
    pub async fn list_symbols(&self, filter: ListSymbols) -> Result<SymbolList> {
        let reply = self.request(ClientMessage::ListSymbols(filter)).await?;
        expect_reply!(reply, Symbols, "symbols")
    }

    /// First and last bar of `symbol` at `timeframe` (the daemon's default, `1d`, when `None`).
    pub async fn symbol_range(
        &self,
        symbol: &str,
        timeframe: Option<Timeframe>,
    ) -> Result<SymbolRange> {
        let reply = self
            .request(ClientMessage::GetSymbolRange(GetSymbolRange {
                symbol: symbol.to_string(),
                timeframe: timeframe.map(|t| t.as_str().to_string()),
            }))
            .await?;
        expect_reply!(reply, SymbolRange, "symbol_range")
    }

    /// Round trip to the daemon; returns its clock.
    pub async fn ping(&self) -> Result<DateTime<Utc>> {
        let reply = self.request(ClientMessage::Ping(Ping {})).await?;
        expect_reply!(reply, Pong, "pong").map(|p| p.server_time)
    }

    /// Start replaying a `created` session. The ticks and events that follow are pushes:
    /// open a [`Client::session_stream`] first, or use [`Client::run_simulation`], which does
    /// everything.
    pub async fn start_simulation(&self, start: StartSimulation) -> Result<SimulationStarted> {
        let reply = self.request(ClientMessage::StartSimulation(start)).await?;
        expect_reply!(reply, SimulationStarted, "simulation_started")
    }

    /// Metrics, trades, open positions and equity curve of a completed (or stopped) run.
    /// Asks for the columnar layout when the daemon speaks protocol version 2 (much smaller
    /// for long runs), and for the trades and the curve in pages of
    /// [`MAX_PAGE_LIMIT`] (`docs/protocol.md`, "Paged results"), joined here: the result is
    /// the same whatever the layout and however many pages it took. A daemon from before
    /// paging refuses `offset`/`limit` with `INVALID_MESSAGE`; then this asks for the whole
    /// results in one reply.
    pub async fn get_results(&self, session_id: &str) -> Result<SimulationResults> {
        let format =
            (self.connection_info().protocol_version >= 2).then_some(ResultsFormat::Columns);
        match self.results_paged(session_id, format, MAX_PAGE_LIMIT).await {
            Err(ClientError::Server {
                code: ErrorCode::InvalidMessage,
                ..
            }) => self
                .results_in(session_id, format, None)
                .await
                .map(|(r, _)| r),
            other => other,
        }
    }

    /// Only the metrics and the open positions of a completed (or stopped) run: `trades` and
    /// `equity_curve` come back empty. For a summary of a long run this moves a few hundred
    /// bytes instead of megabytes. A daemon that does not know `format: summary` refuses it
    /// with `INVALID_MESSAGE`; then this asks for the full results, as [`Client::get_results`].
    pub async fn get_results_summary(&self, session_id: &str) -> Result<SimulationResults> {
        match self
            .results_in(session_id, Some(ResultsFormat::Summary), None)
            .await
        {
            Err(ClientError::Server {
                code: ErrorCode::InvalidMessage,
                ..
            }) => self.get_results(session_id).await,
            other => other.map(|(r, _)| r),
        }
    }

    /// [`Client::get_results`] in pages of `limit` trades and equity points (1 ..=
    /// [`MAX_PAGE_LIMIT`]), in `format` (`None`: rows); the same results, joined. Errors: a
    /// daemon without paging answers `INVALID_MESSAGE`, a `limit` out of range
    /// `VALIDATION_FAILED`.
    pub async fn get_results_in_pages(
        &self,
        session_id: &str,
        format: Option<ResultsFormat>,
        limit: u32,
    ) -> Result<SimulationResults> {
        self.results_paged(session_id, format, limit).await
    }

    /// Every page of the results, from offset 0 to the last `next_offset`, joined.
    async fn results_paged(
        &self,
        session_id: &str,
        format: Option<ResultsFormat>,
        limit: u32,
    ) -> Result<SimulationResults> {
        let first = Some((0, limit));
        let (mut all, mut page) = self.results_in(session_id, format, first).await?;
        while let Some(p) = page {
            let Some(next) = p.next_offset else { break };
            if next <= p.offset {
                return Err(ClientError::Protocol(format!(
                    "'results' page at offset {} points back to offset {next}",
                    p.offset
                )));
            }
            let at = Some((next, limit));
            let (part, next_page) = self.results_in(session_id, format, at).await?;
            all.trades.extend(part.trades);
            all.equity_curve.extend(part.equity_curve);
            page = next_page;
        }
        Ok(all)
    }

    /// One `get_results` round trip: the whole results (`page` `None`) or the page at
    /// `(offset, limit)`; the results and where the page sits.
    async fn results_in(
        &self,
        session_id: &str,
        format: Option<ResultsFormat>,
        page: Option<(u64, u32)>,
    ) -> Result<(SimulationResults, Option<ResultsPage>)> {
        let request = GetResults {
            session_id: session_id.to_string(),
            format,
            offset: page.map(|(o, _)| o),
            limit: page.map(|(_, l)| l),
        };
        let reply = self.request(ClientMessage::GetResults(request)).await?;
        let reply = expect_reply!(reply, Results, "results")?;
        let page = reply.page;
        let results = reply
            .into_results()
            .map_err(|e| ClientError::Protocol(format!("malformed 'results': {e}")))?;
        Ok((results, page))
    }

    /// The account of a running session now.
    pub async fn get_account(&self, session_id: &str) -> Result<AccountSnapshot> {
        let reply = self
            .request(ClientMessage::GetAccount(session_ref(session_id)))
            .await?;
        expect_reply!(reply, AccountSnapshot, "account_snapshot").map(|a| a.event)
    }
}

fn session_ref(session_id: &str) -> SessionRef {
    SessionRef {
        session_id: session_id.to_string(),
    }
}
