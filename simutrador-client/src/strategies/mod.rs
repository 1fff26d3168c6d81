//! The built-in strategies, constructible by name with `key=value` parameters — from the CLI
//! (`session run ID --strategy sma-cross -p fast=5`) and, later, from batch files.
//!
//! | name | parameters |
//! |---|---|
//! | `buy-and-hold` | none |
//! | `sma-cross` | `fast` (10), `slow` (20), `short` (true) |
//! | `rsi-reversion` | `period` (14), `lower` (30), `upper` (70) |
//!
//! Built-ins trade **every symbol** of the session, each with an equal share of the account
//! (`per_symbol`); exact rules in `docs/strategies.md`.

mod buy_and_hold;
#[cfg(test)]
mod harness;
mod origin;
mod params;
mod per_symbol;
mod rsi_reversion;
mod sma_cross;

pub use buy_and_hold::BuyAndHold;
pub use origin::{built_in_ref, rerun_spec};
pub use params::{ParamInfo, Params, StrategySpec, parse_assignment};
pub use rsi_reversion::RsiReversion;
pub use sma_cross::SmaCross;

use crate::strategy::Strategy;

/// A built-in strategy: its name, one line, its parameters.
#[derive(Debug, Clone, Copy)]
pub struct StrategyInfo {
    /// Name to select it by.
    pub name: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Its parameters with defaults.
    pub params: &'static [ParamInfo],
}

/// Every built-in, in documentation order.
pub const BUILT_INS: &[StrategyInfo] = &[buy_and_hold::INFO, sma_cross::INFO, rsi_reversion::INFO];

/// Construct the built-in `spec` names with its parameters. The error says what is wrong and
/// lists the names or parameters that exist.
pub fn build_strategy(spec: &StrategySpec) -> Result<Box<dyn Strategy>, String> {
    let Some(info) = BUILT_INS.iter().find(|i| i.name == spec.name) else {
        return Err(format!(
            "unknown strategy '{}'; built-in strategies: {}",
            spec.name,
            describe_all()
        ));
    };
    let params = Params::new(info.name, info.params, &spec.params)?;
    Ok(match info.name {
        "buy-and-hold" => Box::new(BuyAndHold::default()),
        "sma-cross" => Box::new(SmaCross::from_params(&params)?),
        _ => Box::new(RsiReversion::from_params(&params)?),
    })
}

/// `buy-and-hold, sma-cross (fast=10, slow=20, short=true), …`
pub fn describe_all() -> String {
    BUILT_INS
        .iter()
        .map(|i| {
            if i.params.is_empty() {
                i.name.to_string()
            } else {
                let ps: Vec<String> = i
                    .params
                    .iter()
                    .map(|p| format!("{}={}", p.key, p.default))
                    .collect();
                format!("{} ({})", i.name, ps.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_builds_with_its_defaults() {
        for info in BUILT_INS {
            assert!(
                build_strategy(&StrategySpec::new(info.name)).is_ok(),
                "{}",
                info.name
            );
        }
    }

    #[test]
    fn errors_name_what_exists() {
        let err = build_strategy(&StrategySpec::new("sma")).err().unwrap();
        assert!(
            err.contains("sma-cross (fast=10, slow=20, short=true)"),
            "{err}"
        );
        let spec = StrategySpec::parse("sma-cross", ["fats=3"]).unwrap();
        let err = build_strategy(&spec).err().unwrap();
        assert!(
            err.contains("'fats'") && err.contains("fast, slow, short"),
            "{err}"
        );
        let spec = StrategySpec::parse("buy-and-hold", ["x=1"]).unwrap();
        assert!(
            build_strategy(&spec)
                .err()
                .unwrap()
                .contains("no parameters")
        );
        let spec = StrategySpec::parse("sma-cross", ["fast=20", "slow=20"]).unwrap();
        assert!(build_strategy(&spec).err().unwrap().contains("fast"));
    }
}
