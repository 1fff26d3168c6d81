//! Helpers the e2e modules share: raw WebSocket and HTTP for protocol-level tests (the SDK is
//! tested in `sdk.rs`), and the `simutrador-client` binary run against a test daemon.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use simutrador_e2e::{DaemonProcess, TestDaemon, client_cmd, run, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// Exchange `api_key` for a token over HTTP.
pub async fn token_for_key(daemon: &TestDaemon, api_key: &str) -> reqwest::Response {
    token_response(daemon.addr(), api_key).await
}

/// `POST /auth/token` with `api_key` to the daemon at `addr`.
async fn token_response(addr: std::net::SocketAddr, api_key: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{addr}/auth/token"))
        .header("X-API-Key", api_key)
        .send()
        .await
        .expect("token endpoint answers")
}

/// A token for `api_key` from the daemon at `addr` (a test daemon or a daemon process).
pub async fn token_at(addr: std::net::SocketAddr, api_key: &str) -> String {
    let body: Value = token_response(addr, api_key)
        .await
        .json()
        .await
        .expect("json");
    body["access_token"].as_str().expect("a token").to_string()
}

/// A fresh key and token for `user`.
pub async fn login(daemon: &TestDaemon, user: &str) -> String {
    let key = daemon.add_key(user).expect("key added");
    let body: Value = token_for_key(daemon, &key)
        .await
        .json()
        .await
        .expect("json");
    body["access_token"].as_str().expect("token").to_string()
}

/// A temporary home with a `simutrador-server` process whose state dir is where the client
/// looks for `local.key`, so the CLI run in that home logs in by itself, as a new user's would.
pub struct Setup {
    /// `HOME`, `XDG_*` and the working directory of every client run.
    pub home: tempfile::TempDir,
    /// The daemon, started with its state in `home/state/simutrador`.
    pub daemon: DaemonProcess,
}

impl Setup {
    /// A fresh home and a daemon started with `extra` flags.
    pub fn start(extra: &[&str]) -> Setup {
        let home = tempfile::tempdir().expect("a temporary home");
        let daemon = DaemonProcess::start(&home.path().join("state/simutrador"), extra)
            .expect("the daemon starts");
        Setup { home, daemon }
    }

    /// The daemon's state dir.
    pub fn state_dir(&self) -> PathBuf {
        self.home.path().join("state/simutrador")
    }

    /// Run the client with `args` against the daemon; everything it printed.
    pub fn client(&self, args: &[&str]) -> Output {
        run(client_cmd(self.home.path())
            .args(["--url", &self.daemon.url()])
            .args(args))
        .expect("the client binary runs")
    }

    /// Run the client with `--json` and `args`: its exit code and the one JSON document it
    /// printed.
    pub fn client_json(&self, args: &[&str]) -> (i32, Value) {
        let out = run(client_cmd(self.home.path())
            .args(["--url", &self.daemon.url(), "--json"])
            .args(args))
        .expect("the client binary runs");
        json_output(&out)
    }

    /// `session create ACME --start 2020-01-01 --end 2020-03-31` with `--json`.
    pub fn create_acme(&self) -> (i32, Value) {
        self.client_json(&[
            "session",
            "create",
            "ACME",
            "--start",
            "2020-01-01",
            "--end",
            "2020-03-31",
        ])
    }
}

/// The exit code of a `--json` client run and the one JSON document it printed; panics with
/// its stdout and stderr when the output is not one JSON document.
pub fn json_output(out: &Output) -> (i32, Value) {
    let text = stdout(out);
    let json = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "--json prints one JSON document ({e}): {text:?} / {}",
            stderr(out)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

/// Run the `simutrador-client` binary in `home` (also its working directory) against `url`
/// with `SIMUTRADOR_API_KEY=key`, off the async runtime.
pub async fn cli_as(url: &str, key: &str, home: &Path, args: &[&str]) -> Output {
    let mut cmd = client_cmd(home);
    cmd.args(["--url", url])
        .args(args)
        .env("SIMUTRADOR_API_KEY", key);
    tokio::task::spawn_blocking(move || cmd.output().expect("the client binary runs"))
        .await
        .expect("the client process finished")
}

/// The one JSON document a `--json` command printed on stdout.
pub fn json_of(out: &Output) -> Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("one JSON document ({e}): {} / {}", stdout(out), stderr(out)))
}

/// A raw WebSocket connection.
pub struct Raw {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The `connection_ready` data.
    pub ready: Value,
}

impl Raw {
    /// Connect with `?token=` and read `connection_ready`.
    pub async fn connect(daemon: &TestDaemon, token: &str) -> Raw {
        Raw::connect_addr(daemon.addr(), token).await
    }

    /// Connect to `addr` with `?token=` and read `connection_ready` (usable from spawned tasks).
    pub async fn connect_addr(addr: std::net::SocketAddr, token: &str) -> Raw {
        let url = format!("ws://{addr}/ws?token={token}");
        let (ws, _) = connect_async(url).await.expect("handshake accepted");
        Raw::from_stream(ws).await
    }

    /// Log in at `addr` with `api_key` and connect with the token.
    pub async fn connect_with_key(addr: std::net::SocketAddr, api_key: &str) -> Raw {
        Raw::connect_addr(addr, &token_at(addr, api_key).await).await
    }

    /// Wrap an open WebSocket and read `connection_ready`.
    pub async fn from_stream(ws: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Raw {
        let mut raw = Raw {
            ws,
            ready: Value::Null,
        };
        let ready = raw.recv().await;
        assert_eq!(ready["type"], "connection_ready", "{ready}");
        raw.ready = ready["data"].clone();
        raw
    }

    /// Send one text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("frame sent");
    }

    /// Send one raw message.
    pub async fn send(&mut self, msg: Message) {
        self.ws.send(msg).await.expect("frame sent");
    }

    /// Send one message, ignoring a failure (the peer may close mid-frame).
    pub async fn try_send(&mut self, msg: Message) {
        let _ = self.ws.send(msg).await;
    }

    /// The next JSON message (10 s at most).
    pub async fn recv(&mut self) -> Value {
        loop {
            let next = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a reply within 10 s")
                .expect("connection open")
                .expect("valid frame");
            match next {
                Message::Text(t) => return serde_json::from_str(&t).expect("server sends JSON"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// The next frame whatever it is, or `None` when the connection ended.
    pub async fn next_frame(&mut self) -> Option<Message> {
        self.next_frame_within(Duration::from_secs(10)).await
    }

    /// [`Raw::next_frame`], waiting at most `deadline`.
    pub async fn next_frame_within(&mut self, deadline: Duration) -> Option<Message> {
        tokio::time::timeout(deadline, self.ws.next())
            .await
            .unwrap_or_else(|_| panic!("something within {deadline:?}"))
            .and_then(Result::ok)
    }

    /// Send `{"type", "request_id", "data"}` and return the reply.
    pub async fn request(&mut self, kind: &str, data: Value) -> Value {
        let id = format!("r{}", rand_id());
        let text = json!({ "type": kind, "request_id": id, "data": data }).to_string();
        self.send_text(&text).await;
        let reply = self.recv().await;
        assert_eq!(
            reply["request_id"], id,
            "reply matches the request: {reply}"
        );
        reply
    }

    /// Check that the connection still answers.
    pub async fn assert_alive(&mut self) {
        let pong = self.request("ping", json!({})).await;
        assert_eq!(pong["type"], "pong", "{pong}");
    }
}

/// Send `{"type", "request_id": id, "data"}` and return the reply with that id, skipping
/// pushes in between (none of which may be an error).
pub async fn request_as(raw: &mut Raw, kind: &str, id: &str, data: Value) -> Value {
    let text = json!({"type": kind, "request_id": id, "data": data}).to_string();
    raw.send_text(&text).await;
    loop {
        let m = raw.recv().await;
        if m["request_id"] == id {
            return m;
        }
        assert_ne!(m["type"], "error", "{m}");
    }
}

/// Wait for tick `t` of `session` (sent one tick a frame); its `data`.
pub async fn wait_tick(raw: &mut Raw, session: &str, t: u64) -> Value {
    loop {
        let m = raw.recv().await;
        assert_ne!(m["type"], "error", "{m}");
        let d = &m["data"];
        if m["type"] == "tick" && d["sequence_id"] == t && d["session_id"] == session {
            return d.clone();
        }
    }
}

/// A market order for `qty` ACME, as JSON.
pub fn order(id: &str, side: &str, qty: &str) -> Value {
    json!({"order_id": id, "symbol": "ACME", "side": side, "quantity": qty})
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A valid `create_session` data object on the demo data.
pub fn create_data(symbol: &str) -> Value {
    json!({ "symbols": [symbol], "start_date": "2020-01-01", "end_date": "2020-12-31" })
}

/// The error code of a reply, asserting it is an error.
pub fn error_code(reply: &Value) -> &str {
    assert_eq!(reply["type"], "error", "expected an error: {reply}");
    reply["data"]["error_code"].as_str().expect("error_code")
}
