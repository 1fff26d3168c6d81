//! `data symbols | range`: what market data the daemon has.

use shared_models::messages::client::ListSymbols;

use super::Context;
use super::args::DataCommand;
use super::render::{self, stamp};

/// Run a `data` command.
pub async fn run(cmd: DataCommand, ctx: &Context) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    match cmd {
        DataCommand::Symbols {
            asset_class,
            timeframe,
        } => {
            let filter = ListSymbols {
                asset_class,
                timeframe: timeframe.map(|t| t.to_string()),
            };
            let list = client.list_symbols(filter).await?;
            ctx.out.emit(&list, || render::symbol_list(&list))
        }
        DataCommand::Range { symbol, timeframe } => {
            let range = client.symbol_range(symbol.trim(), timeframe).await?;
            ctx.out.emit(&range, || {
                let daily = range.timeframe.is_daily_or_longer();
                let synthetic = if range.synthetic {
                    " — synthetic demo data"
                } else {
                    ""
                };
                format!(
                    "{} ({}{synthetic}) at {}: {} → {}, {} bars",
                    range.symbol,
                    range.asset_class,
                    range.timeframe,
                    stamp(range.first, daily),
                    stamp(range.last, daily),
                    range.bars
                )
            })
        }
    }
}
