//! The flags of `data symbols` and `data range SYMBOL`: browsing the daemon's market data.

use clap::Subcommand;
use shared_models::{AssetClass, Timeframe};
use std::str::FromStr;

use super::args::parse_timeframe;

/// `data …`.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// List the symbols the daemon has bars for.
    Symbols {
        /// Only this asset class: equity, forex or crypto.
        #[arg(long, value_name = "CLASS", value_parser = AssetClass::from_str)]
        asset_class: Option<AssetClass>,
        /// Only symbols with bars at this timeframe.
        #[arg(long, value_name = "TF", value_parser = parse_timeframe)]
        timeframe: Option<Timeframe>,
    },
    /// Show the first and last bar of a symbol.
    Range {
        /// The symbol.
        symbol: String,
        /// Bar size [server default: 1d].
        #[arg(long, value_name = "TF", value_parser = parse_timeframe)]
        timeframe: Option<Timeframe>,
    },
}
