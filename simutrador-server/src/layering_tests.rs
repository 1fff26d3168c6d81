//! Keeps the daemon's layering true (see `docs/architecture.md`): `server` → `protocol` →
//! `session` → `simutrador-engine`, with `config`, `auth`, `market_data`, `audit` and `error`
//! as leaves. The test reads the source files and fails with every offending file and line.

use std::path::{Path, PathBuf};

/// What a folder (or file) of `src/` must not mention, and why.
struct Rule {
    under: &'static str,
    forbidden: &'static [&'static str],
    why: &'static str,
}

const UPPER: &[&str] = &["crate::server", "crate::protocol"];
const LAYERS: &[&str] = &[
    "crate::server",
    "crate::protocol",
    "crate::session",
    "crate::cli",
];

const RULES: &[Rule] = &[
    Rule {
        under: "session",
        forbidden: UPPER,
        why: "session is below protocol and server",
    },
    Rule {
        under: "protocol",
        forbidden: &["crate::server"],
        why: "protocol is below server",
    },
    Rule {
        under: "config",
        forbidden: LAYERS,
        why: "config is a leaf",
    },
    Rule {
        under: "auth",
        forbidden: &[
            "crate::server",
            "crate::protocol",
            "crate::session",
            "crate::cli",
            "crate::config",
        ],
        why: "auth is a leaf and takes its own AuthSettings (config imports auth, never the reverse)",
    },
    Rule {
        under: "market_data",
        forbidden: LAYERS,
        why: "market_data is a leaf",
    },
    Rule {
        under: "audit",
        forbidden: LAYERS,
        why: "audit is a leaf",
    },
    Rule {
        under: "error.rs",
        forbidden: LAYERS,
        why: "error is a leaf",
    },
];

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// A grouped import such as `use crate::{protocol, session};` names its modules without the
/// `crate::` prefix: spell them out so the rules see them.
fn expand_groups(line: &str) -> String {
    let Some(start) = line.find("crate::{") else {
        return line.to_string();
    };
    let inner = &line[start + "crate::{".len()..];
    let inner = inner.split('}').next().unwrap_or(inner);
    inner
        .split(',')
        .map(|part| format!("crate::{}", part.trim()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every `file:line: text` of `src` that breaks a rule.
fn violations(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for rule in RULES {
        let mut files = Vec::new();
        rust_files(&src.join(rule.under), &mut files);
        assert!(
            !files.is_empty(),
            "no source files under src/{}",
            rule.under
        );
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for (n, line) in text.lines().enumerate() {
                let expanded = expand_groups(line);
                if let Some(bad) = rule.forbidden.iter().find(|f| expanded.contains(*f)) {
                    let shown = file.strip_prefix(src).unwrap_or(&file).display();
                    found.push(format!(
                        "src/{shown}:{}: mentions `{bad}` ({}): {}",
                        n + 1,
                        rule.why,
                        line.trim()
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn lower_layers_never_import_higher_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "the daemon's layering is broken (see docs/architecture.md):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_catches_direct_and_grouped_imports() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    for rule in RULES {
        let path = src.join(rule.under);
        let file = if rule.under.ends_with(".rs") {
            path
        } else {
            std::fs::create_dir_all(&path).unwrap();
            path.join("ok.rs")
        };
        std::fs::write(file, "//! Fine.\nuse std::sync::Arc;\n").unwrap();
    }
    assert!(violations(src).is_empty());
    std::fs::create_dir_all(src.join("session/run")).unwrap();
    std::fs::write(
        src.join("session/run/bad.rs"),
        "//! Not fine.\nuse crate::{error, server};\nfn f() { crate::protocol::x(); }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("auth/bad.rs"),
        "use crate::config::ServerConfig;\n",
    )
    .unwrap();
    let found = violations(src);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].starts_with("src/session/run/bad.rs:2: mentions `crate::server`"));
    assert!(found[1].starts_with("src/session/run/bad.rs:3: mentions `crate::protocol`"));
    assert!(found[2].starts_with("src/auth/bad.rs:1: mentions `crate::config`"));
}
