//! A program that uses the SDK as a library user would, with no CLI code compiled in
//! (`simutrador-client = { ..., default-features = false }`): connect to a daemon, create a
//! session, run a custom strategy (a Donchian-style breakout on the session's first symbol,
//! built on the rolling high/low indicators: long when the close breaks above the highest
//! high of the previous `N` bars, flat when it breaks below the lowest low of the previous
//! `N` bars), then read and print the results.
//!
//! ```text
//! simutrador-server serve &                      # the daemon, with its built-in demo data
//! export SIMUTRADOR_API_KEY=$(cat ~/.local/state/simutrador/local.key)
//! cargo run -p simutrador-client --no-default-features --example custom_strategy -- \
//!     [--url ws://127.0.0.1:8003] [--api-key KEY] [--period 20] [--keep] [SYMBOL [START [END]]]
//! ```
//!
//! The URL and key come from the flags, else `SIMUTRADOR_URL` / `SIMUTRADOR_API_KEY` (prefer
//! the variable for the key: a flag is visible to other users in `ps`). It prints every fill,
//! then the results as `key: value` lines (`session`, `bars`, `fills`, `trades`, `return`,
//! `max drawdown`, `final equity`) and the first trades, and deletes the session unless
//! `--keep` is given (then `get_results` can read them again). Exit codes: 0 done, 1 refused
//! by the daemon, 2 bad arguments or no daemon. The e2e test `tests/e2e/sdk_example.rs` builds
//! this program without default features and checks its figures against the daemon's.

use rust_decimal::Decimal;
use simutrador_client::indicators::{RollingMax, RollingMin};
use simutrador_client::shared_models::trading::ExecutionReport;
use simutrador_client::{
    Client, ClientError, RunOptions, SessionRequestBuilder, StartContext, Strategy,
    StrategyContext, TickView,
};
use std::process::ExitCode;

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

/// What the command line asked for.
struct Args {
    url: String,
    api_key: String,
    symbol: String,
    start: String,
    end: String,
    period: usize,
    keep: bool,
}

const USAGE: &str = "usage: custom_strategy [--url URL] [--api-key KEY] [--period N] [--keep] \
                     [SYMBOL [START [END]]]";

impl Args {
    /// Flags, then the environment, then defaults.
    fn parse(mut raw: impl Iterator<Item = String>) -> Result<Args, ClientError> {
        let usage = |what: String| ClientError::Config(format!("{what}\n{USAGE}"));
        let (mut url, mut api_key, mut period, mut keep) = (None, None, 20, false);
        let mut positional = Vec::new();
        while let Some(arg) = raw.next() {
            let mut value = |flag: &str| {
                raw.next()
                    .ok_or_else(|| usage(format!("{flag} needs a value")))
            };
            match arg.as_str() {
                "--url" => url = Some(value("--url")?),
                "--api-key" => api_key = Some(value("--api-key")?),
                "--period" => {
                    let text = value("--period")?;
                    period = text.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        usage(format!("--period {text}: need a whole number ≥ 1"))
                    })?;
                }
                "--keep" => keep = true,
                flag if flag.starts_with("--") => {
                    return Err(usage(format!("unknown flag {flag}")));
                }
                _ => positional.push(arg),
            }
        }
        if positional.len() > 3 {
            return Err(usage(format!("unexpected argument {}", positional[3])));
        }
        let mut positional = positional.into_iter();
        let mut next_or = |default: &str| positional.next().unwrap_or_else(|| default.into());
        Ok(Args {
            url: url
                .or_else(|| std::env::var("SIMUTRADOR_URL").ok())
                .unwrap_or_else(|| simutrador_client::DEFAULT_URL.into()),
            api_key: api_key
                .or_else(|| std::env::var("SIMUTRADOR_API_KEY").ok())
                .ok_or_else(|| {
                    usage(
                        "give --api-key or set SIMUTRADOR_API_KEY (`simutrador-server keys add`)"
                            .into(),
                    )
                })?,
            symbol: next_or("ACME"),
            start: next_or("2020-01-02"),
            end: next_or("2020-12-31"),
            period,
            keep,
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // `args_os`: an argument that is not UTF-8 is replaced, never a panic.
    let raw: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if raw.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let result = match Args::parse(raw.into_iter()) {
        Ok(args) => run(args).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            // A code from the daemon means it refused the request; anything else is ours.
            ExitCode::from(if err.error_code().is_some() { 1 } else { 2 })
        }
    }
}

async fn run(args: Args) -> Result<(), ClientError> {
    let client = Client::connect_with_api_key(&args.url, &args.api_key).await?;
    let me = client.connection_info();
    println!(
        "connected to {} as {} (plan {}, server {})",
        client.url(),
        me.user_id,
        me.plan,
        me.server_version
    );

    let request = SessionRequestBuilder::new([args.symbol.as_str()], &args.start, &args.end)
        .metadata("created_by", "examples/custom_strategy.rs")
        .build();
    let session = client.create_session(request).await?;
    println!("session: {}", session.session_id);

    let mut strategy = Breakout::new(args.period);
    let warmup = u32::try_from(args.period).unwrap_or(u32::MAX);
    let mut reported = false;
    let options = RunOptions::default()
        .warmup_bars(warmup)
        .on_progress(move |p| {
            // The callback may see the last tick more than once; say it once.
            if p.ticks_done == p.total_ticks && !reported {
                reported = true;
                eprintln!(
                    "ran {} bars, equity {}",
                    p.total_ticks,
                    p.equity.round_dp(2)
                );
            }
        });
    let run = client
        .run_simulation(&session.session_id, &mut strategy, options)
        .await;
    // Delete the session even when the run failed, unless asked to keep it.
    if !args.keep {
        client.delete_session(&session.session_id).await?;
    }
    let results = run?;

    let m = &results.metrics;
    println!("bars: {}", results.equity_curve.len());
    println!("fills: {}", strategy.fills);
    println!("trades: {}", m.num_trades);
    println!("return: {:.2} %", m.return_pct);
    println!("max drawdown: {:.2} %", m.max_drawdown_pct);
    println!("final equity: {}", m.equity_final);
    for t in results.trades.iter().take(5) {
        println!(
            "trade: {:?} {} {} {} @ {} -> {} @ {}, P&L {}",
            t.side,
            t.quantity,
            t.symbol,
            t.entry_time.date_naive(),
            t.entry_price,
            t.exit_time.date_naive(),
            t.exit_price,
            t.pnl
        );
    }
    if args.keep {
        println!(
            "kept session {} (get_results reads it again)",
            session.session_id
        );
    } else {
        println!("deleted session {}", session.session_id);
    }
    client.close().await;
    Ok(())
}
