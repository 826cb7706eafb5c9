"""Run the API and the media edge together with embedded defaults, wired to each other, until Ctrl-C.

Each part is its own process, exactly as when scaled out; this only picks ports, points the API's join tokens
at the edge and the edge at the API's public key, and stops everything if one part dies. Workers join here
when they exist.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    env = dict(os.environ)
    api_host = env.setdefault("API_HOST", "127.0.0.1")
    api_port = env.setdefault("API_PORT", "8000")
    edge_host = env.setdefault("EDGE_HOST", api_host)
    edge_port = env.setdefault("EDGE_PORT", str(int(api_port) + 1))
    env.setdefault("API_EDGE_URL", f"ws://{edge_host}:{edge_port}/edge/signal")
    env.setdefault("EDGE_JOIN_KEY_URL", f"http://{api_host}:{api_port}/.well-known/meetmesh/join-token-key")
    # One secret per run unless configured: the edge's credential on the API's control feed (host controls).
    secret = env.get("API_EDGE_SECRET") or env.get("EDGE_CONTROL_SECRET") or secrets.token_urlsafe(32)
    env.setdefault("API_EDGE_SECRET", secret)
    env.setdefault("EDGE_CONTROL_SECRET", secret)
    env.setdefault("EDGE_CAPTIONS", "1")  # live captions on in the all-in-one stack (a process of their own)
    # The edge remembers a removal while the removed participant's join token may still verify.
    env.setdefault("EDGE_JOIN_TOKEN_TTL_S", env.get("API_JOIN_TOKEN_TTL", "300"))
    env.setdefault("EDGE_RECORDINGS_DIR", str(Path(env.get("API_DATA_DIR", "var")) / "recordings"))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def main() -> int:
    env = _env()
    parts = {
        "api": subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env),
        "edge": subprocess.Popen([sys.executable, "-m", "edge"], cwd=ROOT, env=env),
    }
    print(f"  media edge: {env['API_EDGE_URL']}", flush=True)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, proc in parts.items():
            if proc.poll() is not None:
                print(f"stack: {name} exited with {proc.returncode}; stopping the rest", file=sys.stderr, flush=True)
                code = proc.returncode or 1
                stopping = True
        time.sleep(0.2)
    for proc in parts.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 10
    for proc in parts.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
