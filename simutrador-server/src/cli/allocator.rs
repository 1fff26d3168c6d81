//! The allocator setting `serve` runs with, so that memory a finished run freed does not stay
//! resident.
//!
//! glibc's malloc serves a block of at least `M_MMAP_THRESHOLD` bytes with its own `mmap`, and
//! `free` hands such a block straight back to the system. The threshold starts at 128 KiB but
//! is *dynamic*: each time an mmapped block is freed, glibc raises the threshold to that
//! block's size (up to 32 MiB). So once the first 1M-bar run has freed its multi-megabyte
//! vectors (equity curve, results columns, the results record being journaled), the same
//! vectors of every later run come from the malloc arenas instead, and the arenas keep them
//! resident after they are freed: 10–25 MB of resident memory per finished 1M-bar session
//! that no session holds (its live heap is about 10 KB; docs/benchmarks.md, "Finished sessions
//! in memory"). Setting the threshold (the tunable `glibc.malloc.mmap_threshold`, which also
//! turns the dynamic adjustment off) keeps large blocks on `mmap`, returned when freed.
//!
//! glibc reads tunables once, at process start, from `GLIBC_TUNABLES`, and the other way to
//! set it (`mallopt`) needs `unsafe`, which this crate forbids. So `serve`, before it does
//! anything else, executes itself again once with the tunable added — same binary, same
//! arguments, same process id — unless `GLIBC_TUNABLES` already sets `mmap_threshold` (the
//! operator's value stands, and the re-executed process sees it set) or
//! `SIMUTRADOR_MALLOC_TUNING=0` (for running under a profiler that would not follow the
//! `exec`). Where it cannot (not glibc, the binary replaced on disk), the daemon runs on
//! unchanged and says so in its log.

/// The tunable added to `GLIBC_TUNABLES`: blocks of 1 MiB and more get their own mapping.
pub const MMAP_THRESHOLD: &str = "glibc.malloc.mmap_threshold=1048576";

/// Environment variable that turns the re-execution off (`0`, `off`, `false` or `no`).
pub const OPT_OUT_ENV: &str = "SIMUTRADOR_MALLOC_TUNING";

/// The `GLIBC_TUNABLES` value to execute again with, given the current value and the opt-out
/// variable; `None` when there is nothing to do.
pub fn tunables_to_set(current: Option<&str>, opt_out: Option<&str>) -> Option<String> {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        return None;
    }
    if opt_out.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "0" | "off" | "false" | "no"
        )
    }) {
        return None;
    }
    match current.map(str::trim) {
        Some(c) if c.contains("glibc.malloc.mmap_threshold") => None,
        Some(c) if !c.is_empty() => Some(format!("{c}:{MMAP_THRESHOLD}")),
        _ => Some(MMAP_THRESHOLD.to_string()),
    }
}

/// Execute this binary again with the tunable set (see the module docs). Returns only when it
/// did not: `None` when nothing was needed, else why it could not (for the log, once logging
/// is set up).
pub fn reexec_with_tunables() -> Option<String> {
    let value = tunables_to_set(
        std::env::var("GLIBC_TUNABLES").ok().as_deref(),
        std::env::var(OPT_OUT_ENV).ok().as_deref(),
    )?;
    reexec(&value)
}

#[cfg(unix)]
fn reexec(value: &str) -> Option<String> {
    use std::os::unix::process::CommandExt;
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            return Some(format!(
                "cannot find this binary to set {MMAP_THRESHOLD}: {e}"
            ));
        }
    };
    // `exec` only returns on failure.
    let err = std::process::Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .env("GLIBC_TUNABLES", value)
        .exec();
    Some(format!(
        "cannot execute {} again with GLIBC_TUNABLES={value} ({err}); memory freed by finished \
         runs may stay resident (set GLIBC_TUNABLES yourself, see docs/configuration.md)",
        exe.display()
    ))
}

#[cfg(not(unix))]
fn reexec(_value: &str) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tunable_is_added_unless_set_or_turned_off() {
        if !cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert_eq!(tunables_to_set(None, None), None);
            return;
        }
        assert_eq!(tunables_to_set(None, None).as_deref(), Some(MMAP_THRESHOLD));
        assert_eq!(
            tunables_to_set(Some(""), None).as_deref(),
            Some(MMAP_THRESHOLD)
        );
        // Other tunables are kept, ours appended.
        assert_eq!(
            tunables_to_set(Some("glibc.malloc.arena_max=2"), None).as_deref(),
            Some("glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=1048576")
        );
        // The operator's own threshold stands; this is also what stops a second exec.
        assert_eq!(
            tunables_to_set(Some("glibc.malloc.mmap_threshold=4194304"), None),
            None
        );
        assert_eq!(tunables_to_set(Some(MMAP_THRESHOLD), None), None);
        for off in ["0", "off", "FALSE", "no"] {
            assert_eq!(tunables_to_set(None, Some(off)), None, "{off}");
        }
        assert_eq!(
            tunables_to_set(None, Some("1")).as_deref(),
            Some(MMAP_THRESHOLD)
        );
    }
}
