//! The runner against the scripted daemon of `fake_server.rs`: rule 4 (wait for `bar_settled`
//! exactly when one comes, never otherwise), rule 5 (ack before waiting, at least every
//! window/2, at once with orders), fills before decisions, and identical results and order
//! streams whatever the window, block sizes and interleaving.

use rust_decimal::Decimal;
use shared_models::trading::{ExecutionReport, OrderSide};
use std::time::Duration;

use super::fake_server::{self, FakeBar, FakeLog};
use super::{RunOptions, RunStats, session};
use crate::connection::{Client, ConnectOptions};
use crate::strategies::{SmaCross, StrategySpec, build_strategy};
use crate::strategy::{Strategy, StrategyContext, TickView, market_order};

/// A deterministic random walk of `n` daily bars (cents).
fn walk(n: usize) -> Vec<FakeBar> {
    let mut x: u64 = 42;
    let mut close: i64 = 10_000;
    (0..n)
        .map(|i| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            let open = close;
            close = (close + ((x >> 40) % 401) as i64 - 200).max(100);
            let (hi, lo) = (open.max(close) + 50, (open.min(close) - 50).max(1));
            (1_577_836_800 + i as i64 * 86_400, open, hi, lo, close)
        })
        .collect()
}

async fn run_on<S: Strategy + ?Sized>(
    bars: Vec<FakeBar>,
    strategy: &mut S,
    window: u32,
    block_max: u64,
    seed: u64,
) -> (FakeLog, RunStats, String) {
    let (url, server) = fake_server::start(bars, block_max, seed).await;
    let options = ConnectOptions::default().request_timeout(Duration::from_secs(10));
    let client = Client::connect_with_options(&url, "t", options)
        .await
        .unwrap();
    let (results, stats) = session::run(
        &client,
        "s1",
        strategy,
        RunOptions::default().window(window),
    )
    .await
    .unwrap();
    let log = server.await.unwrap();
    (log, stats, serde_json::to_string(&results).unwrap())
}

/// Never trades; counts ticks.
#[derive(Default)]
struct Quiet {
    ticks: u64,
    last: Option<u64>,
}

impl Strategy for Quiet {
    fn on_tick(&mut self, tick: &TickView<'_>, _ctx: &mut StrategyContext) {
        assert_eq!(
            tick.sequence_id(),
            self.last.map_or(0, |l| l + 1),
            "ticks in order"
        );
        self.last = Some(tick.sequence_id());
        self.ticks += 1;
    }
}

#[tokio::test]
async fn nothing_working_means_no_waiting_and_batched_acks() {
    let mut quiet = Quiet::default();
    let (log, stats, _) = run_on(walk(3000), &mut quiet, 1024, 100, 7).await;
    assert_eq!(quiet.ticks, 3000);
    assert_eq!((stats.settle_waits, log.settled, log.violations), (0, 0, 0));
    // At least every 512 ticks (more when the runner catches up with the server and acks
    // before blocking), the last one included.
    assert_eq!(stats.acks, log.acks.len() as u64);
    assert!(stats.acks >= 6, "{}", stats.acks);
    let mut prev = None;
    for ack in &log.acks {
        let gap = ack.sequence_id - prev.map_or(0, |p: u64| p + 1) + 1;
        assert!(gap <= 512, "gap {gap} at {}", ack.sequence_id);
        prev = Some(ack.sequence_id);
    }
    assert_eq!(prev, Some(2999));

    let mut quiet = Quiet::default();
    let (log, stats, _) = run_on(walk(300), &mut quiet, 1, 1, 8).await;
    assert_eq!(
        (stats.acks, stats.settle_waits, log.violations),
        (300, 0, 0)
    );
}

/// Places a limit buy far below the market at tick 5, cancels it at tick 50, buys at market
/// at tick 80 and checks at tick 81 that the fill is already in the account.
#[derive(Default)]
struct Waiter {
    fills: Vec<(u64, Decimal)>,
    seen_at_81: Option<Decimal>,
    tick: u64,
}

impl Strategy for Waiter {
    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        self.tick = tick.sequence_id();
        match tick.sequence_id() {
            5 => {
                let mut o = market_order("ACME", OrderSide::Buy);
                o.order_type = shared_models::trading::OrderType::Limit;
                o.limit_price = Some(Decimal::ONE);
                o.quantity = Some(Decimal::ONE);
                o.order_id = "far".into();
                ctx.submit(o);
            }
            50 => ctx.cancel("far"),
            80 => {
                ctx.market("ACME", OrderSide::Buy, Decimal::from(3));
            }
            81 => self.seen_at_81 = Some(ctx.account().quantity(0)),
            _ => {}
        }
    }

    fn on_fill(&mut self, fill: &ExecutionReport, _ctx: &mut StrategyContext) {
        self.fills.push((self.tick, fill.quantity));
    }
}

#[tokio::test]
async fn working_orders_make_the_runner_wait_and_fills_come_before_decisions() {
    for (window, block, seed) in [(1024, 64, 1), (1, 1, 2), (3, 2, 3)] {
        let mut w = Waiter::default();
        let (log, stats, _) = run_on(walk(200), &mut w, window, block, seed).await;
        assert_eq!(log.violations, 0, "window {window}");
        // Bars 6..=51 (order working or just cancelled) and bar 81 (the market order).
        assert_eq!(stats.settle_waits, 47, "window {window}");
        assert_eq!(log.settled, 47);
        assert_eq!(w.seen_at_81, Some(Decimal::from(3)));
        // The fill of bar 81 reached on_fill before on_tick(81).
        assert_eq!(w.fills, [(80, Decimal::from(3))]);
        let with_orders: Vec<u64> = log
            .acks
            .iter()
            .filter(|a| !a.orders.is_empty() || !a.cancels.is_empty())
            .map(|a| a.sequence_id)
            .collect();
        assert_eq!(with_orders, [5, 50, 80]);
    }
}

#[tokio::test]
async fn results_and_order_streams_do_not_depend_on_the_window() {
    let bars = walk(1500);
    let mut baseline: Option<(String, Vec<_>, Vec<_>)> = None;
    for (window, block, seed) in [
        (1, 1, 11),
        (1024, 64, 12),
        (7, 5, 13),
        (1024, 1000, 14),
        (2, 3, 15),
    ] {
        let mut s = SmaCross::new(5, 12, true).unwrap();
        let (log, stats, results) = run_on(bars.clone(), &mut s, window, block, seed).await;
        assert_eq!(log.violations, 0, "window {window}");
        assert_eq!(stats.settle_waits, log.settled, "window {window}");
        let orders: Vec<_> = log
            .acks
            .into_iter()
            .filter(|a| !a.orders.is_empty() || !a.cancels.is_empty())
            .collect();
        assert!(orders.len() > 10, "the series should cross often");
        let now = (results, log.fills, orders);
        match &baseline {
            None => baseline = Some(now),
            Some(b) => assert!(*b == now, "window {window} differs"),
        }
    }
}

#[tokio::test]
async fn built_ins_run_by_name() {
    let spec = StrategySpec::parse("buy-and-hold", []).unwrap();
    let mut s = build_strategy(&spec).unwrap();
    let (log, stats, _) = run_on(walk(100), &mut s, 1024, 10, 5).await;
    assert_eq!(log.fills.len(), 1);
    assert_eq!(log.fills[0].0, 1, "bought at the open of the second bar");
    assert_eq!((stats.settle_waits, log.violations), (1, 0));
}

#[tokio::test]
async fn summary_results_fall_back_to_everything_on_a_daemon_that_refuses_the_format() {
    let bars = walk(300);
    let spec = StrategySpec::parse("sma-cross", ["fast=5", "slow=12"]).unwrap();
    let (_, _, full) = run_on(
        bars.clone(),
        build_strategy(&spec).unwrap().as_mut(),
        64,
        50,
        3,
    )
    .await;
    let (url, server) = fake_server::start(bars, 50, 3).await;
    let options = ConnectOptions::default().request_timeout(Duration::from_secs(10));
    let client = Client::connect_with_options(&url, "t", options)
        .await
        .unwrap();
    let mut strategy = build_strategy(&spec).unwrap();
    let (results, _) = session::run(
        &client,
        "s1",
        strategy.as_mut(),
        RunOptions::default().window(64).summary_results(true),
    )
    .await
    .unwrap();
    server.await.unwrap();
    assert!(!results.equity_curve.is_empty());
    assert_eq!(serde_json::to_string(&results).unwrap(), full);
}
