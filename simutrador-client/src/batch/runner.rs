//! [`BatchRunner`]: run a list of [`RunSpec`]s as real sessions on the daemon, several at a
//! time, over one or more connections (every connection multiplexes many sessions).
//!
//! Each run is `create_session` → [`Client::run_simulation`] (which ends with `get_results`)
//! → `delete_session` (unless sessions are kept). A refused or failed run is recorded with its
//! error code and the others go on (unless `fail_fast`). Cancelling the token stops every
//! running session with `stop_session` and starts nothing new. Results come back in run order
//! whatever the parallelism.

use shared_models::ErrorCode;
use shared_models::lifecycle::StopKind;
use shared_models::results::SimulationResults;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use super::expand::RunSpec;
use super::pace::Pacer;
use super::registry::StrategyRegistry;
use crate::connection::Client;
use crate::error::ClientError;
use crate::runner::{DEFAULT_WINDOW, Progress, RunOptions};

/// How a batch runs.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Sessions at once (default: what the daemon allows this user, see
    /// [`BatchRunner::allowed_parallelism`]).
    pub parallel: Option<usize>,
    /// `max_pending_ticks` of every run.
    pub window: u32,
    /// Stop at the first failed run.
    pub fail_fast: bool,
    /// Keep each session on the daemon after its results are read (default: delete it).
    pub keep_sessions: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            parallel: None,
            window: DEFAULT_WINDOW,
            fail_fast: false,
            keep_sessions: false,
        }
    }
}

/// How one run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// Finished; results are in the record.
    Ok,
    /// Refused or failed: the wire error code (or a client-side code such as
    /// `CONNECTION_FAILED`) and the message.
    Failed {
        /// Stable code.
        code: String,
        /// What happened.
        message: String,
    },
    /// Stopped by cancellation (Ctrl-C or `fail_fast`) while it ran.
    Cancelled,
    /// Never started (cancelled before its turn).
    NotRun,
}

impl RunStatus {
    /// `ok`, `failed`, `cancelled`, `not_run`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Failed { .. } => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::NotRun => "not_run",
        }
    }
}

/// One run's outcome.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// What was run.
    pub spec: RunSpec,
    /// How it ended.
    pub status: RunStatus,
    /// The results (when `status` is `Ok`).
    pub results: Option<SimulationResults>,
    /// The daemon's session id, if one was created (for the run log only).
    pub session_id: Option<String>,
    /// Wall time of the run (for the run log only).
    pub elapsed: Duration,
}

/// The whole batch, records in run order.
#[derive(Debug, Clone)]
pub struct BatchReport {
    /// One per run, in run order.
    pub records: Vec<RunRecord>,
    /// True when the batch was cancelled from outside.
    pub cancelled: bool,
    /// Sessions run at once.
    pub parallel: usize,
    /// Wall time.
    pub elapsed: Duration,
}

impl BatchReport {
    /// Runs that did not finish with results.
    pub fn failures(&self) -> usize {
        self.records
            .iter()
            .filter(|r| matches!(r.status, RunStatus::Failed { .. }))
            .count()
    }
}

/// Hears about runs as they go (progress bars, logs). Every method has a no-op default.
pub trait BatchObserver: Send + Sync {
    /// The batch starts `total` runs with `parallel` at once.
    fn batch_started(&self, _total: usize, _parallel: usize) {}
    /// A run's session is being created.
    fn run_started(&self, _run: &RunSpec) {}
    /// Progress of a running simulation.
    fn run_progress(&self, _run: usize, _progress: &Progress) {}
    /// A run ended.
    fn run_finished(&self, _record: &RunRecord) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;
impl BatchObserver for Silent {}

/// Runs batches of simulations against one daemon.
#[derive(Debug, Clone)]
pub struct BatchRunner {
    clients: Vec<Client>,
    registry: StrategyRegistry,
    options: BatchOptions,
}

impl BatchRunner {
    /// A runner over `clients` (at least one connection; more spread the load) using the
    /// strategies of `registry`.
    pub fn new(clients: Vec<Client>, registry: StrategyRegistry) -> Self {
        BatchRunner {
            clients,
            registry,
            options: BatchOptions::default(),
        }
    }

    /// Set the options.
    pub fn options(mut self, options: BatchOptions) -> Self {
        self.options = options;
        self
    }

    /// Sessions the daemon lets this user hold at once (`max_sessions_per_user` of
    /// `connection_ready`).
    pub fn allowed_parallelism(client: &Client) -> usize {
        (client.connection_info().limits.max_sessions_per_user as usize).max(1)
    }

    /// Sessions this user can still open now: [`Self::allowed_parallelism`] minus the
    /// sessions they already hold (created, running or paused).
    pub async fn free_slots(client: &Client) -> Result<usize, ClientError> {
        use shared_models::SessionState;
        use shared_models::messages::client::ListSessions;
        let mut open = 0usize;
        for state in [
            SessionState::Created,
            SessionState::Running,
            SessionState::Paused,
        ] {
            let filter = ListSessions {
                state: Some(state),
                limit: Some(1),
                ..ListSessions::default()
            };
            open += client.list_sessions(filter).await?.total as usize;
        }
        Ok(Self::allowed_parallelism(client).saturating_sub(open))
    }

    /// The parallelism this runner will use.
    pub fn parallelism(&self) -> usize {
        match (self.options.parallel, self.clients.first()) {
            (Some(n), _) => n.max(1),
            (None, Some(c)) => Self::allowed_parallelism(c),
            (None, None) => 1,
        }
    }

    /// Run every spec; returns when all have ended or the batch was cancelled.
    pub async fn run(
        &self,
        runs: &[RunSpec],
        observer: Arc<dyn BatchObserver>,
        cancel: CancellationToken,
    ) -> BatchReport {
        let started = Instant::now();
        let parallel = self.parallelism();
        observer.batch_started(runs.len(), parallel);
        let stop = cancel.child_token();
        let pacers: Vec<Arc<Pacer>> = self
            .clients
            .iter()
            .map(|c| Arc::new(Pacer::new(c.connection_info().limits.messages_per_second)))
            .collect();
        let me = Arc::new(self.clone());
        let mut slots: Vec<Option<RunRecord>> = vec![None; runs.len()];
        let mut pending = runs.iter().enumerate();
        // Each run is its own task: runs make progress independently, on every worker thread.
        let mut running = tokio::task::JoinSet::new();
        let mut task_index = std::collections::HashMap::new();
        let mut launched = 0usize;
        loop {
            while running.len() < parallel && !stop.is_cancelled() {
                let Some((i, spec)) = pending.next() else {
                    break;
                };
                if self.clients.is_empty() {
                    break;
                }
                let which = launched % self.clients.len();
                let (client, pacer) = (self.clients[which].clone(), pacers[which].clone());
                launched += 1;
                let (me, obs, stop, spec) =
                    (me.clone(), observer.clone(), stop.clone(), spec.clone());
                let task = running
                    .spawn(async move { (i, me.run_one(&client, &pacer, &spec, obs, stop).await) });
                task_index.insert(task.id(), i);
            }
            let Some(joined) = running.join_next().await else {
                break;
            };
            let (i, record) = match joined {
                Ok(done) => done,
                Err(e) => {
                    // A strategy that panics fails its own run, not the batch.
                    let Some(&i) = task_index.get(&e.id()) else {
                        continue;
                    };
                    let record = RunRecord {
                        spec: runs[i].clone(),
                        status: RunStatus::Failed {
                            code: "STRATEGY_PANICKED".into(),
                            message: "the strategy panicked during the run".into(),
                        },
                        results: None,
                        session_id: None,
                        elapsed: Duration::ZERO,
                    };
                    (i, record)
                }
            };
            observer.run_finished(&record);
            if self.options.fail_fast && matches!(record.status, RunStatus::Failed { .. }) {
                stop.cancel();
            }
            slots[i] = Some(record);
        }
        let records = slots
            .into_iter()
            .zip(runs)
            .map(|(slot, spec)| {
                slot.unwrap_or_else(|| RunRecord {
                    spec: spec.clone(),
                    status: if self.clients.is_empty() {
                        RunStatus::Failed {
                            code: "CONNECTION_FAILED".into(),
                            message: "the batch runner has no connection".into(),
                        }
                    } else {
                        RunStatus::NotRun
                    },
                    results: None,
                    session_id: None,
                    elapsed: Duration::ZERO,
                })
            })
            .collect();
        BatchReport {
            records,
            cancelled: cancel.is_cancelled(),
            parallel,
            elapsed: started.elapsed(),
        }
    }

    async fn run_one(
        &self,
        client: &Client,
        pacer: &Pacer,
        spec: &RunSpec,
        observer: Arc<dyn BatchObserver>,
        stop: CancellationToken,
    ) -> RunRecord {
        let started = Instant::now();
        observer.run_started(spec);
        let mut record = RunRecord {
            spec: spec.clone(),
            status: RunStatus::NotRun,
            results: None,
            session_id: None,
            elapsed: Duration::ZERO,
        };
        let fail = |e: &ClientError| RunStatus::Failed {
            code: error_code(e),
            message: e.to_string(),
        };
        let mut strategy = match self.registry.build(&spec.strategy) {
            Ok(s) => s,
            Err(message) => {
                record.status = RunStatus::Failed {
                    code: "INVALID_PARAMETERS".into(),
                    message,
                };
                return record;
            }
        };
        let session = match create(client, pacer, spec, &stop).await {
            Ok(Some(s)) => s,
            Ok(None) => return record,
            Err(e) => {
                record.status = fail(&e);
                record.elapsed = started.elapsed();
                return record;
            }
        };
        let id = session.session_id.clone();
        record.session_id = Some(id.clone());
        let index = spec.index;
        let obs = observer.clone();
        let mut options = RunOptions::default()
            .window(self.options.window)
            .on_progress(move |p| obs.run_progress(index, p));
        // A built-in is kept with its parameters (rerunnable); a program's own by name and
        // parameters as the batch file gave them.
        options.strategy = Some(
            crate::strategies::built_in_ref(&spec.strategy).unwrap_or_else(|_| {
                shared_models::StrategyRef {
                    name: spec.strategy.name.clone(),
                    params: spec
                        .strategy
                        .params
                        .iter()
                        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                        .collect(),
                    built_in: false,
                    warmup_bars: None,
                }
            }),
        );
        // start_simulation and get_results.
        pacer.acquire(2).await;
        let result = {
            let run = client.run_simulation(&id, &mut *strategy, options);
            tokio::pin!(run);
            tokio::select! {
                r = &mut run => Some(r),
                () = stop.cancelled() => {
                    pacer.acquire(1).await;
                    let _ = client.stop_session(&id, StopKind::Manual).await;
                    let _ = tokio::time::timeout(Duration::from_secs(5), run).await;
                    None
                }
            }
        };
        record.status = match result {
            None => RunStatus::Cancelled,
            Some(Ok(results)) => {
                record.results = Some(results);
                RunStatus::Ok
            }
            Some(Err(e)) => fail(&e),
        };
        if !self.options.keep_sessions {
            pacer.acquire(1).await;
            let _ = client.delete_session(&id).await;
        }
        record.elapsed = started.elapsed();
        record
    }
}

/// `create_session`, waiting out `RATE_LIMITED` (as long as the daemon asks, a few minutes at
/// most). `Ok(None)` when cancelled first.
async fn create(
    client: &Client,
    pacer: &Pacer,
    spec: &RunSpec,
    stop: &CancellationToken,
) -> Result<Option<shared_models::SessionInfo>, ClientError> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if stop.is_cancelled() {
            return Ok(None);
        }
        pacer.acquire(1).await;
        match client.create_session(spec.request.clone()).await {
            Err(e)
                if e.error_code() == Some(ErrorCode::RateLimited) && Instant::now() < deadline =>
            {
                let wait = e
                    .details()
                    .get("retry_after_ms")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(100)
                    .clamp(5, 5_000);
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(wait)) => {}
                    () = stop.cancelled() => return Ok(None),
                }
            }
            other => return other.map(Some),
        }
    }
}

/// The stable code of a failure: the wire code, else the kind of client failure.
pub fn error_code(e: &ClientError) -> String {
    match e {
        ClientError::Server { code, .. } | ClientError::Auth { code, .. } => {
            code.as_str().to_string()
        }
        ClientError::Connection(_) => "CONNECTION_FAILED".into(),
        ClientError::Timeout { .. } => "TIMEOUT".into(),
        ClientError::Protocol(_) => "PROTOCOL_ERROR".into(),
        ClientError::Config(_) => "CONFIG_ERROR".into(),
    }
}
