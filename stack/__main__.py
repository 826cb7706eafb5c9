"""Run the API and the media edge together with embedded defaults, wired to each other, until Ctrl-C.

Each part is its own process, exactly as when scaled out; this only picks ports, points the API's join tokens
at the edge and the edge at the API's public key, and stops everything if one part dies. Workers join here
when they exist.
"""

from __future__ import annotations

import argparse
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


MESH_REGIONS = ("eu-west", "us-east", "ap-south")
"""Region labels of ``--edges N`` (cycled): names only, every edge runs on this machine."""


def _edge_envs(env: dict[str, str], edges: int) -> list[dict[str, str]]:
    """One environment per edge. With several, each gets the next port, a region label and registers itself
    with the API (``EDGE_PUBLIC_URL``), so the API places joins among them (docs/relay.md)."""
    if edges == 1:
        return [env]
    host, first = env["EDGE_HOST"], int(env["EDGE_PORT"])
    out = []
    for i in range(edges):
        port = first + i
        out.append(
            {
                **env,
                "EDGE_PORT": str(port),
                "EDGE_ID": f"edge-{i + 1}",
                "EDGE_REGION": MESH_REGIONS[i % len(MESH_REGIONS)],
                "EDGE_PUBLIC_URL": f"ws://{host}:{port}/edge/signal",
                "EDGE_CAPTIONS": env.get("EDGE_CAPTIONS_MESH", "0"),  # one captioner per machine is plenty
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__)
    parser.add_argument(
        "--edges", type=int, default=1, choices=range(1, 9), metavar="N", help="media edges to start (1-8)"
    )
    args = parser.parse_args(argv)
    env = _env()
    parts = {"api": subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env)}
    for edge_env in _edge_envs(env, args.edges):
        name = "edge" if args.edges == 1 else edge_env["EDGE_ID"]
        parts[name] = subprocess.Popen([sys.executable, "-m", "edge"], cwd=ROOT, env=edge_env)
        where = edge_env.get("EDGE_PUBLIC_URL") or env["API_EDGE_URL"]
        region = f" ({edge_env['EDGE_REGION']})" if args.edges > 1 else ""
        print(f"  media edge{region}: {where}", flush=True)
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
