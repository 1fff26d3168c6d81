//! Engine throughput: 1,000,000 generated one-minute bars of one symbol through
//! `simutrador_engine::Engine` with an in-bench sma-cross 10/20 (close and reverse with 100% of
//! equity on every cross), plus a baseline with no orders at all.
//!
//! Run: `cargo bench -p shared-models --bench engine`. Prints bars/s and ns/bar for the bars
//! alone and for the complete run (with `finish` and `results`), and the memory held by the
//! equity curve. Not a test: nothing here asserts a speed.

use std::fmt::Write;
use std::time::Instant;

use rust_decimal::Decimal;
use shared_models::AssetClass;
use shared_models::trading::{CompactString, OrderRequest, OrderSide, OrderType, TimeInForce};
use simutrador_engine::{BarEvents, Candle, Engine, EngineConfig, SymbolSpec};

const BARS: usize = 1_000_000;
const START: i64 = 1_704_067_200; // 2024-01-01 00:00 UTC

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [-k, k].
    fn step(&mut self, k: i64) -> i64 {
        (self.next() % (2 * k as u64 + 1)) as i64 - k
    }
}

/// Bars in integer ticks of 0.01, and the same bars as candles.
fn series() -> (Vec<i64>, Vec<Candle>) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut last = 100_000i64; // 1000.00
    let mut closes = Vec::with_capacity(BARS);
    let mut candles = Vec::with_capacity(BARS);
    for _ in 0..BARS {
        let open = (last + rng.step(3)).max(1_000);
        let close = (open + rng.step(40)).max(1_000);
        let high = open.max(close) + rng.step(10).abs();
        let low = (open.min(close) - rng.step(10).abs()).max(500);
        let volume = 100 + (rng.next() % 1_000) as i64;
        let d = |t: i64| Decimal::new(t, 2);
        candles.push(Candle {
            open: d(open),
            high: d(high),
            low: d(low),
            close: d(close),
            volume: d(volume),
        });
        closes.push(close);
        last = close;
    }
    (closes, candles)
}

fn config() -> EngineConfig {
    let mut c = EngineConfig::new(
        Decimal::from(100_000),
        vec![SymbolSpec {
            symbol: "BENCH".into(),
            asset_class: AssetClass::Equity,
            lot_step: Decimal::ONE,
        }],
    );
    c.allow_short = true;
    // No costs: a random walk traded ~28k times would otherwise go bust on commissions and the
    // run would measure rejections instead of fills.
    c
}

/// `o{n}`, inline in a `CompactString` (no allocation): a strategy that names orders cheaply,
/// so the bench measures the engine rather than `format!`.
fn order_id(n: u64) -> CompactString {
    let mut id = CompactString::const_new("o");
    id.push_str(itoa::Buffer::new().format(n));
    id
}

fn order(
    n: &mut u64,
    side: OrderSide,
    quantity: Option<Decimal>,
    pct: Option<Decimal>,
) -> OrderRequest {
    *n += 1;
    OrderRequest {
        order_id: order_id(*n),
        symbol: "BENCH".into(),
        side,
        order_type: OrderType::Market,
        quantity,
        percent_of_equity: pct,
        limit_price: None,
        stop_price: None,
        time_in_force: TimeInForce::Gtc,
        stop_loss: None,
        take_profit: None,
    }
}

/// sma-cross 10/20 with exact rolling integer sums; returns the engine and the elapsed time.
#[inline(never)]
fn run_sma(closes: &[i64], candles: &[Candle]) -> (Engine, std::time::Duration) {
    let mut engine = match Engine::new(config()) {
        Ok(e) => e,
        Err(e) => panic!("bench config: {e}"),
    };
    engine.reserve_bars(candles.len());
    let mut events = BarEvents::default();
    let mut bar = [None];
    let (mut fast, mut slow) = (0i64, 0i64);
    let mut prev: Option<(i64, i64)> = None;
    let mut n = 0u64;
    // One order buffer for the whole run, drained into the engine on every cross.
    let mut orders = Vec::with_capacity(2);
    let started = Instant::now();
    for (i, (&c, candle)) in closes.iter().zip(candles).enumerate() {
        let t = START + i as i64 * 60;
        bar[0] = Some(*candle);
        engine.settle(t, &bar, &mut events);
        events.clear();
        fast += c;
        slow += c;
        if i >= 10 {
            fast -= closes[i - 10];
        }
        if i >= 20 {
            slow -= closes[i - 20];
        }
        if i + 1 < 20 {
            continue;
        }
        // fast/10 vs slow/20, compared exactly as 2·fast vs slow.
        let now = (2 * fast, slow);
        if let Some((pf, ps)) = prev {
            if pf < ps && now.0 > now.1 {
                let held = engine.position(0);
                if held < Decimal::ZERO {
                    orders.push(order(&mut n, OrderSide::Buy, Some(-held), None));
                }
                orders.push(order(&mut n, OrderSide::Buy, None, Some(Decimal::ONE)));
            } else if pf > ps && now.0 < now.1 {
                let held = engine.position(0);
                if held > Decimal::ZERO {
                    orders.push(order(&mut n, OrderSide::Sell, Some(held), None));
                }
                orders.push(order(&mut n, OrderSide::Sell, None, Some(Decimal::ONE)));
            }
            if !orders.is_empty() {
                engine.submit(t, orders.drain(..), &[], &mut events);
                events.clear();
            }
        }
        prev = Some(now);
    }
    (engine, started.elapsed())
}

/// Settling only: no orders ever, one symbol.
#[inline(never)]
fn run_idle(candles: &[Candle]) -> std::time::Duration {
    let mut engine = match Engine::new(config()) {
        Ok(e) => e,
        Err(e) => panic!("bench config: {e}"),
    };
    engine.reserve_bars(candles.len());
    let mut events = BarEvents::default();
    let started = Instant::now();
    for (i, c) in candles.iter().enumerate() {
        engine.settle(START + i as i64 * 60, &[Some(*c)], &mut events);
    }
    let elapsed = started.elapsed();
    assert_eq!(engine.bars(), candles.len());
    elapsed
}

/// FNV-1a over everything written to it: pins a run's output bit for bit across engine changes.
struct Fingerprint(u64);

impl Write for Fingerprint {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for b in s.bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Ok(())
    }
}

fn report(name: &str, bars: usize, d: std::time::Duration) {
    let s = d.as_secs_f64();
    println!(
        "{name:<28} {bars} bars in {:>8.2} ms: {:>12.0} bars/s, {:>6.1} ns/bar",
        s * 1e3,
        bars as f64 / s,
        s * 1e9 / bars as f64
    );
}

/// Rounds to run (best and median are reported): `ENGINE_BENCH_ROUNDS`, default 7. A profiler
/// run (perf, callgrind) sets it to 1.
fn rounds() -> usize {
    std::env::var("ENGINE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7)
        .max(1)
}

fn main() {
    let gen_start = Instant::now();
    let (closes, candles) = series();
    println!(
        "generated {BARS} one-minute bars in {:.0} ms",
        gen_start.elapsed().as_secs_f64() * 1e3
    );
    // Best of several rounds: the machine may be shared, the minimum is the engine's cost.
    let rounds = rounds();
    let (mut idle, mut sma, mut res, mut full) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..rounds {
        idle.push(run_idle(&candles));
        let (mut engine, elapsed) = run_sma(&closes, &candles);
        // The complete run: the bars and fills above, then end of data and the final results
        // (metrics, trades, open positions, the equity curve as points).
        let t = Instant::now();
        let mut events = BarEvents::default();
        engine.finish(&mut events);
        let results = engine.results();
        let finishing = t.elapsed();
        sma.push(elapsed);
        res.push(finishing);
        full.push(elapsed + finishing);
        last = Some((engine, results));
    }
    let best = |v: &[std::time::Duration]| v.iter().copied().min().unwrap_or_default();
    let median = |v: &mut Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    report("engine, no orders (best)", BARS, best(&idle));
    report("engine, no orders (median)", BARS, median(&mut idle));
    report("engine + sma-cross (best)", BARS, best(&sma));
    report("engine + sma-cross (median)", BARS, median(&mut sma));
    report("complete run (best)", BARS, best(&full));
    report("complete run (median)", BARS, median(&mut full));
    println!(
        "finish() + results() (metrics + trades + curve as points): best {:.1} ms, median {:.1} ms",
        best(&res).as_secs_f64() * 1e3,
        median(&mut res).as_secs_f64() * 1e3
    );
    let Some((engine, results)) = last else {
        return;
    };
    let m = &results.metrics;
    println!(
        "trades {}, final equity {}, return {:.2}%, sharpe {:?}, max dd {:.2}%",
        m.num_trades, m.equity_final, m.return_pct, m.sharpe_ratio, m.max_drawdown_pct
    );
    let mut fp = Fingerprint(0xcbf2_9ce4_8422_2325);
    let _ = write!(fp, "{results:?}");
    println!("results fingerprint {:016x}", fp.0);
    let bytes = engine.equity_curve_bytes();
    println!(
        "equity curve: {} points, {:.1} MiB held ({:.1} bytes/bar)",
        engine.bars(),
        bytes as f64 / (1024.0 * 1024.0),
        bytes as f64 / engine.bars() as f64
    );
}
