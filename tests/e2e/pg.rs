//! A throwaway PostgreSQL for the PostgreSQL-store tests: Debian's `initdb` and `pg_ctl`
//! (`/usr/lib/postgresql/<version>/bin`), a cluster in `/tmp/simutrador-pg-test-<pid>-<n>`
//! listening only on a Unix socket in that directory, run as the `postgres` user when the
//! tests run as root (the server refuses root).
//!
//! - [`shared`]: one cluster per test binary, started on first use; every test gets its own
//!   database from [`Cluster::database`] (`t_<random>`), so tests stay independent.
//! - [`Cluster::start`]: a cluster of one's own, for a test that stops and starts it.
//! - A watchdog process started with each cluster waits for the test binary to exit (however
//!   it exits) and then stops the cluster and removes its directory; a directory left over by
//!   a killed machine is recognisable by its name.
//! - Without `initdb` the tests print why and skip; with `CI` set they fail instead
//!   (`.ci/run` installs the `postgresql` package).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// A running throwaway cluster.
pub struct Cluster {
    /// Its directory (data, socket, log).
    pub dir: PathBuf,
    /// The directory of its Unix socket.
    pub socket_dir: PathBuf,
    /// Its port (names the socket file; no TCP listener).
    pub port: u16,
    bin: PathBuf,
}

/// The cluster shared by the tests of this binary; `None` (with the reason printed) when
/// PostgreSQL is not installed outside CI.
pub fn shared() -> Option<&'static Cluster> {
    static SHARED: OnceLock<Option<Cluster>> = OnceLock::new();
    SHARED.get_or_init(Cluster::start).as_ref()
}

/// The directory of Debian's PostgreSQL binaries (the newest version installed).
fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Cluster {
    /// Start a new cluster (initdb, pg_ctl start, and its watchdog); `None` when PostgreSQL
    /// is missing outside CI.
    pub fn start() -> Option<Cluster> {
        let Some(bin) = pg_bin() else {
            let why = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; apt-get install postgresql)";
            if std::env::var_os("CI").is_some() {
                panic!("{why}; CI is set, so the PostgreSQL-store tests must run");
            }
            eprintln!("skipped: {why}");
            return None;
        };
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = PathBuf::from(format!(
            "/tmp/simutrador-pg-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let socket_dir = dir.join("socket");
        std::fs::create_dir_all(&socket_dir).unwrap();
        let port = free_port();
        let cluster = Cluster {
            dir,
            socket_dir,
            port,
            bin,
        };
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&cluster.dir)
                .status()
                .unwrap();
            assert!(status.success(), "cannot chown {}", cluster.dir.display());
        }
        cluster.watch();
        cluster.pg("initdb", |c| {
            c.arg("-D").arg(cluster.data()).args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]);
        });
        cluster.start_server();
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Run a PostgreSQL binary (as `postgres` when root), panicking with its output on failure.
    fn pg(&self, name: &str, args: impl FnOnce(&mut Command)) {
        let exe = self.bin.join(name);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        args(&mut cmd);
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        assert!(
            out.status.success(),
            "{name} failed: {}{}\n(log: {})",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
        );
    }

    /// `pg_ctl start` (waiting until it accepts connections): only the Unix socket, no fsync.
    pub fn start_server(&self) {
        let options = format!(
            "-k {} -p {} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.socket_dir.display(),
            self.port
        );
        self.pg("pg_ctl", |c| {
            c.arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.dir.join("log"))
                .args(["-w", "-o", &options, "start"]);
        });
    }

    /// `pg_ctl stop` (fast: open connections are cut), waiting until it is down.
    pub fn stop_server(&self) {
        self.pg("pg_ctl", |c| {
            c.arg("-D")
                .arg(self.data())
                .args(["-w", "-m", "fast", "stop"]);
        });
    }

    /// A URL for `database` over the Unix socket, as user `postgres`.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgresql:///{database}?host={}&port={}&user=postgres",
            self.socket_dir.display(),
            self.port
        )
    }

    /// A new, empty database (`t_<random>`); its URL.
    pub async fn database(&self) -> String {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        self.execute("postgres", &format!("CREATE DATABASE {name}"))
            .await;
        self.url(&name)
    }

    /// Run `sql` in `database`.
    pub async fn execute(&self, database: &str, sql: &str) {
        let client = connect(&self.url(database)).await;
        client.batch_execute(sql).await.unwrap();
    }

    /// A watchdog: once this test process is gone, stop the cluster and remove its dir.
    // Never waited for: it must outlive this process, whose end it waits for.
    #[allow(clippy::zombie_processes)]
    fn watch(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = format!(
            "{} -D {} -m immediate stop",
            pg_ctl.display(),
            self.data().display()
        );
        let stop = if is_root() {
            format!("runuser -u postgres -- {stop}")
        } else {
            stop
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
    }
}

/// A client connection to `url` (its connection driven by a task).
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// A port no one listens on now (it only names the socket file).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(5432)
}

/// The state dir's embedded store is not used: no journal was written there.
pub fn assert_no_journals(state: &Path) {
    let journals = state.join("sessions");
    let count = std::fs::read_dir(&journals).map(|d| d.count()).unwrap_or(0);
    assert_eq!(count, 0, "{} holds journals", journals.display());
}
