//! The SDK side of the differential suite's order cases (`tests/fidelity/test_orders.py`): a
//! strategy built on the `simutrador-client` SDK as a library that plays a seeded order plan
//! on an existing session, bar by bar, and prints every fill it was told of as JSON.
//!
//! ```text
//! SIMUTRADOR_API_KEY=KEY fidelity_orders --url ws://127.0.0.1:PORT --session ID --plan PLAN.json
//! ```
//!
//! The plan (written by `tests/fidelity/orders_plan.py`) is
//! `{"bars": {"<tick>": {"time": UNIX_SECONDS, "cancel": [ID…], "close": BOOL,
//! "orders": [OrderRequest…]}}}`: at the tick of that 0-based position (which must carry that
//! time), the strategy queues the cancels, then (with `close`) a market order flattening the
//! position as known after the bar's fills, then the orders exactly as given (the protocol's
//! `OrderRequest`, deserialized with serde). It prints one JSON document:
//! `{"ticks": N, "played": K, "fills": [{"order_id", "side", "quantity", "price", "time"}…]}`.
//! Exit codes: 0 done; 1 the daemon refused or the run failed; 2 bad arguments, an unreadable
//! plan, or a plan that does not fit the session (a tick missing or at another time).

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use simutrador_client::shared_models::trading::{ExecutionReport, OrderRequest, OrderSide};
use simutrador_client::{Client, RunOptions, Strategy, StrategyContext, TickView};
use std::collections::BTreeMap;
use std::process::ExitCode;

/// What the plan does at one tick.
#[derive(Debug, Deserialize)]
struct Step {
    /// The tick's bar time (Unix seconds), checked against the session's.
    time: i64,
    #[serde(default)]
    cancel: Vec<String>,
    #[serde(default)]
    close: bool,
    #[serde(default)]
    orders: Vec<OrderRequest>,
}

/// The whole plan: tick position -> step.
#[derive(Debug, Deserialize)]
struct Plan {
    bars: BTreeMap<u64, Step>,
}

/// Plays the plan; records fills and any tick whose time does not match.
struct Player {
    plan: Plan,
    played: usize,
    ticks: u64,
    fills: Vec<serde_json::Value>,
    mismatch: Option<String>,
}

impl Strategy for Player {
    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        self.ticks += 1;
        let Some(step) = self.plan.bars.get(&tick.sequence_id()) else {
            return;
        };
        if step.time != tick.timestamp() {
            self.mismatch.get_or_insert_with(|| {
                format!(
                    "tick {} is at {}, the plan says {}",
                    tick.sequence_id(),
                    tick.timestamp(),
                    step.time
                )
            });
            return;
        }
        self.played += 1;
        for id in &step.cancel {
            ctx.cancel(id);
        }
        if step.close
            && let Some(symbol) = ctx.symbols().first().cloned()
        {
            ctx.close_position(&symbol);
        }
        for order in &step.orders {
            ctx.submit(order.clone());
        }
    }

    fn on_fill(&mut self, fill: &ExecutionReport, _ctx: &mut StrategyContext) {
        self.fills.push(serde_json::json!({
            "order_id": fill.order_id.as_str(),
            "side": if fill.side == OrderSide::Buy { "buy" } else { "sell" },
            "quantity": fill.quantity.to_string(),
            "price": fill.price.to_string(),
            "time": fill.sim_time.timestamp(),
        }));
    }
}

struct Args {
    url: String,
    session: String,
    plan: String,
}

fn parse_args() -> Result<Args> {
    let mut raw = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    let (mut url, mut session, mut plan) = (None, None, None);
    while let Some(flag) = raw.next() {
        let slot = match flag.as_str() {
            "--url" => &mut url,
            "--session" => &mut session,
            "--plan" => &mut plan,
            other => bail!("unknown argument {other}"),
        };
        *slot = Some(
            raw.next()
                .with_context(|| format!("{flag} needs a value"))?,
        );
    }
    let usage = "usage: fidelity_orders --url URL --session ID --plan FILE";
    Ok(Args {
        url: url.context(usage)?,
        session: session.context(usage)?,
        plan: plan.context(usage)?,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let (args, plan, key) = match setup() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("fidelity_orders: {e:#}");
            return ExitCode::from(2);
        }
    };
    let mut player = Player {
        plan,
        played: 0,
        ticks: 0,
        fills: Vec::new(),
        mismatch: None,
    };
    if let Err(e) = run(&args, &key, &mut player).await {
        eprintln!("fidelity_orders: {e:#}");
        return ExitCode::from(1);
    }
    if let Some(m) = &player.mismatch {
        eprintln!("fidelity_orders: the plan does not fit the session: {m}");
        return ExitCode::from(2);
    }
    if player.played != player.plan.bars.len() {
        eprintln!(
            "fidelity_orders: played {} of the plan's {} steps in {} ticks",
            player.played,
            player.plan.bars.len(),
            player.ticks
        );
        return ExitCode::from(2);
    }
    let out = serde_json::json!({
        "ticks": player.ticks,
        "played": player.played,
        "fills": player.fills,
    });
    println!("{out}");
    ExitCode::SUCCESS
}

fn setup() -> Result<(Args, Plan, String)> {
    let args = parse_args()?;
    let text = std::fs::read_to_string(&args.plan)
        .with_context(|| format!("cannot read the plan {}", args.plan))?;
    let plan: Plan =
        serde_json::from_str(&text).with_context(|| format!("bad plan {}", args.plan))?;
    let key = std::env::var("SIMUTRADOR_API_KEY").context("set SIMUTRADOR_API_KEY")?;
    Ok((args, plan, key))
}

async fn run(args: &Args, key: &str, player: &mut Player) -> Result<()> {
    let client = Client::connect_with_api_key(&args.url, key).await?;
    let options = RunOptions::default().summary_results(true);
    let run = client.run_simulation(&args.session, player, options).await;
    client.close().await;
    run?;
    Ok(())
}
