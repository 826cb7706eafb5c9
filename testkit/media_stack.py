"""The API and the media edge as two processes wired to each other (as ``just up`` runs them), on free loopback
ports with a throwaway data directory: what the join-to-first-frame benchmark and ``loadtests.media_load`` use.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from testkit.server import REPO_ROOT, STARTUP_TIMEOUT_S, STOP_TIMEOUT_S, ApiStartError, free_port, log_tail, running_api

KEY_PATH = "/.well-known/meetmesh/join-token-key"


@dataclass(frozen=True, slots=True)
class Stack:
    api_url: str
    edge_url: str
    """The signalling WebSocket URL the API hands out with join tokens."""
    edge_pid: int
    edge_log: Path


def _edge_env(edge_port: int, api_url: str, secret: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("EDGE_") and k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
    }
    env.update(
        EDGE_HOST="127.0.0.1",
        EDGE_PORT=str(edge_port),
        EDGE_JOIN_KEY_URL=api_url + KEY_PATH,
        EDGE_CONTROL_SECRET=secret,
        # Media on loopback only, where the edge supports choosing its ICE addresses.
        EDGE_ICE_ADDRESSES="127.0.0.1",
        EDGE_LOG_LEVEL="warning",
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_edge(proc: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ApiStartError(f"edge exited with code {proc.returncode} during startup:\n{log_tail(log_path)}")
            try:
                if client.get(f"{url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
    raise ApiStartError(f"edge did not answer /healthz within {STARTUP_TIMEOUT_S:.0f} s:\n{log_tail(log_path)}")


@contextmanager
def running_stack(prefix: str = "meetmesh-media-") -> Iterator[Stack]:
    """Start the API (pointing its join tokens at the edge) and the edge; always stop both."""
    edge_port = free_port()
    edge_url = f"ws://127.0.0.1:{edge_port}/edge/signal"
    secret = secrets.token_urlsafe(32)  # the control feed's credential, one per run as `just up` does
    api_env = {"API_EDGE_URL": edge_url, "API_EDGE_SECRET": secret}
    with running_api(prefix, extra_env=api_env) as api, tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        log_path = Path(tmp) / "edge.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "edge"],
                cwd=REPO_ROOT,
                env=_edge_env(edge_port, api.url, secret),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                _wait_edge(proc, f"http://127.0.0.1:{edge_port}", log_path)
                yield Stack(api_url=api.url, edge_url=edge_url, edge_pid=proc.pid, edge_log=log_path)
            except ApiStartError:
                raise
            except BaseException:
                print(f"--- edge log (tail) ---\n{log_tail(log_path)}", file=sys.stderr)
                raise
            finally:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(STOP_TIMEOUT_S)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(STOP_TIMEOUT_S)
