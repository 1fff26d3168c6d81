//! Test harness for the end-to-end tests (and the demo walkthrough): start the real daemon on
//! `127.0.0.1:0` — in this process through the server library, or as the real
//! `simutrador-server` binary — with a temporary state dir, and run the real
//! `simutrador-client` binary against it.
//!
//! Readiness is awaited by polling (reading the daemon's "listening" line, or retrying a
//! health check), never by fixed sleeps.

#![forbid(unsafe_code)]
// Test harness: a panic here is a failed test or benchmark, never a crash a user sees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail};
use shared_models::Plan;
use simutrador_server::auth::ApiKeyStore;
use simutrador_server::config::ServerConfig;
use simutrador_server::market_data::Catalog;
use simutrador_server::server::RunningServer;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The first demo symbol of an asset class with daily bars.
pub fn demo_symbol(class: shared_models::AssetClass) -> String {
    demo_catalog()
        .list(Some(class), Some(shared_models::Timeframe::D1))
        .first()
        .map(|s| s.symbol.clone())
        .unwrap_or_default()
}

/// A config for tests: port 0, a temporary state dir, generous rate limits.
pub fn test_config(state_dir: &Path) -> ServerConfig {
    let mut config = ServerConfig::default();
    config.server.bind = "127.0.0.1:0".parse().expect("valid address");
    config.server.state_dir = state_dir.to_path_buf();
    config.server.data_dir = None;
    config.server.shutdown_grace_seconds = 2;
    config.rate_limits.session_creates_per_minute = 100_000;
    config.rate_limits.messages_per_second = 100_000;
    config.rate_limits.message_burst = 100_000;
    config.rate_limits.connections_per_user = 1_000;
    config
}

/// The built-in catalog (demo data and the GOOG sample), generated once per test process.
pub fn demo_catalog() -> Catalog {
    static DEMO: OnceLock<Catalog> = OnceLock::new();
    DEMO.get_or_init(Catalog::built_in).clone()
}

/// A daemon running in this process on a real loopback socket.
pub struct TestDaemon {
    /// The running server.
    pub server: RunningServer,
    /// Its state dir (keys, secret).
    pub state_dir: TempDir,
}

impl TestDaemon {
    /// Start with the demo data and [`test_config`], adjusted by `tweak`.
    pub async fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> Result<Self> {
        let state_dir = tempfile::tempdir()?;
        let mut config = test_config(state_dir.path());
        tweak(&mut config);
        let server = simutrador_server::server::start(config, demo_catalog()).await?;
        Ok(TestDaemon { server, state_dir })
    }

    /// Start with the demo data and [`test_config`].
    pub async fn start() -> Result<Self> {
        Self::start_with(|_| {}).await
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr())
    }

    /// Create an API key for `user` in this daemon's store; returns the plaintext key.
    pub fn add_key(&self, user: &str) -> Result<String> {
        add_key(self.state_dir.path(), user)
    }

    /// Stop gracefully.
    pub async fn stop(self) -> Result<()> {
        self.server.shutdown().await
    }
}

/// Create an API key for `user` in the store at `state_dir`.
pub fn add_key(state_dir: &Path, user: &str) -> Result<String> {
    let store = ApiKeyStore::open(state_dir)?;
    let (_, key) = store.add(user, Plan::Pro)?;
    Ok(key)
}

/// The folder holding this build's binaries (`target/debug` or `target/release`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// Path of a workspace binary, e.g. `simutrador-client`. `cargo test --workspace` builds them.
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing; run the tests with `cargo test --workspace` so the binaries are built",
        path.display()
    );
    path
}

/// A `simutrador-client` command isolated from the user's real config: its config dir and the
/// daemon state dir point into `home`.
pub fn client_cmd(home: &Path) -> Command {
    let mut cmd = Command::new(bin("simutrador-client"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("SIMUTRADOR_CONFIG_DIR", home.join("config/simutrador"))
        .env("NO_COLOR", "1")
        // Anything written to the working directory (batch results) lands in `home` too.
        .current_dir(home)
        .stdin(Stdio::null());
    cmd
}

/// Run a command and capture everything.
pub fn run(cmd: &mut Command) -> Result<Output> {
    cmd.output().context("cannot run the command")
}

/// Stdout of a finished command as a string.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr of a finished command as a string.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The real `simutrador-server` binary, started on port 0; killed on drop.
pub struct DaemonProcess {
    /// The child process.
    pub child: Child,
    /// The address it printed.
    pub addr: SocketAddr,
    /// Everything it printed on stdout before it was ready.
    pub banner: Vec<String>,
    /// Where its stderr (the logs) goes.
    pub log: PathBuf,
}

impl DaemonProcess {
    /// Start `simutrador-server serve --bind 127.0.0.1:0 --state-dir STATE …extra` and wait for
    /// its "listening on" line.
    pub fn start(state_dir: &Path, extra: &[&str]) -> Result<Self> {
        Self::start_bound(state_dir, "127.0.0.1:0", extra)
    }

    /// [`DaemonProcess::start`] listening on `bind` (e.g. the port of a daemon that was
    /// killed, to restart it where its clients reconnect). Appends to `daemon.log`.
    pub fn start_bound(state_dir: &Path, bind: &str, extra: &[&str]) -> Result<Self> {
        std::fs::create_dir_all(state_dir)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(state_dir.join("daemon.log"))?;
        let mut child = Command::new(bin("simutrador-server"))
            .arg("serve")
            .args(["--bind", bind, "--state-dir"])
            .arg(state_dir)
            .args(extra)
            .env_remove("SIMUTRADOR_CONFIG")
            .env("XDG_CONFIG_HOME", state_dir.join("no-config"))
            .env("XDG_DATA_HOME", state_dir.join("no-data"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("cannot start simutrador-server")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut banner = Vec::new();
        while Instant::now() < deadline {
            let Some(line) = lines.next() else {
                bail!("simutrador-server exited before listening: {banner:?}");
            };
            let line = line?;
            banner.push(line.clone());
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest.split_whitespace().next().unwrap_or_default().parse()?;
                // Keep draining stdout so the daemon never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines.by_ref() {});
                return Ok(DaemonProcess {
                    child,
                    addr,
                    banner,
                    log: state_dir.join("daemon.log"),
                });
            }
        }
        bail!("simutrador-server did not start listening within 60 s")
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Everything the daemon logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kill the process for real (SIGKILL: no shutdown, no flush) and wait for it.
    pub fn kill(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Send SIGTERM and wait for the exit status (at most 20 s).
    pub fn terminate(self) -> Result<std::process::ExitStatus> {
        self.terminate_within(Duration::from_secs(20))
    }

    /// Send SIGTERM (with the `kill` command) and poll for the exit status; an error when
    /// the process is still running `bound` after the signal.
    pub fn terminate_within(mut self, bound: Duration) -> Result<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                bail!("simutrador-server did not exit within {bound:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
