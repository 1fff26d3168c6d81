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
use super::merge::{check_global_sweep, check_param, entry, sweep_table};
use super::registry::StrategyRegistry;

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

pub(crate) fn unknown_keys(
    p: &mut Problems<'_>,
    at: &KeyPath,
    t: &Table,
    allowed: &[&str],
    hint: &str,
) {
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
