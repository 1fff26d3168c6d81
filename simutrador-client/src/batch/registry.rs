//! [`StrategyRegistry`]: the strategies a batch file may name, each with its parameters and a
//! constructor. [`StrategyRegistry::built_ins`] holds `buy-and-hold`, `sma-cross` and
//! `rsi-reversion`; a Rust program adds its own [`Strategy`] types with
//! [`StrategyRegistry::register`].
//!
//! The registry tells two kinds of bad parameters apart: a value of the wrong kind (text where
//! the default is a number, an unknown key) makes the *file* invalid; a combination the
//! constructor refuses (`fast ≥ slow`) only *skips* that run of a sweep.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::strategies::{BUILT_INS, StrategySpec, build_strategy};
use crate::strategy::Strategy;

/// Builds a strategy from its parameters (as text, defaults filled in by the caller or not).
pub type StrategyCtor =
    Arc<dyn Fn(&StrategySpec) -> Result<Box<dyn Strategy>, String> + Send + Sync>;

/// One parameter: its key and default (as text; the default's kind — boolean, integer,
/// number, text — is the kind every value must have).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamDef {
    /// Key.
    pub key: String,
    /// Default, as text.
    pub default: String,
}

struct Registered {
    params: Vec<ParamDef>,
    ctor: StrategyCtor,
}

/// Strategies by name.
#[derive(Clone, Default)]
pub struct StrategyRegistry {
    entries: BTreeMap<String, Arc<Registered>>,
}

impl std::fmt::Debug for StrategyRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries.keys()).finish()
    }
}

impl StrategyRegistry {
    /// No strategies.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The SDK's built-in strategies.
    pub fn built_ins() -> Self {
        let mut r = Self::empty();
        for info in BUILT_INS {
            let params: Vec<(&str, &str)> =
                info.params.iter().map(|p| (p.key, p.default)).collect();
            r.register(info.name, &params, build_strategy);
        }
        r
    }

    /// Add (or replace) a strategy `name` with `params` as `(key, default)` pairs.
    pub fn register<F>(&mut self, name: &str, params: &[(&str, &str)], ctor: F) -> &mut Self
    where
        F: Fn(&StrategySpec) -> Result<Box<dyn Strategy>, String> + Send + Sync + 'static,
    {
        let params = params
            .iter()
            .map(|(k, d)| ParamDef {
                key: k.to_string(),
                default: d.to_string(),
            })
            .collect();
        self.entries.insert(
            name.to_string(),
            Arc::new(Registered {
                params,
                ctor: Arc::new(ctor),
            }),
        );
        self
    }

    /// The names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.entries.keys().map(String::as_str).collect()
    }

    /// True when `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// The parameters of `name`.
    pub fn params(&self, name: &str) -> Option<&[ParamDef]> {
        self.entries.get(name).map(|r| r.params.as_slice())
    }

    /// True when strategy `name` has parameter `key`.
    pub fn has_param(&self, name: &str, key: &str) -> bool {
        self.params(name)
            .is_some_and(|ps| ps.iter().any(|p| p.key == key))
    }

    /// Check one value on its own: the key exists and the value has the default's kind.
    pub fn check_value(&self, name: &str, key: &str, value: &str) -> Result<(), String> {
        let Some(params) = self.params(name) else {
            return Err(self.unknown(name));
        };
        let Some(def) = params.iter().find(|p| p.key == key) else {
            let known: Vec<&str> = params.iter().map(|p| p.key.as_str()).collect();
            return Err(if known.is_empty() {
                format!("{name} takes no parameters")
            } else {
                format!(
                    "{name} has no parameter '{key}'; its parameters are {}",
                    known.join(", ")
                )
            });
        };
        let d = def.default.as_str();
        let kind_ok = if d.parse::<bool>().is_ok() {
            value.parse::<bool>().is_ok()
        } else if d.parse::<f64>().is_ok() {
            value.parse::<f64>().is_ok_and(f64::is_finite)
        } else {
            true
        };
        if !kind_ok {
            return Err(format!(
                "{name}: {key} = {value} is not valid; it takes {} (default {d})",
                if d.parse::<bool>().is_ok() {
                    "true or false"
                } else {
                    "a number"
                }
            ));
        }
        // A constructor that parses its own parameters says `KEY=VALUE is not valid` when the
        // value alone is wrong (the built-ins do): that is a bad file, not a skipped run.
        let probe = StrategySpec::new(name).with_assignment(&format!("{key}={value}"))?;
        match self.build(&probe) {
            Err(e) if e.contains(&format!("{key}={value} is not valid")) => Err(e),
            _ => Ok(()),
        }
    }

    /// Build `spec`'s strategy.
    pub fn build(&self, spec: &StrategySpec) -> Result<Box<dyn Strategy>, String> {
        match self.entries.get(&spec.name) {
            Some(r) => (r.ctor)(spec),
            None => Err(self.unknown(&spec.name)),
        }
    }

    fn unknown(&self, name: &str) -> String {
        format!(
            "unknown strategy '{name}'; known strategies: {}",
            self.names().join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_check_kinds_and_keys() {
        let r = StrategyRegistry::built_ins();
        assert_eq!(r.names(), ["buy-and-hold", "rsi-reversion", "sma-cross"]);
        assert!(r.check_value("sma-cross", "fast", "5").is_ok());
        assert!(r.check_value("sma-cross", "fast", "-5").is_err());
        assert!(r.check_value("sma-cross", "short", "yes").is_err());
        assert!(
            r.check_value("sma-cross", "fats", "5")
                .unwrap_err()
                .contains("fast, slow")
        );
        assert!(r.check_value("rsi-reversion", "lower", "25.5").is_ok());
        assert!(
            r.check_value("nope", "x", "1")
                .unwrap_err()
                .contains("sma-cross")
        );
        let spec = StrategySpec::parse("sma-cross", ["fast=20", "slow=20"]).unwrap();
        assert!(r.build(&spec).is_err());
    }
}
