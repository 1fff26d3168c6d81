//! What a session recorded of the strategy that ran on it (`StrategyRef`, sent in
//! `start_simulation` and kept with the session) and the bounds a daemon holds it to.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest accepted [`StrategyRef::name`], in characters.
pub const MAX_STRATEGY_NAME_CHARS: usize = 100;
/// Largest accepted [`StrategyRef::params`], as compact JSON, in bytes.
pub const MAX_STRATEGY_PARAMS_BYTES: usize = 4096;
/// Longest accepted `client_version`, in characters.
pub const MAX_CLIENT_VERSION_CHARS: usize = 64;

/// The strategy a session ran, as the client that started it described it in
/// `start_simulation`: what `session rerun` runs again, and what history and results show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyRef {
    /// Its name (`sma-cross`, or a name the program chose); at most
    /// [`MAX_STRATEGY_NAME_CHARS`] characters.
    pub name: String,
    /// Its parameters (built-ins: every parameter, defaults included, as the text the CLI's
    /// `-p key=value` takes); at most [`MAX_STRATEGY_PARAMS_BYTES`] as JSON.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Map<String, Value>,
    /// True when it is one of the client's built-in strategies, which `session rerun` can run
    /// again by name; false for a program's own strategy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub built_in: bool,
    /// The run's `warmup_bars` (history before `start_date` the strategy saw first), which
    /// changes what its indicators start from and so its results: `session rerun` asks for
    /// the same. The SDK's runner fills it in when it asks for a warm-up; absent for a run
    /// without one (and for runs of clients before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_bars: Option<u32>,
}

impl StrategyRef {
    /// `sma-cross (fast=5, slow=30)`, or just the name without parameters; a warm-up is
    /// named after them (`sma-cross (fast=5; warmup 40 bars)`).
    pub fn label(&self) -> String {
        let parts: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        let mut text = parts.join(", ");
        if let Some(bars) = self.warmup_bars.filter(|&b| b > 0) {
            let warmup = format!("warmup {bars} bars");
            text = if text.is_empty() {
                warmup
            } else {
                format!("{text}; {warmup}")
            };
        }
        if text.is_empty() {
            return self.name.clone();
        }
        format!("{} ({text})", self.name)
    }

    /// What is wrong with it for a daemon to store, if anything: an empty or too long name,
    /// too large parameters.
    pub fn problem(&self) -> Option<String> {
        let chars = self.name.trim().chars().count();
        if chars == 0 || chars > MAX_STRATEGY_NAME_CHARS {
            return Some(format!(
                "strategy.name must hold 1 to {MAX_STRATEGY_NAME_CHARS} characters"
            ));
        }
        let bytes = serde_json::to_string(&self.params).map_or(usize::MAX, |s| s.len());
        (bytes > MAX_STRATEGY_PARAMS_BYTES).then(|| {
            format!(
                "strategy.params is {bytes} bytes as JSON; at most {MAX_STRATEGY_PARAMS_BYTES} are kept"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_strategy_ref_is_bounded_and_labelled() {
        let mut params = Map::new();
        params.insert("fast".into(), Value::String("5".into()));
        params.insert("short".into(), Value::Bool(true));
        let s = StrategyRef {
            name: "sma-cross".into(),
            params,
            built_in: true,
            warmup_bars: Some(0),
        };
        assert_eq!(s.label(), "sma-cross (fast=5, short=true)");
        assert_eq!(s.problem(), None);
        let warm = StrategyRef {
            warmup_bars: Some(40),
            ..s.clone()
        };
        assert_eq!(
            warm.label(),
            "sma-cross (fast=5, short=true; warmup 40 bars)"
        );
        let bare = StrategyRef {
            params: Map::new(),
            ..warm.clone()
        };
        assert_eq!(bare.label(), "sma-cross (warmup 40 bars)");
        let long = StrategyRef {
            name: "x".repeat(MAX_STRATEGY_NAME_CHARS + 1),
            ..s.clone()
        };
        assert!(long.problem().unwrap().contains("strategy.name"));
        let mut big = s.clone();
        big.params.insert(
            "blob".into(),
            Value::String("y".repeat(MAX_STRATEGY_PARAMS_BYTES)),
        );
        assert!(big.problem().unwrap().contains("strategy.params"));
    }
}
