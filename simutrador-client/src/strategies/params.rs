//! [`StrategySpec`] (a strategy's name and its `key=value` parameters, as the CLI's `-p` flags
//! and batch files give them) and [`Params`], the checked reader the built-ins parse it with:
//! typed values with defaults, and an error for every key the strategy does not know.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

/// A strategy by name with its parameters as text, e.g. `sma-cross` with `fast=5`.
/// Deserializes from TOML/JSON tables whose values may be strings, numbers or booleans.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategySpec {
    /// The strategy's name (`buy-and-hold`, `sma-cross`, `rsi-reversion`).
    pub name: String,
    /// Parameters by key, as text.
    #[serde(default, deserialize_with = "scalar_map")]
    pub params: BTreeMap<String, String>,
}

impl StrategySpec {
    /// A spec without parameters.
    pub fn new(name: impl Into<String>) -> Self {
        StrategySpec {
            name: name.into(),
            params: BTreeMap::new(),
        }
    }

    /// Add one `key=value` (as the CLI's `-p` gives it); a repeated key is an error.
    pub fn with_assignment(mut self, assignment: &str) -> Result<Self, String> {
        let (key, value) = parse_assignment(assignment)?;
        if self.params.insert(key.clone(), value).is_some() {
            return Err(format!("parameter '{key}' is given twice"));
        }
        Ok(self)
    }

    /// Parse `name` and `key=value` items.
    pub fn parse<'a>(
        name: &str,
        assignments: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, String> {
        assignments
            .into_iter()
            .try_fold(StrategySpec::new(name.trim()), |spec, a| {
                spec.with_assignment(a)
            })
    }
}

/// `key=value` → (key, value), both trimmed; the key must be non-empty.
pub fn parse_assignment(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!(
            "'{text}' is not a parameter; write key=value, e.g. -p fast=10"
        )),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

fn scalar_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = BTreeMap::<String, Scalar>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Scalar::Bool(b) => b.to_string(),
                Scalar::Int(i) => i.to_string(),
                Scalar::Float(f) => f.to_string(),
                Scalar::Text(s) => s,
            };
            (k, text)
        })
        .collect())
}

/// One documented parameter of a built-in strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamInfo {
    /// Key.
    pub key: &'static str,
    /// Default, as text.
    pub default: &'static str,
    /// What it means.
    pub help: &'static str,
}

/// Reads a spec's parameters against a strategy's [`ParamInfo`] table.
#[derive(Debug)]
pub struct Params<'a> {
    strategy: &'a str,
    table: &'static [ParamInfo],
    given: &'a BTreeMap<String, String>,
}

impl<'a> Params<'a> {
    /// Check that every given key is in `table`.
    pub fn new(
        strategy: &'a str,
        table: &'static [ParamInfo],
        given: &'a BTreeMap<String, String>,
    ) -> Result<Self, String> {
        for key in given.keys() {
            if !table.iter().any(|p| p.key == key) {
                let known: Vec<&str> = table.iter().map(|p| p.key).collect();
                return Err(if known.is_empty() {
                    format!("{strategy} takes no parameters (got '{key}')")
                } else {
                    format!(
                        "{strategy} has no parameter '{key}'; its parameters are {}",
                        known.join(", ")
                    )
                });
            }
        }
        Ok(Params {
            strategy,
            table,
            given,
        })
    }

    /// The value of `key` (given, else its default from the table).
    pub fn get<T: FromStr>(&self, key: &str) -> Result<T, String>
    where
        T::Err: Display,
    {
        let default = self.table.iter().find(|p| p.key == key).map(|p| p.default);
        let Some(text) = self.given.get(key).map(String::as_str).or(default) else {
            return Err(format!("{}: no parameter '{key}'", self.strategy));
        };
        text.parse()
            .map_err(|e: T::Err| format!("{}: {key}={text} is not valid ({e})", self.strategy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[ParamInfo] = &[ParamInfo {
        key: "fast",
        default: "10",
        help: "",
    }];

    #[test]
    fn assignments_parse_and_repeat_keys_fail() {
        let spec = StrategySpec::parse("sma-cross", ["fast = 5", "short=false"]).unwrap();
        assert_eq!(spec.params["fast"], "5");
        assert_eq!(spec.params["short"], "false");
        assert!(StrategySpec::parse("x", ["fast=1", "fast=2"]).is_err());
        assert!(StrategySpec::parse("x", ["=1"]).is_err());
        assert!(StrategySpec::parse("x", ["fast"]).is_err());
    }

    #[test]
    fn params_use_defaults_and_refuse_unknown_keys() {
        let empty = BTreeMap::new();
        let p = Params::new("s", TABLE, &empty).unwrap();
        assert_eq!(p.get::<usize>("fast").unwrap(), 10);
        let given = BTreeMap::from([("fast".to_string(), "x".to_string())]);
        let err = Params::new("s", TABLE, &given)
            .unwrap()
            .get::<usize>("fast")
            .unwrap_err();
        assert!(err.contains("fast=x"), "{err}");
        let given = BTreeMap::from([("slow".to_string(), "1".to_string())]);
        let err = Params::new("s", TABLE, &given).unwrap_err();
        assert!(err.contains("'slow'") && err.contains("fast"), "{err}");
    }

    #[test]
    fn specs_read_from_toml_with_any_scalar() {
        let spec: StrategySpec =
            toml::from_str("name = \"sma-cross\"\n[params]\nfast = 5\nshort = false\nx = 1.5\n")
                .unwrap();
        assert_eq!(spec.params["fast"], "5");
        assert_eq!(spec.params["short"], "false");
        assert_eq!(spec.params["x"], "1.5");
    }
}
