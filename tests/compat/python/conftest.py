"""Fixtures that start a real vouch server for the official Python `stripe` SDK.

Each test module gets its own server process and its own temporary SQLite
database (module-scoped fixture), so modules never see each other's data.
The binary comes from $VOUCH_BIN (set by ../run.sh) or defaults to
<repo>/target/debug/vouch.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import stripe

REPO_ROOT = Path(__file__).resolve().parents[3]
LISTEN_RE = re.compile(r"listening on (http://\S+)")
BANNER_TIMEOUT_S = 10.0
HEALTH_TIMEOUT_S = 10.0


def _vouch_bin() -> Path:
    env = os.environ.get("VOUCH_BIN")
    path = Path(env) if env else REPO_ROOT / "target" / "debug" / "vouch"
    if not path.is_file():
        pytest.exit(f"vouch binary not found at {path}", returncode=2)
    return path.resolve()


@dataclass
class VouchServer:
    base: str
    test_key: str
    live_key: str
    workdir: Path
    log_path: Path
    proc: subprocess.Popen

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "<no log>"
        return "\n".join(lines[-n:])


def _wait_for_banner(proc: subprocess.Popen, log_path: Path) -> str:
    deadline = time.monotonic() + BANNER_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        m = LISTEN_RE.search(text)
        if m:
            return m.group(1).rstrip("/")
        if proc.poll() is not None:
            raise RuntimeError(
                f"vouch exited with {proc.returncode} before listening:\n{text}"
            )
        time.sleep(0.05)
    raise RuntimeError(
        f"vouch did not print 'listening on http://...' within {BANNER_TIMEOUT_S}s:\n"
        + (log_path.read_text(errors="replace") if log_path.exists() else "")
    )


def _wait_for_health(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"vouch exited with {proc.returncode} during start-up")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
                last = resp.status
        except urllib.error.HTTPError as e:
            last = e.code
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            last = e
        time.sleep(0.05)
    raise RuntimeError(f"GET {base}/healthz never returned 200 (last: {last!r})")


@pytest.fixture(scope="module")
def vouch():
    """A running vouch server with one test key and one live key."""
    binary = _vouch_bin()
    workdir = Path(tempfile.mkdtemp(prefix="vouch-compat-py-"))
    log_path = workdir / "server.log"
    test_key = "sk_test_compat" + secrets.token_hex(12)
    live_key = "sk_live_compat" + secrets.token_hex(12)
    db = workdir / "vouch.db"
    cmd = [
        str(binary),
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        f"sqlite://{db}",
        "--api-key",
        test_key,
        "--api-key",
        live_key,
        "--redaction-delay",
        "200ms",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
        )
    try:
        base = _wait_for_banner(proc, log_path)
        _wait_for_health(base, proc)
        server = VouchServer(base, test_key, live_key, workdir, log_path, proc)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if not os.environ.get("VOUCH_COMPAT_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"\nvouch work dir kept: {workdir}")


@pytest.fixture()
def sdk(vouch):
    """The global-configuration style: stripe.api_key + stripe.api_base."""
    saved = (stripe.api_key, stripe.api_base)
    stripe.api_key = vouch.test_key
    stripe.api_base = vouch.base
    try:
        yield stripe
    finally:
        stripe.api_key, stripe.api_base = saved


@pytest.fixture()
def client(vouch):
    """The StripeClient style, pointed at vouch through base_addresses."""
    return stripe.StripeClient(vouch.test_key, base_addresses={"api": vouch.base})
