//! A parameter sweep over a custom strategy with the SDK's `BatchRunner`: a Donchian-style
//! breakout (long when the close breaks the highest high of the previous `period` bars, flat
//! when it breaks the lowest low of the previous `exit` bars), registered under a name so a
//! batch file can sweep its parameters exactly like a built-in's.
//!
//! ```text
//! SIMUTRADOR_API_KEY=sk_... cargo run -p simutrador-client --example batch_sweep
//! ```
//!
//! Prints one line per run, best return first, and writes nothing (see `batch::output` for the
//! summary files the CLI writes).

use rust_decimal::Decimal;
use simutrador_client::batch::{
    BatchConfig, BatchOptions, BatchRunner, CancellationToken, RunStatus, Silent, StrategyRegistry,
    expand,
};
use simutrador_client::indicators::{RollingMax, RollingMin};
use simutrador_client::{Client, Strategy, StrategyContext, StrategySpec, TickView};
use std::path::Path;
use std::sync::Arc;

/// Breakout over the previous `period` highs, exit under the previous `exit` lows.
struct Breakout {
    highs: RollingMax<Decimal>,
    lows: RollingMin<Decimal>,
}

impl Strategy for Breakout {
    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        let Some(bar) = tick.candle(0) else { return };
        let (upper, lower) = (self.highs.value(), self.lows.value());
        self.highs.update(bar.high);
        self.lows.update(bar.low);
        let (Some(upper), Some(lower), Some(symbol)) =
            (upper, lower, ctx.symbols().first().cloned())
        else {
            return;
        };
        let held = ctx.account().quantity(0);
        if bar.close > upper && held.is_zero() {
            ctx.buy_percent(&symbol, Decimal::ONE);
        } else if bar.close < lower && held > Decimal::ZERO {
            ctx.close_position(&symbol);
        }
    }
}

/// Build it from `period` and `exit` (text, as batch files and `-p` give them).
fn breakout(spec: &StrategySpec) -> Result<Box<dyn Strategy>, String> {
    let get = |key: &str, default: usize| -> Result<usize, String> {
        match spec.params.get(key) {
            None => Ok(default),
            Some(text) => text
                .parse()
                .map_err(|_| format!("breakout: {key}={text} is not valid (a whole number)")),
        }
    };
    let (period, exit) = (get("period", 20)?, get("exit", 10)?);
    if period == 0 || exit == 0 || exit > period {
        return Err(format!(
            "breakout: need 1 ≤ exit ≤ period (got period={period}, exit={exit})"
        ));
    }
    Ok(Box::new(Breakout {
        highs: RollingMax::new(period),
        lows: RollingMin::new(exit),
    }))
}

const SWEEP: &str = r#"
[defaults]
symbols = ["GOOG"]
start_date = "2004-08-19"
end_date = "2013-03-01"
initial_capital = 10000
commission_rate = 0.002
strategy = "breakout"

[sweep]
period = [10, 20, 40, 60]
exit = [5, 10, 20, 40]     # exit > period is refused by the strategy: skipped
"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("SIMUTRADOR_URL").unwrap_or_else(|_| "ws://127.0.0.1:8003".into());
    let key = std::env::var("SIMUTRADOR_API_KEY")
        .map_err(|_| "set SIMUTRADOR_API_KEY (see docs/client.md, Credentials)")?;

    let mut registry = StrategyRegistry::built_ins();
    registry.register("breakout", &[("period", "20"), ("exit", "10")], breakout);
    let config = BatchConfig::parse(SWEEP, "sweep", Path::new("."), &registry)?;
    let plan = expand(&config, &registry)?;
    for s in &plan.skipped {
        println!("skipped {}: {}", s.name, s.reason);
    }

    let client = Client::connect_with_api_key(&url, &key).await?;
    let runner = BatchRunner::new(vec![client], registry).options(BatchOptions::default());
    let report = runner
        .run(&plan.runs, Arc::new(Silent), CancellationToken::new())
        .await;

    let mut done: Vec<_> = report
        .records
        .iter()
        .filter_map(|r| Some((r, r.results.as_ref()?)))
        .collect();
    done.sort_by(|a, b| b.1.metrics.return_pct.total_cmp(&a.1.metrics.return_pct));
    for (record, results) in done {
        let m = &results.metrics;
        println!(
            "{:<32} return {:>8.2} %  sharpe {:>5}  trades {:>3}",
            record.spec.name,
            m.return_pct,
            m.sharpe_ratio.map_or("-".into(), |s| format!("{s:.2}")),
            m.num_trades
        );
    }
    for r in &report.records {
        if let RunStatus::Failed { code, message } = &r.status {
            println!("{} failed [{code}]: {message}", r.spec.name);
        }
    }
    println!(
        "{} runs in {:.2} s, {} at a time",
        report.records.len(),
        report.elapsed.as_secs_f64(),
        report.parallel
    );
    Ok(())
}
