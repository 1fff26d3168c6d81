//! Merging one simulation: `[defaults]`, its own keys, `[defaults.params]` / its params, and
//! the global and its own sweep, with every value checked where it was written. Rules:
//! docs/batch.md ("The file").

use std::collections::BTreeMap;
use toml::{Table, Value};

use super::config::{EntryConfig, Problems, Sourced, unknown_keys};
use super::locate::KeyPath;
use super::registry::StrategyRegistry;
use super::values::{check_session_value, is_session_key, param_text};

/// A `[sweep]` table: every key a non-empty list (`skip` a list of rules).
pub(crate) fn sweep_table(
    p: &mut Problems<'_>,
    at: &KeyPath,
    v: Option<&Value>,
) -> BTreeMap<String, Vec<Sourced<Value>>> {
    let mut out = BTreeMap::new();
    let Some(v) = v else { return out };
    let Value::Table(t) = v else {
        p.add(
            at,
            format!("expected a table of lists, found {}", v.type_str()),
        );
        return out;
    };
    for (key, value) in t {
        let kp = at.key(key);
        let Value::Array(items) = value else {
            p.add(
                &kp,
                format!(
                    "a sweep key takes a list of values, e.g. {key} = [5, 10], found {}",
                    value.type_str()
                ),
            );
            continue;
        };
        if items.is_empty() {
            p.add(&kp, "the list is empty; give at least one value");
            continue;
        }
        if key == "strategy" {
            p.add(
                &kp,
                "strategies are not swept; write one [[simulation]] per strategy",
            );
            continue;
        }
        let list = items
            .iter()
            .enumerate()
            .map(|(i, v)| Sourced {
                value: v.clone(),
                path: kp.index(i),
            })
            .collect();
        out.insert(key.clone(), list);
    }
    out
}

/// Merge `[defaults]`, one simulation (or none) and the global sweep; check every value.
pub(crate) fn entry(
    p: &mut Problems<'_>,
    registry: &StrategyRegistry,
    defaults: &Table,
    sim: Option<(KeyPath, &Table)>,
    global_sweep: &BTreeMap<String, Vec<Sourced<Value>>>,
) -> EntryConfig {
    let dpath = KeyPath::root().key("defaults");
    let (path, own) = match &sim {
        Some((path, t)) => (path.clone(), (*t).clone()),
        None => (dpath.clone(), Table::new()),
    };
    if sim.is_some() {
        let allowed: Vec<&str> = super::values::SESSION_KEYS
            .iter()
            .copied()
            .chain(["name", "strategy", "params", "sweep"])
            .collect();
        unknown_keys(
            p,
            &path,
            &own,
            &allowed,
            "a [[simulation]] takes name, strategy, [params], [sweep] and create_session keys",
        );
    }
    // Strategy: own, else the default.
    let strategy = match (own.get("strategy"), defaults.get("strategy")) {
        (Some(v), _) => Sourced {
            value: v.clone(),
            path: path.key("strategy"),
        },
        (None, Some(v)) => Sourced {
            value: v.clone(),
            path: dpath.key("strategy"),
        },
        (None, None) => {
            p.add(&path, "no strategy: set `strategy` here or in [defaults]");
            Sourced {
                value: Value::String(String::new()),
                path: path.clone(),
            }
        }
    };
    let strategy = match strategy.value {
        Value::String(s) => {
            let name = s.trim().to_string();
            if !name.is_empty() && !registry.contains(&name) {
                p.add(
                    &strategy.path,
                    format!(
                        "unknown strategy '{name}'; known strategies: {}",
                        registry.names().join(", ")
                    ),
                );
            }
            Sourced {
                value: name,
                path: strategy.path,
            }
        }
        other => {
            p.add(
                &strategy.path,
                format!(
                    "expected a strategy name in quotes, found {}",
                    other.type_str()
                ),
            );
            Sourced {
                value: String::new(),
                path: strategy.path,
            }
        }
    };
    let own_strategy = own.contains_key("strategy");
    let same_as_default = defaults
        .get("strategy")
        .and_then(Value::as_str)
        .is_some_and(|d| d.trim() == strategy.value);
    // Session values: defaults, then own.
    let mut session = BTreeMap::new();
    for (src, t) in [(&dpath, defaults), (&path, &own)] {
        for (key, value) in t.iter().filter(|(k, _)| is_session_key(k)) {
            let kp = src.key(key);
            match check_session_value(key, value) {
                Ok(v) => {
                    session.insert(key.clone(), Sourced { value: v, path: kp });
                }
                Err(e) => p.add(&kp, e),
            }
        }
    }
    // Parameters: the defaults' apply when the strategy is the default one.
    let mut params = BTreeMap::new();
    let mut sources = Vec::new();
    if !own_strategy || same_as_default {
        sources.push((dpath.key("params"), defaults.get("params")));
    }
    sources.push((path.key("params"), own.get("params")));
    for (pp, v) in sources {
        let Some(v) = v else { continue };
        let Value::Table(t) = v else {
            p.add(
                &pp,
                format!("expected a table of parameters, found {}", v.type_str()),
            );
            continue;
        };
        for (key, value) in t {
            let kp = pp.key(key);
            if let Some(text) = check_param(p, registry, &strategy.value, key, value, &kp) {
                params.insert(
                    key.clone(),
                    Sourced {
                        value: text,
                        path: kp,
                    },
                );
            }
        }
    }
    // Sweep: global keys that apply here, then own.
    let own_sweep = sweep_table(p, &path.key("sweep"), own.get("sweep"));
    let mut sweep = BTreeMap::new();
    let mut skip = Vec::new();
    for (layer, is_global) in [(global_sweep, true), (&own_sweep, false)] {
        for (key, values) in layer {
            if key == "skip" {
                for v in values {
                    match &v.value {
                        Value::String(s) => skip.push(Sourced {
                            value: s.clone(),
                            path: v.path.clone(),
                        }),
                        other => p.add(
                            &v.path,
                            format!(
                                "a skip rule is text such as \"fast >= slow\", found {}",
                                other.type_str()
                            ),
                        ),
                    }
                }
                continue;
            }
            let applies = is_session_key(key) || registry.has_param(&strategy.value, key);
            if is_global && !applies {
                continue; // checked once in check_global_sweep
            }
            let mut checked = Vec::new();
            for v in values {
                if is_session_key(key) {
                    match check_session_value(key, &v.value) {
                        Ok(n) => checked.push(Sourced {
                            value: n,
                            path: v.path.clone(),
                        }),
                        Err(e) => p.add(&v.path, e),
                    }
                } else if check_param(p, registry, &strategy.value, key, &v.value, &v.path)
                    .is_some()
                {
                    checked.push(v.clone());
                }
            }
            session.remove(key);
            params.remove(key);
            sweep.insert(key.clone(), checked);
        }
    }
    for key in ["symbols", "start_date", "end_date"] {
        let written = defaults.contains_key(key) || own.contains_key(key);
        if !written && !session.contains_key(key) && !sweep.contains_key(key) {
            p.add(
                &path,
                format!("no {key}: set it here, in [defaults] or in a [sweep]"),
            );
        }
    }
    let name = match own.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(other) => {
            p.add(
                &path.key("name"),
                format!(
                    "expected a non-empty name in quotes, found {}",
                    other.type_str()
                ),
            );
            strategy.value.clone()
        }
        None => match &sim {
            Some((KeyPath(segs), _)) => match segs.last() {
                Some(super::locate::Seg::Index(i)) => format!("{}#{}", strategy.value, i + 1),
                _ => strategy.value.clone(),
            },
            None => strategy.value.clone(),
        },
    };
    EntryConfig {
        name,
        path,
        strategy,
        session,
        params,
        sweep,
        skip,
    }
}

pub(crate) fn check_param(
    p: &mut Problems<'_>,
    registry: &StrategyRegistry,
    strategy: &str,
    key: &str,
    value: &Value,
    at: &KeyPath,
) -> Option<String> {
    let text = match param_text(value) {
        Ok(t) => t,
        Err(e) => {
            p.add(at, e);
            return None;
        }
    };
    if strategy.is_empty() || !registry.contains(strategy) {
        return None; // the strategy itself is already reported
    }
    match registry.check_value(strategy, key, &text) {
        Ok(()) => Some(text),
        Err(e) => {
            p.add(at, e);
            None
        }
    }
}

/// A global sweep key must be a session key or a parameter of at least one entry's strategy.
pub(crate) fn check_global_sweep(
    p: &mut Problems<'_>,
    registry: &StrategyRegistry,
    sweep: &BTreeMap<String, Vec<Sourced<Value>>>,
    entries: &[EntryConfig],
) {
    for (key, values) in sweep {
        if key == "skip" || is_session_key(key) {
            continue;
        }
        if !entries
            .iter()
            .any(|e| registry.has_param(&e.strategy.value, key))
        {
            let at = values.first().map(|v| {
                let mut path = v.path.clone();
                path.0.pop();
                path
            });
            p.add(&at.unwrap_or_default(), format!("'{key}' is neither a create_session key nor a parameter of any strategy in this file"));
        }
    }
}
