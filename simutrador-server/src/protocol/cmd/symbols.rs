//! `list_symbols` → `symbols`, `get_symbol_range` → `symbol_range`.

use serde_json::json;
use shared_models::messages::client::{GetSymbolRange, ListSymbols};
use shared_models::messages::server::SymbolList;
use shared_models::{ErrorCode, ServerMessage, Timeframe};

use super::{Apply, Reply};
use crate::error::{ApiResult, api_error};
use crate::market_data::validator::{normalize_symbol, parse_timeframe};
use crate::protocol::connection::ConnectionContext;

impl Apply for ListSymbols {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let tf = self
            .timeframe
            .as_deref()
            .map(|t| parse_timeframe(Some(t)))
            .transpose()?;
        let symbols = ctx.state.validator.catalog().list(self.asset_class, tf);
        Ok(ServerMessage::Symbols(SymbolList { symbols }).into())
    }
}

impl Apply for GetSymbolRange {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let tf = parse_timeframe(self.timeframe.as_deref())?;
        let symbol = normalize_symbol(&self.symbol);
        let catalog = ctx.state.validator.catalog();
        if let Some(range) = catalog.symbol_range(&symbol, tf) {
            return Ok(ServerMessage::SymbolRange(range).into());
        }
        let shown: String = self.symbol.chars().take(32).collect();
        match catalog.get(&symbol) {
            Some(entry) => {
                let available: Vec<Timeframe> = entry.series.keys().copied().collect();
                Err(api_error(
                    ErrorCode::InvalidTimeframe,
                    format!("{symbol} has no {tf} bars; it has {}", list(&available)),
                    json!({ "symbol": symbol, "timeframe": tf, "available_timeframes": available }),
                ))
            }
            None => Err(api_error(
                ErrorCode::InvalidSymbol,
                format!("unknown symbol '{shown}'; see list_symbols for what this daemon holds"),
                json!({ "invalid_symbols": [shown] }),
            )),
        }
    }
}

fn list(tfs: &[Timeframe]) -> String {
    tfs.iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
