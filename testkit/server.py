"""The API under test: ``python -m api`` as a subprocess on a free loopback port with a throwaway data directory.

Shared by the benchmarks and ``loadtests.smoke`` so both measure the server exactly as ``just up`` runs it (one
uvicorn process, embedded SQLite), not an in-process app that would share the load generator's event loop.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL_CHARS = 4000


@dataclass(frozen=True, slots=True)
class ApiProcess:
    url: str
    pid: int
    data_dir: Path
    log_path: Path


class ApiStartError(RuntimeError):
    pass


def free_port() -> int:
    # Racy by nature (the port could be taken before uvicorn binds it); a lost race shows up as the process
    # exiting during startup, which _wait_healthy reports with the server's log.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ONE_ADDRESS_LOAD_LIMITS = (
    "signup-address=1000000/3600,login-address=1000000/900,join-address=1000000/60,lobby-address=1000000/60,"
    "sso-address=1000000/60"
)
"""``API_RATE_LIMITS`` for a server whose every client is one loopback address standing for many people (load
generators, test suites): the per-address abuse limits lifted, the per-account and per-meeting ones kept."""


def _api_env(port: int, data_dir: Path, host: str = "127.0.0.1") -> dict[str, str]:
    # Drop inherited API configuration (a DATABASE_URL pointing at PostgreSQL, a fixed port...) so every run
    # measures the embedded default; proxies are dropped because all traffic here is loopback.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("API_") and k != "DATABASE_URL" and k.lower() not in {"http_proxy", "https_proxy"}
    }
    env.update(
        API_HOST=host,
        API_PORT=str(port),
        API_DATA_DIR=str(data_dir),
        # warning: no uvicorn access log, which would cost the server CPU and flood the log at thousands of req/s.
        API_LOG_LEVEL="warning",
        API_RATE_LIMITS=ONE_ADDRESS_LOAD_LIMITS,
        PYTHONUNBUFFERED="1",
    )
    return env


def log_tail(path: Path) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return text[-LOG_TAIL_CHARS:] or "(server log is empty)"


def _wait_healthy(
    proc: subprocess.Popen[bytes], url: str, log_path: Path, timeout_s: float = STARTUP_TIMEOUT_S
) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ApiStartError(f"API exited with code {proc.returncode} during startup:\n{log_tail(log_path)}")
            try:
                if client.get(f"{url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
    raise ApiStartError(f"API did not answer /healthz within {timeout_s:.0f} s:\n{log_tail(log_path)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # uvicorn shuts down gracefully on SIGTERM (runs the lifespan's cleanup)
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(STOP_TIMEOUT_S)


@contextmanager
def running_api(
    prefix: str = "meetmesh-bench-",
    *,
    extra_env: Mapping[str, str] | None = None,
    data_dir: Path | None = None,
    module: str = "api",
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
    host: str = "127.0.0.1",
) -> Iterator[ApiProcess]:
    """Start the API, yield once /healthz answers, and always stop it (and delete its data) on the way out.

    ``extra_env`` adds configuration (e.g. DATABASE_URL and REDIS_URL for a scaled-out pair of processes);
    ``data_dir`` lets several processes share generated keys; ``module`` serves another app configured the same
    way (``bench.ceiling_app``); ``host`` is the address it listens on (processes in other network namespaces
    reach it there).
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        data_dir = data_dir or Path(tmp) / "data"
        log_path = Path(tmp) / "api.log"
        port = free_port()
        url = f"http://{host}:{port}"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", module],
                cwd=REPO_ROOT,
                env={**_api_env(port, data_dir, host), **(extra_env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                _wait_healthy(proc, url, log_path, startup_timeout_s)
                yield ApiProcess(url=url, pid=proc.pid, data_dir=data_dir, log_path=log_path)
            except ApiStartError:
                raise
            except BaseException:
                # The log goes away with the temporary directory: show its end while it still exists.
                print(f"--- API log (tail) ---\n{log_tail(log_path)}", file=sys.stderr)
                raise
            finally:
                _stop(proc)
