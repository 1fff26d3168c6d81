//! Every message of the protocol, as two enums: [`ClientMessage`] (client → server) and
//! [`ServerMessage`] (server → client).
//!
//! On the wire each is `{"type": "<snake_case name>", "request_id": "...", "data": {...}}`; the
//! envelope (with `request_id`) is in [`crate::envelope`]. Payload structs live in the
//! modules below, one per area ([`client`], [`server`], [`simulation`], [`results`], …).

pub mod client;
pub mod history;
pub mod lifecycle;
pub mod results;
pub mod server;
pub mod simulation;

use serde::{Deserialize, Serialize};

use crate::error::ErrorBody;
use crate::lifecycle::{SessionStatsUpdate, SessionTerminated, SessionWarning};
use crate::market::SymbolRange;
use crate::session::{CreateSessionRequest, SessionInfo};
use client::{GetSymbolRange, ListSessions, ListSymbols, Ping, SessionRef};
use history::{CompareSessions, GetHistoryStats, HistoryStats, SessionComparison};
use lifecycle::{
    GetSessionEvents, SessionEventList, SessionSubscription, StopSession, UpdateSession,
};
use results::{GetResults, ResultsReply};
use server::{
    ConnectionClosing, ConnectionReady, Pong, SessionDeleted, SessionList, SessionPreview,
    SymbolList,
};
use simulation::{
    AccountEvent, BarSettled, BatchAck, EventBlock, ExecutionEvent, HistorySnapshot, OrderBatch,
    OrderUpdateEvent, SimulationControl, SimulationEnd, SimulationStarted, StartSimulation, Tick,
    TickAck, TickAcks, TickBlock,
};

/// A request from the client. Every request may carry a `request_id`, echoed on its reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Validate parameters against the catalog and create a session → `session_created`.
    CreateSession(CreateSessionRequest),
    /// Run every `create_session` check without creating anything → `session_validated`.
    ValidateSession(CreateSessionRequest),
    /// One of the user's sessions → `session`.
    GetSession(SessionRef),
    /// The user's sessions, newest first → `session_list`.
    ListSessions(ListSessions),
    /// Remove a session → `session_deleted`.
    DeleteSession(SessionRef),
    /// The catalog → `symbols`.
    ListSymbols(ListSymbols),
    /// First and last bar of a symbol → `symbol_range`.
    GetSymbolRange(GetSymbolRange),
    /// Liveness check → `pong`.
    Ping(Ping),
    /// Start replaying a `created` session → `simulation_started`, then ticks.
    StartSimulation(StartSimulation),
    /// Acknowledge ticks up to a sequence id, with the orders decided there.
    TickAck(TickAck),
    /// Several `tick_ack`s in one frame (protocol version 2).
    TickAcks(TickAcks),
    /// Orders outside an acknowledgement → `batch_ack`.
    OrderBatch(OrderBatch),
    /// Stop sending ticks → `simulation_paused`.
    PauseSimulation(SessionRef),
    /// Continue → `simulation_resumed`.
    ResumeSimulation(SessionRef),
    /// Results of a finished (or running) simulation → `results`.
    GetResults(GetResults),
    /// The account now → `account_snapshot`.
    GetAccount(SessionRef),
    /// Change a session before it starts → `session_updated`.
    UpdateSession(UpdateSession),
    /// End a session now → `session_terminated`.
    StopSession(StopSession),
    /// A page of a session's event log → `session_events`.
    GetSessionEvents(GetSessionEvents),
    /// Live statistics of a session → `session_subscription`, then `session_stats_update`s.
    SubscribeSession(SessionRef),
    /// No more statistics → `session_subscription`.
    UnsubscribeSession(SessionRef),
    /// A new session with the parameters and limits of this one, on the market data the
    /// daemon holds now, starting from scratch → `session_created`.
    ForkSession(SessionRef),
    /// Statistics of a few sessions side by side → `session_comparison`.
    CompareSessions(CompareSessions),
    /// Aggregate figures across the sessions passing `list_sessions`' filters →
    /// `history_stats`.
    GetHistoryStats(GetHistoryStats),
}

impl ClientMessage {
    /// The `type` names the server accepts, in documentation order.
    pub const TYPES: &'static [&'static str] = &[
        "create_session",
        "validate_session",
        "get_session",
        "list_sessions",
        "delete_session",
        "list_symbols",
        "get_symbol_range",
        "ping",
        "start_simulation",
        "tick_ack",
        "tick_acks",
        "order_batch",
        "pause_simulation",
        "resume_simulation",
        "get_results",
        "get_account",
        "update_session",
        "stop_session",
        "get_session_events",
        "subscribe_session",
        "unsubscribe_session",
        "fork_session",
        "compare_sessions",
        "get_history_stats",
    ];

    /// The wire `type` of this message.
    pub fn type_name(&self) -> &'static str {
        match self {
            ClientMessage::CreateSession(_) => "create_session",
            ClientMessage::ValidateSession(_) => "validate_session",
            ClientMessage::GetSession(_) => "get_session",
            ClientMessage::ListSessions(_) => "list_sessions",
            ClientMessage::DeleteSession(_) => "delete_session",
            ClientMessage::ListSymbols(_) => "list_symbols",
            ClientMessage::GetSymbolRange(_) => "get_symbol_range",
            ClientMessage::Ping(_) => "ping",
            ClientMessage::StartSimulation(_) => "start_simulation",
            ClientMessage::TickAck(_) => "tick_ack",
            ClientMessage::TickAcks(_) => "tick_acks",
            ClientMessage::OrderBatch(_) => "order_batch",
            ClientMessage::PauseSimulation(_) => "pause_simulation",
            ClientMessage::ResumeSimulation(_) => "resume_simulation",
            ClientMessage::GetResults(_) => "get_results",
            ClientMessage::GetAccount(_) => "get_account",
            ClientMessage::UpdateSession(_) => "update_session",
            ClientMessage::StopSession(_) => "stop_session",
            ClientMessage::GetSessionEvents(_) => "get_session_events",
            ClientMessage::SubscribeSession(_) => "subscribe_session",
            ClientMessage::UnsubscribeSession(_) => "unsubscribe_session",
            ClientMessage::ForkSession(_) => "fork_session",
            ClientMessage::CompareSessions(_) => "compare_sessions",
            ClientMessage::GetHistoryStats(_) => "get_history_stats",
        }
    }
}

/// A message from the server: a reply (carrying the request's `request_id`) or a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First message on every connection.
    ConnectionReady(ConnectionReady),
    /// Reply to `create_session` and `fork_session`.
    SessionCreated(SessionInfo),
    /// Reply to `validate_session`: what `create_session` would create.
    SessionValidated(SessionPreview),
    /// Reply to `get_session`.
    Session(SessionInfo),
    /// Reply to `list_sessions`.
    SessionList(SessionList),
    /// Reply to `delete_session`.
    SessionDeleted(SessionDeleted),
    /// Reply to `list_symbols`.
    Symbols(SymbolList),
    /// Reply to `get_symbol_range`.
    SymbolRange(SymbolRange),
    /// Reply to `ping`.
    Pong(Pong),
    /// A request failed; carries the request's `request_id` when it could be read.
    Error(ErrorBody),
    /// The server is shutting down this connection.
    ConnectionClosing(ConnectionClosing),
    /// Reply to `start_simulation`.
    SimulationStarted(SimulationStarted),
    /// Warm-up bars, after `simulation_started`.
    HistorySnapshot(HistorySnapshot),
    /// One tick (`tick_encoding: tick`).
    Tick(Tick),
    /// Many ticks as columns (`tick_encoding: block`).
    TickBlock(TickBlock),
    /// An order changed state.
    OrderUpdate(OrderUpdateEvent),
    /// A fill.
    ExecutionReport(ExecutionEvent),
    /// The account (pushed per `account_updates`, or reply to `get_account`).
    AccountSnapshot(AccountEvent),
    /// Every event of a bar has been sent.
    BarSettled(BarSettled),
    /// A settlement's events in one frame (`events: blocks` or `fills`).
    EventBlock(EventBlock),
    /// Reply to `order_batch`.
    BatchAck(BatchAck),
    /// Reply to `pause_simulation`.
    SimulationPaused(SimulationControl),
    /// Reply to `resume_simulation`.
    SimulationResumed(SimulationControl),
    /// The run ended.
    SimulationEnd(SimulationEnd),
    /// Reply to `get_results`.
    Results(ResultsReply),
    /// Reply to `update_session`.
    SessionUpdated(SessionInfo),
    /// Reply to `stop_session`; also pushed when a session ends early.
    SessionTerminated(SessionTerminated),
    /// A limit is nearly used up (pushed once per kind).
    SessionWarning(SessionWarning),
    /// Reply to `get_session_events`.
    SessionEvents(SessionEventList),
    /// Reply to `subscribe_session` / `unsubscribe_session`.
    SessionSubscription(SessionSubscription),
    /// Live statistics for a subscriber.
    SessionStatsUpdate(SessionStatsUpdate),
    /// Reply to `compare_sessions`.
    SessionComparison(SessionComparison),
    /// Reply to `get_history_stats`.
    HistoryStats(HistoryStats),
}

impl ServerMessage {
    /// The `type` names the server sends, in documentation order.
    pub const TYPES: &'static [&'static str] = &[
        "connection_ready",
        "session_created",
        "session_validated",
        "session",
        "session_list",
        "session_deleted",
        "symbols",
        "symbol_range",
        "pong",
        "error",
        "connection_closing",
        "simulation_started",
        "history_snapshot",
        "tick",
        "tick_block",
        "order_update",
        "execution_report",
        "account_snapshot",
        "bar_settled",
        "event_block",
        "batch_ack",
        "simulation_paused",
        "simulation_resumed",
        "simulation_end",
        "results",
        "session_updated",
        "session_terminated",
        "session_warning",
        "session_events",
        "session_subscription",
        "session_stats_update",
        "session_comparison",
        "history_stats",
    ];

    /// The wire `type` of this message.
    pub fn type_name(&self) -> &'static str {
        match self {
            ServerMessage::ConnectionReady(_) => "connection_ready",
            ServerMessage::SessionCreated(_) => "session_created",
            ServerMessage::SessionValidated(_) => "session_validated",
            ServerMessage::Session(_) => "session",
            ServerMessage::SessionList(_) => "session_list",
            ServerMessage::SessionDeleted(_) => "session_deleted",
            ServerMessage::Symbols(_) => "symbols",
            ServerMessage::SymbolRange(_) => "symbol_range",
            ServerMessage::Pong(_) => "pong",
            ServerMessage::Error(_) => "error",
            ServerMessage::ConnectionClosing(_) => "connection_closing",
            ServerMessage::SimulationStarted(_) => "simulation_started",
            ServerMessage::HistorySnapshot(_) => "history_snapshot",
            ServerMessage::Tick(_) => "tick",
            ServerMessage::TickBlock(_) => "tick_block",
            ServerMessage::OrderUpdate(_) => "order_update",
            ServerMessage::ExecutionReport(_) => "execution_report",
            ServerMessage::AccountSnapshot(_) => "account_snapshot",
            ServerMessage::BarSettled(_) => "bar_settled",
            ServerMessage::EventBlock(_) => "event_block",
            ServerMessage::BatchAck(_) => "batch_ack",
            ServerMessage::SimulationPaused(_) => "simulation_paused",
            ServerMessage::SimulationResumed(_) => "simulation_resumed",
            ServerMessage::SimulationEnd(_) => "simulation_end",
            ServerMessage::Results(_) => "results",
            ServerMessage::SessionUpdated(_) => "session_updated",
            ServerMessage::SessionTerminated(_) => "session_terminated",
            ServerMessage::SessionWarning(_) => "session_warning",
            ServerMessage::SessionEvents(_) => "session_events",
            ServerMessage::SessionSubscription(_) => "session_subscription",
            ServerMessage::SessionStatsUpdate(_) => "session_stats_update",
            ServerMessage::SessionComparison(_) => "session_comparison",
            ServerMessage::HistoryStats(_) => "history_stats",
        }
    }
}
