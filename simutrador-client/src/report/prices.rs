//! The closes of a session's bars for the report's price charts. The protocol has no request
//! that returns a session's bars, so [`replay_closes`] forks the session (same symbols,
//! dates and timeframe, on the data the daemon holds now), replays the fork with a strategy
//! that only records each symbol's close, and deletes the fork again, whatever happened. It
//! needs one free session slot and costs one replay (about a second per million bars).

use rust_decimal::prelude::ToPrimitive;

use super::SymbolPrices;
use crate::strategy::{StartContext, Strategy, StrategyContext, TickView};
use crate::{Client, Result, RunOptions};

/// Records every symbol's close at every tick where it has a bar; places no order.
#[derive(Debug, Default)]
pub struct CloseRecorder {
    prices: Vec<SymbolPrices>,
}

impl CloseRecorder {
    /// What was recorded, one entry per symbol of the session.
    pub fn into_prices(self) -> Vec<SymbolPrices> {
        self.prices
    }
}

impl Strategy for CloseRecorder {
    fn on_start(&mut self, ctx: &StartContext<'_>) {
        self.prices = ctx
            .symbols
            .iter()
            .map(|s| SymbolPrices {
                symbol: s.clone(),
                ..SymbolPrices::default()
            })
            .collect();
    }

    fn on_tick(&mut self, tick: &TickView<'_>, _ctx: &mut StrategyContext) {
        for (i, p) in self.prices.iter_mut().enumerate() {
            if let Some(close) = tick.close(i).and_then(|c| c.to_f64()) {
                p.times.push(tick.timestamp());
                p.closes.push(close);
            }
        }
    }
}

/// Every symbol's closes over the bars of `session_id`, read by replaying a fork of it (see
/// the module docs). The fork is deleted before this returns.
pub async fn replay_closes(client: &Client, session_id: &str) -> Result<Vec<SymbolPrices>> {
    let fork = client.fork_session(session_id).await?;
    let mut recorder = CloseRecorder::default();
    let run = client
        .run_simulation(&fork.session_id, &mut recorder, RunOptions::default())
        .await;
    let deleted = client.delete_session(&fork.session_id).await;
    run?;
    deleted?;
    Ok(recorder.into_prices())
}
