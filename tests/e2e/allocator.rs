//! `serve` re-executes itself with glibc's mmap threshold fixed, so that the big blocks a
//! finished run frees go back to the system (simutrador-server/src/cli/allocator.rs; the
//! figures are in docs/benchmarks.md). Every other e2e test runs on the re-executed daemon; this
//! one checks that the setting really reached it.

use simutrador_e2e::DaemonProcess;

#[tokio::test]
async fn the_running_daemon_has_the_allocator_setting_in_its_environment() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        eprintln!("skipped: the allocator setting is for glibc on Linux only");
        return;
    }
    if std::env::var_os("GLIBC_TUNABLES").is_some() {
        eprintln!("skipped: GLIBC_TUNABLES is set for this test run, and the daemon keeps it");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = DaemonProcess::start(&dir.path().join("state"), &[]).expect("daemon");
    let environ = std::fs::read(format!("/proc/{}/environ", daemon.pid())).expect("environ");
    let vars: Vec<&[u8]> = environ.split(|b| *b == 0).collect();
    assert!(
        vars.contains(&&b"GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576"[..]),
        "the daemon (same pid, after its exec) runs without the tunable: {:?}",
        vars.iter()
            .filter(|v| v.starts_with(b"GLIBC"))
            .map(|v| String::from_utf8_lossy(v))
            .collect::<Vec<_>>()
    );
    // It is the same process the harness started, and it serves.
    let health = reqwest::get(format!(
        "http://{}/healthz",
        daemon.url().trim_start_matches("ws://")
    ))
    .await
    .expect("healthz");
    assert!(health.status().is_success(), "healthz: {}", health.status());
}
