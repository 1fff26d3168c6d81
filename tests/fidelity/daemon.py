"""The real daemon for the differential suite: build, import, serve, drive through the CLI.

`Daemon` builds the debug binaries once (`cargo build -p simutrador-server -p
simutrador-client`), imports CSV files into a throwaway data dir with `simutrador-server data
import`, starts `simutrador-server serve` on a free 127.0.0.1 port with `HOME` in a temp dir
(the daemon's first-start key and the client's auto-login live there), waits for readiness by
polling `simutrador-client health`, and stops the process it started. The catalog is loaded
once at start-up, so series imported later need `restart()`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target" / "debug"

# Far above anything the suite creates: every case is a session of user `local`.
LIMITS = {
    "SIMUTRADOR_LIMITS_MAX_SESSIONS_PER_USER": "100000",
    "SIMUTRADOR_LIMITS_MAX_ACTIVE_SESSIONS_PER_USER": "64",
    "SIMUTRADOR_RATE_LIMITS_CONNECTIONS_PER_USER": "256",
}


def build(extra: tuple[str, ...] = ()) -> None:
    """`cargo build` of the daemon and the CLI (and `extra` packages' binaries)."""
    cmd = ["cargo", "build", "-q", "-p", "simutrador-server", "-p", "simutrador-client", *extra]
    subprocess.run(cmd, cwd=ROOT, check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CliError(RuntimeError):
    """A CLI command failed; the message holds the command and its output."""


class Daemon:
    """One `simutrador-server serve` process on a throwaway data dir and HOME."""

    def __init__(self, work: Path):
        self.work = work
        self.home = work / "home"
        self.data = work / "data"
        self.home.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.env = dict(os.environ, HOME=str(self.home), **LIMITS)
        self.env.pop("SIMUTRADOR_API_KEY", None)
        self.env.pop("SIMUTRADOR_CONFIG", None)

    def import_csv(self, csv: Path, symbol: str, timeframe: str) -> None:
        """`simutrador-server data import CSV --symbol S --timeframe TF` into the data dir."""
        self._run(
            [str(BIN / "simutrador-server"), "data", "import", str(csv), "--symbol", symbol,
             "--timeframe", timeframe, "--asset-class", "equity", "--data-dir", str(self.data)]
        )

    def start(self) -> None:
        """Serve on a free port; returns once `simutrador-client health` answers."""
        port = free_port()
        log = open(self.work / "daemon.log", "ab")
        self.proc = subprocess.Popen(
            [str(BIN / "simutrador-server"), "serve", "--bind", f"127.0.0.1:{port}",
             "--data-dir", str(self.data), "--log-level", "warn"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        self.url = f"ws://127.0.0.1:{port}"
        self.env["SIMUTRADOR_URL"] = self.url
        for _ in range(600):  # polled, not slept on: usually ready at the first few tries
            if self.proc.poll() is not None:
                raise RuntimeError(f"the daemon exited: see {self.work / 'daemon.log'}")
            ok = subprocess.run([str(BIN / "simutrador-client"), "health"], env=self.env,
                                capture_output=True).returncode == 0
            if ok:
                return
            time.sleep(0.05)
        raise RuntimeError("the daemon did not answer `health`")

    def stop(self) -> None:
        """Stop the process this object started."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def api_key(self) -> str:
        """The daemon's first-start key of user `local`."""
        path = self.home / ".local" / "state" / "simutrador" / "local.key"
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                return line.strip()
        raise RuntimeError(f"no key in {path}")

    def cli_json(self, *args: str, ok: tuple[int, ...] = (0,)) -> dict:
        """`simutrador-client --json ARGS`, parsed; an exit status outside `ok` is an error."""
        out = self._run([str(BIN / "simutrador-client"), "--json", *args], ok)
        return json.loads(out)

    def _run(self, cmd: list[str], ok: tuple[int, ...] = (0,)) -> str:
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if p.returncode not in ok:
            raise CliError(f"{' '.join(cmd)} -> exit {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p.stdout
