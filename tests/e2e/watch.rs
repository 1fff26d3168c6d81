//! `simutrador-client session watch ID` as a real child process against the real daemon,
//! while the SDK runs a simulation on the same session: progress lines that grow, the event
//! log, the final line and exit code when the session ends (emergency stop, or completion
//! with `--json`), and `SESSION_NOT_FOUND` for another user's session.
//!
//! No timing thresholds: the strategy holds the run at a few ticks until the watcher has
//! printed what the test expects, and the only timeouts are safety nets against a hung child.

use rust_decimal::Decimal;
use serde_json::Value;
use shared_models::Timeframe;
use shared_models::lifecycle::StopKind;
use simutrador_client::strategy::{StrategyContext, TickView};
use simutrador_client::{
    Client, RunOptions, SessionRequestBuilder, Strategy, StrategySpec, build_strategy,
};
use simutrador_e2e::{TestDaemon, client_cmd};
use std::io::{BufRead, BufReader};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Safety net against a hung child or run; never an assertion on speed.
const SAFETY: Duration = Duration::from_secs(60);

/// A running `session watch` with its stdout collected line by line.
struct Watcher {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    home: tempfile::TempDir,
}

impl Watcher {
    fn start(d: &TestDaemon, key: &str, args: &[&str]) -> Watcher {
        let home = tempfile::tempdir().unwrap();
        let mut child = client_cmd(home.path())
            .env("SIMUTRADOR_API_KEY", key)
            .args(["--url", &d.url()])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Watcher {
            child,
            lines,
            reader: Some(reader),
            home,
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Block until a line satisfies `pred` (the safety net panics on a hang).
    fn wait_for(&self, pred: impl Fn(&str) -> bool) -> String {
        wait_for_line(&self.lines, pred)
    }

    /// Wait for the child to exit on its own; kill it and fail if it hangs.
    fn wait_exit(&mut self) -> (ExitStatus, String, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > SAFETY {
                let _ = self.child.kill();
                panic!("session watch did not end: {:?}", self.lines());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            std::io::Read::read_to_string(&mut e, &mut err).unwrap();
        }
        let _ = &self.home;
        (status, self.lines().join("\n"), err)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_line(lines: &Mutex<Vec<String>>, pred: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        if let Some(l) = lines.lock().unwrap().iter().find(|l| pred(l)) {
            return l.clone();
        }
        assert!(
            start.elapsed() < SAFETY,
            "no such line: {:?}",
            lines.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `progress: simulation 12.3% | …` → 12.3.
fn sim_progress(line: &str) -> Option<f64> {
    line.strip_prefix("progress: simulation ")?
        .split('%')
        .next()?
        .parse()
        .ok()
}

/// Buys at once; at each gate tick holds the run until the watcher has shown more progress
/// than at the gate before; at the last gate also waits for the test's stop.
struct Gated {
    gates: Vec<u64>,
    lines: Arc<Mutex<Vec<String>>>,
    seen: f64,
    reached: Arc<AtomicBool>,
    stop_sent: Arc<AtomicBool>,
    bought: bool,
}

impl Strategy for Gated {
    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        if !self.bought {
            ctx.buy_percent("BITDEMO", Decimal::ONE);
            self.bought = true;
        }
        let Some(i) = self.gates.iter().position(|g| *g == tick.sequence_id()) else {
            return;
        };
        let last = i + 1 == self.gates.len();
        let seen = self.seen;
        // Hand this worker's queue to another thread while waiting, so the connection's
        // tasks keep running.
        tokio::task::block_in_place(|| {
            let line = wait_for_line(&self.lines, |l| sim_progress(l).is_some_and(|p| p > seen));
            self.seen = sim_progress(&line).unwrap_or(seen);
            if last {
                self.reached.store(true, Ordering::Release);
                let start = Instant::now();
                while !self.stop_sent.load(Ordering::Acquire) && start.elapsed() < SAFETY {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        });
    }
}

async fn daemon() -> TestDaemon {
    TestDaemon::start_with(|c| c.limits.stats_interval_ms = 50)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_follows_a_run_in_plain_lines_until_an_emergency_stop_ends_it() {
    let d = daemon().await;
    let key = d.add_key("alice").unwrap();
    let runner = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    let other = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    let req = SessionRequestBuilder::new(["BITDEMO"], "2024-12-02", "2024-12-15")
        .timeframe(Timeframe::M1)
        .build();
    let s = runner.create_session(req).await.unwrap();
    let id = s.session_id.clone();

    // stdout is a pipe here: plain lines, no bars.
    let mut watch = Watcher::start(&d, &key, &["session", "watch", &id]);
    watch.wait_for(|l| l.starts_with("Stop the session:"));

    let (reached, stop_sent) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let mut strategy = Gated {
        gates: vec![2000, 6000],
        lines: watch.lines.clone(),
        seen: 0.0,
        reached: reached.clone(),
        stop_sent: stop_sent.clone(),
        bought: false,
    };
    let run_id = id.clone();
    let run = tokio::spawn(async move {
        let options = RunOptions {
            window: 1,
            ..RunOptions::default()
        };
        runner.run_simulation(&run_id, &mut strategy, options).await
    });
    let start = Instant::now();
    while !reached.load(Ordering::Acquire) {
        assert!(
            start.elapsed() < SAFETY,
            "the run never reached its last gate"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let t = other.stop_session(&id, StopKind::Emergency).await.unwrap();
    stop_sent.store(true, Ordering::Release);
    run.await.unwrap().unwrap();

    let (status, out, err) = tokio::task::spawn_blocking(move || watch.wait_exit())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}\n{out}\n{err}");
    assert!(
        !out.contains('\u{1b}'),
        "no ANSI escapes in a pipe: {out:?}"
    );
    assert!(
        out.contains(&format!(
            "Stop the session: simutrador-client session stop {id} [--emergency]"
        )),
        "{out}"
    );
    // Progress: the figures only grow, and they did grow.
    let progress: Vec<f64> = out.lines().filter_map(sim_progress).collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert!(progress.len() >= 2, "{out}");
    assert!(progress.last() > progress.first(), "{progress:?}");
    assert!(out.contains("| running"), "{out}");
    // The event log as it grew, in order.
    let pos = |kind: &str| {
        out.lines()
            .position(|l| l.starts_with("event ") && l.contains(kind))
            .unwrap_or_else(|| panic!("no {kind} event in\n{out}"))
    };
    assert!(pos("SESSION_CREATED") < pos("SESSION_STARTED"), "{out}");
    assert!(pos("SESSION_STARTED") < pos("EMERGENCY_STOP"), "{out}");
    assert!(pos("EMERGENCY_STOP") < pos("SESSION_ENDED"), "{out}");
    // The final line: state, reason and the final figures.
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "Session {id} ended: stopped (emergency_stop: emergency stop by the user): equity "
        )),
        "{last}"
    );
    assert!(
        last.contains(&format!("{} trades", t.final_stats.num_trades)),
        "{last}"
    );
    assert!(err.is_empty(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_json_prints_one_object_per_update_until_the_run_completes() {
    let d = daemon().await;
    let key = d.add_key("alice").unwrap();
    let runner = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    let req = SessionRequestBuilder::new(["BITDEMO"], "2024-12-02", "2024-12-03")
        .timeframe(Timeframe::M1)
        .build();
    let s = runner.create_session(req).await.unwrap();
    let id = s.session_id.clone();
    let mut watch = Watcher::start(&d, &key, &["--json", "session", "watch", &id]);
    // Subscribed: the periodic update of the created session has come.
    watch.wait_for(|l| l.contains("session_stats_update"));

    let mut strategy = build_strategy(&StrategySpec::parse("buy-and-hold", []).unwrap()).unwrap();
    let options = RunOptions {
        window: 8,
        ..RunOptions::default()
    };
    let results = runner
        .run_simulation(&id, strategy.as_mut(), options)
        .await
        .unwrap();

    let (status, out, err) = tokio::task::spawn_blocking(move || watch.wait_exit())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}\n{out}\n{err}");
    let docs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    let updates: Vec<&Value> = docs
        .iter()
        .filter(|d| d["type"] == "session_stats_update")
        .collect();
    assert!(
        updates
            .iter()
            .all(|u| u["data"]["session_id"] == id.as_str())
    );
    let progress: Vec<f64> = updates
        .iter()
        .map(|u| u["data"]["sim_progress_pct"].as_f64().unwrap())
        .collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert_eq!(progress.last(), Some(&100.0), "{progress:?}");
    assert!(
        updates.iter().any(|u| u["data"]["state"] == "running"),
        "{out}"
    );
    let last = docs.last().unwrap();
    assert_eq!(last["type"], "session", "{out}");
    assert_eq!(last["data"]["session_id"], id.as_str());
    assert_eq!(last["data"]["state"], "completed");
    assert_eq!(
        updates.last().unwrap()["data"]["trades"].as_u64(),
        Some(results.trades.len() as u64)
    );
}

#[tokio::test]
async fn watching_another_users_session_is_session_not_found() {
    let d = daemon().await;
    let bob = Client::connect_with_api_key(&d.url(), &d.add_key("bob").unwrap())
        .await
        .unwrap();
    let req = SessionRequestBuilder::new(["BITDEMO"], "2024-12-02", "2024-12-03")
        .timeframe(Timeframe::M1)
        .build();
    let id = bob.create_session(req).await.unwrap().session_id;
    let alice = d.add_key("alice").unwrap();

    let mut human = Watcher::start(&d, &alice, &["session", "watch", &id]);
    let (status, out, err) = tokio::task::spawn_blocking(move || human.wait_exit())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("SESSION_NOT_FOUND"), "{err}");
    assert!(out.is_empty(), "{out}");

    let mut json = Watcher::start(&d, &alice, &["--json", "session", "watch", &id]);
    let (status, out, _) = tokio::task::spawn_blocking(move || json.wait_exit())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(1), "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["error"]["error_code"], "SESSION_NOT_FOUND");
}
