//! The run set of a batch: for each entry, the cartesian product of its sweep (keys in
//! alphabetical order, the last key changing fastest, values in the order written), minus the
//! combinations a `skip` rule or the strategy itself rejects — those are kept as
//! [`SkippedRun`]s with the reason. Runs are numbered from 1 in this order, which is also the
//! order of every output file.

use shared_models::CreateSessionRequest;
use shared_models::dates::DateBound;
use std::collections::BTreeMap;
use toml::{Table, Value};

use super::config::{BatchConfig, BatchFileError, EntryConfig, Problems, Sourced};
use super::locate::KeyPath;
use super::registry::StrategyRegistry;
use super::values::{display_value, param_text};
use crate::strategies::StrategySpec;

/// Refuse sweeps beyond this many combinations per entry (a typo such as `range` of a
/// million values should not hang the client).
pub const MAX_COMBINATIONS: usize = 1_000_000;

/// One simulation to run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// 1-based position in the run list.
    pub index: usize,
    /// Entry name plus the swept values: `sma-cross fast=5 slow=20`.
    pub name: String,
    /// The entry it came from.
    pub entry: String,
    /// Strategy with every given parameter (fixed and swept).
    pub strategy: StrategySpec,
    /// The `create_session` request.
    pub request: CreateSessionRequest,
    /// The swept keys and their values in this run, as text.
    pub swept: Vec<(String, String)>,
}

/// A combination that is not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRun {
    /// Same naming as [`RunSpec::name`].
    pub name: String,
    /// The entry it came from.
    pub entry: String,
    /// The swept keys and values.
    pub swept: Vec<(String, String)>,
    /// Why: the skip rule or the strategy's refusal.
    pub reason: String,
}

/// Runs and skipped combinations, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expansion {
    /// What will run.
    pub runs: Vec<RunSpec>,
    /// What will not, with reasons.
    pub skipped: Vec<SkippedRun>,
}

/// Expand every entry of `config`.
pub fn expand(
    config: &BatchConfig,
    registry: &StrategyRegistry,
) -> Result<Expansion, BatchFileError> {
    let mut p = Problems::new(&config.text);
    let mut out = Expansion::default();
    for entry in &config.entries {
        expand_entry(&mut p, registry, entry, &mut out);
    }
    check_global_rules(&mut p, config);
    p.finish(&config.file, out)
}

fn expand_entry(
    p: &mut Problems<'_>,
    registry: &StrategyRegistry,
    e: &EntryConfig,
    out: &mut Expansion,
) {
    let keys: Vec<&String> = e.sweep.keys().collect();
    let lists: Vec<&Vec<Sourced<Value>>> = e.sweep.values().collect();
    let total = lists
        .iter()
        .try_fold(1usize, |acc, l| acc.checked_mul(l.len()));
    match total {
        Some(n) if n <= MAX_COMBINATIONS => {}
        _ => {
            p.add(
                &e.path,
                format!("the sweep has more than {MAX_COMBINATIONS} combinations; split it"),
            );
            return;
        }
    }
    if lists.iter().any(|l| l.is_empty()) {
        return; // a list with only bad values, already reported
    }
    let rules = match parse_rules(p, e) {
        Some(r) => r,
        None => return,
    };
    let (mut ran, mut rejected, mut ruled) = (0usize, None::<String>, 0usize);
    let mut pos = vec![0usize; keys.len()];
    loop {
        let mut session: Table = e
            .session
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        let mut params: BTreeMap<String, String> = e
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        let mut swept = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let v = &lists[i][pos[i]].value;
            swept.push(((*key).clone(), display_value(v)));
            if super::values::is_session_key(key) {
                session.insert((*key).clone(), v.clone());
            } else if let Ok(t) = param_text(v) {
                params.insert((*key).clone(), t);
            }
        }
        let name = std::iter::once(e.name.clone())
            .chain(swept.iter().map(|(k, v)| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join(" ");
        let spec = StrategySpec {
            name: e.strategy.value.clone(),
            params: params.clone(),
        };
        let reason = rules
            .iter()
            .find(|r| r.matches(&params, &session))
            .map(|r| {
                ruled += 1;
                format!("skip rule `{}`", r.text)
            })
            .or_else(|| dates_out_of_order(&session))
            .or_else(|| match registry.build(&spec) {
                Ok(_) => None,
                Err(why) => {
                    rejected.get_or_insert_with(|| why.clone());
                    Some(why)
                }
            });
        match reason {
            Some(reason) => out.skipped.push(SkippedRun {
                name,
                entry: e.name.clone(),
                swept,
                reason,
            }),
            None => match Value::Table(session).try_into::<CreateSessionRequest>() {
                Ok(request) => {
                    ran += 1;
                    out.runs.push(RunSpec {
                        index: out.runs.len() + 1,
                        name,
                        entry: e.name.clone(),
                        strategy: spec,
                        request,
                        swept,
                    });
                }
                Err(err) => {
                    p.add(
                        &e.path,
                        format!("cannot build the session request: {}", err.message()),
                    );
                    return;
                }
            },
        }
        // Odometer: the last key changes fastest.
        let mut i = keys.len();
        loop {
            if i == 0 {
                if ran == 0 {
                    let why = rejected
                        .map(|r| format!("no combination can run: {r}"))
                        .unwrap_or_else(|| {
                            format!("no combination can run ({ruled} skipped by skip rules)")
                        });
                    p.add(&e.path, why);
                }
                return;
            }
            i -= 1;
            pos[i] += 1;
            if pos[i] < lists[i].len() {
                break;
            }
            pos[i] = 0;
        }
    }
}

/// A rule of the global `[sweep]` must name keys that at least one simulation has.
fn check_global_rules(p: &mut Problems<'_>, config: &BatchConfig) {
    let Some(first) = config.entries.first() else {
        return;
    };
    let global = |r: &&Sourced<String>| matches!(r.path.0.first(), Some(super::locate::Seg::Key(k)) if k == "sweep");
    for r in first.skip.iter().filter(global) {
        if !OPS.iter().any(|op| r.value.contains(op)) {
            continue; // reported as not a rule
        }
        let usable = config.entries.iter().any(|e| {
            let mut scratch = Problems::new("");
            let mut one = e.clone();
            one.skip = vec![Sourced {
                value: r.value.clone(),
                path: KeyPath::root(),
            }];
            parse_rules(&mut scratch, &one).is_some_and(|rules| !rules.is_empty())
        });
        if !usable {
            p.add(
                &r.path,
                format!(
                    "skip rule '{}' names a key that no simulation has",
                    r.value.trim()
                ),
            );
        }
    }
}

/// `start_date` after `end_date` in a combination (only reachable when dates are swept or
/// set in different places).
fn dates_out_of_order(session: &Table) -> Option<String> {
    let get = |k: &str| {
        session
            .get(k)
            .and_then(Value::as_str)
            .and_then(|s| DateBound::parse(s).ok())
    };
    let (start, end) = (get("start_date")?, get("end_date")?);
    (start.first_second() > end.last_second()).then(|| "start_date is after end_date".to_string())
}

/// `a OP b` where a and b are keys or numbers.
struct Rule {
    text: String,
    left: Operand,
    op: &'static str,
    right: Operand,
}

enum Operand {
    /// `factor * key` (factor 1 for a bare key).
    Key(f64, String),
    Number(f64),
}

const OPS: [&str; 6] = [">=", "<=", "==", "!=", ">", "<"];

fn parse_rules(p: &mut Problems<'_>, e: &EntryConfig) -> Option<Vec<Rule>> {
    let mut rules = Vec::new();
    let mut ok = true;
    for r in &e.skip {
        let text = r.value.trim();
        let parsed = OPS.iter().find_map(|op| {
            let (a, b) = text.split_once(op)?;
            Some((a.trim(), *op, b.trim()))
        });
        let Some((a, op, b)) = parsed else {
            p.add(&r.path, format!("'{text}' is not a skip rule; write KEY OP VALUE with OP one of >= <= == != > <, e.g. \"fast >= slow\""));
            ok = false;
            continue;
        };
        let known = |k: &str| {
            e.sweep.contains_key(k) || e.params.contains_key(k) || e.session.contains_key(k)
        };
        let operand = |s: &str| -> Result<Operand, String> {
            if let Ok(n) = s.parse::<f64>() {
                return Ok(Operand::Number(n));
            }
            let (factor, key) = match s.split_once('*') {
                Some((f, k)) => match f.trim().parse::<f64>() {
                    Ok(f) => (f, k.trim()),
                    Err(_) => return Err(format!("skip rule '{text}': '{s}' is not NUMBER * KEY")),
                },
                None => (1.0, s),
            };
            if known(key) {
                Ok(Operand::Key(factor, key.to_string()))
            } else {
                Err(format!(
                    "skip rule '{text}': '{key}' is neither a number nor a key of this simulation"
                ))
            }
        };
        let global = matches!(r.path.0.first(), Some(super::locate::Seg::Key(k)) if k == "sweep");
        match (operand(a), operand(b)) {
            (Ok(left), Ok(right)) => rules.push(Rule {
                text: text.to_string(),
                left,
                op,
                right,
            }),
            // A global rule applies to the simulations that have its keys.
            (Err(_), _) | (_, Err(_)) if global => {}
            (Err(m), _) | (_, Err(m)) => {
                p.add(&r.path, m);
                ok = false;
            }
        }
    }
    ok.then_some(rules)
}

impl Rule {
    fn matches(&self, params: &BTreeMap<String, String>, session: &Table) -> bool {
        let value = |o: &Operand| -> Option<String> {
            match o {
                Operand::Number(n) => Some(n.to_string()),
                Operand::Key(f, k) => {
                    let v = params
                        .get(k)
                        .cloned()
                        .or_else(|| session.get(k).map(display_value))?;
                    if *f == 1.0 {
                        Some(v)
                    } else {
                        v.parse::<f64>().ok().map(|x| (x * f).to_string())
                    }
                }
            }
        };
        let (Some(a), Some(b)) = (value(&self.left), value(&self.right)) else {
            return false;
        };
        let ord = match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.partial_cmp(&y),
            _ => Some(a.cmp(&b)),
        };
        let Some(ord) = ord else { return false };
        use std::cmp::Ordering::*;
        match self.op {
            ">=" => ord != Less,
            "<=" => ord != Greater,
            "==" => ord == Equal,
            "!=" => ord != Equal,
            ">" => ord == Greater,
            _ => ord == Less,
        }
    }
}
