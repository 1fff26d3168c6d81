//! Write ahead, then send: a fill the client has seen survives a crash. A runner stops at the
//! first `execution_report` it receives, the real daemon is killed with SIGKILL at once and
//! restarted on the same state dir and port; the session comes back paused with the run's
//! progress, and the resumed run — the SDK reconnects and resumes it — has that fill among
//! its trades and ends exactly like an uninterrupted run. Had the daemon sent the fill before
//! journaling what caused it, the rebuilt run would not have it (docs/store.md, "Write
//! ahead").

use shared_models::SessionState;
use shared_models::trading::ExecutionReport;
use simutrador_client::strategies::SmaCross;
use simutrador_client::{Client, Strategy, StrategyContext};
use simutrador_e2e::{DaemonProcess, add_key};
use std::sync::mpsc;

use crate::restart::{json, options, reference_run, request, strategy};

/// The run's strategy, which hands over its first fill and then waits until told to go on.
struct HoldAtFirstFill {
    inner: SmaCross,
    seen: Option<mpsc::Sender<ExecutionReport>>,
    go: mpsc::Receiver<()>,
}

impl Strategy for HoldAtFirstFill {
    fn history_capacity(&self) -> usize {
        self.inner.history_capacity()
    }

    fn indicator_warmup_bars(&self, history_bars: u32) -> Option<u32> {
        self.inner.indicator_warmup_bars(history_bars)
    }

    fn on_start(&mut self, ctx: &simutrador_client::StartContext<'_>) {
        self.inner.on_start(ctx);
    }

    fn on_tick(&mut self, tick: &simutrador_client::TickView<'_>, ctx: &mut StrategyContext) {
        self.inner.on_tick(tick, ctx);
    }

    fn on_fill(&mut self, fill: &ExecutionReport, ctx: &mut StrategyContext) {
        if let Some(seen) = self.seen.take() {
            let _ = seen.send(fill.clone());
            // Hand this worker's other tasks to another thread, then wait for the restart.
            tokio::task::block_in_place(|| {
                let _ = self.go.recv();
            });
        }
        self.inner.on_fill(fill, ctx);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fill_the_client_saw_survives_kill_9_and_the_run_ends_like_an_uninterrupted_one() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    std::fs::create_dir_all(&state).unwrap();
    let key = add_key(&state, "wanda").unwrap();
    let mut first = DaemonProcess::start(&state, &[]).unwrap();
    let url = first.url();
    let c = Client::connect_with_api_key(&url, &key).await.unwrap();
    let (_, expected) = reference_run(&c).await;

    let session = c.create_session(request("1h")).await.unwrap();
    let (seen_tx, seen_rx) = mpsc::channel();
    let (go, go_rx) = mpsc::channel();
    let mut held = HoldAtFirstFill {
        inner: strategy(),
        seen: Some(seen_tx),
        go: go_rx,
    };
    let runner = c.clone();
    let id = session.session_id.clone();
    let task = tokio::spawn(async move { runner.run_simulation(&id, &mut held, options()).await });
    let fill = tokio::task::spawn_blocking(move || seen_rx.recv().unwrap())
        .await
        .unwrap();
    // At once: whatever the daemon had not written when it sent the fill is lost.
    first.kill().unwrap();
    let second = DaemonProcess::start_bound(&state, &first.addr.to_string(), &[]).unwrap();

    let c2 = Client::connect_with_api_key(&url, &key).await.unwrap();
    let info = c2.get_session(&session.session_id).await.unwrap();
    assert_eq!(info.state, SessionState::Paused, "{info:?}");
    assert!(
        info.settled_ticks > 0,
        "the run's progress was journaled: {info:?}"
    );

    go.send(()).unwrap();
    let results = task
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}; the restarted daemon's log:\n{}", second.log_text()));
    assert!(
        results.trades.iter().any(|t| (t.entry_time == fill.sim_time
            && t.entry_price == fill.price)
            || (t.exit_time == fill.sim_time && t.exit_price == fill.price)),
        "the fill seen before the crash ({fill:?}) is among the trades"
    );
    assert_eq!(json(&results), json(&expected));
    assert!(second.log_text().contains("run rebuilt from its journal"));
}
