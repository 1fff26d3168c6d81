//! Fuzz target of journal recovery (proptest): arbitrary bytes, and valid journals written by
//! the store then mutated (bytes flipped, cut, lines swapped or repeated), loaded through
//! [`FileStore::load`] and [`SessionStore::load_run`]. Recovery never panics, and it is
//! idempotent: a second load reads the same sessions and leaves every file as the first left
//! it. Runs with a bounded number of cases in `cargo test`; `bench/fuzz/run.sh` runs it longer
//! (`PROPTEST_CASES`).

use proptest::prelude::*;
use std::sync::Arc;

use super::*;
use crate::session::SessionManager;
use crate::session::hooks::Hooks;
use crate::session::manager::ManagerLimits;
use crate::session::test_support::params;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

/// A lifecycle and a run journal as the daemon writes them.
fn valid_journals() -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(FileStore::open(dir.path()).expect("store"));
    let limits = ManagerLimits {
        max_sessions_per_user: 10,
        idle_timeout: std::time::Duration::from_secs(3600),
        retention: std::time::Duration::from_secs(3600),
        max_active_per_user: 5,
    };
    let hooks = Hooks {
        journal: store.clone(),
        ..Hooks::default()
    };
    let m = SessionManager::with_hooks(limits, hooks);
    let s = m.create("alice", params(), 10).expect("create");
    m.transition(&s, SessionState::Running, None).expect("run");
    m.transition(&s, SessionState::Paused, None).expect("pause");
    let mut log = store.run_log(&s.id, true).expect("run log");
    log.append(&RunRecord::Started {
        window: 4,
        account_updates: Default::default(),
        encoding: Default::default(),
        warmup_bars: 0,
        indicator_warmup_bars: 0,
        events: Default::default(),
        compact_times: false,
    });
    for acked in 1..6 {
        log.append(&RunRecord::Progress { acked });
    }
    log.flush().expect("flush");
    let read = |ext: &str| std::fs::read(store.dir().join(format!("{}{ext}", s.id)));
    (
        read(".jsonl").expect("lifecycle"),
        read(".run.jsonl").expect("run"),
    )
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
    SwapLines(usize, usize),
    RepeatLine(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Cut),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 0..12))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        any::<usize>().prop_map(Mutation::RepeatLine),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let at = |i: usize| i % bytes.len();
    match m {
        Mutation::Flip(i, b) => {
            let i = at(*i);
            bytes[i] ^= b | 1;
        }
        Mutation::Cut(i) => bytes.truncate(at(*i)),
        Mutation::Insert(i, v) => {
            let i = at(*i);
            bytes.splice(i..i, v.iter().copied());
        }
        Mutation::SwapLines(a, b) | Mutation::RepeatLine(a @ b) => {
            let mut lines: Vec<Vec<u8>> = bytes
                .split_inclusive(|c| *c == b'\n')
                .map(<[u8]>::to_vec)
                .collect();
            let (a, b) = (a % lines.len(), b % lines.len());
            if matches!(m, Mutation::RepeatLine(_)) {
                let line = lines[a].clone();
                lines.insert(a, line);
            } else {
                lines.swap(a, b);
            }
            *bytes = lines.concat();
        }
    }
}

/// Load a state dir holding `lifecycle` and `run` as one session's journals, twice; the
/// second load must see what the first saw, and change no file.
fn recover_twice(lifecycle: &[u8], run: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::open(dir.path()).expect("store");
    let id = "0b6f1a0e-8f3c-4d5e-9a7b-2c1d3e4f5a6b";
    std::fs::write(store.dir().join(format!("{id}.jsonl")), lifecycle).expect("write");
    std::fs::write(store.dir().join(format!("{id}.run.jsonl")), run).expect("write");
    let first = store.load().expect("load");
    let first_run = store.load_run(id);
    let files = snapshot(store.dir());
    let again = FileStore::open(dir.path()).expect("store");
    let second = again.load().expect("load");
    prop_assert_eq!(&first, &second);
    prop_assert_eq!(first_run, again.load_run(id));
    prop_assert_eq!(files, snapshot(store.dir()));
    Ok(())
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_recover_idempotently(
        lifecycle in prop::collection::vec(any::<u8>(), 0..600),
        run in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        recover_twice(&lifecycle, &run)?;
    }

    #[test]
    fn mutated_valid_journals_never_panic_and_recover_idempotently(
        on_run in any::<bool>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let (mut lifecycle, mut run) = valid_journals();
        let target = if on_run { &mut run } else { &mut lifecycle };
        for m in &mutations {
            apply(target, m);
        }
        recover_twice(&lifecycle, &run)?;
    }
}
