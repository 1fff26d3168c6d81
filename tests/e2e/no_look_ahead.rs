//! No look-ahead, through the SDK over the real daemon: a strategy checks on every call that its
//! history ends at the current bar and that each fill arrives before the tick of its own bar,
//! never for a later one.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared_models::trading::{ExecutionReport, OrderSide};
use simutrador_client::strategy::{Strategy, StrategyContext, TickView};
use simutrador_client::{Client, RunOptions, SessionRequestBuilder};
use simutrador_e2e::TestDaemon;

/// Trades every 7th bar and checks, on every call, what it can see.
#[derive(Default)]
struct Auditor {
    ticks: u64,
    last_tick_time: Option<DateTime<Utc>>,
    fills: Vec<DateTime<Utc>>,
    fills_before_their_tick: usize,
}

impl Strategy for Auditor {
    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        let now = tick.time();
        // The newest bar in the history is the current one, never a later one.
        let newest = ctx
            .history()
            .bar(0, 0)
            .expect("the current bar is in the history");
        assert_eq!(newest.datetime(), now, "history ends at the current tick");
        assert!(self.last_tick_time.is_none_or(|t| t < now));
        // Every fill reported so far happened at or before this bar.
        assert!(self.fills.iter().all(|f| *f <= now));
        if let Some(last_fill) = self.fills.last()
            && *last_fill == now
        {
            self.fills_before_their_tick += 1;
        }
        self.last_tick_time = Some(now);
        self.ticks += 1;
        if self.ticks.is_multiple_of(7) {
            let side = if ctx.account().position(0).quantity > Decimal::ZERO {
                OrderSide::Sell
            } else {
                OrderSide::Buy
            };
            ctx.market("ACME", side, Decimal::from(3));
        }
    }

    fn on_fill(&mut self, fill: &ExecutionReport, _ctx: &mut StrategyContext) {
        // A fill is reported before the tick of its bar, and never for a future bar.
        assert!(
            self.last_tick_time.is_none_or(|t| fill.sim_time > t),
            "fill of a past bar"
        );
        self.fills.push(fill.sim_time);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strategy_sees_each_fill_before_the_tick_of_its_bar_and_nothing_later() {
    let d = TestDaemon::start().await.unwrap();
    let c = Client::connect_with_api_key(&d.url(), &d.add_key("alice").unwrap())
        .await
        .unwrap();
    for window in [1, 512] {
        let session = c
            .create_session(
                SessionRequestBuilder::new(["ACME"], "2022-01-01", "2022-12-31").build(),
            )
            .await
            .unwrap();
        let mut auditor = Auditor::default();
        let options = RunOptions {
            window,
            ..RunOptions::default()
        };
        let results = c
            .run_simulation(&session.session_id, &mut auditor, options)
            .await
            .unwrap();
        assert_eq!(auditor.ticks, session.bar_count);
        assert!(auditor.fills.len() > 30, "{}", auditor.fills.len());
        // Market orders decided at bar t fill at bar t+1's open: each fill is seen right
        // before the tick of that same bar.
        assert_eq!(auditor.fills_before_their_tick, auditor.fills.len());
        assert!(results.metrics.num_trades > 10);
    }
    d.stop().await.unwrap();
}
