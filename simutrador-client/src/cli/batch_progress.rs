//! Progress of `batch run` for people: with a terminal, `indicatif` bars — one overall (runs
//! done / total, ETA) and one per running simulation (bars done / total); otherwise (or with
//! `--quiet`) one plain line per finished run on stderr.
//!
//! Both are CLI implementations of the SDK's [`BatchObserver`] trait, so the SDK itself never
//! draws anything (nor depends on `indicatif`); a Rust program passes its own observer or
//! [`simutrador_client::batch::Silent`].

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use simutrador_client::Progress;
use simutrador_client::batch::{BatchObserver, RunRecord, RunSpec, RunStatus};

/// Draws bars on stderr.
pub struct BarsObserver {
    multi: MultiProgress,
    overall: ProgressBar,
    runs: Mutex<HashMap<usize, ProgressBar>>,
}

impl std::fmt::Debug for BarsObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BarsObserver")
    }
}

impl Default for BarsObserver {
    fn default() -> Self {
        Self::new()
    }
}

impl BarsObserver {
    /// Bars on stderr.
    pub fn new() -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(0));
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {per_sec}  ETA {eta}  {msg}")
        {
            overall.set_style(style);
        }
        BarsObserver {
            multi,
            overall,
            runs: Mutex::new(HashMap::new()),
        }
    }

    fn runs(&self) -> MutexGuard<'_, HashMap<usize, ProgressBar>> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remove every bar (before printing the final table).
    pub fn finish(&self) {
        for (_, bar) in self.runs().drain() {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

impl BatchObserver for BarsObserver {
    fn batch_started(&self, total: usize, _parallel: usize) {
        self.overall.set_length(total as u64);
        self.overall.reset_eta();
    }

    fn run_started(&self, run: &RunSpec) {
        let bar = self.multi.add(ProgressBar::new(0));
        if let Ok(style) = ProgressStyle::with_template("  {bar:20} {pos}/{len} bars  {msg}") {
            bar.set_style(style);
        }
        bar.set_message(run.name.clone());
        self.runs().insert(run.index, bar);
    }

    fn run_progress(&self, run: usize, p: &Progress) {
        if let Some(bar) = self.runs().get(&run) {
            bar.set_length(p.total_ticks);
            bar.set_position(p.ticks_done);
        }
    }

    fn run_finished(&self, record: &RunRecord) {
        if let Some(bar) = self.runs().remove(&record.spec.index) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        self.overall.inc(1);
        if let RunStatus::Failed { code, .. } = &record.status {
            self.overall
                .set_message(format!("last failure: run {} {code}", record.spec.index));
        }
    }
}

/// One line per finished run on stderr: `[3/5] ok sma-cross fast=5 slow=20 (return 12.3 %)`.
#[derive(Debug, Default)]
pub struct LinesObserver {
    total: AtomicUsize,
    done: AtomicUsize,
}

impl LinesObserver {
    /// The line for a finished run.
    pub fn line(done: usize, total: usize, record: &RunRecord) -> String {
        let what = match (&record.status, &record.results) {
            (RunStatus::Ok, Some(r)) => format!(
                "ok      {} (return {:.2} %, {} trades)",
                record.spec.name, r.metrics.return_pct, r.metrics.num_trades
            ),
            (RunStatus::Failed { code, message }, _) => {
                format!("FAILED  {} [{code}] {message}", record.spec.name)
            }
            (status, _) => format!("{:<7} {}", status.as_str(), record.spec.name),
        };
        format!("[{done}/{total}] run {}: {what}", record.spec.index)
    }
}

impl BatchObserver for LinesObserver {
    fn batch_started(&self, total: usize, parallel: usize) {
        self.total.store(total, Ordering::Relaxed);
        super::output::stderr_line(&format!(
            "running {total} simulations, {parallel} at a time"
        ));
    }

    fn run_finished(&self, record: &RunRecord) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        super::output::stderr_line(&Self::line(
            done,
            self.total.load(Ordering::Relaxed),
            record,
        ));
    }
}
