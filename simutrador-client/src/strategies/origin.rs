//! What a run says about its strategy, so the daemon keeps it with the session
//! (`start_simulation`'s `strategy`): [`built_in_ref`] describes a built-in with every
//! parameter (defaults filled in, so a later default change cannot change a rerun), and
//! [`rerun_spec`] turns a stored description back into a spec for `session rerun`.

use serde_json::{Map, Value};
use shared_models::StrategyRef;

use super::{BUILT_INS, StrategySpec};

/// The [`StrategyRef`] of the built-in `spec` names: its name and every parameter as text,
/// the given ones and the defaults of the others. Errors: not a built-in.
pub fn built_in_ref(spec: &StrategySpec) -> Result<StrategyRef, String> {
    let info = BUILT_INS
        .iter()
        .find(|i| i.name == spec.name)
        .ok_or_else(|| format!("'{}' is not a built-in strategy", spec.name))?;
    let mut params = Map::new();
    for p in info.params {
        let value = spec
            .params
            .get(p.key)
            .cloned()
            .unwrap_or_else(|| p.default.to_string());
        params.insert(p.key.to_string(), Value::String(value));
    }
    Ok(StrategyRef {
        name: info.name.to_string(),
        params,
        built_in: true,
        warmup_bars: None,
    })
}

/// The spec that runs `strategy` again. Errors (a sentence for the user): a strategy that is
/// not one of the built-ins (a program's own: it has to be run again by that program).
pub fn rerun_spec(strategy: &StrategyRef) -> Result<StrategySpec, String> {
    let known = BUILT_INS.iter().any(|i| i.name == strategy.name);
    if !strategy.built_in || !known {
        return Err(format!(
            "the session ran '{}', a strategy of the program that started it, not a built-in; only built-in strategies ({}) can be rerun by the CLI, run it again from that program",
            strategy.name,
            BUILT_INS
                .iter()
                .map(|i| i.name)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut spec = StrategySpec::new(strategy.name.clone());
    for (key, value) in &strategy.params {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        spec.params.insert(key.clone(), text);
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_in_is_described_with_every_parameter_and_comes_back_the_same() {
        let spec = StrategySpec::parse("sma-cross", ["fast=5"]).unwrap();
        let r = built_in_ref(&spec).unwrap();
        assert_eq!(r.label(), "sma-cross (fast=5, short=true, slow=20)");
        assert!(r.built_in);
        let back = rerun_spec(&r).unwrap();
        assert_eq!(back.params.get("fast").map(String::as_str), Some("5"));
        assert_eq!(back.params.get("slow").map(String::as_str), Some("20"));
        assert!(super::super::build_strategy(&back).is_ok());
    }

    #[test]
    fn a_programs_own_strategy_cannot_be_rerun_by_name() {
        assert!(built_in_ref(&StrategySpec::new("breakout")).is_err());
        let own = StrategyRef {
            name: "sma-cross".into(),
            params: Map::new(),
            built_in: false,
            warmup_bars: None,
        };
        let err = rerun_spec(&own).unwrap_err();
        assert!(err.contains("not a built-in"), "{err}");
    }
}
