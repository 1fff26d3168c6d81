//! Golden runs: long deterministic scenarios with every order type, time in force, brackets,
//! cancels, rejections, gaps, shorts, costs and a mid-run flatten, whose every output (each
//! call's events, the account after each bar, the final results) is pinned by a fingerprint of
//! its `Debug` text (a second fingerprint pins the statistics alone, so a change to a
//! formula shows that the trades did not move). `Debug` shows each `Decimal` with its scale and each `f64` exactly, so a
//! fingerprint match means bit-identical output. Performance work on the engine must keep these
//! fingerprints; a deliberate behaviour change updates them (and says why in the commit).

use std::fmt::Write;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use shared_models::trading::{OrderRequest, OrderSide, OrderType, TimeInForce};

use super::test_util::{T0, spec};
use super::{BarEvents, Candle, Engine, EngineConfig};

/// FNV-1a over everything written to it.
struct Fingerprint(u64);

impl Write for Fingerprint {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for b in s.bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Ok(())
    }
}

use shared_models::test_rng::Rng;

/// Per symbol: price in ticks and the tick's scale.
struct Walk {
    last: i64,
    scale: u32,
}

impl Walk {
    fn candle(&mut self, rng: &mut Rng) -> Candle {
        let open = (self.last + rng.step(30)).max(500);
        let close = (open + rng.step(250)).max(500);
        let high = open.max(close) + rng.below(120) as i64;
        let low = (open.min(close) - rng.below(120) as i64).max(200);
        self.last = close;
        let d = |t: i64| Decimal::new(t, self.scale);
        Candle {
            open: d(open),
            high: d(high),
            low: d(low),
            close: d(close),
            volume: d(1000),
        }
    }
}

/// A random order (sometimes invalid) for one of `symbols`, priced around `close`.
fn order(rng: &mut Rng, n: u64, symbols: &[(&str, Decimal)], close: &[Decimal]) -> OrderRequest {
    let s = rng.below(symbols.len() as u64) as usize;
    let (name, lot) = symbols[s];
    let last = close[s];
    let side = if rng.below(2) == 0 {
        OrderSide::Buy
    } else {
        OrderSide::Sell
    };
    let kind = [
        OrderType::Market,
        OrderType::Market,
        OrderType::Limit,
        OrderType::Stop,
        OrderType::StopLimit,
    ][rng.below(5) as usize];
    let off = |rng: &mut Rng| last * (Decimal::ONE + Decimal::new(rng.step(40), 3));
    let px = off(rng).round_dp(2);
    let px2 = off(rng).round_dp(2);
    let (quantity, percent) = match rng.below(10) {
        0..=4 => (Some(lot * Decimal::from(1 + rng.below(30))), None),
        5..=8 => (None, Some(Decimal::new(1 + rng.below(100) as i64, 2))),
        _ => (Some(lot * dec!(0.5) + Decimal::from(rng.step(2))), None), // often invalid
    };
    let bracket = rng.below(4) == 0;
    let (sl, tp) = match (bracket, side) {
        (false, _) => (None, None),
        (true, OrderSide::Buy) => (Some(last * dec!(0.98)), Some(last * dec!(1.02))),
        (true, OrderSide::Sell) => (Some(last * dec!(1.02)), Some(last * dec!(0.98))),
    };
    let id = match rng.below(40) {
        0 if n > 3 => format!("o{}", n - 3), // a reused id
        1 => String::new(),                  // invalid id
        _ => format!("o{n}"),
    };
    OrderRequest {
        order_id: id.into(),
        symbol: if rng.below(50) == 0 { "ZZZ" } else { name }.into(),
        side,
        order_type: kind,
        quantity,
        percent_of_equity: percent,
        limit_price: matches!(kind, OrderType::Limit | OrderType::StopLimit).then_some(px),
        stop_price: matches!(kind, OrderType::Stop | OrderType::StopLimit).then_some(px2),
        time_in_force: [TimeInForce::Gtc, TimeInForce::Day, TimeInForce::Ioc]
            [rng.below(3) as usize],
        stop_loss: sl,
        take_profit: tp,
    }
}

/// Runs `bars` bars `step` seconds apart (with `gaps`, an extra 2½ steps after every fifth
/// bar) and returns the fingerprint of everything produced.
fn golden(cfg: EngineConfig, seed: u64, bars: usize, step: i64, gaps: bool) -> (u64, u64, String) {
    let symbols: Vec<(&str, Decimal)> = cfg
        .symbols
        .iter()
        .map(|s| (s.symbol.as_str(), s.lot_step))
        .collect();
    let scales = [2u32, 1, 3];
    let mut walks: Vec<Walk> = (0..symbols.len())
        .map(|i| Walk {
            last: 10_000 * (i as i64 + 1),
            scale: scales[i % scales.len()],
        })
        .collect();
    let mut engine = Engine::new(cfg.clone()).unwrap_or_else(|e| panic!("{e}"));
    let mut rng = Rng(seed);
    let mut fp = Fingerprint(0xcbf2_9ce4_8422_2325);
    let mut events = BarEvents::default();
    let mut n = 0u64;
    let mut close = vec![Decimal::ZERO; symbols.len()];
    for i in 0..bars {
        let gap = if gaps {
            (i / 5) as i64 * step * 5 / 2
        } else {
            0
        };
        let t = T0 + i as i64 * step + gap;
        let mut candles: Vec<Option<Candle>> =
            walks.iter_mut().map(|w| Some(w.candle(&mut rng))).collect();
        for (k, c) in candles.iter_mut().enumerate() {
            if k > 0 && rng.below(7) == 0 {
                *c = None; // a gap in a later symbol
            }
        }
        if rng.below(11) == 0 {
            candles.truncate(1); // a missing trailing entry
        }
        for (c, slot) in candles.iter().zip(close.iter_mut()) {
            if let Some(c) = c {
                *slot = c.close;
            }
        }
        engine.settle(t, &candles, &mut events);
        if i == bars / 2 {
            engine.flatten(t, &mut events);
        }
        let _ = write!(fp, "{i} {events:?} {:?} ", engine.account());
        let _ = write!(fp, "{} {} ", engine.equity(), engine.has_working_orders());
        events.clear();
        if close.iter().any(|c| c.is_zero()) {
            continue;
        }
        let mut orders = Vec::new();
        for _ in 0..rng.below(4) {
            n += 1;
            orders.push(order(&mut rng, n, &symbols, &close));
        }
        let mut cancels = Vec::new();
        for _ in 0..rng.below(3) {
            cancels.push(format!("o{}", n.saturating_sub(rng.below(8))));
        }
        if rng.below(5) == 0 {
            cancels.push(format!("o{}:sl", n.saturating_sub(1)));
        }
        engine.submit(t, orders, &cancels, &mut events);
        let _ = write!(fp, "{events:?} ");
        events.clear();
    }
    // A settle in the past is ignored.
    engine.settle(T0, &[None], &mut events);
    engine.finish(&mut events);
    let results = engine.results();
    // The trades and the curve as they were before their bar indices and drawdown columns
    // were reported (so `fp` still pins the execution), and those columns on their own.
    let mut trades = results.trades.clone();
    let mut curve = results.equity_curve.clone();
    let mut columns = Fingerprint(0xcbf2_9ce4_8422_2325);
    for t in &mut trades {
        let _ = write!(columns, "{:?} {:?} ", t.entry_bar.take(), t.exit_bar.take());
    }
    for p in &mut curve {
        let (pct, dur) = (
            std::mem::take(&mut p.drawdown_pct),
            p.drawdown_duration.take(),
        );
        let _ = write!(columns, "{pct:?} {dur:?} ");
    }
    // Without the emptied fields, the text is the `Debug` of the types before they had them.
    let old = |text: String| {
        text.replace(", entry_bar: None, exit_bar: None", "")
            .replace(", drawdown_pct: 0.0, drawdown_duration: None", "")
    };
    let _ = write!(
        fp,
        "{events:?} {} {:?} {}",
        old(format!("{trades:?}")),
        results.open_positions,
        old(format!("{curve:?}"))
    );
    let mut stats = Fingerprint(0xcbf2_9ce4_8422_2325);
    let _ = write!(stats, "{:?} {}", results.metrics, columns.0);
    let summary = format!(
        "bars {} trades {} final {} commissions {} sharpe {:?}",
        results.equity_curve.len(),
        results.metrics.num_trades,
        results.metrics.equity_final,
        results.metrics.commissions,
        results.metrics.sharpe_ratio,
    );
    (fp.0, stats.0, summary)
}

fn costly(short: bool, close_at_end: bool) -> EngineConfig {
    let mut c = EngineConfig::new(
        dec!(100000),
        vec![spec("AAA", dec!(1)), spec("BTC", dec!(0.001))],
    );
    c.commission_rate = dec!(0.0005);
    c.commission_per_share = dec!(0.01);
    c.commission_min = dec!(1);
    c.slippage_bps = dec!(3);
    c.allow_short = short;
    c.short_margin = dec!(0.5);
    c.close_at_end = close_at_end;
    c
}

#[test]
fn golden_two_symbols_with_costs_and_shorts() {
    let (fp, stats, summary) = golden(costly(true, true), 0x5EED_0001, 600, 3_600, false);
    println!("{summary}");
    assert_eq!(
        (fp, stats),
        (18249398013574740103, 13073320459235482233),
        "{summary}"
    );
}

#[test]
fn golden_two_symbols_long_only_left_open() {
    let (fp, stats, summary) = golden(costly(false, false), 0x5EED_0002, 500, 900, false);
    println!("{summary}");
    assert_eq!(
        (fp, stats),
        (7184047885184696480, 18250025384508448798),
        "{summary}"
    );
}

#[test]
fn golden_one_symbol_no_costs_daily() {
    let mut c = EngineConfig::new(dec!(10000), vec![spec("AAA", dec!(1))]);
    c.allow_short = true;
    let (fp, stats, summary) = golden(c, 0x5EED_0003, 400, 86_400, false);
    println!("{summary}");
    assert_eq!(
        (fp, stats),
        (10720412966871598739, 17147043800928373932),
        "{summary}"
    );
}

#[test]
fn golden_irregular_times_and_huge_equity() {
    let mut c = costly(true, true);
    c.initial_capital = dec!(100000000000);
    let (fp, stats, summary) = golden(c, 0x5EED_0004, 300, 60, true);
    println!("{summary}");
    assert_eq!(
        (fp, stats),
        (12636695734365806370, 7554019369910539841),
        "{summary}"
    );
}
