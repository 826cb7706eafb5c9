"""A real webhook receiver process for tests and the bench: ``python -m testkit.webhook_receiver``.

It answers POSTs on any path. Verification challenges (``endpoint.verification``) are echoed. Other requests are
misbehaved on purpose by their arrival number: every ``--fail-every``-th gets a 500, every ``--hang-every``-th
is held for ``--hang-s`` seconds without an answer (longer than the sender's read timeout). A request answered
2xx is first appended to ``--log`` as one JSON line (headers, body, arrival time) and flushed, so a receiver
killed between the write and the answer shows up as a duplicate later, never as a loss.

``Receiver`` starts and kills it from a test.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--fail-every", type=int, default=0)
    p.add_argument("--hang-every", type=int, default=0)
    p.add_argument("--hang-s", type=float, default=30.0)
    args = p.parse_args(argv)
    counter = itertools.count(1)
    lock = threading.Lock()
    log = open(args.log, "a", encoding="utf-8")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *a: Any) -> None:
            return None

        def _answer(self, code: int, body: bytes = b"") -> None:
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            received = time.time()
            payload = json.loads(raw)
            if payload.get("type") == "endpoint.verification":
                self._answer(200, json.dumps({"challenge": payload["data"]["challenge"]}).encode())
                return
            n = next(counter)
            if args.hang_every and n % args.hang_every == 0:
                time.sleep(args.hang_s)
                return
            if args.fail_every and n % args.fail_every == 0:
                self._answer(500, b'{"error":"failing on purpose"}')
                return
            line = {
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": raw.decode(),
                "received_at": received,
            }
            with lock:
                log.write(json.dumps(line) + "\n")
                log.flush()
            self._answer(204)

    # The stdlib default listen backlog is 5: a sender with more connections in flight has SYNs dropped and
    # retransmitted a second later, which would look like a slow sender.
    ThreadingHTTPServer.request_queue_size = 128
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("ready", flush=True)
    server.serve_forever()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    received_at: float

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


class Receiver:
    """The receiver as a child process on a fixed port, so it can be killed and started again at the same URL."""

    def __init__(self, log: Path, *, fail_every: int = 0, hang_every: int = 0, hang_s: float = 30.0) -> None:
        self.port = free_port()
        self.log = log
        self.args = ["--fail-every", str(fail_every), "--hang-every", str(hang_every), "--hang-s", str(hang_s)]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        cmd = [sys.executable, "-m", "testkit.webhook_receiver", "--port", str(self.port), "--log", str(self.log)]
        self.proc = subprocess.Popen([*cmd, *self.args], cwd=REPO_ROOT, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "ready" once listening (bounded: the test's timeout)
        assert line.strip() == b"ready", f"receiver did not start: {line!r}"

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def received(self) -> list[Received]:
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text().splitlines():
            if line.strip():
                d = json.loads(line)
                out.append(Received(d["headers"], d["body"], d["received_at"]))
        return out


if __name__ == "__main__":
    main(sys.argv[1:])
