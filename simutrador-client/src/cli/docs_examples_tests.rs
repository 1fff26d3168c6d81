//! Every CLI example in the docs parses with the real argument parser: each line of a fenced
//! code block in `README.md` and `docs/*.md` that starts with `simutrador-client ` (or
//! `./target/…/simutrador-client `) goes through [`Cli::try_parse_from`], with its shell
//! comment, pipe or redirection cut off and its placeholders (`ID`, `<SESSION_ID>`, `FILE`,
//! `KEY`, …) replaced by sample values. Synopsis lines (with `[--…]` or `<COMMAND>`) are
//! skipped. A renamed flag or subcommand thus fails here until the docs follow.

use clap::Parser;
use std::path::{Path, PathBuf};

use super::args::Cli;

/// Placeholders and what stands in for them.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("<SESSION_ID>", "5b0e1c8e-2f7d-4d0a-9a57-1f3c2d9e8b11"),
    ("SESSION_ID", "5b0e1c8e-2f7d-4d0a-9a57-1f3c2d9e8b11"),
    ("NEW_ID", "0c4f9a6e-1d2b-4e8f-9a3c-5b6d7e8f9a0b"),
    ("ID", "5b0e1c8e-2f7d-4d0a-9a57-1f3c2d9e8b11"),
    ("FILE", "configs/batch-demo.toml"),
    ("KEY", "stk_example"),
    ("DIR", "out"),
];

/// The command-line examples of one Markdown text: (line number, text).
fn examples(markdown: &str) -> Vec<(usize, String)> {
    let mut in_block = false;
    let mut found = Vec::new();
    for (i, line) in markdown.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        let t = t.strip_prefix("$ ").unwrap_or(t);
        let Some(rest) = command_rest(t) else {
            continue;
        };
        if rest.contains("[--") || rest.contains("<COMMAND>") {
            continue; // a synopsis, not an example
        }
        found.push((i + 1, rest.to_string()));
    }
    found
}

/// What follows the program name, when `line` runs `simutrador-client`.
fn command_rest(line: &str) -> Option<&str> {
    let (program, rest) = line.split_once(' ')?;
    let name = Path::new(program).file_name()?.to_str()?;
    // `simutrador-client = {…}` (Cargo.toml) and `simutrador-client (CLI)` (a diagram) are
    // not command lines.
    let first = rest.trim_start().chars().next()?;
    (name == "simutrador-client" && (first.is_alphanumeric() || first == '-')).then_some(rest)
}

/// Shell words of `text` up to a comment, pipe or redirection; quotes group words.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '#' | '|' | '>' | '&') if !in_word => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
        .into_iter()
        .map(|w| {
            PLACEHOLDERS
                .iter()
                .find(|(p, _)| *p == w)
                .map_or(w, |(_, v)| (*v).to_string())
        })
        .collect()
}

fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

#[test]
fn every_cli_example_in_the_docs_parses() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, example) in examples(&text) {
            let mut argv = vec!["simutrador-client".to_string()];
            argv.extend(words(&example));
            checked += 1;
            if let Err(e) = Cli::try_parse_from(&argv) {
                let first = e.render().to_string();
                let first = first.lines().next().unwrap_or_default().to_string();
                failures.push(format!("{}:{line}: {example}\n    {first}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "examples that do not parse:\n{}",
        failures.join("\n")
    );
    assert!(
        checked >= 25,
        "only {checked} examples found: is the scan broken?"
    );
}

#[test]
fn the_scan_cuts_comments_and_substitutes_placeholders() {
    let md = "text\n```sh\n./target/release/simutrador-client session status <SESSION_ID>   # one\n\
              simutrador-client [--url URL] <COMMAND>\nsimutrador-client = { path = \"x\" }\n\
              simutrador-client (CLI)   SDK\n\
              $ simutrador-client session list --state 'paused' | head -1\n```\nsimutrador-client health\n";
    let found = examples(md);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, 3);
    assert_eq!(found[1].0, 7);
    assert_eq!(
        words(&found[0].1),
        ["session", "status", "5b0e1c8e-2f7d-4d0a-9a57-1f3c2d9e8b11"]
    );
    assert_eq!(words(&found[1].1), ["session", "list", "--state", "paused"]);
    // A mistyped example is caught.
    let argv = ["simutrador-client", "session", "list", "--stat", "paused"];
    assert!(Cli::try_parse_from(argv).is_err());
}
