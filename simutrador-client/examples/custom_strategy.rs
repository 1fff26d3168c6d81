//! A custom strategy through the SDK: a Donchian-style breakout on the session's first symbol
//! using the rolling high/low indicators. Long when the close breaks above the highest high of
//! the previous `N` bars, flat when it breaks below the lowest low of the previous `N` bars.
//!
//! ```text
//! SIMUTRADOR_API_KEY=sk_... cargo run -p simutrador-client --example custom_strategy -- ACME 2020-01-02 2020-12-31
//! ```
//!
//! It creates a session, runs the strategy with a progress line, prints a few metrics and
//! deletes the session.

use rust_decimal::Decimal;
use simutrador_client::indicators::{RollingMax, RollingMin};
use simutrador_client::shared_models::trading::ExecutionReport;
use simutrador_client::{
    Client, RunOptions, SessionRequestBuilder, StartContext, Strategy, StrategyContext, TickView,
};

/// Breakout over the previous `period` bars.
struct Breakout {
    highs: RollingMax<Decimal>,
    lows: RollingMin<Decimal>,
    fills: usize,
}

impl Breakout {
    fn new(period: usize) -> Self {
        Breakout {
            highs: RollingMax::new(period),
            lows: RollingMin::new(period),
            fills: 0,
        }
    }
}

impl Strategy for Breakout {
    fn on_start(&mut self, ctx: &StartContext<'_>) {
        // Prime the channel with the warm-up bars, if any were asked for.
        for bar in ctx.history.iter(0) {
            self.highs.update(bar.candle.high);
            self.lows.update(bar.candle.low);
        }
    }

    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        let Some(bar) = tick.candle(0) else { return };
        // The channel of the *previous* bars, then add this bar for the next tick.
        let (upper, lower) = (self.highs.value(), self.lows.value());
        self.highs.update(bar.high);
        self.lows.update(bar.low);
        let (Some(upper), Some(lower)) = (upper, lower) else {
            return;
        };
        let Some(symbol) = ctx.symbols().first().cloned() else {
            return;
        };
        let held = ctx.account().quantity(0);
        if bar.close > upper && held.is_zero() {
            ctx.buy_percent(&symbol, Decimal::ONE);
        } else if bar.close < lower && held > Decimal::ZERO {
            ctx.close_position(&symbol);
        }
    }

    fn on_fill(&mut self, fill: &ExecutionReport, _ctx: &mut StrategyContext) {
        self.fills += 1;
        println!(
            "{} {:?} {} {} @ {}",
            fill.sim_time.date_naive(),
            fill.side,
            fill.quantity,
            fill.symbol,
            fill.price
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let symbol = args.first().map_or("ACME", String::as_str);
    let start = args.get(1).map_or("2020-01-02", String::as_str);
    let end = args.get(2).map_or("2020-12-31", String::as_str);
    let url = std::env::var("SIMUTRADOR_URL").unwrap_or_else(|_| "ws://127.0.0.1:8003".into());
    let key = std::env::var("SIMUTRADOR_API_KEY")
        .map_err(|_| "set SIMUTRADOR_API_KEY (see docs/client.md, Credentials)")?;

    let client = Client::connect_with_api_key(&url, &key).await?;
    let request = SessionRequestBuilder::new([symbol], start, end).build();
    let session = client.create_session(request).await?;

    let mut strategy = Breakout::new(20);
    let options = RunOptions::default().warmup_bars(20).on_progress(|p| {
        if p.ticks_done == p.total_ticks {
            println!("{} bars, equity {}", p.total_ticks, p.equity.round_dp(2));
        }
    });
    let run = client
        .run_simulation(&session.session_id, &mut strategy, options)
        .await;
    client.delete_session(&session.session_id).await?;
    let results = run?;

    let m = &results.metrics;
    println!(
        "fills {}, trades {}, return {:.2} %, max drawdown {:.2} %, final equity {}",
        strategy.fills, m.num_trades, m.return_pct, m.max_drawdown_pct, m.equity_final
    );
    Ok(())
}
