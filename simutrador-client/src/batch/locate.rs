//! Key paths (`simulation[1].params.fast`) and the line each one is on, so every error in a
//! batch file names both. Lines come from `toml`'s spanned parse of the same text.

use std::fmt;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index (0-based).
    Index(usize),
}

/// Where a value is in the file: `sweep.fast[2]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The document root.
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// This path plus a key.
    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.to_string()));
        p
    }

    /// This path plus an index.
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Finds the line of a key path in the source text.
pub struct Locator<'a> {
    text: &'a str,
    root: Option<Spanned<DeTable<'a>>>,
}

impl fmt::Debug for Locator<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Locator")
    }
}

impl<'a> Locator<'a> {
    /// Parse `text` for spans (a syntax error leaves only line 1 to report).
    pub fn new(text: &'a str) -> Self {
        Locator {
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    /// 1-based line of the deepest part of `path` that exists (the key itself where it can).
    pub fn line(&self, path: &KeyPath) -> usize {
        let Some(root) = &self.root else { return 1 };
        let mut span = 0..0;
        let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
        let mut value: Option<&DeValue<'_>> = None;
        for seg in &path.0 {
            let next = match (seg, table, value) {
                (Seg::Key(k), Some(t), _) => {
                    t.iter()
                        .find(|(key, _)| key.get_ref() == k)
                        .map(|(key, v)| {
                            // The key's own span is the best line for "this key is wrong".
                            (key.span(), v)
                        })
                }
                (Seg::Index(i), _, Some(DeValue::Array(a))) => a.get(*i).map(|v| (v.span(), v)),
                _ => None,
            };
            let Some((s, v)) = next else { break };
            if s.end > 0 {
                span = s;
            }
            value = Some(v.get_ref());
            table = v.get_ref().as_table();
        }
        line_at(self.text, span.start)
    }
}

/// 1-based line of a byte offset.
pub fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_and_find_their_lines() {
        let text = "[defaults]\nsymbols = [\"A\"]\n\n[sweep]\nfast = [1, 2,\n 3]\n\n[[simulation]]\nname = \"x\"\n[[simulation]]\nname = \"y\"\n[simulation.params]\nslow = 9\n";
        let loc = Locator::new(text);
        let p = KeyPath::root().key("sweep").key("fast").index(2);
        assert_eq!(p.to_string(), "sweep.fast[2]");
        assert_eq!(loc.line(&p), 6);
        assert_eq!(loc.line(&KeyPath::root().key("defaults").key("symbols")), 2);
        let slow = KeyPath::root()
            .key("simulation")
            .index(1)
            .key("params")
            .key("slow");
        assert_eq!(slow.to_string(), "simulation[1].params.slow");
        assert_eq!(loc.line(&slow), 13);
        assert_eq!(
            loc.line(&KeyPath::root().key("simulation").index(1).key("name")),
            11
        );
        assert_eq!(loc.line(&KeyPath::root().key("nope")), 1);
    }
}
