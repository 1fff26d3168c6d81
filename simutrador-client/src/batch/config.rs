//! Reading a batch file: the TOML text → a checked [`BatchConfig`] (one [`EntryConfig`] per
//! `[[simulation]]`, or one from `[defaults]` alone, plus [`OutputConfig`]).
//!
//! Every problem is collected — unknown keys, wrong types, bad dates, symbols, strategy names
//! and parameter values — each with its key path and line ([`Problem`]), so one pass shows
//! all of them and nothing runs until the file is clean. The format is in docs/batch.md.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

use super::locate::{KeyPath, Locator, line_at};
use super::registry::StrategyRegistry;
use super::values::{check_session_value, is_session_key, param_text};

/// One thing wrong with a batch file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// Key path, e.g. `simulation[1].params.fast`.
    pub path: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// A batch file that cannot run; lists every [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BatchFileError {
    /// The file, as given.
    pub file: String,
    /// Problems in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for BatchFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{}: {n} problem{} in the batch file",
            self.file,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {}:{}: {}: {}", self.file, p.line, p.path, p.message)?;
        }
        Ok(())
    }
}

/// Collects problems with their lines.
pub(crate) struct Problems<'a> {
    loc: Locator<'a>,
    list: Vec<Problem>,
}

impl<'a> Problems<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Problems {
            loc: Locator::new(text),
            list: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, path: &KeyPath, message: impl Into<String>) {
        let p = Problem {
            line: self.loc.line(path),
            path: path.to_string(),
            message: message.into(),
        };
        if !self.list.contains(&p) {
            self.list.push(p);
        }
    }

    pub(crate) fn finish<T>(mut self, file: &str, ok: T) -> Result<T, BatchFileError> {
        if self.list.is_empty() {
            return Ok(ok);
        }
        self.list
            .sort_by(|a, b| (a.line, &a.path).cmp(&(b.line, &b.path)));
        Err(BatchFileError {
            file: file.to_string(),
            problems: self.list,
        })
    }
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Its key path.
    pub path: KeyPath,
}

/// One `[[simulation]]` (or the implicit one of a file without any), merged with
/// `[defaults]` and the global `[sweep]`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryConfig {
    /// `name`, else the strategy's name.
    pub name: String,
    /// `simulation[i]` or `defaults`.
    pub path: KeyPath,
    /// Strategy name (checked against the registry).
    pub strategy: Sourced<String>,
    /// Fixed `create_session` values, normalized.
    pub session: BTreeMap<String, Sourced<Value>>,
    /// Fixed strategy parameters, as text.
    pub params: BTreeMap<String, Sourced<String>>,
    /// Swept keys (session keys or parameters) with their values, in key order.
    pub sweep: BTreeMap<String, Vec<Sourced<Value>>>,
    /// `skip` rules such as `fast >= slow`.
    pub skip: Vec<Sourced<String>>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// Write `.csv` files.
    pub csv: bool,
    /// Write `.json` files.
    pub json: bool,
}

/// `[output]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputConfig {
    /// Where files go (resolved against the batch file's folder); `None` = write nothing
    /// unless `--out` is given.
    pub dir: Option<PathBuf>,
    /// Formats (default csv and json).
    pub formats: Formats,
    /// Write `summary.*` (default true).
    pub summary: bool,
    /// Write `trades/NNNN.*` per run (default false).
    pub trades: bool,
    /// Write `equity/NNNN.*` per run (default false).
    pub equity: bool,
}

/// A checked batch file.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchConfig {
    /// The file as given (for messages).
    pub file: String,
    /// The simulations.
    pub entries: Vec<EntryConfig>,
    /// `[output]`.
    pub output: OutputConfig,
    /// The source text (for lines of problems found while expanding).
    pub(crate) text: String,
}

const TOP_KEYS: &[&str] = &["defaults", "simulation", "sweep", "output"];
const OUTPUT_KEYS: &[&str] = &["dir", "formats", "summary", "trades", "equity"];

impl BatchConfig {
    /// Read and check the file at `path`.
    pub fn load(path: &Path, registry: &StrategyRegistry) -> Result<Self, BatchFileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| BatchFileError {
            file: file.clone(),
            problems: vec![Problem {
                line: 0,
                path: "(file)".into(),
                message: format!("cannot read the file: {e}"),
            }],
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, &file, base, registry)
    }

    /// Check `text`; `file` names it in messages, `base` resolves a relative `[output] dir`.
    pub fn parse(
        text: &str,
        file: &str,
        base: &Path,
        registry: &StrategyRegistry,
    ) -> Result<Self, BatchFileError> {
        let root: Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                let line = e.span().map_or(1, |s| line_at(text, s.start));
                return Err(BatchFileError {
                    file: file.to_string(),
                    problems: vec![Problem {
                        line,
                        path: "(syntax)".into(),
                        message: e.message().trim().to_string(),
                    }],
                });
            }
        };
        let mut p = Problems::new(text);
        let top = KeyPath::root();
        unknown_keys(
            &mut p,
            &top,
            &root,
            TOP_KEYS,
            "the sections are [defaults], [[simulation]], [sweep] and [output]",
        );
        let defaults = table_at(&mut p, &top, &root, "defaults").unwrap_or_default();
        let dpath = top.key("defaults");
        let allowed: Vec<&str> = super::values::SESSION_KEYS
            .iter()
            .copied()
            .chain(["strategy", "params"])
            .collect();
        unknown_keys(
            &mut p,
            &dpath,
            &defaults,
            &allowed,
            "[defaults] takes create_session keys, strategy and [defaults.params]",
        );
        // [defaults.params] are checked against the default strategy even when no simulation
        // inherits them.
        if let (Some(Value::String(name)), Some(Value::Table(params))) =
            (defaults.get("strategy"), defaults.get("params"))
        {
            for (key, value) in params {
                check_param(
                    &mut p,
                    registry,
                    name.trim(),
                    key,
                    value,
                    &dpath.key("params").key(key),
                );
            }
        }
        let global_sweep = sweep_table(&mut p, &top.key("sweep"), root.get("sweep"));
        if let Some(Value::String(name)) = defaults.get("strategy") {
            for (key, values) in global_sweep
                .iter()
                .filter(|(k, _)| registry.has_param(name.trim(), k))
            {
                for v in values {
                    check_param(&mut p, registry, name.trim(), key, &v.value, &v.path);
                }
            }
        }
        let sims = match root.get("simulation") {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(other) => {
                p.add(
                    &top.key("simulation"),
                    format!("expected [[simulation]] tables, found {}", other.type_str()),
                );
                Vec::new()
            }
        };
        let mut entries = Vec::new();
        if sims.is_empty() {
            entries.push(entry(&mut p, registry, &defaults, None, &global_sweep));
        }
        let mut names = BTreeSet::new();
        for (i, sim) in sims.iter().enumerate() {
            let spath = top.key("simulation").index(i);
            let Value::Table(sim) = sim else {
                p.add(&spath, "expected a table");
                continue;
            };
            let e = entry(
                &mut p,
                registry,
                &defaults,
                Some((spath.clone(), sim)),
                &global_sweep,
            );
            if !names.insert(e.name.clone()) {
                p.add(
                    &spath.key("name"),
                    format!("the name '{}' is used twice; names must be unique", e.name),
                );
            }
            entries.push(e);
        }
        check_global_sweep(&mut p, registry, &global_sweep, &entries);
        let output = output(&mut p, &top.key("output"), root.get("output"), base);
        p.finish(
            file,
            BatchConfig {
                file: file.to_string(),
                entries,
                output,
                text: text.to_string(),
            },
        )
    }
}

fn unknown_keys(p: &mut Problems<'_>, at: &KeyPath, t: &Table, allowed: &[&str], hint: &str) {
    for key in t.keys() {
        if !allowed.contains(&key.as_str()) {
            p.add(&at.key(key), format!("unknown key '{key}'; {hint}"));
        }
    }
}

fn table_at(p: &mut Problems<'_>, at: &KeyPath, t: &Table, key: &str) -> Option<Table> {
    match t.get(key)? {
        Value::Table(t) => Some(t.clone()),
        other => {
            p.add(
                &at.key(key),
                format!("expected a table, found {}", other.type_str()),
            );
            None
        }
    }
}

/// A `[sweep]` table: every key a non-empty list (`skip` a list of rules).
fn sweep_table(
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
fn entry(
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

fn check_param(
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
fn check_global_sweep(
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

fn output(p: &mut Problems<'_>, at: &KeyPath, v: Option<&Value>, base: &Path) -> OutputConfig {
    let mut out = OutputConfig {
        dir: None,
        formats: Formats {
            csv: true,
            json: true,
        },
        summary: true,
        trades: false,
        equity: false,
    };
    let Some(v) = v else { return out };
    let Value::Table(t) = v else {
        p.add(at, format!("expected a table, found {}", v.type_str()));
        return out;
    };
    unknown_keys(
        p,
        at,
        t,
        OUTPUT_KEYS,
        "[output] takes dir, formats, summary, trades and equity",
    );
    match t.get("dir") {
        Some(Value::String(s)) if !s.trim().is_empty() => out.dir = Some(base.join(s.trim())),
        Some(other) => p.add(
            &at.key("dir"),
            format!(
                "expected a folder name in quotes, found {}",
                other.type_str()
            ),
        ),
        None => {}
    }
    if let Some(f) = t.get("formats") {
        let fp = at.key("formats");
        match f {
            Value::Array(items) if !items.is_empty() => {
                out.formats = Formats {
                    csv: false,
                    json: false,
                };
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some("csv") => out.formats.csv = true,
                        Some("json") => out.formats.json = true,
                        _ => p.add(
                            &fp.index(i),
                            format!("unknown format {item}; formats are \"csv\" and \"json\""),
                        ),
                    }
                }
            }
            _ => p.add(&fp, "expected a list such as [\"csv\", \"json\"]"),
        }
    }
    for (key, slot) in [
        ("summary", &mut out.summary),
        ("trades", &mut out.trades),
        ("equity", &mut out.equity),
    ] {
        match t.get(key) {
            Some(Value::Boolean(b)) => *slot = *b,
            Some(other) => p.add(
                &at.key(key),
                format!("expected true or false, found {}", other.type_str()),
            ),
            None => {}
        }
    }
    out
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
